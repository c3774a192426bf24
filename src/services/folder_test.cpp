#include "services/folder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "services/intake_writer.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

core::Person person(int i, bool with_phone) {
  core::Person p;
  p.given_name = "Quentinella";
  p.email = "fold." + std::to_string(i) + "@example.org";
  if (with_phone) p.phone = "+3319900" + std::to_string(2000 + i);
  p.consent.email = true;
  return p;
}


// A batch large enough to be opened in two halves (one on a worker) is
// folded in inbox order: duplicates in the second half of people first seen
// in the first half merge or are unchanged, rejects land where they were.
TEST(Folder, ALargeBatchFoldsInInboxOrder) {
  constexpr int kItems = 150;
  const std::set<int> invalid = {10, 120};
  const std::set<int> tampered = {5, 140};
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < kItems; ++i) {
      // Items 100.. repeat people 0..49; every third of them adds a phone.
      auto p = person(i % 100, i >= 100 && i % 3 == 0);
      if (invalid.contains(i)) p.email = "not an email";
      (*writer)->submit(p, [](bool) {});
    }
    (*writer)->stop();
  }
  for (int i : tampered) testing::flip_a_byte_of_item(fx.inbox, i);

  // What single-threaded folding in inbox order gives.
  std::vector<std::string> want;
  std::set<int> known;
  for (int i = 0; i < kItems; ++i) {
    if (invalid.contains(i) || tampered.contains(i)) {
      want.push_back("intake.reject");
    } else if (!known.insert(i % 100).second) {
      want.push_back(i % 3 == 0 ? "supporter.merge" : "supporter.unchanged");
    } else {
      want.push_back("supporter.create");
    }
  }

  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(1000);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->rejected, 4u);
  EXPECT_EQ(r->created, 100u);  // 0..99 less 5 and 10, plus 105 and 110
  EXPECT_EQ(r->created + r->merged + r->unchanged + r->rejected, static_cast<std::size_t>(kItems));
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), 100);

  std::vector<std::string> got;
  std::vector<std::string> reasons;
  ASSERT_TRUE(st->scan_audit(1, [&](const store::AuditEntryRow& e) {
    got.push_back(e.action);
    if (e.action == "intake.reject") {
      reasons.push_back(e.details.find("authentication") != std::string::npos ? "authentication" : "validation");
    }
    return true;
  }));
  EXPECT_EQ(got, want);
  EXPECT_EQ(reasons, (std::vector<std::string>{"authentication", "validation", "validation", "authentication"}));

  // A merge from the second half reached the record made in the first.
  auto s = Vault(keys).reveal_by_contact(*st, "operator:test", "email", "fold.2@example.org", "test");
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->person.phone, "+33199002002");
}

std::int64_t count_rows(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &q, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
  const auto n = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

// A full pass deletes the batches it emptied and keeps those that still
// have items; the pass that empties the inbox leaves no batch behind.
TEST(Folder, PassesDeleteTheBatchesTheyEmpty) {
  constexpr int kBatches = 6;
  constexpr int kPerBatch = 5;
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    for (int b = 0; b < kBatches; ++b) {
      // Waiting for each group to be stored gives it a batch of its own.
      std::promise<void> stored;
      int left = kPerBatch;
      for (int i = 0; i < kPerBatch; ++i) {
        (*writer)->submit(person(b * kPerBatch + i, false), [&](bool durable) {
          EXPECT_TRUE(durable);
          if (--left == 0) stored.set_value();
        });
      }
      stored.get_future().wait();
    }
    (*writer)->stop();
  }
  // The writer may split a group over two commits, so the number of batches
  // is read, not assumed.
  const auto batches = [&] { return count_rows(fx.inbox, "SELECT count(*) FROM intake_batches"); };
  const auto in_use = [&] { return count_rows(fx.inbox, "SELECT count(DISTINCT batch_uid) FROM inbox"); };
  const auto made = batches();
  ASSERT_GE(made, kBatches);
  ASSERT_EQ(in_use(), made);

  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  // Two full passes (each takes as many items as it asks for): every batch
  // they emptied is gone, every batch with items left is kept.
  for (const std::size_t limit : {12u, 15u}) {
    const auto before = batches();
    auto r = folder.fold_once(limit);
    ASSERT_TRUE(r) << r.error().internal;
    EXPECT_EQ(r->created, limit);
    EXPECT_LT(batches(), before);
    EXPECT_EQ(batches(), in_use());
  }
  auto r = folder.fold_once(15);  // the last 3: the inbox is empty
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created, 3u);
  EXPECT_EQ(batches(), 0);
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), kBatches * kPerBatch);
}

