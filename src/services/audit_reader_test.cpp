// read_audit: what the auditor's page shows, and the reading recorded.
#include "services/audit_reader.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/chain.hpp"
#include "auth/accounts.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

void write_entries(store::KeeperStore& st, const crypto::KeeperKeyring& keys, const std::string& actor,
                   std::string_view action, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(st.transact([&](store::KeeperTx& tx) -> Result<void> {
      auto e = audit::record(tx, keys, audit::Event{actor, std::string(action), "", nlohmann::json::object(), ""});
      if (!e) return std::unexpected(e.error());
      return {};
    }));
  }
}

std::vector<store::AuditEntryRow> all_entries(store::KeeperStore& st) {
  std::vector<store::AuditEntryRow> out;
  EXPECT_TRUE(st.scan_audit(1, [&](const store::AuditEntryRow& r) {
    out.push_back(r);
    return true;
  }));
  return out;
}

// A console account of that name, as the auth layer stores it; returns its
// actor ("account:<hex>").
std::string add_account(store::KeeperStore& st, const std::string& name, std::uint8_t tag) {
  store::AccountRow a;
  a.id = store::Bytes(16, tag);
  a.name = name;
  a.role = "organiser";
  a.created_at = a.updated_at = 1;
  a.created_by = "operator:root";
  EXPECT_TRUE(st.transact([&](store::KeeperTx& tx) { return tx.insert_account(a); }));
  return auth::account_actor(audit::to_hex(a.id));
}

TEST(AuditReader, NewestMatchingEntriesFirstAtMostAHundredAndTheReadingRecorded) {
  testing::Fixture fx;
  const auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  write_entries(*st, keys, "operator:alice", audit::action::supporter_list, 105);
  write_entries(*st, keys, "operator:bob", audit::action::import_run, 3);

  const Asker asker{"account:00112233445566778899aabbccddeeff", "192.0.2.7"};
  audit::ChainWatch watch(std::chrono::hours(1));
  auto r = read_audit(*st, keys, watch, AuditReadFilter{"operator:alice", ""}, "", false, asker);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_TRUE(r->verify.ok());
  EXPECT_TRUE(r->verify.whole());
  EXPECT_EQ(r->verify.entries, 108);
  EXPECT_GT(r->whole_at_us, 0);
  ASSERT_EQ(r->entries.size(), kAuditReadEntries);
  EXPECT_EQ(r->entries.front().seq, 105);
  EXPECT_EQ(r->entries.back().seq, 6);
  for (std::size_t i = 0; i < r->entries.size(); ++i) {
    EXPECT_EQ(r->entries[i].actor, "operator:alice");
    if (i > 0) {
      EXPECT_LT(r->entries[i].seq, r->entries[i - 1].seq);
    }
  }
  ASSERT_TRUE(r->blast.has_value());
  EXPECT_EQ(r->blast_summary, audit::summary(*r->blast));

  const auto log = all_entries(*st);
  ASSERT_EQ(log.size(), 109u);
  const auto& q = log.back();
  EXPECT_EQ(q.actor, asker.actor);
  EXPECT_EQ(q.action, audit::action::audit_query);
  EXPECT_EQ(q.client, asker.client);
  EXPECT_EQ(q.subject, "");
  EXPECT_EQ(nlohmann::json::parse(q.details),
            (nlohmann::json{{"filter_actor", "operator:alice"}, {"filter_action", ""}, {"shown", 100}}));
}

TEST(AuditReader, ByActionWithoutActorHasNoBlastRadiusAndSeesEarlierReadings) {
  testing::Fixture fx;
  const auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  write_entries(*st, keys, "operator:alice", audit::action::supporter_list, 2);
  write_entries(*st, keys, "operator:bob", audit::action::import_run, 1);
  const Asker asker{"account:00112233445566778899aabbccddeeff", ""};

  audit::ChainWatch watch(std::chrono::hours(1));
  auto first =
      read_audit(*st, keys, watch, AuditReadFilter{"", std::string(audit::action::import_run)}, "", false, asker);
  ASSERT_TRUE(first) << first.error().internal;
  ASSERT_EQ(first->entries.size(), 1u);
  EXPECT_EQ(first->entries.front().actor, "operator:bob");
  EXPECT_FALSE(first->blast.has_value());
  EXPECT_EQ(first->blast_summary, "");

  auto second =
      read_audit(*st, keys, watch, AuditReadFilter{"", std::string(audit::action::audit_query)}, "", false, asker);
  ASSERT_TRUE(second) << second.error().internal;
  ASSERT_EQ(second->entries.size(), 1u);  // the first reading, not this one
  EXPECT_EQ(second->entries.front().seq, 4);
  EXPECT_TRUE(second->verify.ok());
  // The first reading verified entries 1-3; this one reads only entry 4, its record.
  EXPECT_FALSE(second->verify.whole());
  EXPECT_EQ(second->verify.from_seq, 4);
  EXPECT_EQ(second->verify.entries, 1);
  EXPECT_EQ(all_entries(*st).size(), 5u);
}

