#include "i18n/i18n.hpp"
#include "services/supporter_mail.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "crypto/blind_index.hpp"
#include "mail/test_imap.hpp"
#include "mail/test_reports.hpp"
#include "mail/test_smtp.hpp"
#include "services/bounces.hpp"
#include "audit/chain.hpp"
#include "services/casework.hpp"
#include "services/folder.hpp"
#include "services/mailings.hpp"
#include "services/intake_writer.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::services {
namespace {

using namespace std::chrono_literals;
namespace mt = mail::testing;

std::int64_t count_rows(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr), SQLITE_OK) << sql;
  EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
  const auto n = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

// The first link in `text` to `path` ("/confirm", "/unsubscribe"), and its token.
std::string token_in(const std::string& text, const std::string& path) {
  const std::regex re("https://signup\\.example\\.org" + path + "\\?t=([A-Za-z0-9_-]{43})");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return "";
  return m[1];
}

// Every file of the records' database, as bytes.
std::string database_bytes(const std::filesystem::path& db) {
  std::string all;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::ifstream in(db.string() + suffix, std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

bool holds(const std::string& hay, const store::Bytes& needle) {
  return hay.find(std::string(needle.begin(), needle.end())) != std::string::npos;
}
bool holds(const std::string& hay, std::string_view needle) { return hay.find(needle) != std::string::npos; }

// The first message the test server received for `to` whose subject starts
// with `subject`, as Python's email package decodes it (waits up to 5 s).
std::optional<nlohmann::json> mail_to(const std::string& to, std::string_view subject) {
  const std::string envelope = "X-Envelope-To: " + to + "\r\n";
  for (int i = 0; i < 100; ++i) {
    for (const auto& e : std::filesystem::directory_iterator(mt::smtp_server().dir)) {
      if (e.path().filename().string().starts_with(".")) continue;  // still being written
      std::ifstream in(e.path(), std::ios::binary);
      const std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (t.substr(0, t.find("\r\n\r\n")).find(envelope) == std::string::npos) continue;
      auto d = mt::decode(t);
      if (d && !d->is_discarded() && (*d)["subject"].get<std::string>().starts_with(subject)) return d;
    }
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

class SupporterMailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& server = mt::smtp_server();
    ASSERT_EQ(server.error, "");
    mail::SmtpOptions so;
    so.url = server.url;
    so.require_tls = false;  // the test relay is on the loopback
    so.timeout = 5s;
    auto t = mail::SmtpTransport::create(so);
    ASSERT_TRUE(t) << t.error().internal;
    transport_ = std::move(*t);
    opts_.organisation = "Mouvement Écologie Démo";
    opts_.from = "nouvelles@mouvement.example";
    opts_.links_base = "https://signup.example.org";
    opts_.per_minute = 60000;
    opts_.first_backoff = 60s;
    ASSERT_TRUE(check(opts_));
    store_ = std::move(store::open_sqlite_keeper(fx_.db).value());
    inbox_ = std::move(store::open_sqlite_inbox(fx_.inbox).value());
    folder_ = std::make_unique<Folder>(keys_, *store_, *inbox_, core::IntakeOptions{});
    folder_->set_mail(opts_);
    sender_ = std::make_unique<MailSender>(vault_, *store_, *transport_, opts_);
  }

  // Seals `fields` into the inbox as the intake does, then folds.
  FoldCounts arrive(const std::vector<std::vector<core::Field>>& items) {
    {
      auto writer = IntakeWriter::start(fx_.intake_keys(), std::move(store::open_sqlite_intake(fx_.inbox).value()));
      EXPECT_TRUE(writer);
      for (const auto& f : items) (*writer)->submit(f, [](bool durable) { EXPECT_TRUE(durable); });
      (*writer)->stop();
    }
    auto r = folder_->fold_once(1000);
    EXPECT_TRUE(r) << r.error().internal;
    return r ? *r : FoldCounts{};
  }
  static core::Person person(const std::string& email, bool consent = true) {
    core::Person p;
    p.given_name = "Adèle";
    p.email = email;
    p.consent.email = consent;
    return p;
  }
  SendCounts send(std::int64_t now = unix_now()) {
    auto c = sender_->send_due(now, 100, std::stop_token{});
    EXPECT_TRUE(c) << c.error().internal;
    return c ? *c : SendCounts{};
  }
  std::vector<std::string> actions() {
    std::vector<std::string> out;
    for (const auto& e : testing::audit_entries(*store_)) out.push_back(e.action);
    return out;
  }
  store::OutboxCounts outbox() {
    store::OutboxCounts c;
    EXPECT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto n = tx.outbox_counts();
      if (!n) return std::unexpected(n.error());
      c = *n;
      return {};
    }));
    return c;
  }
  std::optional<store::SupporterRow> record(const std::string& email) {
    const auto idx = crypto::blind_index(keys_.current(), crypto::kBlindIndexEmail, email);
    return store_->find_supporter_by_email_index(store::Bytes(idx.begin(), idx.end())).value();
  }
  std::optional<std::int64_t> confirmed_at(const store::Bytes& id) {
    std::optional<std::int64_t> at;
    EXPECT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto c = tx.email_confirmed_at(id);
      if (!c) return std::unexpected(c.error());
      at = *c;
      return {};
    }));
    return at;
  }

  testing::Fixture fx_;
  crypto::KeeperKeyring keys_ = fx_.keeper_keys();
  Vault vault_{keys_};
  std::unique_ptr<mail::SmtpTransport> transport_;
  SupporterMailOptions opts_;
  std::unique_ptr<store::KeeperStore> store_;
  std::unique_ptr<store::InboxStore> inbox_;
  std::unique_ptr<Folder> folder_;
  std::unique_ptr<MailSender> sender_;
};