// The hold a pass reports is its write transaction's: some time for a pass
// that folded, none for a pass that found nothing; and a running loop folds
// everything in passes of its batch.
TEST(FoldLoop, MeasuresItsPassesAndFoldsEverything) {
  constexpr int kItems = 120;
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < kItems; ++i) (*writer)->submit(person(i, i % 4 == 0), [](bool) {});
    (*writer)->stop();
  }
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto first = folder.fold_once(20);
  ASSERT_TRUE(first) << first.error().internal;
  EXPECT_EQ(first->created, 20u);
  EXPECT_GT(folder.last_hold().count(), 0);
  // The commit (a sync of the file, synchronous=FULL) is part of the hold.
  EXPECT_GT(folder.last_commit().count(), 0);
  EXPECT_LE(folder.last_commit(), folder.last_hold());
  EXPECT_EQ(folder.last_commits(), 1u);  // nobody waited: one transaction
  {
    // The loop's thread owns `st` while it runs: watch through another
    // connection.
    auto watch = std::move(store::open_sqlite_inbox(fx.inbox).value());
    FoldLoop loop(folder, std::chrono::milliseconds(10), 50);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (watch->count().value() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    loop.stop();
    EXPECT_EQ(loop.folded(), static_cast<std::uint64_t>(kItems - 20));
  }
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), kItems);
  auto empty = folder.fold_once(20);
  ASSERT_TRUE(empty);
  EXPECT_EQ(folder.last_hold().count(), 0);
  EXPECT_EQ(folder.last_commit().count(), 0);
}

// A stop with a backlog folds for its budget at most, not until the inbox
// is empty: what is left waits there, whole, for the next fold.
TEST(FoldLoop, AStopWithABacklogEndsWithinItsBudget) {
  constexpr int kItems = 400;
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < kItems; ++i) (*writer)->submit(person(i, false), [](bool) {});
    (*writer)->stop();
  }
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  std::uint64_t folded = 0;
  {
    FoldLoop loop(folder, std::chrono::milliseconds(10), 10, {}, std::chrono::milliseconds(0));
    loop.stop();
    folded = loop.folded();
  }
  EXPECT_GE(folded, 10u);  // the pass in progress, at least
  EXPECT_LT(folded, static_cast<std::uint64_t>(kItems));
  EXPECT_EQ(inbox->count().value(), kItems - static_cast<std::int64_t>(folded));
  auto rest = folder.fold_once(kItems);
  ASSERT_TRUE(rest) << rest.error().internal;
  EXPECT_EQ(rest->created, kItems - folded);
  EXPECT_EQ(st->count_supporters().value(), kItems);
}

// Writes `n` sign-ups (people first..first+n-1) to the inbox file at `inbox`.
void sign_up(const testing::Fixture& fx, const std::filesystem::path& inbox, int first, int n) {
  auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(inbox).value()));
  ASSERT_TRUE(writer);
  for (int i = first; i < first + n; ++i) (*writer)->submit(person(i, false), [](bool durable) { EXPECT_TRUE(durable); });
  (*writer)->stop();
}

