#pragma once
// The rewrap (docs/key-custody.md, "Rotation"): after a rotation, every
// record's data key is moved under the current record wrapping key, while
// the keeper serves. Only data keys are unwrapped and wrapped again
// (crypto::rewrap_record); no field is decrypted, so no person's data is
// opened and nothing here is a reveal. Each batch is one transaction with
// one audit entry (keys.rewrap: how many records, from which versions to
// which), and a record edited between the read and the write keeps its
// edit (the write names the wrapped key it replaces). Resumable: what is
// left is whatever still names an older version.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <thread>

#include "core/error.hpp"
#include "core/mutex.hpp"
#include "crypto/keyring.hpp"
#include "store/store.hpp"

namespace rempart::services {

struct RewrapStep {
  std::int64_t rewrapped = 0;  // records moved to the current version
  std::int64_t skipped = 0;    // changed since read (an edit or an erasure won), or not openable
  bool done = false;           // no record below the current version is left after this one
};

class Rewrapper {
 public:
  Rewrapper(const crypto::KeeperKeyring& keys, store::KeeperStore& store, std::size_t batch = 200);

  // Rewraps up to `batch` records below the current version, after the
  // last one this object saw (from the first again once the current version
  // changes, or after a step that was done). Errors are the store's; a
  // record whose key does not unwrap is skipped and counted, never fatal.
  Result<RewrapStep> step();

 private:
  const crypto::KeeperKeyring& keys_;
  store::KeeperStore& store_;
  std::size_t batch_;
  store::Bytes cursor_;
  std::uint32_t target_ = 0;
};

// Runs a Rewrapper on its own thread at a bounded rate: at most
// `per_second` records a second, so that the fold and the console keep
// their share of the writer. Once done it looks again when the current
// version changes (checked every second) and every `rescan` otherwise
// (a keeper that had not yet taken a rotation may have written older
// versions meanwhile).
class RewrapLoop {
 public:
  RewrapLoop(Rewrapper& rewrapper, const crypto::KeeperKeyring& keys, double per_second,
             std::chrono::seconds rescan = std::chrono::minutes(10));
  ~RewrapLoop();
  void stop();

 private:
  void run(std::stop_token stop);
  Rewrapper& rewrapper_;
  const crypto::KeeperKeyring& keys_;
  double per_second_;
  std::chrono::seconds rescan_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

}  // namespace rempart::services