// Sign up, confirmation mail, confirm, welcome with phrase and receipt,
// one-click unsubscribe: the whole double opt-in, on a real SMTP server.
TEST_F(SupporterMailTest, DoubleOptInFromSignUpToUnsubscribe) {
  const std::string to = mt::unique_address("adele");
  auto signup = core::to_fields(person(to));
  signup.push_back(core::Field{core::field::consent_email_text, "I agree to receive news by e-mail."});
  auto folded = arrive({signup});
  EXPECT_EQ(folded.created, 1u);
  EXPECT_EQ(folded.confirmations, 1u);
  auto rec = record(to);
  ASSERT_TRUE(rec);
  EXPECT_FALSE(confirmed_at(rec->id));  // given, unconfirmed

  EXPECT_EQ(send().sent, 1u);
  auto saved = mt::received_for(to, 5s);
  ASSERT_TRUE(saved);
  auto mail = mt::decode(*saved);
  ASSERT_TRUE(mail && !mail->is_discarded());
  EXPECT_EQ((*mail)["subject"], "Please confirm your subscription to Mouvement Écologie Démo");
  EXPECT_EQ((*mail)["from_name"], "Mouvement Écologie Démo");
  EXPECT_EQ((*mail)["from_address"], "nouvelles@mouvement.example");
  EXPECT_EQ((*mail)["headers"]["list-unsubscribe-post"][0]["raw"], "List-Unsubscribe=One-Click");
  const std::string list_unsubscribe = (*mail)["headers"]["list-unsubscribe"][0]["raw"];
  const std::string text = (*mail)["parts"][1]["text"];
  EXPECT_NE(text.find("Hello Adèle,"), std::string::npos) << text;
  const std::string confirm = token_in(text, "/confirm");
  const std::string unsubscribe = token_in(list_unsubscribe, "/unsubscribe");
  ASSERT_FALSE(confirm.empty()) << text;
  ASSERT_FALSE(unsubscribe.empty()) << list_unsubscribe;
  // Only the hashes are stored.
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM link_tokens"), 2);
  EXPECT_FALSE(holds(database_bytes(fx_.db), confirm));
  EXPECT_FALSE(holds(database_bytes(fx_.db), unsubscribe));

  // A forged token and the real one, in one fold.
  const auto forged = new_link_token().text;
  folded = arrive({core::to_fields(core::LinkAction{"confirm", forged, "", ""}),
                   core::to_fields(core::LinkAction{"confirm", confirm, "", ""})});
  EXPECT_EQ(folded.links, 2u);
  EXPECT_TRUE(confirmed_at(rec->id));
  // The same link again: used.
  arrive({core::to_fields(core::LinkAction{"confirm", confirm, "", ""})});

  EXPECT_EQ(send().sent, 1u);  // the welcome
  auto w = mail_to(to, "Welcome");
  ASSERT_TRUE(w);
  EXPECT_EQ((*w)["subject"], "Welcome to Mouvement Écologie Démo");
  const std::string wtext = (*w)["parts"][1]["text"];
  std::smatch phrase;
  ASSERT_TRUE(std::regex_search(wtext, phrase, std::regex("anti-phishing phrase is: ([a-z]+ [a-z]+ [a-z]+ [a-z]+)")))
      << wtext;
  EXPECT_NE(wtext.find("E-mail: agreed on"), std::string::npos) << wtext;
  EXPECT_NE(wtext.find("through the sign-up form, to the words \u201CI agree to receive news by e-mail.\u201D"),
            std::string::npos)
      << wtext;
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM consent_wordings"), 1);
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM consent_events WHERE wording IS NOT NULL AND choice = 'yes'"), 1);
  EXPECT_NE(wtext.find("E-mail: confirmed on"), std::string::npos) << wtext;
  EXPECT_NE(wtext.find("through the link in our e-mail"), std::string::npos) << wtext;
  const std::string html = (*w)["parts"][2]["text"];
  EXPECT_NE(html.find("<a href=\"https://signup.example.org/unsubscribe?t="), std::string::npos) << html;
  // The phrase is sealed, not stored in clear.
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM supporter_phrases"), 1);
  EXPECT_FALSE(holds(database_bytes(fx_.db), phrase[1].str()));

  // RFC 8058 one-click, twice (mail clients repeat it).
  arrive({core::to_fields(core::LinkAction{"unsubscribe", unsubscribe, "", ""}),
          core::to_fields(core::LinkAction{"unsubscribe", unsubscribe, "", ""})});
  rec = record(to);
  EXPECT_FALSE(rec->consent_email_at);
  EXPECT_TRUE(rec->consent_email_refused_at);
  EXPECT_FALSE(confirmed_at(rec->id));

  const std::vector<std::string> want = {"supporter.create",      "supporter.mail",        "link.refused",
                                         "supporter.confirm",     "link.refused",          "supporter.mail",
                                         "supporter.unsubscribe", "supporter.unsubscribe"};
  EXPECT_EQ(actions(), want);
  const auto entries = testing::audit_entries(*store_);
  EXPECT_NE(entries[2].details.find("\"reason\":\"unknown\""), std::string::npos) << entries[2].details;
  EXPECT_NE(entries[4].details.find("\"reason\":\"used\""), std::string::npos) << entries[4].details;
  EXPECT_NE(entries[6].details.find("\"changed\":true"), std::string::npos) << entries[6].details;
  EXPECT_NE(entries[7].details.find("\"changed\":false"), std::string::npos) << entries[7].details;
  for (const auto& e : entries) {
    EXPECT_EQ(e.details.find(to), std::string::npos);
    EXPECT_EQ(e.details.find(confirm), std::string::npos);
  }
  EXPECT_EQ(outbox(), (store::OutboxCounts{0, 0, 2, 0, 0}));
}

// A sign-up from the French page (its lang field) gets its confirmation
// in French, and the confirmation link followed from a French page its
// welcome in French, dates included; the HTML part says so. Without a
// language, the mail thread's (the instance's default) decides.
TEST_F(SupporterMailTest, MailsGoInTheLanguageOfThePageThePersonUsed) {
  const std::string to = mt::unique_address("gaspard");
  auto signup = core::to_fields(person(to));
  signup.push_back(core::Field{core::field::consent_email_text, "J’accepte de recevoir des nouvelles par e-mail."});
  signup.push_back(core::Field{core::field::lang, "fr"});
  arrive({signup});
  EXPECT_EQ(send().sent, 1u);
  auto mail = mail_to(to, "Confirmez");
  ASSERT_TRUE(mail);
  EXPECT_EQ((*mail)["subject"], "Confirmez votre inscription à Mouvement Écologie Démo");
  const std::string text = (*mail)["parts"][1]["text"];
  EXPECT_NE(text.find("Bonjour Adèle,"), std::string::npos) << text;
  EXPECT_NE(text.find("Pour confirmer, ouvrez ce lien"), std::string::npos) << text;
  EXPECT_EQ(text.find("To confirm"), std::string::npos) << text;
  const std::string confirm = token_in(text, "/confirm");
  ASSERT_FALSE(confirm.empty()) << text;
  // The page the link opens speaks French too.
  EXPECT_NE(text.find("/confirm?t=" + confirm + "&lang=fr"), std::string::npos) << text;
  arrive({core::to_fields(core::LinkAction{"confirm", confirm, "", "", "fr"})});
  EXPECT_EQ(send().sent, 1u);
  auto w = mail_to(to, "Bienvenue");
  ASSERT_TRUE(w);
  const std::string wtext = (*w)["parts"][1]["text"];
  EXPECT_TRUE(std::regex_search(wtext, std::regex("E-mail\u00a0: accepté le \\d{1,2} [a-zéû]+\\.? 20\\d\\d, "
                                                  "\\d\\d:\\d\\d UTC, par le formulaire d’inscription, dans les "
                                                  "termes «\u00a0J’accepte de recevoir des nouvelles par e-mail\\.\u00a0»")))
      << wtext;
  EXPECT_NE(wtext.find("Votre phrase anti-hameçonnage personnelle est\u00a0: "), std::string::npos) << wtext;
  const std::string html = (*w)["parts"][2]["text"];
  EXPECT_NE(html.find("<html lang=\"fr\">"), std::string::npos) << html;

  // No language named: the instance's, here French on the mail thread.
  const std::string other = mt::unique_address("zelie");
  arrive({core::to_fields(person(other))});
  {
    const i18n::Scope french(i18n::Lang::fr);
    EXPECT_EQ(send().sent, 1u);
  }
  auto plain = mail_to(other, "Confirmez");
  ASSERT_TRUE(plain);
  EXPECT_EQ((*plain)["subject"], "Confirmez votre inscription à Mouvement Écologie Démo");
}