// Copies the inbox file (every store on it closed, its WAL folded in).
void copy_inbox(const std::filesystem::path& from, const std::filesystem::path& to) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(from.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(to.string() + suffix);
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

// How many items the fold ledger holds.
std::size_t ledger(store::KeeperStore& st) {
  std::size_t n = 0;
  EXPECT_TRUE(st.transact([&](store::KeeperTx& tx) -> Result<void> {
    auto items = tx.folded_items(100000);
    if (!items) return std::unexpected(items.error());
    n = items->size();
    return {};
  }));
  return n;
}

// Another writer of the records' file waiting for a pass's write lock (the
// console appending an audit entry) goes in between two transactions of
// the pass, which then folds the rest; every item is folded once and the
// mark ends past the last one.
TEST(Folder, AWriterWaitingForAPassGoesInBetweenItsTransactions) {
  testing::Fixture fx;
  sign_up(fx, fx.inbox, 0, 30);
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto other = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  const auto entries = [&] { return count_rows(fx.db, "SELECT count(*) FROM audit_entries"); };
  const std::int64_t entries_before = entries();
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  folder.set_yield_after(std::chrono::microseconds{0});
  std::thread writer;
  int transactions = 0;
  bool waited = false;
  std::int64_t seen_by_the_second = -1;
  folder.set_in_transaction_hook([&](store::KeeperTx& tx) {
    if (++transactions == 1) {
      writer = std::thread([&] {
        auto w = other->transact([&](store::KeeperTx& t) -> Result<void> {
          auto n = t.add_to_counter("other", "writes", 0, 7);
          if (!n) return std::unexpected(n.error());
          return {};
        });
        EXPECT_TRUE(w.has_value());
      });
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!tx.yield_requested() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      waited = tx.yield_requested();
    } else {
      seen_by_the_second = tx.counter("other", "writes", 0).value_or(-1);
    }
  });
  auto r = folder.fold_once(50);
  if (writer.joinable()) writer.join();
  ASSERT_TRUE(r) << r.error().internal;
  ASSERT_TRUE(waited);
  EXPECT_EQ(r->created, 30u);
  EXPECT_EQ(folder.last_commits(), 2u);
  EXPECT_EQ(transactions, 2);
  EXPECT_EQ(seen_by_the_second, 7) << "the waiting writer did not commit between the pass's transactions";
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), 30);
  EXPECT_EQ(entries() - entries_before, 30);
  // Every item is in the ledger until its inbox delete is done; the next
  // pass forgets them.
  EXPECT_EQ(ledger(*st), 30u);
  ASSERT_TRUE(folder.fold_once(50));
  EXPECT_EQ(ledger(*st), 0u);
}

// A stop between a pass's commit on the records and its delete from the
// inbox (here: the inbox file as it was before the pass, put back) leaves
// folded items in the inbox: the next folder deletes them without folding
// them again (no second audit entry, no change).
TEST(Folder, ItemsFoldedBeforeAStopAreNotFoldedAgain) {
  testing::Fixture fx;
  sign_up(fx, fx.inbox, 0, 10);
  const auto saved = fx.dir / "inbox-before.db";
  copy_inbox(fx.inbox, saved);
  auto keys = fx.keeper_keys();
  const auto entries = [&] { return count_rows(fx.db, "SELECT count(*) FROM audit_entries"); };
  std::int64_t after_fold = 0;
  {
    auto st = std::move(store::open_sqlite_keeper(fx.db).value());
    auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
    Folder folder(keys, *st, *inbox, core::IntakeOptions{});
    auto r = folder.fold_once(50);
    ASSERT_TRUE(r) << r.error().internal;
    EXPECT_EQ(r->created, 10u);
    EXPECT_EQ(inbox->count().value(), 0);
    after_fold = entries();
  }
  copy_inbox(saved, fx.inbox);
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  ASSERT_EQ(inbox->count().value(), 10);
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(50);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created + r->merged + r->unchanged + r->rejected, 0u);
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(count_rows(fx.inbox, "SELECT count(*) FROM intake_batches"), 0);
  EXPECT_EQ(entries(), after_fold);
  EXPECT_EQ(st->count_supporters().value(), 10);
  // What comes next is folded.
  sign_up(fx, fx.inbox, 10, 3);
  r = folder.fold_once(50);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created, 3u);
}

