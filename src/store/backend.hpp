#pragma once
// A storage backend: where one deployment's stores live, named by
// `[storage] backend` in the configuration. Engine-free: each engine
// implements it in a library of its own (store/sqlite/), and only the
// binaries (cli/) and the tests link one; store/backends.hpp picks it by
// name.
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "store/store.hpp"

namespace rempart::store {

// `[storage]` of the configuration.
struct StorageOptions {
  std::string backend = "sqlite";
  std::filesystem::path data_dir;  // the files of an embedded engine; 0700
  // postgresql: a libpq connection string (keywords or URI) naming the
  // server(s) and the database, never a user nor a password; each role
  // connects as its own database role, with the password (if any) read
  // from a file of mode 0600 outside the data dir.
  std::string dsn;
  std::string intake_user = "rempart_intake";
  std::string keeper_user = "rempart_keeper";
  std::filesystem::path intake_password_file;  // empty: none (peer, cert or .pgpass)
  std::filesystem::path keeper_password_file;
};

// What a keeper store is opened for.
enum class KeeperUse {
  serve,  // the fold loop, the console, one-off commands
  bulk,   // a writer that commits all the time (an import, a synthetic fill)
};

// Opens the stores of one deployment. Every store it returns is used by one
// thread at a time; open one per thread. The backend itself may be used from
// any thread and must outlive nothing it returned.
class Backend {
 public:
  virtual ~Backend();

  // The intake role's write-only store: the one thing an intake node opens.
  virtual Result<std::unique_ptr<IntakeStore>> open_intake() = 0;
  // The keeper's side of the inbox.
  virtual Result<std::unique_ptr<InboxStore>> open_inbox() = 0;
  // The keeper's store. The first call in a process brings what an older
  // version of this backend left up to date before it returns (submissions
  // it kept elsewhere move into the inbox); `upgraded` (optional) gets how
  // many submissions moved.
  virtual Result<std::unique_ptr<KeeperStore>> open_keeper(KeeperUse use = KeeperUse::serve,
                                                           std::size_t* upgraded = nullptr) = 0;
  // The sign-up rate limit every intake node shares, on the intake's
  // credentials; nullptr where each node keeps its own in memory (SQLite:
  // one node).
  virtual Result<std::unique_ptr<SignupLimiter>> open_signup_limiter() { return nullptr; }

 protected:
  Backend() = default;
  Backend(const Backend&) = default;
  Backend& operator=(const Backend&) = default;
};

}  // namespace rempart::store