// Repeated sign-ups of one address make one confirmation mail, and a day
// holds at most confirmations_per_day of them.
TEST_F(SupporterMailTest, ConfirmationMailsPerAddressAreBounded) {
  const std::string to = mt::unique_address("repeat");
  auto f = arrive({core::to_fields(person(to)), core::to_fields(person(to)), core::to_fields(person(to))});
  EXPECT_EQ(f.confirmations, 1u);
  opts_.confirmation_gap = 0s;
  folder_->set_mail(opts_);
  for (int i = 0; i < 5; ++i) arrive({core::to_fields(person(to))});
  EXPECT_EQ(outbox().queued, 3);  // confirmations_per_day

  // No consent, no mail; an OSDI client's autoresponse off, no mail.
  auto quiet = core::to_fields(person(mt::unique_address("quiet")));
  quiet.push_back(core::Field{core::field::autoresponse, "0"});
  f = arrive({core::to_fields(person(mt::unique_address("none"), false)), quiet});
  EXPECT_EQ(f.created, 2u);
  EXPECT_EQ(f.confirmations, 0u);
}

// A relay's 451 is tried again later, a 550 is final; neither holds the
// outbox up, and a message for an unsubscribed person is dropped.
TEST_F(SupporterMailTest, RelayRefusalsAreRetriedOrFinal) {
  const std::string temp = mt::unique_address("tempfail");
  const std::string perm = mt::unique_address("permfail");
  const std::string ok = mt::unique_address("fine");
  arrive({core::to_fields(person(temp)), core::to_fields(person(perm)), core::to_fields(person(ok))});
  const std::int64_t now = unix_now();
  auto c = send(now);
  EXPECT_EQ(c, (SendCounts{1, 1, 1, 0}));
  EXPECT_TRUE(mt::received_for(ok, 5s));
  // Not due again before its backoff; due after it, and failing again.
  EXPECT_EQ(send(now + 30), (SendCounts{}));
  EXPECT_EQ(send(now + 61).retried, 1u);
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM outbox WHERE state = 'failed' AND last_reply = 550"), 1);
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM outbox WHERE state = 'queued' AND last_reply = 451"
                               " AND attempts = 2"),
            1);
  // Withdrawn meanwhile: dropped at its next attempt, not sent.
  auto rec = record(temp);
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    store::SupporterRow r = *rec;
    r.consent_email_at.reset();
    r.consent_email_refused_at = now;
    return tx.update_supporter(r);
  }));
  EXPECT_EQ(send(now + 10000).dropped, 1u);
  EXPECT_EQ(outbox(), (store::OutboxCounts{0, 0, 1, 1, 1}));
}

// A message that cannot be made (its record does not open) is marked
// failed and holds up no other.
TEST_F(SupporterMailTest, AMessageThatCannotBeMadeHoldsUpNoOther) {
  const std::string broken = mt::unique_address("broken");
  const std::string fine = mt::unique_address("after");
  arrive({core::to_fields(person(broken)), core::to_fields(person(fine))});
  auto rec = record(broken);
  ASSERT_TRUE(rec);
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) {
    store::SupporterRow r = *rec;
    r.fields.back() ^= 0x01;  // its sealed fields no longer authenticate
    return tx.update_supporter(r);
  }));
  EXPECT_EQ(send(), (SendCounts{1, 0, 1, 0}));
  EXPECT_TRUE(mt::received_for(fine, 5s));
  EXPECT_FALSE(mt::received_for(broken, 200ms));
  EXPECT_EQ(outbox(), (store::OutboxCounts{0, 0, 1, 1, 0}));
}

// Expired and unknown tokens change nothing; an erased record takes its
// outbox rows, links and phrase with it.
TEST_F(SupporterMailTest, ExpiredLinksAndErasure) {
  const std::string to = mt::unique_address("expiry");
  arrive({core::to_fields(person(to))});
  auto rec = record(to);
  ASSERT_TRUE(rec);
  const auto old = new_link_token();
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) {
    return tx.insert_link_token(store::LinkTokenRow{old.hash, rec->id, "confirm", 1000, 2000, std::nullopt});
  }));
  // A confirm token posted as an unsubscribe is unknown for that purpose.
  arrive({core::to_fields(core::LinkAction{"confirm", old.text, "", ""}),
          core::to_fields(core::LinkAction{"unsubscribe", old.text, "", ""}),
          core::to_fields(core::LinkAction{"erase", old.text, "", ""}), core::to_fields(core::LinkAction{"confirm", "short", "", ""})});
  EXPECT_FALSE(confirmed_at(rec->id));
  std::vector<std::string> reasons;
  for (const auto& e : testing::audit_entries(*store_)) {
    if (e.action == "link.refused") reasons.push_back(e.details);
  }
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_NE(reasons[0].find("\"reason\":\"expired\""), std::string::npos) << reasons[0];
  for (int i = 1; i < 4; ++i) EXPECT_NE(reasons[i].find("\"reason\":\"unknown\""), std::string::npos) << reasons[i];
  EXPECT_NE(reasons[2].find("\"purpose\":\"other\""), std::string::npos) << reasons[2];

  EXPECT_EQ(send().sent, 1u);
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto v = vault_.seal_phrase(*rec, "lune cerise granit voilier", unix_now());
    if (!v) return std::unexpected(v.error());
    return tx.insert_phrase(*v);
  }));
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto e = tx.erase_supporter(rec->id);
    if (!e) return std::unexpected(e.error());
    return {};
  }));
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM link_tokens"), 0);
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM supporter_phrases"), 0);
}

