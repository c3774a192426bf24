#pragma once
// The keeper's folding step: opens sealed submissions from the inbox only to
// store them, validates them again (the intake role is not trusted), and
// creates or merges supporter records in the same transaction that deletes
// the submission.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "services/records.hpp"
#include "store/store.hpp"

namespace rempart::services {

class Folder {
 public:
  // `keys` and `store` must outlive the folder. Not thread-safe: one thread
  // folds at a time.
  Folder(const crypto::KeeperKeyring& keys, store::KeeperStore& store, core::IntakeOptions opts)
      : keys_(keys), store_(store), opts_(std::move(opts)), writer_(keys) {}

  // Folds up to `limit` of the oldest submissions in one transaction.
  // Submissions that fail authentication or re-validation are deleted and
  // counted as rejected; a batch whose key version is unknown is left in the
  // inbox (and logged) so that a keyring mistake loses nothing. Each folded
  // submission writes one audit entry (actor "keeper": supporter.create,
  // supporter.merge, supporter.unchanged or intake.reject) in the same
  // transaction.
  Result<FoldCounts> fold_once(std::size_t limit);
  // How long the last pass's write transaction ran, from the write lock
  // taken to the commit done (zero for a pass that wrote nothing).
  std::chrono::microseconds last_hold() const { return last_hold_; }

 private:
  const crypto::KeeperKeyring& keys_;
  store::KeeperStore& store_;
  core::IntakeOptions opts_;
  RecordWriter writer_;
  std::chrono::microseconds last_hold_{0};
};

// Runs a Folder on its own thread until stopped.
class FoldLoop {
 public:
  // `after_pass` (optional) runs on the loop's thread after every pass,
  // the last one included: the keeper signs audit checkpoints there, with
  // the same store the folder uses from that thread.
  FoldLoop(Folder& folder, std::chrono::milliseconds interval, std::size_t batch,
           std::function<void()> after_pass = {});
  ~FoldLoop();
  // Finishes the fold in progress, then one more pass so that everything
  // committed before the call is folded, then returns. Idempotent.
  void stop();
  // Asks for a fold pass now instead of at the next interval.
  void poke();
  std::uint64_t folded() const { return folded_.load(); }

 private:
  void run();
  Folder& folder_;
  std::chrono::milliseconds interval_;
  std::size_t batch_;
  std::function<void()> after_pass_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool poked_ = false;     // guarded by mu_
  std::atomic<std::uint64_t> folded_{0};
  std::thread thread_;
};

}  // namespace rempart::services
