#include "services/folder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "services/intake_writer.hpp"
#include "services/test_support.hpp"

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
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.db).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < kItems; ++i) {
      // Items 100.. repeat people 0..49; every third of them adds a phone.
      auto p = person(i % 100, i >= 100 && i % 3 == 0);
      if (invalid.contains(i)) p.email = "not an email";
      (*writer)->submit(p, [](bool) {});
    }
    (*writer)->stop();
  }
  for (int i : tampered) testing::flip_a_byte_of_item(fx.db, i);

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
  Folder folder(keys, *st, core::IntakeOptions{});
  auto r = folder.fold_once(1000);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->rejected, 4u);
  EXPECT_EQ(r->created, 100u);  // 0..99 less 5 and 10, plus 105 and 110
  EXPECT_EQ(r->created + r->merged + r->unchanged + r->rejected, static_cast<std::size_t>(kItems));
  EXPECT_EQ(st->count_inbox().value(), 0);
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
  auto s = reveal_supporter(*st, keys, "operator:test", "email", "fold.2@example.org", "test");
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
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.db).value()));
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
  const auto batches = [&] { return count_rows(fx.db, "SELECT count(*) FROM intake_batches"); };
  const auto in_use = [&] { return count_rows(fx.db, "SELECT count(DISTINCT batch_uid) FROM inbox"); };
  const auto made = batches();
  ASSERT_GE(made, kBatches);
  ASSERT_EQ(in_use(), made);

  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  Folder folder(keys, *st, core::IntakeOptions{});
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
  EXPECT_EQ(st->count_inbox().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), kBatches * kPerBatch);
}

// The hold a pass reports is its write transaction's: some time for a pass
// that folded, none for a pass that found nothing; and a running loop folds
// everything in passes of its batch.
TEST(FoldLoop, MeasuresItsPassesAndFoldsEverything) {
  constexpr int kItems = 120;
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.db).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < kItems; ++i) (*writer)->submit(person(i, i % 4 == 0), [](bool) {});
    (*writer)->stop();
  }
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  Folder folder(keys, *st, core::IntakeOptions{});
  auto first = folder.fold_once(20);
  ASSERT_TRUE(first) << first.error().internal;
  EXPECT_EQ(first->created, 20u);
  EXPECT_GT(folder.last_hold().count(), 0);
  {
    // The loop's thread owns `st` while it runs: watch through another
    // connection.
    auto watch = std::move(store::open_sqlite_keeper(fx.db).value());
    FoldLoop loop(folder, std::chrono::milliseconds(10), 50);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (watch->count_inbox().value() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    loop.stop();
    EXPECT_EQ(loop.folded(), static_cast<std::uint64_t>(kItems - 20));
  }
  EXPECT_EQ(st->count_inbox().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), kItems);
  auto empty = folder.fold_once(20);
  ASSERT_TRUE(empty);
  EXPECT_EQ(folder.last_hold().count(), 0);
}

}  // namespace
}  // namespace rempart::services
