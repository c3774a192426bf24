#include "services/casework.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "core/hex.hpp"
#include "crypto/blind_index.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"

namespace rempart::services {
namespace {

// Personal data of the test people: none of it may show in an audit entry
// or an error.
constexpr const char* kGiven = "Philibertine";
constexpr const char* kFamily = "Gravelotte";
constexpr const char* kEmail = "philibertine.g@example.org";
constexpr const char* kPhone = "+33612345678";
constexpr const char* kOtherEmail = "anselme.q@example.net";
constexpr const char* kNoteText = "Rappeler Philibertine jeudi, porte 3";

struct CaseworkTest : ::testing::Test {
  testing::Fixture fx;
  crypto::KeeperKeyring keys = fx.keeper_keys();
  std::unique_ptr<store::KeeperStore> st = std::move(store::open_sqlite_keeper(fx.db).value());
  Vault vault{keys};
  guard::Budgets budgets;
  Casework work{*st, vault, &budgets, "FR"};
  Asker who{"operator:test", "192.0.2.7", "sess1"};

  std::string add(const std::string& given, const std::string& email, const std::string& phone) {
    core::Person p;
    p.given_name = given;
    p.family_name = kFamily;
    p.email = email;
    p.phone = phone;
    p.postal_code = "75011";
    p.locality = "Paris";
    p.country = "FR";
    p.tags = {"red"};
    p.consent.email = true;
    p.consent.sms = true;
    store::Bytes id;
    RecordWriter writer(keys);
    auto r = st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, unix_now(), &id);
      if (!u) return std::unexpected(u.error());
      return {};
    });
    EXPECT_TRUE(r);
    return audit::to_hex(id);
  }
  store::SupporterRow row(const std::string& hex) {
    auto r = st->find_supporter(core::from_hex(hex).value());
    EXPECT_TRUE(r && *r);
    return r && *r ? **r : store::SupporterRow{};
  }
  core::Person person(const std::string& hex) { return testing::inspect_record(keys, row(hex)).value(); }
  std::vector<store::AuditEntryRow> entries() { return testing::audit_entries(*st); }
  store::AuditEntryRow last() {
    auto all = entries();
    return all.empty() ? store::AuditEntryRow{} : all.back();
  }
  // What the guard counted of `kind` in its daily windows (guard/budget.cpp
  // keeps "<kind>/d" besides the minute and hour counters).
  std::int64_t guard_count(const std::string& kind) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(fx.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT coalesce(sum(count), 0) FROM guard_counters WHERE kind = ?1", -1, &s,
                                 nullptr),
              SQLITE_OK);
    const std::string daily = kind + "/d";
    sqlite3_bind_text(s, 1, daily.c_str(), -1, SQLITE_TRANSIENT);
    std::int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }
  void expect_no_personal_data() {
    for (const auto& e : entries()) {
      for (const std::string& raw : {e.details, e.subject, e.actor}) {
        const std::string text = testing::without_record_ids(raw);
        for (const char* pii : {kGiven, kFamily, "example.org", "example.net", "612345678", "Rappeler", "Paris",
                                "Lyon", "75011", "69003"}) {
          EXPECT_EQ(text.find(pii), std::string::npos) << e.action << " holds personal data";
        }
      }
    }
  }
};