// The person's own rights through their mailbox: a link asked for by
// address, their data mailed (text and JSON), a correction, consents
// withdrawn, erasure with suppression; afterwards the record's key is in no
// file, an import does not bring them back, a sign-up of their own does.
TEST_F(SupporterMailTest, SelfServiceFromRequestToErasure) {
  const std::string to = mt::unique_address("self");
  auto p = person(to);
  p.phone = "+33612345678";
  p.family_name = "Martin";
  // Where the sign-up came from (core::signup_source), kept sealed in the
  // record's history.
  const std::string source = "source=tract-zz7\nutm_campaign=rentr\xC3\xA9" "e-zz7";
  auto signup = core::to_fields(p);
  signup.push_back(core::Field{core::field::source, source});
  arrive({signup});
  auto rec = record(to);
  ASSERT_TRUE(rec);
  EXPECT_EQ(send().sent, 1u);  // the confirmation
  EXPECT_FALSE(holds(database_bytes(fx_.db), "zz7"));
  {
    Casework casework(*store_, vault_, nullptr, "FR");
    auto history = casework.notes(Asker{"account:test", ""}, audit::to_hex(rec->id));
    ASSERT_TRUE(history && *history);
    ASSERT_EQ((*history)->size(), 1u);
    EXPECT_EQ((**history)[0].kind, "signup");
    EXPECT_EQ((**history)[0].author, "intake");
    EXPECT_EQ((**history)[0].text, source);
  }

  // Asked for by address (any case), and for an unknown one: one mail.
  std::string upper = to;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  arrive({core::to_fields(core::LinkAction{"manage_request", "", "", upper}),
          core::to_fields(core::LinkAction{"manage_request", "", "", "nobody.at.all@example.net"}),
          core::to_fields(core::LinkAction{"manage_request", "", "", to})});  // again at once: bounded
  EXPECT_EQ(send().sent, 1u);
  auto manage_mail = mail_to(to, "Your data at");
  ASSERT_TRUE(manage_mail);
  const std::string token = token_in((*manage_mail)["parts"][1]["text"], "/manage");
  ASSERT_FALSE(token.empty()) << (*manage_mail)["parts"][1]["text"];

  // Export: the data mailed, text and JSON.
  arrive({core::to_fields(core::LinkAction{"manage", token, "export", ""})});
  EXPECT_EQ(send().sent, 1u);
  auto data = mail_to(to, "What ");
  ASSERT_TRUE(data);
  EXPECT_EQ((*data)["subject"], "What Mouvement Écologie Démo holds about you");
  std::string text, json_text;
  for (const auto& part : (*data)["parts"]) {
    if (part["type"] == "text/plain") text = part["text"];
    if (part["filename"] == "my-data.json") json_text = part["text"];
  }
  EXPECT_NE(text.find("E-mail address: " + to), std::string::npos) << text;
  EXPECT_NE(text.find("Phone number: +33612345678"), std::string::npos) << text;
  const auto copy = nlohmann::json::parse(json_text, nullptr, false);
  ASSERT_FALSE(copy.is_discarded()) << json_text;
  EXPECT_EQ(copy["record"]["email"], to);
  EXPECT_EQ(copy["record"]["family_name"], "Martin");
  EXPECT_EQ(copy["record"]["consent"]["email"]["state"], "given");
  EXPECT_EQ(copy["record"]["consent_log"][0]["source"], "signup");
  ASSERT_EQ(copy["record"]["signed_up_from"].size(), 1u) << json_text;
  EXPECT_EQ(copy["record"]["signed_up_from"][0]["source"], source);
  EXPECT_TRUE(copy["record"]["notes"].empty());
  EXPECT_NE(text.find("Where you signed up from:\n- "), std::string::npos) << text;
  // The link was single-use.
  arrive({core::to_fields(core::LinkAction{"manage", token, "withdraw", ""})});
  EXPECT_TRUE(record(to)->consent_email_at);

  auto fresh_link = [&] {
    const auto t = new_link_token();
    EXPECT_TRUE(store_->transact([&](store::KeeperTx& tx) {
      return tx.insert_link_token(store::LinkTokenRow{t.hash, rec->id, "manage", unix_now(), unix_now() + 1800,
                                                      std::nullopt});
    }));
    return t.text;
  };
  // A correction, validated again by the keeper; another record's phone
  // stays with it.
  const std::string other = mt::unique_address("other");
  auto q = person(other);
  q.phone = "+33698765432";
  arrive({core::to_fields(q)});
  core::Person wanted;
  wanted.given_name = "Adélaïde";
  wanted.phone = "+33698765432";
  wanted.locality = "Lyon";
  arrive({core::to_fields(core::LinkAction{"manage", fresh_link(), "correct", ""}, wanted)});
  auto now_held = testing::inspect_record(keys_, *record(to));
  ASSERT_TRUE(now_held);
  EXPECT_EQ(now_held->given_name, "Adélaïde");
  EXPECT_EQ(now_held->locality, "Lyon");
  EXPECT_EQ(now_held->phone, "+33612345678");
  EXPECT_EQ(now_held->family_name, "Martin");

  arrive({core::to_fields(core::LinkAction{"manage", fresh_link(), "withdraw", ""})});
  EXPECT_FALSE(record(to)->consent_email_at);
  EXPECT_TRUE(record(to)->consent_email_refused_at);

  // Erasure: the record's key leaves every file.
  rec = record(to);
  ASSERT_TRUE(rec);
  ASSERT_TRUE(holds(database_bytes(fx_.db), rec->wrapped_key));
  auto erased = arrive({core::to_fields(core::LinkAction{"manage", fresh_link(), "erase", ""})});
  EXPECT_EQ(erased.erased, 1u);
  EXPECT_FALSE(record(to));
  EXPECT_EQ(store_->count_suppressions().value(), 2);
  const std::string files = database_bytes(fx_.db);
  EXPECT_FALSE(holds(files, rec->wrapped_key));
  EXPECT_FALSE(holds(files, rec->fields));
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM supporter_notes"), 0);

  std::vector<std::string> self;
  for (const auto& e : testing::audit_entries(*store_)) {
    if (e.actor == "supporter") self.push_back(e.action + " " + e.details);
    EXPECT_EQ(e.details.find(to), std::string::npos);
  }
  ASSERT_EQ(self.size(), 7u) << ::testing::PrintToString(self);
  EXPECT_NE(self[0].find("self_service.request {\"known\":true,\"mailed\":true}"), std::string::npos) << self[0];
  EXPECT_NE(self[1].find("self_service.request {\"known\":false}"), std::string::npos) << self[1];
  EXPECT_NE(self[2].find("\"mailed\":false"), std::string::npos) << self[2];
  EXPECT_NE(self[3].find("supporter.self_service {\"step\":\"export\"}"), std::string::npos) << self[3];
  EXPECT_NE(self[4].find("supporter.edit"), std::string::npos) << self[4];
  EXPECT_NE(self[4].find("[\"given_name\",\"locality\"]"), std::string::npos) << self[4];
  EXPECT_NE(self[5].find("\"changed\":true"), std::string::npos) << self[5];
  EXPECT_NE(self[6].find("supporter.erase {\"reason\":\"self_service\"}"), std::string::npos) << self[6];

  // An import of an old list does not bring the person back ...
  Provenance imported;
  imported.from_the_person = false;
  imported.origin = "import:test";
  imported.consent_source = "import:test:0";
  RecordWriter writer(keys_);
  Upsert got = Upsert::created;
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, p, writer.prepare(p), unix_now(), nullptr, nullptr, imported);
    if (!u) return std::unexpected(u.error());
    got = *u;
    return {};
  }));
  EXPECT_EQ(got, Upsert::suppressed);
  EXPECT_FALSE(record(to));
  // ... a sign-up of their own does, and lifts the suppression of what it gives.
  arrive({core::to_fields(person(to))});
  EXPECT_TRUE(record(to));
  EXPECT_EQ(store_->count_suppressions().value(), 1);  // the phone's stays: that sign-up did not give it
}

