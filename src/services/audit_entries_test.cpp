// The services write the audit entries that describe their changes, in the
// same transaction, and none of them holds personal data.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "audit/chain.hpp"
#include "audit/verify.hpp"
#include "services/folder.hpp"
#include "services/importer.hpp"
#include "services/intake_writer.hpp"
#include "services/records.hpp"
#include "services/synth.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

core::Person person(const std::string& email) {
  core::Person p;
  p.given_name = "Philibertine";
  p.family_name = "Gravelotte";
  p.email = email;
  p.phone = "+33199005555";
  p.consent.email = true;
  return p;
}

std::vector<store::AuditEntryRow> entries(store::KeeperStore& st) {
  std::vector<store::AuditEntryRow> out;
  EXPECT_TRUE(st.scan_audit(1, [&](const store::AuditEntryRow& r) {
    out.push_back(r);
    return true;
  }));
  return out;
}

void expect_no_pii(const std::vector<store::AuditEntryRow>& rows) {
  for (const auto& r : rows) {
    for (const auto& text : {r.actor, r.action, r.client, r.subject, r.details}) {
      for (const char* pii : {"Philibertine", "Gravelotte", "philibertine", "example.org", "99005555"}) {
        EXPECT_EQ(text.find(pii), std::string::npos) << "entry " << r.seq << " holds personal data";
      }
    }
  }
}

TEST(AuditEntries, FoldWritesOneEntryPerFoldedSubmission) {
  testing::Fixture fx;
  {
    auto writer = IntakeWriter::start(fx.intake_keys(), std::move(store::open_sqlite_intake(fx.inbox).value()));
    ASSERT_TRUE(writer);
    // Three people, one of them twice (merge: the second adds a phone),
    // and the third exactly again (unchanged).
    auto a = person("philibertine.a@example.org");
    a.phone.clear();
    auto a2 = person("philibertine.a@example.org");
    a2.phone = "+33199005556";
    const auto b = person("philibertine.b@example.org");
    for (const auto& p : {a, a2, b, b}) (*writer)->submit(p, [](bool) {});
    (*writer)->stop();
  }
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  auto inbox = std::move(store::open_sqlite_inbox(fx.inbox).value());
  Folder folder(keys, *st, *inbox, core::IntakeOptions{});
  auto r = folder.fold_once(100);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->created, 2u);
  EXPECT_EQ(r->merged, 1u);
  EXPECT_EQ(r->unchanged, 1u);

  const auto rows = entries(*st);
  ASSERT_EQ(rows.size(), 4u) << "exactly one entry per folded submission";
  EXPECT_EQ(rows[0].action, "supporter.create");
  EXPECT_EQ(rows[1].action, "supporter.merge");
  EXPECT_EQ(rows[2].action, "supporter.create");
  EXPECT_EQ(rows[3].action, "supporter.unchanged");
  EXPECT_EQ(rows[0].subject, rows[1].subject);
  EXPECT_EQ(rows[2].subject, rows[3].subject);
  EXPECT_NE(rows[0].subject, rows[2].subject);
  EXPECT_EQ(rows[0].subject.size(), 32u);
  for (const auto& row : rows) EXPECT_EQ(row.actor, "keeper");
  expect_no_pii(rows);
  auto v = audit::verify(*st, keys, {});
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
  // A second pass finds nothing and writes nothing.
  ASSERT_TRUE(folder.fold_once(100));
  EXPECT_EQ(entries(*st).size(), 4u);
}

TEST(AuditEntries, RevealCommitsItsEntryAndAMissIsRecordedToo) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  store::Bytes id;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = RecordWriter(keys).upsert(tx, person("philibertine@example.org"), 1, &id);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  auto s = Vault(keys).reveal_by_contact(*st, "operator:test", "email", "philibertine@example.org", "callback request");
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->person.family_name, "Gravelotte");
  auto miss = Vault(keys).reveal_by_contact(*st, "operator:test", "phone", "+33199000000", "");
  ASSERT_TRUE(miss);
  EXPECT_FALSE(*miss);

  const auto rows = entries(*st);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].action, "supporter.reveal");
  EXPECT_EQ(rows[0].actor, "operator:test");
  EXPECT_EQ(rows[0].subject, audit::to_hex(id));
  const auto d = nlohmann::json::parse(rows[0].details);
  EXPECT_EQ(d["by"], "email");
  EXPECT_EQ(d["reason"], "callback request");
  EXPECT_EQ(d["fields"], nlohmann::json({"given_name", "family_name", "email", "phone"}));
  EXPECT_EQ(rows[1].action, "supporter.lookup_miss");
  EXPECT_EQ(rows[1].subject, "");
  expect_no_pii(rows);
}

TEST(AuditEntries, ImportAndSynthWriteOneEntryPerRowAndASummary) {
  testing::Fixture fx;
  auto keys = fx.keeper_keys();
  auto st = std::move(store::open_sqlite_keeper(fx.db).value());
  std::istringstream in("email\nphilibertine.1@example.org\nphilibertine.2@example.org\nnot-an-email\n"
                        "philibertine.1@example.org\n");
  ImportOptions opts;
  opts.actor = "operator:importer";
  auto r = import_csv(in, {}, *st, keys, opts);
  ASSERT_TRUE(r) << r.error().internal;
  auto rows = entries(*st);
  ASSERT_EQ(rows.size(), 4u);  // 2 created, 1 unchanged, then the run
  EXPECT_EQ(rows[3].action, "import.run");
  EXPECT_EQ(nlohmann::json::parse(rows[3].details),
            (nlohmann::json{{"rows", 4}, {"created", 2}, {"merged", 0}, {"unchanged", 1}, {"suppressed", 0},
                            {"skipped", 1}, {"warnings", 1}, {"preset", "none"}}));
  for (const auto& row : rows) EXPECT_EQ(row.actor, "operator:importer");

  SynthOptions so;
  so.count = 5;
  so.phones = 1;
  so.actor = "operator:synth";
  ASSERT_TRUE(synth_supporters(*st, keys, so));
  rows = entries(*st);
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[4].action, "supporter.create");
  EXPECT_EQ(rows[9].action, "synth.run");
  expect_no_pii(rows);
}

}  // namespace
}  // namespace rempart::services