TEST_F(CaseworkTest, EditValidatesAsIntakeResealsAndAuditsFieldNamesOnly) {
  const auto id = add(kGiven, kEmail, kPhone);
  const auto before = row(id);
  auto changed = work.edit(who, id,
                           {{"family_name", "  Gravelotte-Dupont "}, {"email", "Philibertine.G2@Example.ORG"},
                            {"locality", "Lyon"}, {"postal_code", "69003"}},
                           "called to correct her address");
  ASSERT_TRUE(changed) << changed.error().internal;
  EXPECT_EQ(*changed, (std::vector<std::string>{"family_name", "email", "postal_code", "locality"}));
  const auto after = row(id);
  EXPECT_NE(after.fields, before.fields);
  EXPECT_NE(after.email_index, before.email_index);
  EXPECT_EQ(after.phone_index, before.phone_index);
  auto p = person(id);
  EXPECT_EQ(p.family_name, "Gravelotte-Dupont");
  EXPECT_EQ(p.email, "philibertine.g2@example.org");
  EXPECT_EQ(p.locality, "Lyon");
  EXPECT_EQ(p.given_name, kGiven);
  // Found by the new e-mail's blind index, not by the old one.
  const auto idx = crypto::blind_index(keys.current(), "email", "philibertine.g2@example.org");
  auto by_new = st->find_supporter_by_email_index(store::Bytes(idx.begin(), idx.end()));
  ASSERT_TRUE(by_new && *by_new);
  EXPECT_EQ(audit::to_hex((*by_new)->id), id);
  auto by_old = st->find_supporter_by_email_index(*before.email_index);
  ASSERT_TRUE(by_old);
  EXPECT_FALSE(*by_old);
  const auto e = last();
  EXPECT_EQ(e.action, audit::action::supporter_edit);
  EXPECT_EQ(e.subject, id);
  const auto d = nlohmann::json::parse(e.details);
  EXPECT_EQ(d["fields"], nlohmann::json({"family_name", "email", "postal_code", "locality"}));
  EXPECT_EQ(d["reason"], "called to correct her address");
  EXPECT_EQ(d["session"], "sess1");
  expect_no_personal_data();
}

TEST_F(CaseworkTest, BadInputChangesNothing) {
  const auto id = add(kGiven, kEmail, kPhone);
  const auto before = row(id);
  const auto seq = entries().size();
  for (const auto& [changes, reason] : std::vector<std::pair<std::vector<FieldChange>, std::string>>{
           {{{"email", "not an address"}}, "fix"},
           {{{"phone", "12"}}, "fix"},
           {{{"country", "Atlantis"}}, "fix"},
           {{{"given_name", std::string("Eve\x01")}}, "fix"},
           {{{"email", ""}, {"phone", ""}}, "fix"},
           {{{"tags", "x"}}, "fix"},
           {{{"email", "a@example.org"}, {"email", "b@example.org"}}, "fix"},
           {{{"given_name", "Anne"}}, ""},
           {{{"given_name", "Anne"}}, "line\nbreak"},
           {{}, "fix"},
       }) {
    auto r = work.edit(who, id, changes, reason);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    for (const char* pii : {"not an address", "Atlantis", "Eve"}) {
      EXPECT_EQ(r.error().internal.find(pii), std::string::npos);
    }
  }
  auto bad = work.edit(who, id, {{"email", "not an address"}}, "fix");
  EXPECT_EQ(bad.error().internal, "edit: email: invalid_email");
  EXPECT_EQ(row(id), before);
  EXPECT_EQ(entries().size(), seq);
  auto none = work.edit(who, std::string(32, 'a'), {{"given_name", "Anne"}}, "fix");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);
  auto same = work.edit(who, id, {{"given_name", kGiven}}, "fix");
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->empty());
  EXPECT_EQ(entries().size(), seq);
}

TEST_F(CaseworkTest, AnEmailHeldByAnotherRecordIsRefusedAndChargedAsASearch) {
  const auto id = add(kGiven, kEmail, kPhone);
  add("Anselme", kOtherEmail, "");
  const auto before = row(id);
  const auto misses = guard_count("miss");
  const auto masked = guard_count("masked");
  auto r = work.edit(who, id, {{"email", kOtherEmail}}, "typo");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(r.error().internal, "edit: email_taken");
  EXPECT_EQ(row(id), before);
  EXPECT_EQ(guard_count("miss"), misses + 1);
  EXPECT_EQ(guard_count("masked"), masked + 1);  // the e-mail looked up, as a search
  const auto e = last();
  EXPECT_EQ(e.action, audit::action::supporter_edit);
  EXPECT_EQ(nlohmann::json::parse(e.details)["refused"], "email_taken");
  expect_no_personal_data();
}