// The options refuse what cannot send.
TEST(SupporterMailOptions, CheckRefusesWhatCannotWork) {
  SupporterMailOptions o;
  o.organisation = "Org";
  o.from = "news@example.org";
  o.links_base = "https://signup.example.org";
  EXPECT_TRUE(check(o));
  for (const char* base : {"https://signup.example.org/", "ftp://x", "https://x/?a", "javascript:alert(1)"}) {
    auto b = o;
    b.links_base = base;
    EXPECT_FALSE(check(b)) << base;
  }
  auto f = o;
  f.from = "News <news@example.org>";
  EXPECT_FALSE(check(f));
  auto e = o;
  e.organisation = "";
  EXPECT_FALSE(check(e));
}

TEST(LinkTokens, ShapeAndHash) {
  const auto a = new_link_token();
  const auto b = new_link_token();
  EXPECT_EQ(a.text.size(), 43u);
  EXPECT_NE(a.text, b.text);
  EXPECT_EQ(link_token_hash(a.text), a.hash);
  EXPECT_FALSE(link_token_hash(a.text.substr(1)));
  EXPECT_FALSE(link_token_hash(a.text + "A"));
  EXPECT_FALSE(link_token_hash(std::string(43, '!')));
  std::set<std::string> words;
  for (int i = 0; i < 50; ++i) {
    const auto p = new_phrase();
    EXPECT_TRUE(std::regex_match(p, std::regex("[a-z]+ [a-z]+ [a-z]+ [a-z]+"))) << p;
    words.insert(p);
  }
  EXPECT_GT(words.size(), 45u);
}

}  // namespace
}  // namespace rempart::services

namespace rempart::services {
namespace {

// How many messages the test server holds for `to` whose subject starts
// with `subject` (no wait).
int count_mail_to(const std::string& to, std::string_view subject) {
  const std::string envelope = "X-Envelope-To: " + to + "\r\n";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(mt::smtp_server().dir)) {
    if (e.path().filename().string().starts_with(".")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (t.substr(0, t.find("\r\n\r\n")).find(envelope) == std::string::npos) continue;
    auto d = mt::decode(t);
    if (d && !d->is_discarded() && (*d)["subject"].get<std::string>().starts_with(subject)) ++n;
  }
  return n;
}

// A mailing to a segment reaches exactly its consenting, confirmed,
// non-bouncing members, each once, each with their phrase and a working
// one-click unsubscribe link; above the threshold a second person
// approves; a batch left in flight by a crash goes again, and nobody else
// gets it twice; the audit names every record opened, and no address.
TEST_F(SupporterMailTest, AMailingReachesExactlyTheMailableMembersOnce) {
  const std::string tag = "mailing-" + mt::unique_address("t").substr(0, 8);
  std::vector<std::string> to;
  std::vector<std::vector<core::Field>> signups;
  for (int i = 0; i < 7; ++i) {
    to.push_back(mt::unique_address("m" + std::to_string(i)));
    auto p = person(to.back(), i != 5);  // 5: no consent
    p.tags = {tag};
    signups.push_back(core::to_fields(p));
  }
  const std::string outsider = mt::unique_address("outside");
  signups.push_back(core::to_fields(person(outsider)));  // not in the segment
  arrive(signups);
  EXPECT_GT(send().sent, 0u);  // the confirmations
  std::vector<store::Bytes> ids;
  for (const auto& t : to) ids.push_back(record(t)->id);
  const std::string phrase = "granit lune cerise torrent";
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    const std::int64_t now = unix_now();
    for (int i : {0, 1, 2, 3, 4, 6}) {
      if (i == 4) continue;  // 4: never confirmed
      if (auto c = tx.confirm_email_consent(ids[i], now); !c) return std::unexpected(c.error());
    }
    if (auto c = tx.confirm_email_consent(record(outsider)->id, now); !c) return std::unexpected(c.error());
    if (auto b = tx.mark_email_bouncing(ids[6], now); !b) return std::unexpected(b.error());  // 6: bouncing
    auto row = tx.find_supporter(ids[0]);
    if (!row) return std::unexpected(row.error());
    auto sealed = vault_.seal_phrase(**row, phrase, now);
    if (!sealed) return std::unexpected(sealed.error());
    return tx.insert_phrase(*sealed);
  }));
  Segments segments(*store_, keys_);
  SegmentDefinition def;
  def.tags_all = {tag};
  ASSERT_TRUE(segments.save(Asker{"account:author", ""}, "militants", def, false));

  MailingOptions mo;
  mo.approval_above = 2;
  mo.batch = 2;
  mo.connections = 1;  // so that the connection kept from batch to batch shows
  Mailings mailings(*store_, keys_, opts_, mo);
  const Asker author{"account:author", ""}, second{"account:second", ""};
  MailingDraft d{"Rentrée", "Des nouvelles pour {{given_name}}", "Bonjour {{given_name}},\n\nOn se retrouve samedi.",
                 "militants"};
  EXPECT_FALSE(mailings.create(author, MailingDraft{"x", "s", "Hello {{address}}", "militants"}));  // no such placeholder
  auto id = mailings.create(author, d);
  ASSERT_TRUE(id) << id.error().internal;
  auto preview = mailings.preview(d);
  ASSERT_TRUE(preview);
  EXPECT_EQ(preview->subject, "Des nouvelles pour Camille");
  EXPECT_NE(preview->text.find("To receive no more e-mail from Mouvement"), std::string::npos) << preview->text;

  auto drawn = mailings.draw(author, *id);
  ASSERT_TRUE(drawn) << drawn.error().internal;
  EXPECT_EQ(*drawn, 4);  // 0, 1, 2, 3
  EXPECT_EQ(mailings.start(author, *id).error().code, Errc::permission);
  EXPECT_EQ(mailings.approve(author, *id).error().code, Errc::permission);
  ASSERT_TRUE(mailings.approve(second, *id));
  ASSERT_TRUE(mailings.start(author, *id));

  // Recipient 1 withdraws before their turn: skipped, not opened.
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(ids[1]);
    if (!row) return std::unexpected(row.error());
    store::SupporterRow r = **row;
    r.consent_email_at.reset();
    r.consent_email_refused_at = unix_now();
    return tx.update_supporter(r);
  }));
  // A crash after a batch was opened and before the relay's answers were
  // recorded: that batch is `sending`, and goes again first.
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto k = tx.mark_mailing_recipient(*id, ids[3], "sending", 1, std::nullopt, 0);
    if (!k) return std::unexpected(k.error());
    return {};
  }));
  const auto links_before = count_rows(fx_.db, "SELECT count(*) FROM link_tokens");
  MailingSender sender(vault_, *store_, *transport_, opts_, mo);
  MailingSendCounts total;
  for (int pass = 0; pass < 6; ++pass) {
    auto c = sender.send_batch(std::stop_token{});
    ASSERT_TRUE(c) << c.error().internal;
    total.sent += c->sent;
    total.skipped += c->skipped;
    total.failed += c->failed;
  }
  EXPECT_EQ(total, (MailingSendCounts{3, 0, 1}));
  auto view = mailings.show(*id);
  ASSERT_TRUE(view && *view);
  EXPECT_EQ((*view)->row.state, "sent");
  EXPECT_EQ((*view)->counts, (store::MailingCounts{0, 0, 3, 0, 1}));

  for (int i = 0; i < 7; ++i) {
    const bool wanted = i == 0 || i == 2 || i == 3;
    for (int tries = 0; wanted && tries < 100 && count_mail_to(to[i], "Des nouvelles") == 0; ++tries) {
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(count_mail_to(to[i], "Des nouvelles"), wanted ? 1 : 0) << i;
  }
  EXPECT_EQ(count_mail_to(outsider, "Des nouvelles"), 0);
  // One connection to the relay for the whole mailing, batch after batch
  // (connections = 1).
  std::set<std::string> connections;
  for (int i : {0, 2, 3}) {
    auto m = mail_to(to[i], "Des nouvelles");
    ASSERT_TRUE(m);
    connections.insert((*m)["headers"]["x-smtp-connection"][0]["raw"].get<std::string>());
  }
  EXPECT_EQ(connections.size(), 1u);
  auto first = mail_to(to[0], "Des nouvelles");
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["subject"], "Des nouvelles pour Adèle");
  const std::string text = (*first)["parts"][1]["text"];
  EXPECT_NE(text.find("Bonjour Adèle,"), std::string::npos) << text;
  EXPECT_NE(text.find("Your anti-phishing phrase: " + phrase), std::string::npos) << text;
  EXPECT_NE(text.find("https://signup.example.org/manage"), std::string::npos) << text;
  EXPECT_EQ((*first)["headers"]["list-unsubscribe-post"][0]["raw"], "List-Unsubscribe=One-Click");
  // The envelope sender names the record, not the address (VERP).
  const std::string envelope_from = (*first)["headers"]["x-envelope-from"][0]["raw"];
  EXPECT_TRUE(envelope_from.starts_with("nouvelles+")) << envelope_from;
  EXPECT_TRUE(envelope_from.ends_with("@mouvement.example")) << envelope_from;
  EXPECT_EQ(envelope_from.find(to[0].substr(0, to[0].find('@'))), std::string::npos);
  EXPECT_EQ(verp_record(keys_, envelope_from), ids[0]);
  std::string upper = envelope_from;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(verp_record(keys_, upper), ids[0]);
  auto altered = envelope_from;
  altered[12] = altered[12] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(verp_record(keys_, altered));
  EXPECT_FALSE(verp_record(keys_, "nouvelles@mouvement.example"));
  const std::string unsubscribe = token_in((*first)["headers"]["list-unsubscribe"][0]["raw"], "/unsubscribe");
  ASSERT_FALSE(unsubscribe.empty());
  EXPECT_EQ(standing_unsubscribe_id(keys_, unsubscribe), ids[0]);
  auto forged = unsubscribe;
  forged[20] = forged[20] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(standing_unsubscribe_id(keys_, forged));
  arrive({core::to_fields(core::LinkAction{"unsubscribe", unsubscribe, "", ""}),
          core::to_fields(core::LinkAction{"unsubscribe", forged, "", ""})});
  EXPECT_FALSE(record(to[0])->consent_email_at);
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM link_tokens"), links_before);  // no row per mailing link

  std::set<std::string> opened;
  for (const auto& e : testing::audit_entries(*store_)) {
    for (const auto& t : to) EXPECT_EQ(e.details.find(t), std::string::npos) << e.action;
    if (e.action != "mailing.batch") continue;
    const auto details = nlohmann::json::parse(e.details);
    for (const auto& r : details["records"]) opened.insert(r.get<std::string>());
  }
  EXPECT_EQ(opened, (std::set<std::string>{audit::to_hex(ids[0]), audit::to_hex(ids[2]), audit::to_hex(ids[3])}));

  // A mailing that asks for given consents, confirmed or not, also draws 4
  // (never confirmed); 0 unsubscribed, 1 withdrew, 5 never agreed, 6 bounces.
  MailingDraft wider = d;
  wider.unconfirmed_too = true;
  auto wider_id = mailings.create(author, wider);
  ASSERT_TRUE(wider_id);
  auto wide = mailings.draw(author, *wider_id);
  ASSERT_TRUE(wide);
  EXPECT_EQ(*wide, 3);
  // Changed once drawn: back to a draft, and drawn again from scratch.
  wider.subject = "Encore des nouvelles";
  ASSERT_TRUE(mailings.edit(author, *wider_id, wider));
  EXPECT_EQ((*mailings.show(*wider_id))->row.state, "draft");
  auto again = mailings.draw(author, *wider_id);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 3);
  EXPECT_EQ((*mailings.show(*wider_id))->counts, (store::MailingCounts{3, 0, 0, 0, 0}));
  EXPECT_EQ((*mailings.show(*wider_id))->row.audience, "given");
}

}  // namespace
}  // namespace rempart::services