// An inbox file put back from a copy gives its next items ids that were
// used and folded before: none of them is skipped, and the old items fold
// again as no-ops.
TEST(Folder, AnInboxPutBackFromACopyLosesNoNewItem) {
  testing::Fixture fx;
  sign_up(fx, fx.inbox, 0, 4);
  const auto saved = fx.dir / "inbox-older.db";
  copy_inbox(fx.inbox, saved);
  sign_up(fx, fx.inbox, 4, 4);
  auto keys = fx.keeper_keys();
  {
    auto st = std::move(store::open_sqlite_keeper(fx.db).value());
    auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
    Folder folder(keys, *st, *inbox, core::IntakeOptions{});
    ASSERT_EQ(folder.fold_once(50).value().created, 8u);
    ASSERT_TRUE(folder.fold_once(50));  // forgets them
  }
  copy_inbox(saved, fx.inbox);       // ids 1-4
  sign_up(fx, fx.inbox, 100, 2);     // ids 5-6, used before
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(50);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->unchanged, 4u);  // folded before: nothing changes
  EXPECT_EQ(r->created, 2u);    // new: not skipped
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), 10);
}

// Items of a batch the keyring cannot open stay in the inbox; the items
// after them are folded and deleted.
TEST(Folder, ItemsLeftForTheirKeyStayWhileTheOthersAreFolded) {
  testing::Fixture fx;
  sign_up(fx, fx.inbox, 0, 2);
  {
    auto in = std::move(store::open_sqlite_intake(fx.inbox).value());
    const store::Bytes uid(16, 0x42);
    const std::vector<store::BatchRow> batch{store::BatchRow{uid, 99, store::Bytes(32, 1), 1}};
    const std::vector<store::InboxRow> item{store::InboxRow{0, uid, store::Bytes(16, 7), store::Bytes(72, 3),
                                                            store::Bytes(80, 4), 1}};
    ASSERT_TRUE(in->append(batch, item).has_value());
  }
  sign_up(fx, fx.inbox, 2, 3);
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  for (int pass = 0; pass < 2; ++pass) {
    auto r = folder.fold_once(50);
    ASSERT_TRUE(r) << r.error().internal;
    EXPECT_EQ(r->created, pass == 0 ? 5u : 0u);
    EXPECT_EQ(inbox->count().value(), 1);  // the one of key version 99
  }
  EXPECT_EQ(st->count_supporters().value(), 5);
  EXPECT_EQ(ledger(*st), 0u);
}

// Runs one fixed statement on `db`, its parameters set by `bind`.
void run_statement(sqlite3* db, const char* sql, const std::function<void(sqlite3_stmt*)>& bind = {}) {
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  if (bind) bind(stmt);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
}

// Attaches the SQLite file `path` to `db` as "other".
void attach_other(sqlite3* db, const std::filesystem::path& path) {
  run_statement(db, "ATTACH ?1 AS other",
                [&](sqlite3_stmt* s) { sqlite3_bind_text(s, 1, path.c_str(), -1, SQLITE_TRANSIENT); });
}

// Copies the items (and their batches) of one inbox file into the inbox
// tables of another SQLite file (an inbox file, or the records' file as an
// older version kept them), giving them ids from `first_id` on.
void copy_items(const std::filesystem::path& from, const std::filesystem::path& to, std::int64_t first_id) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(to.c_str(), &db), SQLITE_OK);
  attach_other(db, from);
  run_statement(db, "INSERT INTO main.intake_batches SELECT * FROM other.intake_batches");
  run_statement(db,
                "INSERT INTO main.inbox (id, batch_uid, item_uid, wrapped_key, fields, received_at)"
                " SELECT id - 1 + ?1, batch_uid, item_uid, wrapped_key, fields, received_at FROM other.inbox",
                [&](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, first_id); });
  sqlite3_close(db);
}

