#include "audit/blast_radius.hpp"

#include <gtest/gtest.h>

#include "audit/test_support.hpp"

namespace rempart::audit {
namespace {

class BlastRadiusTest : public test::AuditFixture {
 protected:
  static constexpr std::int64_t kMorning = 1'700'000'000'000'000;
  static constexpr std::int64_t kEvening = kMorning + 10LL * 3600 * 1'000'000;

  void log(std::int64_t at, const std::string& actor, std::string_view act, const std::string& subject,
           nlohmann::json details) {
    auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto a = Appender::begin(tx, *keys_);
      if (!a) return std::unexpected(a.error());
      if (auto s = a->append(Event{actor, std::string(act), subject, std::move(details), "192.0.2.7"}, at); !s) {
        return std::unexpected(s.error());
      }
      return {};
    });
    ASSERT_TRUE(r.has_value()) << r.error().internal;
  }

  // Two organisers with known reveals, among the keeper's own entries.
  void scenario() {
    for (const char* id : {"aa", "bb", "cc", "dd", "ee", "ff", "11"}) {
      log(kMorning - 1000, "keeper", action::supporter_create, id, {{"via", "intake"}});
    }
    log(kMorning, "account:alice", action::supporter_list, "", {{"records", {"aa", "bb", "cc", "dd"}}});
    log(kMorning + 1, "account:alice", action::supporter_reveal, "aa", {{"fields", {"email"}}, {"reason", "call"}});
    log(kMorning + 2, "account:alice", action::supporter_reveal, "bb", {{"fields", {"email"}}});
    log(kMorning + 3, "account:alice", action::supporter_reveal, "bb", {{"fields", {"phone"}}});
    log(kEvening, "account:bob", action::supporter_reveal, "cc", {{"fields", {"email"}}});
    log(kEvening + 1, "account:bob", action::supporter_export, "",
        {{"records", {"ee", "ff"}}, {"fields", {"email", "given_name"}}});
    log(kEvening + 2, "account:bob", action::supporter_list, "", {{"records", {"aa", "11"}}});
  }

  static std::vector<std::string> ids(const std::vector<Exposure>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.push_back(e.record);
    return out;
  }

  BlastRadius run(const BlastQuery& q) {
    auto r = blast_radius(*store_, q);
    EXPECT_TRUE(r.has_value());
    return r ? *r : BlastRadius{};
  }
};

TEST_F(BlastRadiusTest, OneOrganiser) {
  scenario();
  const auto alice = run({"account:alice"});
  EXPECT_EQ(ids(alice.revealed), (std::vector<std::string>{"aa", "bb"}));
  EXPECT_EQ(ids(alice.masked_only), (std::vector<std::string>{"cc", "dd"}));
  EXPECT_EQ(alice.revealed[1].fields, (std::set<std::string>{"email", "phone"}));
  EXPECT_EQ(alice.revealed[1].first_at, kMorning + 2);
  EXPECT_EQ(alice.revealed[1].last_at, kMorning + 3);
  EXPECT_EQ(alice.revealed[1].times, 2u);
  EXPECT_EQ(summary(alice), "2 supporters: 1 email, 1 email+phone; 2 more seen masked only");

  const auto bob = run({"account:bob"});
  EXPECT_EQ(ids(bob.revealed), (std::vector<std::string>{"cc", "ee", "ff"}));
  EXPECT_EQ(ids(bob.masked_only), (std::vector<std::string>{"11", "aa"}));
  EXPECT_EQ(bob.revealed[1].fields, (std::set<std::string>{"email", "given_name"}));
}

TEST_F(BlastRadiusTest, TimeWindowAcrossActors) {
  scenario();
  const auto evening = run({"", kEvening, kEvening + 2});  // until is exclusive: bob's list is out
  EXPECT_EQ(ids(evening.revealed), (std::vector<std::string>{"cc", "ee", "ff"}));
  EXPECT_TRUE(evening.masked_only.empty());
  const auto all_day = run({"", kMorning, kEvening + 100});
  EXPECT_EQ(ids(all_day.revealed), (std::vector<std::string>{"aa", "bb", "cc", "ee", "ff"}));
  EXPECT_EQ(ids(all_day.masked_only), (std::vector<std::string>{"11", "dd"}));
  EXPECT_EQ(all_day.revealed[2].actors, (std::set<std::string>{"account:bob"}));
  // An actor in a window: alice did nothing in the evening.
  const auto alice_evening = run({"account:alice", kEvening, kEvening + 100});
  EXPECT_TRUE(alice_evening.revealed.empty());
  EXPECT_EQ(summary(alice_evening), "0 supporters");
}

TEST_F(BlastRadiusTest, KeeperEntriesAreNotExposures) {
  scenario();
  const auto keeper = run({"keeper"});
  EXPECT_TRUE(keeper.revealed.empty());
  EXPECT_TRUE(keeper.masked_only.empty());
}

}  // namespace
}  // namespace rempart::audit