namespace rempart::services {
namespace {

// The breach notification: exactly the records a blast radius names that
// have an address, whatever their consent, in French, each quoting the
// person's phrase; a notice is not edited.
TEST_F(SupporterMailTest, ABreachNoticeReachesExactlyTheNamedRecords) {
  const std::vector<std::string> to = {mt::unique_address("notice-a"), mt::unique_address("notice-b"),
                                       mt::unique_address("notice-c")};
  arrive({core::to_fields(person(to[0])), core::to_fields(person(to[1], false)), core::to_fields(person(to[2]))});
  std::vector<store::Bytes> ids = {record(to[0])->id, record(to[1])->id};
  ids.push_back(store::Bytes(16, 0x5a));  // erased since, or never: nobody
  const std::string phrase = "olive tonnerre barque sapin";
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto row = tx.find_supporter(ids[0]);
    if (!row) return std::unexpected(row.error());
    auto sealed = vault_.seal_phrase(**row, phrase, unix_now());
    if (!sealed) return std::unexpected(sealed.error());
    return tx.insert_phrase(*sealed);
  }));
  Mailings mailings(*store_, keys_, opts_, MailingOptions{});
  const Asker op{"operator:test", ""};
  EXPECT_FALSE(mailings.notify(op, "fr", "Voir {{given_name}}", ids));  // no placeholder in the details
  EXPECT_FALSE(mailings.notify(op, "de", "Texte", ids));
  auto n = mailings.notify(op, "fr", "Le 3 d\xC3\xA9" "cembre, un acc\xC3\xA8s non autoris\xC3\xA9 zz8.", ids);
  ASSERT_TRUE(n) << n.error().internal;
  EXPECT_EQ(n->listed, 3);
  EXPECT_EQ(n->recipients, 2);  // b never agreed to news: notified all the same
  EXPECT_EQ(mailings.edit(op, n->id, MailingDraft{"x", "y", "z", "militants"}).error().code, Errc::conflict);
  ASSERT_TRUE(mailings.start(op, n->id));
  MailingSender sender(vault_, *store_, *transport_, opts_, MailingOptions{});
  for (int pass = 0; pass < 3; ++pass) ASSERT_TRUE(sender.send_batch(std::stop_token{}));
  EXPECT_EQ((*mailings.show(n->id))->counts, (store::MailingCounts{0, 0, 2, 0, 0}));
  auto a = mail_to(to[0], "Important");
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)["subject"], "Important : un incident de s\xC3\xA9" "curit\xC3\xA9 et vos donn\xC3\xA9" "es chez "
                             "Mouvement \xC3\x89" "cologie D\xC3\xA9mo");
  const std::string text = (*a)["parts"][1]["text"];
  EXPECT_NE(text.find("Bonjour Ad\xC3\xA8le,"), std::string::npos) << text;
  EXPECT_NE(text.find("zz8"), std::string::npos) << text;
  EXPECT_NE(text.find("cite votre phrase anti-hame\xC3\xA7onnage, " + phrase), std::string::npos) << text;
  EXPECT_NE(text.find("Pour ne plus recevoir de courriel"), std::string::npos) << text;
  EXPECT_NE(std::string((*a)["parts"][2]["text"]).find("<html lang=\"fr\">"), std::string::npos);
  auto b = mail_to(to[1], "Important");
  ASSERT_TRUE(b);
  EXPECT_EQ(std::string((*b)["parts"][1]["text"]).find("anti-hame\xC3\xA7onnage"), std::string::npos);  // no phrase yet
  EXPECT_FALSE(mail_to(to[2], "Important"));
}


