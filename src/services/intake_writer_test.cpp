#include "services/intake_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>

#include <sqlite3.h>

#include "services/folder.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

core::Person person(int i) {
  core::Person p;
  p.given_name = "Quentinella";
  p.family_name = "Marchedouce";
  p.email = "quentinella.marchedouce." + std::to_string(i) + "@example.org";
  p.consent.email = true;
  return p;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(IntakeWriter, ConcurrentSubmissionsAreDurableThenFolded) {
  testing::Fixture fx;
  auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
  ASSERT_TRUE(writer);
  constexpr int kThreads = 4, kEach = 250;
  std::atomic<int> ok{0}, done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        (*writer)->submit(person(t * kEach + i), [&](bool durable) {
          if (durable) ++ok;
          ++done;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  (*writer)->stop();
  EXPECT_EQ(done.load(), kThreads * kEach);
  EXPECT_EQ(ok.load(), kThreads * kEach);
  const auto stats = (*writer)->stats();
  EXPECT_EQ(stats.committed, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LT(stats.commits, stats.committed) << "group commit should share commits";

  // The inbox holds ciphertext only.
  const auto raw = slurp(fx.inbox) + slurp(fx.inbox.string() + "-wal");
  EXPECT_EQ(raw.find("Quentinella"), std::string::npos);
  EXPECT_EQ(raw.find("marchedouce"), std::string::npos);

  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  EXPECT_EQ(inbox->count().value(), kThreads * kEach);
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  std::size_t created = 0;
  for (;;) {
    auto r = folder.fold_once(300);
    ASSERT_TRUE(r) << r.error().internal;
    if (r->created + r->merged + r->unchanged + r->rejected == 0) break;
    created += r->created;
    EXPECT_EQ(r->rejected, 0u);
  }
  EXPECT_EQ(created, static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), kThreads * kEach);
  auto s = Vault(keys).reveal_by_contact(*st, "operator:test", "email", "quentinella.marchedouce.17@example.org", "test");
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->person.family_name, "Marchedouce");
  EXPECT_TRUE((*s)->person.consent.email);
}

TEST(IntakeWriter, SubmitAfterStopIsRefused) {
  testing::Fixture fx;
  auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
  ASSERT_TRUE(writer);
  (*writer)->stop();
  std::promise<bool> result;
  (*writer)->submit(person(1), [&](bool durable) { result.set_value(durable); });
  EXPECT_FALSE(result.get_future().get());
}

// After use_keys (a rotation), new submissions are sealed to the new
// version: the next batches name it, and the keeper, holding both, folds
// everything.
TEST(IntakeWriter, NewKeysAreUsedFromTheNextBatchOn) {
  testing::Fixture fx;
  auto keeper_keys = fx.keeper_keys();
  ASSERT_TRUE(keeper_keys.add_version());
  auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
  ASSERT_TRUE(writer);
  const auto submit_one = [&](int i) {
    core::Person p;
    p.email = "keys." + std::to_string(i) + "@example.org";
    p.consent.email = true;
    std::promise<bool> done;
    (*writer)->submit(p, [&](bool ok) { done.set_value(ok); });
    return done.get_future().get();
  };
  ASSERT_TRUE(submit_one(0));
  EXPECT_EQ((*writer)->key_version(), 1u);
  (*writer)->use_keys(keeper_keys.intake());
  EXPECT_EQ((*writer)->key_version(), 2u);
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(submit_one(i));
  (*writer)->stop();

  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  auto by_version = inbox->count_by_key_version();
  ASSERT_TRUE(by_version);
  ASSERT_EQ(by_version->size(), 2u);
  EXPECT_EQ((*by_version)[0].key_version, 1u);
  EXPECT_EQ((*by_version)[1].key_version, 2u);
  EXPECT_EQ((*by_version)[0].count, 1);
  EXPECT_EQ((*by_version)[1].count, 4);
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  Folder folder(keeper_keys, *st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(100);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created, 5u);
  EXPECT_EQ(r->rejected, 0u);
}

TEST(Folder, TamperedOrInvalidSubmissionsAreDroppedNotFolded) {
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    for (int i = 0; i < 3; ++i) (*writer)->submit(person(i), [](bool) {});
    // The intake is not trusted: a person that does not validate is refused
    // by the keeper even though it was sealed.
    core::Person bad = person(99);
    bad.email = "not an email";
    (*writer)->submit(bad, [](bool) {});
    (*writer)->stop();
  }
  // Flip one byte of the first submission's ciphertext, as an intruder with
  // write access to the database file could.
  testing::flip_a_byte_of_item(fx.inbox);

  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(100);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created, 2u);
  EXPECT_EQ(r->rejected, 2u);
  EXPECT_EQ(inbox->count().value(), 0);
  EXPECT_EQ(st->count_supporters().value(), 2);
}

}  // namespace
}  // namespace rempart::services
