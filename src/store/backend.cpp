#include "store/backend.hpp"

namespace rempart::store {

Backend::~Backend() = default;

}  // namespace rempart::store