// Bounces and complaints, read from a real IMAP mailbox (Dovecot) after a
// real mailing: each report finds its record by the VERP address or the
// reported message's unsubscribe token, counts against the thresholds and
// the mailing's statistics, once; what is no report is left for a person.
TEST_F(SupporterMailTest, BouncesAndComplaintsFromTheMailboxCountOnceAndMarkTheRecord) {
  ASSERT_TRUE(mt::imap_server().error.empty()) << mt::imap_server().error;
  opts_.mailto_unsubscribe = true;  // as [bounces] sets it
  const std::string tag = "bounce-" + mt::unique_address("t").substr(0, 8);
  std::vector<std::string> to;
  std::vector<std::vector<core::Field>> signups;
  for (int i = 0; i < 6; ++i) {
    to.push_back(mt::unique_address("b" + std::to_string(i)));
    auto p = person(to.back());
    p.tags = {tag};
    signups.push_back(core::to_fields(p));
  }
  arrive(signups);
  send();
  std::vector<store::Bytes> ids;
  for (const auto& t : to) ids.push_back(record(t)->id);
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    for (const auto& id : ids) {
      if (auto c = tx.confirm_email_consent(id, unix_now()); !c) return std::unexpected(c.error());
    }
    return {};
  }));
  Segments segments(*store_, keys_);
  SegmentDefinition def;
  def.tags_all = {tag};
  ASSERT_TRUE(segments.save(Asker{"account:author", ""}, "bounce-test", def, false));
  Mailings mailings(*store_, keys_, opts_, MailingOptions{});
  const Asker author{"account:author", ""};
  auto id = mailings.create(author, MailingDraft{"Juin", "Nouvelles de juin", "Bonjour {{given_name}}.", "bounce-test"});
  ASSERT_TRUE(id);
  ASSERT_EQ(*mailings.draw(author, *id), 6);
  ASSERT_TRUE(mailings.start(author, *id));
  MailingSender sender(vault_, *store_, *transport_, opts_, MailingOptions{});
  for (int pass = 0; pass < 3; ++pass) ASSERT_TRUE(sender.send_batch(std::stop_token{}));
  std::vector<mt::Reported> sent;
  for (const auto& t : to) {
    auto m = mail_to(t, "Nouvelles de juin");
    ASSERT_TRUE(m);
    std::string message_id = (*m)["headers"]["message-id"][0]["raw"];
    message_id = message_id.substr(1, message_id.size() - 2);
    sent.push_back(mt::Reported{(*m)["headers"]["x-envelope-from"][0]["raw"], message_id,
                                (*m)["headers"]["list-unsubscribe"][0]["raw"], t});
  }

  // 0: a hard bounce, delivered twice (the same report); 1: two soft ones
  // (below the threshold of 3); 2: a complaint from a feedback loop, which
  // names the record only by the reported message; 3: a hard bounce whose
  // VERP address was tampered with; 4: nothing; 5: writes to the mailto:
  // address of List-Unsubscribe. And an out-of-office reply.
  const std::string user = mt::unique_imap_user("bounces");
  const std::string hard = mt::dsn(sent[0].return_path, "failed", "5.1.1", sent[0]);
  ASSERT_TRUE(mt::deliver(user, hard));
  ASSERT_TRUE(mt::deliver(user, hard));
  ASSERT_TRUE(mt::deliver(user, mt::dsn(sent[1].return_path, "delayed", "4.4.7", sent[1])));
  ASSERT_TRUE(mt::deliver(user, mt::dsn(sent[1].return_path, "failed", "4.2.2", sent[1])));
  mt::Reported complained = sent[2];
  complained.return_path = "someone-else@provider.example";  // rewritten on the way: the token still names it
  ASSERT_TRUE(mt::deliver(user, mt::arf("fbl@mouvement.example", "abuse", complained)));
  std::string forged = sent[3].return_path;
  forged[forged.find('+') + 3] = forged[forged.find('+') + 3] == 'a' ? 'b' : 'a';
  mt::Reported tampered = sent[3];
  tampered.return_path = forged;
  tampered.list_unsubscribe.clear();
  ASSERT_TRUE(mt::deliver(user, mt::dsn(forged, "failed", "5.1.1", tampered)));
  ASSERT_TRUE(mt::deliver(user, "From: " + to[4] + "\r\nTo: " + sent[4].return_path +
                                    "\r\nSubject: Absent\r\n\r\nI am away until Monday.\r\n"));
  const std::string& lu = sent[5].list_unsubscribe;
  ASSERT_NE(lu.find("<https://signup.example.org/unsubscribe?t="), std::string::npos) << lu;
  const auto mailto = lu.find("<mailto:");
  ASSERT_NE(mailto, std::string::npos) << lu;
  const std::string unsubscribe_to = lu.substr(mailto + 8, lu.find('?', mailto) - mailto - 8);
  EXPECT_EQ(unsubscribe_address_record(keys_, unsubscribe_to), ids[5]);
  EXPECT_FALSE(unsubscribe_address_record(keys_, sent[5].return_path));  // a return path is no unsubscribe
  EXPECT_FALSE(verp_record(keys_, unsubscribe_to));
  ASSERT_TRUE(mt::deliver(user, "From: " + to[5] + "\r\nTo: " + unsubscribe_to +
                                    "\r\nSubject: unsubscribe\r\n\r\n"));

  const auto password = fx_.dir / "imap-password";
  { std::ofstream(password) << mt::kImapPassword << "\n"; }
  std::filesystem::permissions(password, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);
  BounceOptions bo;
  bo.imap = mail::ImapOptions{mt::imap_server().url + "/INBOX", user, password, false, 10s};
  ASSERT_TRUE(check(bo));
  auto box = mail::ImapMailbox::create(bo.imap);
  ASSERT_TRUE(box) << box.error().internal;
  BounceReader reader(keys_, *store_, bo);
  auto c = reader.read_once(**box, unix_now(), std::stop_token{});
  ASSERT_TRUE(c) << c.error().internal;
  EXPECT_EQ(c->hard, 1);
  EXPECT_EQ(c->soft, 2);
  EXPECT_EQ(c->complaints, 1);
  EXPECT_EQ(c->bouncing, 1);
  EXPECT_EQ(c->withdrawn, 1);
  EXPECT_EQ(c->unsubscribed, 1);
  EXPECT_EQ(c->deleted, 6);  // both copies of the hard bounce, the two soft ones, the complaint, the unsubscribe
  EXPECT_EQ(c->left, 2);     // the tampered bounce and the reply
  auto again = reader.read_once(**box, unix_now(), std::stop_token{});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->deleted + again->left, 0);  // what was left is not read again

  const auto mailable = [&](const store::Bytes& rid) {  // consent confirmed and, then, not bouncing
    bool yes = false;
    EXPECT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto m = tx.mailable(rid, "confirmed");
      if (!m) return std::unexpected(m.error());
      yes = *m;
      return {};
    }));
    return yes;
  };
  EXPECT_FALSE(mailable(ids[0]));  // bouncing
  EXPECT_TRUE(record(to[0])->consent_email_at);
  EXPECT_TRUE(mailable(ids[1]));  // 2 soft bounces < 3
  EXPECT_FALSE(record(to[2])->consent_email_at);  // the complaint withdrew it
  EXPECT_TRUE(record(to[2])->consent_email_refused_at);
  EXPECT_TRUE(mailable(ids[3]));  // a forged token names nobody
  EXPECT_TRUE(mailable(ids[4]));
  EXPECT_FALSE(record(to[5])->consent_email_at);
  // 4 unsubscribes by the mailing's link: the statistics say so.
  const std::string token = token_in(sent[4].list_unsubscribe, "/unsubscribe");
  arrive({core::to_fields(core::LinkAction{"unsubscribe", token, "", ""})});
  auto view = mailings.show(*id);
  ASSERT_TRUE(view && *view);
  EXPECT_EQ((*view)->counts, (store::MailingCounts{0, 0, 6, 0, 0, 1, 1, 2}));
  // A third soft bounce within the window marks 1 bouncing.
  ASSERT_TRUE(mt::deliver(user, mt::dsn(sent[1].return_path, "delayed", "4.4.1", sent[1])));
  auto third = reader.read_once(**box, unix_now(), std::stop_token{});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->bouncing, 1);
  EXPECT_FALSE(mailable(ids[1]));
  EXPECT_TRUE(record(to[1])->consent_email_at);
  EXPECT_EQ((*mailings.show(*id))->counts.bounced, 2);
  // The next mailing leaves out the bouncing, the complainer and the unsubscribed.
  auto next = mailings.create(author, MailingDraft{"Juillet", "Juillet", "Bonjour.", "bounce-test"});
  ASSERT_TRUE(next);
  auto drawn = mailings.draw(author, *next);
  ASSERT_TRUE(drawn) << drawn.error().internal;
  EXPECT_EQ(*drawn, 1);  // 3

  std::int64_t reports = 0;
  for (const auto& e : testing::audit_entries(*store_)) {
    for (const auto& t : to) EXPECT_EQ(e.details.find(t), std::string::npos) << e.action;
    if (e.action == "mail.report") ++reports;
  }
  EXPECT_EQ(reports, 5);  // 0, 1 three times, 2
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM consent_events WHERE source = 'complaint'"), 1);
}

