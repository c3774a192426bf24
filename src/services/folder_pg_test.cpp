// The fold on PostgreSQL, where several keepers claim inbox items in their
// own transactions (store::KeeperTx::claim_inbox): items from several intake
// connections, committed in any order, are folded once each whichever keeper
// takes them and whichever transaction fails.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "audit/verify.hpp"
#include "services/folder.hpp"
#include "services/intake_writer.hpp"
#include "services/test_support.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/test_support.hpp"

namespace rempart::services {
namespace {

core::Person person(int i) {
  core::Person p;
  p.given_name = "Quentinella";
  p.email = "pgfold." + std::to_string(i) + "@example.org";
  p.consent.email = true;
  return p;
}

// Sends `n` sign-ups through `intakes` intake connections at once, person i
// being i % distinct; returns when every one is durable.
void sign_up(store::Backend& backend, const crypto::IntakeKeyring& keys, int intakes, int n, int distinct) {
  std::vector<std::thread> threads;
  std::atomic<int> durable{0};
  for (int t = 0; t < intakes; ++t) {
    threads.emplace_back([&, t] {
      auto writer = IntakeWriter::start(keys, std::move(backend.open_intake().value()));
      if (!writer) throw std::runtime_error("intake writer");
      for (int i = t; i < n; i += intakes) {
        (*writer)->submit(person(i % distinct), [&](bool ok) {
          if (ok) ++durable;
        });
      }
      (*writer)->stop();
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(durable.load(), n);
}

// Folds on `keepers` threads, each with its own stores, in passes of
// `batch`, until the inbox is empty; returns what each folded.
std::vector<std::size_t> fold_all(store::Backend& backend, const crypto::KeeperKeyring& keys, int keepers,
                                  std::size_t batch, const std::function<void(int, Folder&)>& setup = {}) {
  std::vector<std::size_t> folded(static_cast<std::size_t>(keepers), 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < keepers; ++k) {
    threads.emplace_back([&, k] {
      auto st = std::move(backend.open_keeper().value());
      auto inbox = std::move(backend.open_inbox().value());
      Folder folder(keys, *st, *inbox, core::IntakeOptions{});
      if (setup) setup(k, folder);
      for (int idle = 0; idle < 3;) {
        Result<FoldCounts> r = fail(Errc::internal, "not run");
        try {
          r = folder.fold_once(batch);
        } catch (const std::runtime_error&) {
          continue;  // the keeper died mid-pass: its transaction rolled back
        }
        if (!r) continue;  // a failed pass leaves its items for the next one, or the other keeper
        const std::size_t n = r->created + r->merged + r->unchanged + r->rejected;
        folded[static_cast<std::size_t>(k)] += n;
        if (n == 0 && inbox->count().value() == 0) ++idle;
      }
    });
  }
  for (auto& th : threads) th.join();
  return folded;
}

TEST(FolderOnPostgres, TwoKeepersFoldWhatThreeIntakesCommittedOnceEach) {
  store::postgres::test_support::TestDatabase db;
  testing::Fixture fx;
  auto backend = std::move(store::open_postgres_backend(db.options()).value());
  constexpr int kSignUps = 300, kPeople = 240;
  sign_up(*backend, fx.intake_keys(), 3, kSignUps, kPeople);

  const auto keys = fx.keeper_keys();
  const auto folded = fold_all(*backend, keys, 2, 10);
  EXPECT_EQ(folded[0] + folded[1], static_cast<std::size_t>(kSignUps));
  EXPECT_GT(folded[0], 0u);
  EXPECT_GT(folded[1], 0u);

  auto st = std::move(backend->open_keeper().value());
  EXPECT_EQ(st->count_supporters().value(), kPeople);
  // One entry per sign-up, one chain.
  const auto entries = testing::audit_entries(*st);
  std::size_t folds = 0;
  for (const auto& e : entries) folds += e.action.starts_with("supporter.") ? 1 : 0;
  EXPECT_EQ(folds, static_cast<std::size_t>(kSignUps));
  auto report = audit::verify(*st, keys, audit::VerifyOptions{});
  ASSERT_TRUE(report) << report.error().internal;
  EXPECT_TRUE(report->ok()) << (report->first() ? report->first()->reason : "");
  EXPECT_EQ(report->entries, static_cast<std::int64_t>(entries.size()));
}

TEST(FolderOnPostgres, AKeeperThatFailsMidPassLeavesItsItemsToTheOther) {
  store::postgres::test_support::TestDatabase db;
  testing::Fixture fx;
  auto backend = std::move(store::open_postgres_backend(db.options()).value());
  constexpr int kSignUps = 120;
  sign_up(*backend, fx.intake_keys(), 3, kSignUps, kSignUps);

  const auto keys = fx.keeper_keys();
  // Keeper 0 dies inside every other transaction, after its first item is
  // written: what it claimed goes back to the inbox at the rollback.
  std::atomic<int> failures{0};
  const auto folded = fold_all(*backend, keys, 2, 8, [&](int k, Folder& f) {
    if (k != 0) return;
    f.set_in_transaction_hook([&, n = 0](store::KeeperTx&) mutable {
      if (n++ % 2 == 0) {
        ++failures;
        throw std::runtime_error("keeper 0 stops here");
      }
    });
  });
  EXPECT_GT(failures.load(), 0);
  EXPECT_EQ(folded[0] + folded[1], static_cast<std::size_t>(kSignUps));

  auto st = std::move(backend->open_keeper().value());
  EXPECT_EQ(st->count_supporters().value(), kSignUps);
  auto report = audit::verify(*st, keys, audit::VerifyOptions{});
  ASSERT_TRUE(report) << report.error().internal;
  EXPECT_TRUE(report->ok());
}

// Sign-ups sealed with a key version this keeper lacks (another keeper's
// newer key) are never claimed by it: they wait for a keeper that has it,
// and the fold goes on past them however many there are, pass after pass.
TEST(FolderOnPostgres, ItemsOfAKeyVersionTheKeeperLacksDoNotStopItsFold) {
  store::postgres::test_support::TestDatabase db;
  testing::Fixture fx;
  auto backend = std::move(store::open_postgres_backend(db.options()).value());
  crypto::IntakeKeyring newer = fx.intake_keys();
  newer.version += 1;
  constexpr int kNewer = 12, kOwn = 20;
  sign_up(*backend, newer, 1, kNewer, kNewer);  // the oldest items
  sign_up(*backend, fx.intake_keys(), 1, kOwn, kOwn);

  const auto keys = fx.keeper_keys();
  auto st = std::move(backend->open_keeper().value());
  auto inbox = std::move(backend->open_inbox().value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  std::size_t folded = 0;
  for (int pass = 0; pass < 20; ++pass) {
    auto r = folder.fold_once(5);
    ASSERT_TRUE(r) << r.error().internal;
    const std::size_t n = r->created + r->merged + r->unchanged + r->rejected;
    if (n == 0) break;
    folded += n;
  }
  EXPECT_EQ(folded, static_cast<std::size_t>(kOwn));
  EXPECT_EQ(st->count_supporters().value(), kOwn);
  EXPECT_EQ(inbox->count().value(), kNewer);
}

}  // namespace
}  // namespace rempart::services
