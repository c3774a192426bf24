#include "services/synth.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "services/test_support.hpp"

namespace rempart::services {
namespace {

struct SynthRun {
  FoldCounts counts;
  std::vector<std::uint64_t> progress;
  std::vector<std::string> actions;
  std::map<std::string, core::Person> people;  // by e-mail, as stored
};

SynthRun run_synth(std::size_t rows_per_transaction, std::size_t repeat) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  SynthRun run;
  SynthOptions so;
  so.count = 30;
  so.phones = 12;
  so.seed = 7;
  so.rows_per_transaction = rows_per_transaction;
  so.progress = [&](std::uint64_t done) { run.progress.push_back(done); };
  for (std::size_t k = 0; k < repeat; ++k) {
    auto r = synth_supporters(*st, keys, so);
    EXPECT_TRUE(r) << r.error().internal;
    if (!r) return run;
    run.counts = *r;
  }
  EXPECT_TRUE(st->scan_audit(1, [&](const store::AuditEntryRow& e) {
    run.actions.push_back(e.action);
    return true;
  }));
  for (std::uint64_t i = 0; i < so.count; ++i) {
    const auto email = synth_person(so.seed, i, i < so.phones).email;
    auto s = Vault(keys).reveal_by_contact(*st, "operator:test", "email", email, "test");
    EXPECT_TRUE(s && *s) << "person " << i;
    if (s && *s) run.people[email] = (*s)->person;
  }
  return run;
}

// Chunks made ahead on a worker land in order and give what one chunk gives.
TEST(Synth, ManyChunksGiveTheSameRecordsAsOne) {
  const auto one = run_synth(1000, 1);
  EXPECT_EQ(one.counts.created, 30u);
  EXPECT_EQ(one.progress, (std::vector<std::uint64_t>{30}));
  ASSERT_EQ(one.actions.size(), 31u);
  EXPECT_EQ(one.actions.back(), "synth.run");
  ASSERT_EQ(one.people.size(), 30u);
  const auto p0 = synth_person(7, 0, true);
  EXPECT_EQ(one.people.begin()->second.country, "FR");
  EXPECT_EQ(one.people.at(p0.email).phone, p0.phone);

  const auto many = run_synth(7, 1);
  EXPECT_EQ(many.counts.created, 30u);
  EXPECT_EQ(many.progress, (std::vector<std::uint64_t>{7, 14, 21, 28, 30}));
  EXPECT_EQ(many.actions, one.actions);
  EXPECT_EQ(many.people, one.people);

  // A second run over the same store finds everyone already there.
  const auto again = run_synth(7, 2);
  EXPECT_EQ(again.counts.created, 0u);
  EXPECT_EQ(again.counts.unchanged, 30u);
  EXPECT_EQ(again.people, one.people);
}

}  // namespace
}  // namespace rempart::services