TEST_F(CaseworkTest, ConsentWithdrawnOnThePersonsBehalfIsLoggedAndAudited) {
  const auto id = add(kGiven, kEmail, kPhone);
  auto w = work.withdraw_consent(who, id, "sms", "phone_call");
  ASSERT_TRUE(w) << w.error().internal;
  EXPECT_TRUE(*w);
  const auto r = row(id);
  EXPECT_FALSE(r.consent_sms_at);
  EXPECT_TRUE(r.consent_sms_refused_at);
  EXPECT_TRUE(r.consent_email_at);
  auto log = work.consent_log(id);
  ASSERT_TRUE(log);
  ASSERT_FALSE(log->empty());
  EXPECT_EQ(log->back().channel, "sms");
  EXPECT_EQ(log->back().choice, "no");
  EXPECT_EQ(log->back().source, "console:phone_call");
  const auto e = last();
  EXPECT_EQ(e.action, audit::action::supporter_consent);
  EXPECT_EQ(nlohmann::json::parse(e.details),
            nlohmann::json({{"channel", "sms"}, {"choice", "no"}, {"source", "console:phone_call"}, {"session", "sess1"}}));
  const auto seq = entries().size();
  auto again = work.withdraw_consent(who, id, "sms", "letter");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(entries().size(), seq);
  for (auto [ch, src] : {std::pair{"fax", "letter"}, std::pair{"email", "rumour"}}) {
    auto bad = work.withdraw_consent(who, id, ch, src);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::invalid_input);
  }
  EXPECT_EQ(entries().size(), seq);
}

TEST_F(CaseworkTest, NotesAreSealedReadThroughTheVaultAndSurviveEditsAndMerges) {
  const auto id = add(kGiven, kEmail, kPhone);
  auto n1 = work.add_note(who, id, "note", std::string(kNoteText) + "\r\nsecond line");
  ASSERT_TRUE(n1) << n1.error().internal;
  auto n2 = work.add_note(who, id, "left_message", "");
  ASSERT_TRUE(n2) << n2.error().internal;
  auto e = last();
  EXPECT_EQ(e.action, audit::action::supporter_note);
  EXPECT_EQ(nlohmann::json::parse(e.details)["kind"], "left_message");

  // The text is nowhere in the file in clear.
  {
    std::ifstream in(fx.db, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream wal(fx.db.string() + "-wal", std::ios::binary);
    const std::string wal_bytes((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("Rappeler"), std::string::npos);
    EXPECT_EQ(wal_bytes.find("Rappeler"), std::string::npos);
  }

  // A correction and a sign-up merged into the record re-seal it; its notes
  // still open.
  ASSERT_TRUE(work.edit(who, id, {{"given_name", "Philippa"}}, "typo"));
  {
    core::Person p;
    p.email = kEmail;
    p.street = "3 rue des Lilas";
    p.postal_code = "75011";
    RecordWriter writer(keys);
    ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, unix_now());
      if (!u) return std::unexpected(u.error());
      EXPECT_EQ(*u, Upsert::merged);
      return {};
    }));
  }
  ASSERT_EQ(person(id).street, "3 rue des Lilas");

  const auto seq = entries().size();
  auto shown = work.notes(who, id);
  ASSERT_TRUE(shown) << shown.error().internal;
  ASSERT_TRUE(*shown);
  ASSERT_EQ((*shown)->size(), 2u);
  EXPECT_EQ((**shown)[0].kind, "left_message");
  EXPECT_EQ((**shown)[0].text, "");
  EXPECT_EQ((**shown)[1].kind, "note");
  EXPECT_EQ((**shown)[1].text, std::string(kNoteText) + "\nsecond line");
  EXPECT_EQ((**shown)[1].author, "operator:test");
  EXPECT_EQ((**shown)[1].id, *n1);
  ASSERT_EQ(entries().size(), seq + 1);
  e = last();
  EXPECT_EQ(e.action, audit::action::supporter_notes_read);
  EXPECT_EQ(e.subject, id);
  EXPECT_EQ(nlohmann::json::parse(e.details)["notes"], 2);
  EXPECT_EQ(nlohmann::json::parse(e.details)["fields"], nlohmann::json({"notes"}));
  expect_no_personal_data();

  // Bad notes change nothing.
  for (const auto& [kind, text] : std::vector<std::pair<std::string, std::string>>{
           {"note", ""}, {"note", std::string(2001, 'x')}, {"called", std::string(201, 'x')}, {"gossip", "x"},
           {"note", "a\x07"}, {"note", "\xe2\x80\xae" "abc"}, {"note", "\xff"}}) {
    auto bad = work.add_note(who, id, kind, text);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::invalid_input);
  }
  EXPECT_EQ(entries().size(), seq + 1);
  auto none = work.notes(who, std::string(32, 'b'));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool holds(const std::string& haystack, const store::Bytes& needle) {
  return haystack.find(std::string(needle.begin(), needle.end())) != std::string::npos;
}

