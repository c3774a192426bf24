// The console's pages in French: a real console on a loopback port, people
// signed in, and pages asked for with Accept-Language: fr. English stays the
// default (console_test.cpp reads the English texts).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "auth/test_support.hpp"
#include "auth/totp.hpp"
#include "console/console.hpp"
#include "core/person.hpp"
#include "http/server.hpp"
#include "http/test_client.hpp"
#include "services/exports.hpp"
#include "services/records.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::console {
namespace {

namespace bhttp = boost::beast::http;
using bhttp::verb;
using http::testing::make_request;

constexpr char kPassword[] = "Vert-Galet-Quinze-42";

struct Session {
  std::string cookie;
  std::string csrf;
};

class ConsoleFrenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_.emplace(fx_.keeper_keys());
    vault_.emplace(*keys_);
    auto st = store::open_sqlite_keeper(fx_.db);
    ASSERT_TRUE(st) << st.error().internal;
    store_ = std::move(*st);
    auth::AuthOptions ao;
    ao.pwhash = auth::PwhashLimits::for_tests();
    ao.clock = [this] { return now_.load(); };
    auth_options_ = ao;
    ops_.emplace(*store_, *keys_, ao);
    seed();

    ConsoleOptions co;
    co.workers = 2;
    auto c = Console::start(co, *keys_, [this]() -> Result<std::unique_ptr<Worker>> {
      auto s = store::open_sqlite_keeper(fx_.db);
      if (!s) return std::unexpected(s.error());
      auto w = std::make_unique<Worker>();
      w->store = std::move(*s);
      w->accounts = std::make_unique<auth::AccountService>(*w->store, *keys_, auth_options_);
      w->directory = std::make_unique<services::Directory>(*w->store, *vault_, &budgets_);
      w->casework = std::make_unique<services::Casework>(*w->store, *vault_, &budgets_, "FR");
      w->calls = std::make_unique<services::CallLists>(*w->store, *vault_, &budgets_);
      services::ExportOptions xo;
      xo.dir = fx_.dir / "exports";
      xo.clock = [this] { return now_.load(); };
      w->exports = std::make_unique<services::Exports>(*w->store, *vault_, xo);
      return w;
    });
    ASSERT_TRUE(c) << c.error().internal;
    console_ = std::move(*c);
    http::ServerOptions so;
    so.threads = 2;
    auto s = http::Server::start(so, console_->handler(), console_->error_renderer());
    ASSERT_TRUE(s) << s.error().internal;
    server_ = std::move(*s);
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (console_) console_->stop();
  }

  void seed() {
    services::RecordWriter writer(*keys_);
    for (const char* email : {"gwenaelle.kerherve@exemple.org", "thibault.vasseur@exemple.net"}) {
      core::Person p;
      p.given_name = "Ondine";
      p.email = email;
      p.tags = {"volunteer"};
      auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto u = writer.upsert(tx, p, now_.load());
        if (!u) return std::unexpected(u.error());
        return {};
      });
      ASSERT_TRUE(r) << r.error().internal;
    }
  }

  auth::Enrolment add(const std::string& name, auth::Role role) {
    auto e = ops_->create_account("operator:test", name, role, kPassword);
    EXPECT_TRUE(e) << (e ? "" : e.error().internal);
    return std::move(*e);
  }

  http::Response send(http::Request r) {
    r.prepare_payload();
    return http::testing::send(server_->port(), std::move(r));
  }

  http::Response form(const std::string& target, const std::string& body, const Session* s = nullptr) {
    auto r = make_request(verb::post, target, body, "application/x-www-form-urlencoded");
    if (s) r.set(bhttp::field::cookie, s->cookie);
    return send(std::move(r));
  }

  // A page as a French-speaking browser asks for it.
  http::Response get(const Session& s, const std::string& target, const char* language = "fr-FR,fr;q=0.9,en;q=0.5") {
    auto r = make_request(verb::get, target);
    r.set(bhttp::field::cookie, s.cookie);
    r.set(bhttp::field::accept_language, language);
    return send(std::move(r));
  }

  std::optional<Session> login(const std::string& name, const auth::Enrolment& e) {
    now_ += 30;
    auto first = form("/login", "name=" + name + "&password=" + kPassword);
    std::smatch m;
    static const std::regex re("name=\"pending\" value=\"([A-Za-z0-9_-]+)\"");
    const std::string body = first.body();
    if (!std::regex_search(body, m, re)) return std::nullopt;
    auto r = form("/login/code", "pending=" + m[1].str() + "&code=" + auth::totp_code(e.totp_secret.span(), now_.load()));
    if (r.result() != bhttp::status::see_other) return std::nullopt;
    const std::string set = std::string(r[bhttp::field::set_cookie]);
    Session s;
    s.cookie = set.substr(0, set.find(';'));
    auto me = make_request(verb::get, "/api/v1/me");
    me.set(bhttp::field::cookie, s.cookie);
    auto answer = send(std::move(me));
    if (answer.result() != bhttp::status::ok) return std::nullopt;
    s.csrf = nlohmann::json::parse(answer.body())["csrf_token"].get<std::string>();
    return s;
  }

  // The page is French: its language, the French texts, none of their
  // English originals.
  static void expect_french(const http::Response& page, const std::vector<std::string>& french,
                            const std::vector<std::string>& english) {
    ASSERT_EQ(page.result(), bhttp::status::ok);
    const std::string body = page.body();
    EXPECT_NE(body.find("<html lang=\"fr\">"), std::string::npos);
    for (const auto& f : french) EXPECT_NE(body.find(f), std::string::npos) << "missing: " << f;
    for (const auto& e : english) EXPECT_EQ(body.find(e), std::string::npos) << "still in English: " << e;
  }

  services::testing::Fixture fx_;
  std::optional<crypto::KeeperKeyring> keys_;
  std::optional<services::Vault> vault_;
  std::unique_ptr<store::KeeperStore> store_;
  std::atomic<std::int64_t> now_{services::unix_now()};
  auth::AuthOptions auth_options_;
  std::optional<auth::AccountService> ops_;
  guard::Budgets budgets_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(ConsoleFrenchTest, AccountsSegmentsMailingsAndTheAuditLogSpeakFrench) {
  auto admin = add("ines", auth::Role::admin);
  auto organiser = add("paul", auth::Role::organiser);
  auto auditor = add("aude", auth::Role::auditor);
  auto a = login("ines", admin);
  auto o = login("paul", organiser);
  auto d = login("aude", auditor);
  ASSERT_TRUE(a && o && d);

  // The accounts page (an admin's).
  expect_french(get(*a, "/accounts"),
                {"<h2>Tous les comptes</h2>", "En attente de votre approbation", "ines (vous)", "Désactiver paul",
                 "codes de secours restants", "Inviter quelqu\xE2\x80\x99un", "Demander le compte",
                 "<title>Comptes \xC2\xB7 "},
                {"Every account", "Waiting for your approval", "(you)", "Disable paul", "recovery codes left",
                 "Invite someone", "Request the account"});

  // One's own account (an organiser's, with the test address).
  expect_french(get(*o, "/account"),
                {"Changer votre mot de passe", "Mot de passe actuel", "Votre adresse de test",
                 "Adresse e-mail (vide\xC2\xA0: aucune)", "<title>Votre compte \xC2\xB7 "},
                {"Change your password", "Current password", "Replace your authenticator", "Your test address",
                 "E-mail address (empty: none)"});

  // The segments page, with a saved segment and its (small) count.
  ASSERT_EQ(form("/segments", "csrf=" + o->csrf + "&op=save&name=benevoles&tags_all=volunteer", &*o).result(),
            bhttp::status::see_other);
  expect_french(get(*o, "/segments"),
                {"Créer un segment", "moins de 5 sympathisants", "Comptés à ", "<title>Segments \xC2\xB7 "},
                {"Build a segment", "fewer than", "Counted at", "or later"});
  expect_french(get(*o, "/segments/benevoles"),
                {"Étiqueter tous les membres", "Toutes les étiquettes", "Consentement e-mail", "indifférent",
                 "Supprimer ce segment"},
                {"Tag every member", "All of the tags", "E-mail consent", "Delete this segment"});

  // The mailings page.
  expect_french(get(*o, "/mailings"), {"Rédiger un envoi", "Aucun envoi pour l\xE2\x80\x99instant.", "<title>Envois"},
                {"Write a mailing", "No mailing yet", "sends mailings itself"});

  // The audit log, its table's labels included.
  expect_french(get(*d, "/audit"),
                {"<strong>Chaîne vérifiée</strong> jusqu\xE2\x80\x99\xC3\xA0 l\xE2\x80\x99" "entrée",
                 "Dernières entrées", "data-label=\"Auteur\"", "Vérifier toute la chaîne maintenant",
                 "<title>Journal d\xE2\x80\x99" "audit"},
                {"Chain verified", "Latest entries", "data-label=\"Actor\"", "Verify the whole chain now",
                 "<title>Audit log"});

  // Asked for in English, the same page is English.
  auto english = get(*d, "/audit", "en");
  ASSERT_EQ(english.result(), bhttp::status::ok);
  EXPECT_NE(english.body().find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(english.body().find("Chain verified"), std::string::npos);
  EXPECT_EQ(english.body().find("Chaîne vérifiée"), std::string::npos);
}

}  // namespace
}  // namespace rempart::console
