#include "services/retention.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/blind_index.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

constexpr std::int64_t kDay = 86400;

class RetentionTest : public ::testing::Test {
 protected:
  // A sign-up of `email` (and `phone`) made `ago` seconds before now.
  store::Bytes add(const std::string& email, const std::string& phone, std::int64_t ago, bool consent = true) {
    core::Person p;
    p.given_name = "Rétention";
    p.email = email;
    p.phone = phone;
    p.consent.email = consent;
    store::Bytes id;
    const std::int64_t at = now - ago;
    EXPECT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, writer.prepare(p, at * 1000), at, &id);
      if (!u) return std::unexpected(u.error());
      return {};
    }));
    return id;
  }
  std::optional<store::SupporterRow> row(const store::Bytes& id) { return st->find_supporter(id).value(); }

  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  Vault vault{keys};
  RecordWriter writer{keys};
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::int64_t now = unix_now();
};

TEST_F(RetentionTest, PoliciesReachWhatTheySayAndNothingElse) {
  const std::int64_t month = kSecondsPerMonth;
  const auto old = add("old@example.org", "", 40 * month, false);                    // inactive: erased
  const auto quiet = add("quiet@example.org", "+33612345678", 30 * month, false);    // phone dropped
  const auto active = add("active@example.org", "+33612345679", 40 * month, false);  // a statement last month
  const auto pending = add("pending@example.org", "", 40 * kDay);  // asked to confirm, never did: erased
  const auto confirmed = add("confirmed@example.org", "", 40 * kDay);
  const auto never_asked = add("before@example.org", "", 40 * kDay);  // no confirmation mail went out: kept
  const auto petition = add("petition@example.org", "", 40 * kDay, false);  // no consent asked: kept
  const auto decoy = add("decoy@example.org", "+33612345670", 40 * month, false);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    if (auto e = tx.append_consent_event(active, store::ConsentEventRow{"sms", "no", now - month, "signup"}); !e) {
      return e;
    }
    auto c = tx.confirm_email_consent(confirmed, now - 39 * kDay);
    if (!c) return std::unexpected(c.error());
    for (const auto& asked : {pending, confirmed}) {
      auto m = tx.enqueue_mail(asked, "confirm", now - 40 * kDay, "");
      if (!m) return std::unexpected(m.error());
      auto sent = tx.update_mail(store::OutboxRow{*m, asked, "confirm", "sent", 1, now - 40 * kDay, now - 40 * kDay,
                                                  now - 40 * kDay, 250});
      if (!sent) return sent;
    }
    return tx.insert_honeytoken(decoy, now, "operator:test");
  }));
  const auto quiet_before = *row(quiet);

  Retention retention(*st, keys, vault, RetentionOptions{});
  const RetentionCounts want{1, 1, 1};
  auto report = retention.report(now);
  ASSERT_TRUE(report) << report.error().internal;
  EXPECT_EQ(*report, want);
  auto dry = retention.run(now, "operator:test", true);
  ASSERT_TRUE(dry);
  EXPECT_EQ(*dry, want);
  EXPECT_TRUE(row(old));
  EXPECT_TRUE(row(pending));
  EXPECT_EQ(row(quiet)->phone_index, quiet_before.phone_index);

  auto ran = retention.run(now, "keeper", false);
  ASSERT_TRUE(ran) << ran.error().internal;
  EXPECT_EQ(*ran, want);
  EXPECT_FALSE(row(old));
  EXPECT_FALSE(row(pending));
  for (const auto& kept : {quiet, active, confirmed, never_asked, petition, decoy}) EXPECT_TRUE(row(kept));
  // The phone is gone from the record's fields and index; its clock is not reset.
  const auto q = *row(quiet);
  EXPECT_FALSE(q.phone_index);
  EXPECT_EQ(q.updated_at, quiet_before.updated_at);
  auto opened = testing::inspect_record(keys, q);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->phone, "");
  EXPECT_EQ(opened->email, "quiet@example.org");
  EXPECT_TRUE(row(active)->phone_index);
  EXPECT_TRUE(row(decoy)->phone_index);
  // Not the person's request: nothing is suppressed.
  EXPECT_EQ(st->count_suppressions().value(), 0);

  std::vector<std::string> got;
  for (const auto& e : testing::audit_entries(*st)) {
    if (e.action == "supporter.retention" || e.action == "retention.run") got.push_back(e.action + " " + e.details);
  }
  ASSERT_EQ(got.size(), 5u) << ::testing::PrintToString(got);
  EXPECT_NE(got[0].find("\"dry_run\":true"), std::string::npos) << got[0];
  EXPECT_EQ(got[1], "supporter.retention {\"policy\":\"unconfirmed\"}");
  EXPECT_EQ(got[2], "supporter.retention {\"policy\":\"inactive\"}");
  EXPECT_EQ(got[3], "supporter.retention {\"policy\":\"phone\"}");
  EXPECT_NE(got[4].find("\"record_months\":36"), std::string::npos) << got[4];

  // A second run finds nothing more; policies at 0 are off.
  EXPECT_EQ(*retention.run(now, "keeper", false), (RetentionCounts{}));
  Retention off(*st, keys, vault, RetentionOptions{0, 0, 0});
  EXPECT_EQ(*off.report(now + 100 * kSecondsPerMonth), (RetentionCounts{}));
}

}  // namespace
}  // namespace rempart::services