TEST_F(CaseworkTest, ErasureLeavesNoByteOfTheRecordInTheFile) {
  const auto id = add(kGiven, kEmail, kPhone);
  const auto keep = add("Anselme", kOtherEmail, "+33698765432");
  ASSERT_TRUE(work.add_note(who, id, "note", kNoteText));
  ASSERT_TRUE(work.withdraw_consent(who, id, "email", "letter"));
  const auto r = row(id);
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) { return tx.insert_honeytoken(r.id, 1, "operator:test"); }));
  store::Bytes note_blob;
  ASSERT_TRUE(st->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto n = tx.notes_of(r.id, 10);
    if (!n) return std::unexpected(n.error());
    EXPECT_EQ(n->size(), 1u);
    if (!n->empty()) note_blob = n->front().sealed;
    return {};
  }));
  // Sanity: before the erasure, the file or its WAL holds them.
  sqlite3* raw = store::sqlite::test_hooks::raw_handle(*st);
  ASSERT_NE(raw, nullptr);
  int log = 0, done = 0;
  ASSERT_EQ(sqlite3_wal_checkpoint_v2(raw, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &done), SQLITE_OK);
  ASSERT_TRUE(holds(read_file(fx.db), r.wrapped_key));

  auto erased = work.erase(who, id, "email");
  ASSERT_TRUE(erased) << erased.error().internal;
  EXPECT_TRUE(*erased);
  const auto e = last();
  EXPECT_EQ(e.action, audit::action::supporter_erase);
  EXPECT_EQ(e.subject, id);
  EXPECT_EQ(nlohmann::json::parse(e.details), nlohmann::json({{"reason", "email"}, {"session", "sess1"}}));

  ASSERT_EQ(sqlite3_wal_checkpoint_v2(raw, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &done), SQLITE_OK);
  const std::string file = read_file(fx.db) + read_file(fx.db.string() + "-wal");
  EXPECT_FALSE(holds(file, r.wrapped_key)) << "wrapped key";
  EXPECT_FALSE(holds(file, r.fields)) << "fields";
  // The blind indexes stay once each, as the suppression that keeps an
  // import from bringing the person back (migration 0021), nowhere else.
  auto occurrences = [&](const store::Bytes& needle) {
    const std::string n(needle.begin(), needle.end());
    std::size_t count = 0;
    for (auto at = file.find(n); at != std::string::npos; at = file.find(n, at + 1)) ++count;
    return count;
  };
  EXPECT_EQ(occurrences(*r.email_index), 1u) << "e-mail blind index";
  EXPECT_EQ(occurrences(*r.phone_index), 1u) << "phone blind index";
  EXPECT_TRUE(st->suppressed(*r.email_index).value());
  EXPECT_TRUE(st->suppressed(*r.phone_index).value());
  EXPECT_FALSE(holds(file, note_blob)) << "note";
  EXPECT_FALSE(holds(file, r.id)) << "record id";
  // The other record is untouched, and no row left opens as the erased one.
  EXPECT_EQ(person(keep).given_name, "Anselme");
  store::SupporterPageQuery q;
  q.limit = 1000;
  auto page = st->supporter_page(q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->items.size(), 1u);
  for (const auto& item : page->items) {
    const auto& s = item.row;
    EXPECT_FALSE(crypto::open_record(keys, r.id, crypto::SealedRecord{s.key_version, s.wrapped_key, s.fields}));
  }
  auto honey = st->count_honeytokens();
  ASSERT_TRUE(honey);
  EXPECT_EQ(*honey, 0);
  auto again = work.erase(who, id, "email");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto bad = work.erase(who, keep, "because");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  expect_no_personal_data();
}

}  // namespace
}  // namespace rempart::services
