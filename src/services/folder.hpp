#pragma once
// The keeper's folding step: opens sealed submissions from the inbox file
// only to store them, validates them again (the intake role is not trusted),
// and creates or merges supporter records in one transaction of the keeper's
// store that also records each item in the fold ledger (or in several, when
// a console write waits for the lock: see Folder::fold_once); then deletes
// them from the inbox in a short transaction of its own (the only one of a
// pass that the intake's commits can wait for). Each item is folded exactly
// once, by its item uid, whatever order the inbox commits items in.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.hpp"
#include "core/validate.hpp"
#include "crypto/keyring.hpp"
#include "services/records.hpp"
#include "services/supporter_mail.hpp"
#include "store/store.hpp"

namespace rempart::services {

class Folder {
 public:
  // `keys`, `store` (the records) and `inbox` must outlive the folder. Not
  // thread-safe: one thread folds at a time.
  Folder(const crypto::KeeperKeyring& keys, store::KeeperStore& store, store::InboxStore& inbox,
         core::IntakeOptions opts)
      : keys_(keys), store_(store), inbox_(inbox), opts_(std::move(opts)), writer_(keys) {}

  // Folds up to `limit` submissions of the inbox in one transaction of the
  // keeper's store, then deletes them from the inbox. Each pass reads on
  // from where the last one stopped, and from the first item again once a
  // pass reached the end: an item that committed late, below ids already
  // read, is folded by a later pass. Submissions that fail authentication
  // or re-validation are deleted and counted as rejected; a batch whose key
  // version is unknown is left in the inbox (and logged) so that a keyring
  // mistake loses nothing. Each folded submission writes one audit entry
  // (actor "keeper": supporter.create, supporter.merge, supporter.unchanged
  // or intake.reject) in the same transaction, which also records its uid
  // in the fold ledger (store::FoldLedger).
  //
  // An item found in the ledger already (a stop came between a pass's
  // commit and its inbox delete, or the delete failed) is deleted without
  // being folded again. The ledger forgets an item in the transaction after
  // its inbox delete; the first pass of a folder deletes, by uid, whatever
  // a stop left recorded, then forgets it.
  //
  // When the store asks for room (KeeperTx::yield_requested: another
  // writer, such as the console appending an audit entry, waits for the
  // pass's write lock) once a transaction has held it for `yield_after`,
  // the pass commits what it folded so far, lets the other writer in
  // (KeeperStore::make_way) and goes on in a new transaction.
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
  // With mail configured, a sign-up that gives e-mail consent not yet
  // confirmed queues its confirmation mail in the transaction that folds it
  // (supporter_mail.hpp: queue_confirmation, within its bounds), unless an
  // OSDI client asked for no autoresponse. Without, consents stay
  // unconfirmed and nothing is queued.
  void set_mail(std::optional<SupporterMailOptions> o) { mail_ = std::move(o); }
  // For tests: runs inside each transaction of a pass after its first item,
  // with that transaction (e.g. to make another writer wait).
  void set_in_transaction_hook(std::function<void(store::KeeperTx&)> hook) { hook_ = std::move(hook); }

 private:
  // Deletes from the inbox what a stop left folded there, and forgets it;
  // once per folder.
  Result<void> start();

  // A pass's items opened, validated and prepared (outside any lock), and
  // the batches that could be opened.
  struct Opened;
  struct OpenedPass {
    std::vector<Opened> opened;
    std::vector<store::Bytes> batches;
  };
  Result<OpenedPass> open_items(
      const std::vector<store::InboxRow>& items,
      const std::function<Result<std::optional<store::BatchRow>>(const store::Bytes&)>& batch_of);
  // Writes opened[next..] in `tx` with one audit entry each; stops early
  // (setting `end`) when the store asks for room. With `ledger`, each item
  // is recorded in the fold ledger and one recorded already is skipped.
  Result<void> write_items(store::KeeperTx& tx, const std::vector<Opened>& opened, std::size_t next, std::size_t& end,
                           FoldCounts& tx_counts, std::int64_t now, std::int64_t now_us,
                           std::chrono::steady_clock::time_point locked, bool ledger);
  // fold_once where the store claims inbox items in its transactions.
  Result<FoldCounts> fold_claimed(std::size_t limit);

  const crypto::KeeperKeyring& keys_;
  store::KeeperStore& store_;
  store::InboxStore& inbox_;
  core::IntakeOptions opts_;
  bool started_ = false;
  std::int64_t cursor_ = 0;  // the next pass peeks after this id
  // Folded items whose inbox delete is still to do (id, item uid), and
  // those deleted whose ledger entry the next transaction forgets.
  std::vector<std::pair<std::int64_t, store::Bytes>> undeleted_;
  std::vector<store::Bytes> to_forget_;
  RecordWriter writer_;
  std::chrono::microseconds last_hold_{0};
  std::chrono::microseconds last_commit_{0};
  std::size_t last_commits_ = 0;
  std::chrono::microseconds yield_after_{20'000};
  std::function<void(store::KeeperTx&)> hook_;
  std::optional<SupporterMailOptions> mail_;
};

// Runs a Folder on its own thread until stopped.
class FoldLoop {
 public:
  static constexpr std::chrono::milliseconds kStopBudget{10'000};
  // `after_pass` (optional) runs on the loop's thread after every pass,
  // the last one included: the keeper signs audit checkpoints there, with
  // the same store the folder uses from that thread.
  FoldLoop(Folder& folder, std::chrono::milliseconds interval, std::size_t batch,
           std::function<void()> after_pass = {}, std::chrono::milliseconds stop_budget = kStopBudget);
  ~FoldLoop();
  // Finishes the fold in progress, then one more pass so that everything
  // committed before the call is folded, then returns. Idempotent. With a
  // backlog, full passes go on for at most kStopBudget after the call: the
  // rest waits in the inbox for the next start or another keeper (a stop
  // must not take as long as the backlog, nor be cut off by the service
  // manager's timeout halfway through it).
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
  std::chrono::milliseconds stop_budget_;
  Mutex mu_;
  std::condition_variable cv_;
  bool stopping_ REMPART_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point stop_asked_ REMPART_GUARDED_BY(mu_);
  bool poked_ REMPART_GUARDED_BY(mu_) = false;
  std::atomic<std::uint64_t> folded_{0};
  std::thread thread_;
};

}  // namespace rempart::services
