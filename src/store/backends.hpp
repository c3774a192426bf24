#pragma once
// The storage backends this build carries, by the name `[storage] backend`
// gives them. Linked only by the binaries and the tests (rempart_store_backends).
#include <memory>
#include <span>
#include <string_view>

#include "core/error.hpp"
#include "store/backend.hpp"

namespace rempart::store {

// The names `[storage] backend` accepts.
std::span<const std::string_view> backend_names() noexcept;

// Opens the backend `o.backend` names. Errc::config for an unknown name or
// options that backend cannot use; the backend's own errors otherwise.
Result<std::unique_ptr<Backend>> open_backend(const StorageOptions& o);

}  // namespace rempart::store