// With several intake writers, an item may commit after items with higher
// ids were read and folded. It is folded by a later pass, exactly once,
// and nothing else is folded twice.
TEST(Folder, AnItemCommittedLateBelowTheIdsReadIsFoldedOnce) {
  testing::Fixture fx;
  sign_up(fx, fx.inbox, 0, 5);  // ids 1-5
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  const auto entries = [&] { return count_rows(fx.db, "SELECT count(*) FROM audit_entries"); };
  const std::int64_t entries_before = entries();
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto first = folder.fold_once(3);  // ids 1-3
  ASSERT_TRUE(first) << first.error().internal;
  EXPECT_EQ(first->created, 3u);
  // Committed now, with id 2: below every id the pass read.
  const auto late = fx.dir / "late-inbox.db";
  sign_up(fx, late, 50, 1);
  copy_items(late, fx.inbox, 2);
  std::size_t created = first->created;
  for (int pass = 0; pass < 4; ++pass) {
    auto r = folder.fold_once(3);
    ASSERT_TRUE(r) << r.error().internal;
    created += r->created;
    EXPECT_EQ(r->merged + r->unchanged + r->rejected, 0u);
  }
  EXPECT_EQ(created, 6u);
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), 6);
  EXPECT_EQ(entries() - entries_before, 6);
}

// What an older version left is brought up to date when the backend opens
// its first keeper store: the submissions it kept in the records' file move
// into the inbox file, and inbox items at or below its fold mark (folded
// already) are deleted, not folded again.
TEST(Folder, WhatAnOlderVersionLeftIsFoldedOnce) {
  testing::Fixture fx;
  const auto scratch = fx.dir / "scratch-inbox.db";
  sign_up(fx, scratch, 0, 6);
  { auto st = store::open_sqlite_keeper(fx.db); ASSERT_TRUE(st); }  // the records' file, migrated
  copy_items(scratch, fx.db, 1);
  sign_up(fx, fx.inbox, 6, 2);  // ids 1-2 of the inbox file; the older version folded id 1
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(fx.db.c_str(), &db), SQLITE_OK);
    attach_other(db, fx.inbox);
    run_statement(db, "INSERT INTO fold_marks SELECT uid, 1 FROM other.inbox_file");
    sqlite3_close(db);
  }
  auto backend = store::open_sqlite_backend(fx.db.parent_path());
  ASSERT_TRUE(backend) << backend.error().internal;
  std::size_t moved = 0;
  auto st = (*backend)->open_keeper(store::KeeperUse::serve, &moved);
  ASSERT_TRUE(st) << st.error().internal;
  EXPECT_EQ(moved, 6u);
  EXPECT_EQ(count_rows(fx.db, "SELECT count(*) FROM inbox"), 0);
  EXPECT_EQ(count_rows(fx.db, "SELECT count(*) FROM intake_batches"), 0);
  EXPECT_EQ(count_rows(fx.db, "SELECT count(*) FROM fold_marks"), 0);
  auto inbox = std::move((*backend)->open_inbox().value());
  EXPECT_EQ(inbox->count().value(), 7);
  auto keys = fx.keeper_keys();
  Folder folder(keys, **st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(50);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created, 7u);
  EXPECT_EQ(inbox->count().value(), 0);
  // Once done, a second keeper store moves nothing.
  auto again = (*backend)->open_keeper(store::KeeperUse::serve, &moved);
  ASSERT_TRUE(again);
  EXPECT_EQ(moved, 0u);
}

}  // namespace
}  // namespace rempart::services
