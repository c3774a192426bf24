#include "services/dashboard.hpp"

#include <gtest/gtest.h>

#include "audit/chain.hpp"
#include "guard/budget.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

struct DashboardTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  const std::int64_t now = unix_now();  // audit entries are dated by the clock

  std::string add(int n, std::int64_t at, std::vector<std::string> tags, std::string origin = "intake") {
    RecordWriter writer(keys);
    core::Person p;
    p.email = "dash" + std::to_string(n) + "@example.org";
    p.tags = std::move(tags);
    Provenance from;
    from.origin = std::move(origin);
    from.from_the_person = from.origin == "intake";
    store::Bytes id;
    EXPECT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, writer.prepare(p), at, &id, nullptr, from);
      if (!u) return std::unexpected(u.error());
      return {};
    }));
    return audit::to_hex(id);
  }
};

TEST_F(DashboardTest, CountsTheLastThirtyDaysTheirTagsAndTheWeeksLocks) {
  add(1, now, {"volunteer"});
  add(2, now - 60, {"volunteer", "donor"});
  add(3, now - 86400, {"donor"}, "import:csv");
  add(4, now - 29 * 86400, {}, "synth");
  add(5, now - 31 * 86400, {"old"}, "import:csv");  // before the window
  // A honeytoken added today is not counted.
  const std::string decoy = add(6, now, {"volunteer"});
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    store::Bytes id(16);
    for (std::size_t i = 0; i < 16; ++i) id[i] = static_cast<std::uint8_t>(std::stoi(decoy.substr(2 * i, 2), nullptr, 16));
    return tx.insert_honeytoken(id, now, "operator:test");
  }));
  // A lock, and another entry that is none.
  for (const auto action : {audit::action::guard_lock, audit::action::supporter_tag}) {
    ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto e = audit::record(tx, keys,
                             audit::Event{"account:00112233445566778899aabbccddeeff", std::string(action), "",
                                          {{"reason", "list_budget"}}, ""});
      if (!e) return std::unexpected(e.error());
      return {};
    }));
  }

  auto d = read_dashboard(*st, now);
  ASSERT_TRUE(d) << d.error().internal;
  ASSERT_EQ(d->days.size(), static_cast<std::size_t>(kDashboardDays));
  EXPECT_EQ(d->days.back().day, now - now % 86400);
  EXPECT_EQ(d->days.back().added, 2);
  EXPECT_EQ(d->days[d->days.size() - 2].added, 1);
  EXPECT_EQ(d->days.front().added, 1);
  EXPECT_EQ(d->added, 4);
  EXPECT_EQ(d->supporters, 5);
  ASSERT_EQ(d->tags.size(), 2u);
  EXPECT_EQ(d->tags[0], (store::TagCountRow{"donor", 2}));
  EXPECT_EQ(d->tags[1], (store::TagCountRow{"volunteer", 2}));
  // By source, most first: the honeytoken and the record before the window are not counted.
  EXPECT_EQ(d->sources, (std::vector<store::OriginCountRow>{{"intake", 2}, {"import:csv", 1}, {"synth", 1}}));
  ASSERT_EQ(d->locks.size(), 1u);
  EXPECT_EQ(d->locks[0].reason, "list_budget");
  EXPECT_GE(d->locks[0].at_us, now * 1'000'000);
  EXPECT_EQ(d->locks[0].actor, "account:00112233445566778899aabbccddeeff");
}

}  // namespace
}  // namespace rempart::services