// A test send: the composer's own address, kept sealed on their account,
// receives the mailing rendered for the made-up person; nothing else does,
// and no log of it holds the address.
TEST_F(SupporterMailTest, ATestSendGoesToTheComposersOwnAddressOnly) {
  store::AccountRow a;
  a.id = store::Bytes(16, 0x42);
  a.name = "composer";
  a.role = "organiser";
  a.password_hash = "hash";
  a.totp_sealed = store::Bytes(8, 1);
  a.created_at = a.updated_at = unix_now();
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) { return tx.insert_account(a); }));
  const Asker composer{"account:" + audit::to_hex(a.id), ""};
  ASSERT_TRUE(Segments(*store_, keys_).save(composer, "essai", SegmentDefinition{}, false));
  Mailings mailings(*store_, keys_, opts_, MailingOptions{});
  auto id = mailings.create(composer, MailingDraft{"Essai", "Nouvelles pour {{given_name}}", "Bonjour {{given_name}}.",
                                                    "essai"});
  ASSERT_TRUE(id) << id.error().internal;

  EXPECT_EQ(mailings.send_test(composer, *id, *transport_).error().code, Errc::conflict);  // no address yet
  EXPECT_EQ(mailings.set_test_address(composer, "not an address").error().code, Errc::invalid_input);
  EXPECT_EQ(mailings.set_test_address(Asker{"operator:root", ""}, "x@example.org").error().code, Errc::permission);
  const std::string mine = mt::unique_address("composer");
  ASSERT_TRUE(mailings.set_test_address(composer, " " + mine + " "));
  EXPECT_EQ(*mailings.test_address(composer), std::optional<std::string>(mine));
  // Sealed: the database holds no trace of it.
  EXPECT_EQ(count_rows(fx_.db, "SELECT count(*) FROM accounts WHERE test_address_sealed IS NOT NULL"), 1);
  for (const auto& file : {fx_.db, std::filesystem::path(fx_.db.string() + "-wal")}) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(mine.substr(0, mine.find('@'))), std::string::npos) << file;
  }

  ASSERT_TRUE(mailings.send_test(composer, *id, *transport_));
  auto got = mail_to(mine, "[Test] Nouvelles pour Camille");
  ASSERT_TRUE(got);
  EXPECT_NE(std::string((*got)["parts"][1]["text"]).find("Bonjour Camille."), std::string::npos);
  EXPECT_FALSE((*got)["headers"].contains("list-unsubscribe"));
  for (int i = 1; i < 10; ++i) ASSERT_TRUE(mailings.send_test(composer, *id, *transport_)) << i;
  EXPECT_EQ(mailings.send_test(composer, *id, *transport_).error().code, Errc::busy);  // 10 within the hour

  ASSERT_TRUE(mailings.set_test_address(composer, ""));  // cleared
  EXPECT_FALSE(*mailings.test_address(composer));
  int tests = 0;
  for (const auto& e : testing::audit_entries(*store_)) {
    EXPECT_EQ(e.details.find(mine), std::string::npos) << e.action;
    if (e.action == "mailing.test") ++tests;
  }
  EXPECT_EQ(tests, 10);
  EXPECT_EQ(mailings.show(*id).value()->row.state, "draft");  // a test changes nothing of the mailing
}

}  // namespace
}  // namespace rempart::services
