#include "store/store.hpp"

namespace rempart::store {

// Defined out of line so each interface's vtable lives in one object file.
IntakeStore::~IntakeStore() = default;

InboxStore::~InboxStore() = default;
KeeperTx::~KeeperTx() = default;
KeeperStore::~KeeperStore() = default;

}  // namespace rempart::store
