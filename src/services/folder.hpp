#pragma once
// The keeper's folding step: opens sealed submissions from the inbox file
// only to store them, validates them again (the intake role is not trusted),
// and creates or merges supporter records in one transaction of the records'
// file that also moves the fold mark past them (or in several, when a
// console write waits for the lock: see Folder::fold_once); then deletes
// them from the inbox file in a short transaction of its own (the only one
// of a pass that the intake's commits can wait for).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "services/records.hpp"
#include "store/store.hpp"

namespace rempart::services {

class Folder {
 public:
  // `keys`, `store` (the records) and `inbox` must outlive the folder. Not
  // thread-safe: one thread folds at a time.
  Folder(const crypto::KeeperKeyring& keys, store::KeeperStore& store, store::InboxStore& inbox,
         core::IntakeOptions opts)
      : keys_(keys), store_(store), inbox_(inbox), opts_(std::move(opts)), writer_(keys) {}

  // Folds up to `limit` of the oldest submissions past the fold mark in one
  // transaction of the records, then deletes them from the inbox.
  // Submissions that fail authentication or re-validation are deleted and
  // counted as rejected; a batch whose key version is unknown is left in the
  // inbox (and logged) so that a keyring mistake loses nothing, and the mark
  // stays below it. Each folded submission writes one audit entry (actor
  // "keeper": supporter.create, supporter.merge, supporter.unchanged or
  // intake.reject) in the records' transaction.
  //
  // A stop between the two commits leaves folded items in the inbox at or
  // below the mark: the first pass deletes them without folding them again.
  // (Items after one left for its key version are deleted by id; if that
  // delete is lost, they are folded again, which changes no record.)
  //
  // Another writer of the records' file in this process (the console
  // appending an audit entry) waits for the pass's write lock: once a
  // transaction has held it for `yield_after` and someone waits, the pass
  // commits what it folded so far (records, audit entries and the mark
  // past them), lets the other writer in, and goes on in a new transaction.
  // Not when an item of the pass was left for its key version (the mark
  // then stays below it, so the pass keeps one transaction).
  Result<FoldCounts> fold_once(std::size_t limit);
  // How long the last pass held the write lock at most, from the lock taken
  // to the commit done, over its transactions (zero for a pass that wrote
  // nothing), and the COMMIT's part of that transaction (writing the pages
  // and syncing the file).
  std::chrono::microseconds last_hold() const { return last_hold_; }
  std::chrono::microseconds last_commit() const { return last_commit_; }
  // How many transactions of the records' file the last pass committed.
  std::size_t last_commits() const { return last_commits_; }
  // See fold_once; 20 ms unless set.
  void set_yield_after(std::chrono::microseconds d) { yield_after_ = d; }
  // For tests: runs inside each transaction of a pass after its first item,
  // with that transaction (e.g. to make another writer wait).
  void set_in_transaction_hook(std::function<void(store::KeeperTx&)> hook) { hook_ = std::move(hook); }

 private:
  // Reads the inbox file's identity and the records' mark for it, and
  // deletes what a stop left folded in the inbox; once per folder.
  Result<void> start();

  const crypto::KeeperKeyring& keys_;
  store::KeeperStore& store_;
  store::InboxStore& inbox_;
  core::IntakeOptions opts_;
  std::optional<store::Bytes> inbox_uid_;  // set by start()
  std::int64_t mark_ = 0;                  // every item up to it is folded
  RecordWriter writer_;
  std::chrono::microseconds last_hold_{0};
  std::chrono::microseconds last_commit_{0};
  std::size_t last_commits_ = 0;
  std::chrono::microseconds yield_after_{20'000};
  std::function<void(store::KeeperTx&)> hook_;
};

// Moves the submissions an older version left in the records' file's own
// inbox (KeeperStore::peek_inbox) into the inbox file, batches with them,
// and deletes them there; returns how many moved. Run by the keeper before
// it folds. A stop between the append to the inbox file and the delete from
// the records' file leaves them in both: they move again and are folded
// twice, which changes no record the second time.
Result<std::size_t> move_legacy_inbox(store::KeeperStore& records, store::IntakeStore& inbox);

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