TEST(AuditReader, AWholeVerificationAskedForIsWholeAndRecordedAsSuch) {
  testing::Fixture fx;
  const auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  write_entries(*st, keys, "operator:alice", audit::action::supporter_list, 3);
  const Asker asker{"account:00112233445566778899aabbccddeeff", ""};
  audit::ChainWatch watch(std::chrono::hours(1));
  ASSERT_TRUE(read_audit(*st, keys, watch, AuditReadFilter{}, "", false, asker));
  auto r = read_audit(*st, keys, watch, AuditReadFilter{}, "", true, asker);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_TRUE(r->verify.whole());
  EXPECT_EQ(r->verify.entries, 4);
  const auto log = all_entries(*st);
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(nlohmann::json::parse(log.back().details),
            (nlohmann::json{{"filter_actor", ""}, {"filter_action", ""}, {"shown", 4}, {"whole", true}}));
}

TEST(AuditReader, AnActorGivenByAccountNameReadsThatAccountsEntriesAndEveryActorHasItsName) {
  testing::Fixture fx;
  const auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  const auto camille = add_account(*st, "camille", 0x0c);
  const auto dom = add_account(*st, "dom", 0x0d);
  write_entries(*st, keys, camille, audit::action::supporter_list, 3);
  write_entries(*st, keys, dom, audit::action::supporter_list, 2);
  write_entries(*st, keys, "operator:alice", audit::action::import_run, 1);

  const Asker asker{"account:00112233445566778899aabbccddeeff", ""};
  audit::ChainWatch watch(std::chrono::hours(1));
  auto r = read_audit(*st, keys, watch, AuditReadFilter{"camille", ""}, "", false, asker);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->actor, camille);
  ASSERT_EQ(r->entries.size(), 3u);
  for (const auto& e : r->entries) EXPECT_EQ(e.actor, camille);
  ASSERT_TRUE(r->blast.has_value());
  EXPECT_EQ(r->names, (std::map<std::string, std::string>{{camille, "camille"}, {dom, "dom"}}));

  // The reading names the actor as the log writes it, and the name given.
  const auto log = all_entries(*st);
  ASSERT_EQ(log.size(), 7u);
  EXPECT_EQ(nlohmann::json::parse(log.back().details),
            (nlohmann::json{{"filter_actor", camille}, {"filter_account", "camille"}, {"filter_action", ""},
                            {"shown", 3}}));

  // The id form reads the same entries, and records no name.
  auto by_id = read_audit(*st, keys, watch, AuditReadFilter{camille, ""}, "", false, asker);
  ASSERT_TRUE(by_id) << by_id.error().internal;
  EXPECT_EQ(by_id->entries.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(all_entries(*st).back().details),
            (nlohmann::json{{"filter_actor", camille}, {"filter_action", ""}, {"shown", 3}}));
}

TEST(AuditReader, AnUnknownOrMalformedActorIsRefusedAndNothingIsRecorded) {
  testing::Fixture fx;
  const auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  add_account(*st, "camille", 0x0c);
  write_entries(*st, keys, "operator:alice", audit::action::import_run, 2);
  const Asker asker{"account:00112233445566778899aabbccddeeff", ""};
  audit::ChainWatch watch(std::chrono::hours(1));

  auto unknown = read_audit(*st, keys, watch, AuditReadFilter{"nobody", ""}, "", false, asker);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::invalid_input);
  EXPECT_EQ(unknown.error().internal, kAuditActorUnknown);
  EXPECT_EQ(unknown.error().internal.find("nobody"), std::string::npos);

  const std::vector<std::string> bad_ones = {"Camille Dupont", "camille\n", "caMILLE", "x'; drop table accounts; --",
                                            std::string(101, 'a') + ":"};
  for (const auto& bad : bad_ones) {
    auto r = read_audit(*st, keys, watch, AuditReadFilter{bad, ""}, "", false, asker);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_input) << bad;
    EXPECT_EQ(r.error().internal, kAuditActorInvalid) << bad;
  }
  EXPECT_EQ(all_entries(*st).size(), 2u);  // no reading recorded
}

TEST(AuditReader, ResolvingAnActorTakesTheLogsFormsAsTheyAreAndNamesByLookUp) {
  testing::Fixture fx;
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  const auto camille = add_account(*st, "camille", 0x0c);
  EXPECT_EQ(resolve_audit_actor(*st, "").value(), "");
  EXPECT_EQ(resolve_audit_actor(*st, "camille").value(), camille);
  EXPECT_EQ(resolve_audit_actor(*st, camille).value(), camille);
  EXPECT_EQ(resolve_audit_actor(*st, "token:3").value(), "token:3");
  EXPECT_EQ(resolve_audit_actor(*st, "operator:alice").value(), "operator:alice");
  EXPECT_EQ(resolve_audit_actor(*st, "keeper").value(), "keeper");
  EXPECT_EQ(resolve_audit_actor(*st, "anonymous").value(), "anonymous");
  EXPECT_EQ(resolve_audit_actor(*st, "dom").error().internal, kAuditActorUnknown);
  EXPECT_EQ(resolve_audit_actor(*st, "tab\there:x").error().internal, kAuditActorInvalid);
  EXPECT_EQ(account_names(*st).value(), (std::map<std::string, std::string>{{camille, "camille"}}));
}

}  // namespace
}  // namespace rempart::services
