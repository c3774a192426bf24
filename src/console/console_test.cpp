// The console over real HTTP on a loopback port, a real SQLite file, a real
// keyring and real TOTP codes.
#include "console/console.hpp"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <cctype>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "audit/blast_radius.hpp"
#include "audit/chain.hpp"
#include "audit/verify.hpp"
#include "auth/test_support.hpp"
#include "auth/totp.hpp"
#include "console/pages.hpp"
#include "core/person.hpp"
#include "core/urlencoded.hpp"
#include "guard/alerts.hpp"
#include "guard/test_receiver.hpp"
#include "http/server.hpp"
#include "http/test_client.hpp"
#include "http/tls_test_support.hpp"
#include "i18n/i18n.hpp"
#include "services/exports.hpp"
#include "services/records.hpp"
#include "services/segments.hpp"
#include "services/test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::console {
namespace {

namespace bhttp = boost::beast::http;
using bhttp::verb;
using http::testing::make_request;

constexpr char kPassword[] = "Vert-Galet-Quinze-42";

struct TestPerson {
  const char* given;
  const char* family;
  const char* email;
  const char* phone;
  const char* postcode;
};
const TestPerson kPeople[] = {
    {"Gwenaëlle", "Kerhervé", "gwenaelle.kerherve@exemple.org", "+33199000101", "29200"},
    {"Thibault", "Vasseur-Lemoine", "thibault.vasseur@exemple.net", "+33199000102", "59000"},
    {"Ondine", "Marchetti", "ondine.marchetti@exemple.fr", "+33199000103", "13001"},
};

struct Session {
  std::string cookie;  // "rempart_session=…"
  std::string csrf;
};

class ConsoleTest : public ::testing::Test {
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

    alerter_secret_ = fx_.dir / "webhook.secret";
    {
      std::ofstream(alerter_secret_) << "console-test-webhook-secret\n";
      std::filesystem::permissions(alerter_secret_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::replace);
    }
    guard::AlertOptions ao2;
    ao2.stderr_json = false;
    ao2.webhook = guard::WebhookSinkOptions{receiver_.url(), alerter_secret_};
    auto al = guard::Alerter::start(ao2);
    ASSERT_TRUE(al) << al.error().internal;
    alerter_ = std::move(*al);

    ConsoleOptions co;
    co.workers = 2;
    if (use_tls()) {
      cert_.emplace();
      co.tls = true;
    }
    co.alerter = alerter_.get();
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
    if (cert_) so.tls = http::TlsOptions{cert_->cert, cert_->key};
    auto s = http::Server::start(so, console_->handler(), console_->error_renderer());
    ASSERT_TRUE(s) << s.error().internal;
    server_ = std::move(*s);
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (console_) console_->stop();
    if (alerter_) alerter_->stop();
  }

  // A time as a datetime-local field sends it (UTC).
  static std::string form_time(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M", &tm);
    return buf;
  }

  // Writes `p` as the keeper would fold it.
  void put(const core::Person& p) {
    services::RecordWriter writer(*keys_);
    ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, now_.load());
      if (!u) return std::unexpected(u.error());
      return {};
    }));
  }

  void seed() {
    services::RecordWriter writer(*keys_);
    for (const auto& tp : kPeople) {
      core::Person p;
      p.given_name = tp.given;
      p.family_name = tp.family;
      p.email = tp.email;
      p.phone = tp.phone;
      p.postal_code = tp.postcode;
      p.tags = {"volunteer"};
      store::Bytes id;
      auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
        auto u = writer.upsert(tx, p, now_.load(), &id);
        if (!u) return std::unexpected(u.error());
        return {};
      });
      ASSERT_TRUE(r) << r.error().internal;
      ids_.push_back(audit::to_hex(id));
    }
  }

  auth::Enrolment add(const std::string& name, auth::Role role) {
    auto e = ops_->create_account("operator:test", name, role, kPassword);
    EXPECT_TRUE(e) << (e ? "" : e.error().internal);
    return std::move(*e);
  }

  virtual bool use_tls() const { return false; }

  http::Response send(http::Request req) {
    req.prepare_payload();
    if (cert_) {
      http::testing::TlsClientOptions tls;
      tls.trust = cert_->cert;
      return http::testing::send(server_->port(), tls, std::move(req));
    }
    return http::testing::send(server_->port(), std::move(req));
  }

  http::Request req(verb v, const std::string& target, const Session* s = nullptr, std::string body = {},
                    std::string type = {}) {
    auto r = make_request(v, target, std::move(body), std::move(type));
    if (s) r.set(bhttp::field::cookie, s->cookie);
    return r;
  }

  http::Response form(const std::string& target, const std::string& body, const Session* s = nullptr) {
    return send(req(verb::post, target, s, body, "application/x-www-form-urlencoded"));
  }

  static std::string pending_of(const http::Response& r) {
    std::smatch m;
    static const std::regex re("name=\"pending\" value=\"([A-Za-z0-9_-]+)\"");
    const std::string body = r.body();
    return std::regex_search(body, m, re) ? m[1].str() : std::string();
  }

  // The two steps of the sign-in page.
  http::Response login_raw(const std::string& name, const std::string& password, const std::string& code) {
    auto first = form("/login", "name=" + name + "&password=" + password);
    EXPECT_EQ(first.result(), bhttp::status::ok);
    return form("/login/code", "pending=" + pending_of(first) + "&code=" + code);
  }

  // A code of the next TOTP step: what a person types for a step-up after
  // signing in (the sign-in's own code is spent).
  std::string fresh_code(const auth::Enrolment& e) {
    now_ += 30;
    return auth::totp_code(e.totp_secret.span(), now_.load());
  }
  std::string fresh_code(const crypto::SecretBytes& secret) {
    now_ += 30;
    return auth::totp_code(secret.span(), now_.load());
  }

  // Past the approvers' cooling period (sessions opened before it end).
  void let_a_day_pass() { now_ += auth_options_.approver_cooling_seconds + 60; }

  // The alerts the webhook received so far, as JSON.
  std::vector<nlohmann::json> alerts() {
    std::vector<nlohmann::json> out;
    for (const auto& r : receiver_.requests()) out.push_back(nlohmann::json::parse(r.body));
    return out;
  }
  bool alerted(std::string_view kind, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    do {
      for (const auto& a : alerts()) {
        if (a["kind"] == kind) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }

  // POSTs a console form as `s`, with its CSRF token.
  http::Response post(const Session& s, const std::string& target, const std::string& fields = {}) {
    return form(target, "csrf=" + s.csrf + (fields.empty() ? "" : "&" + fields), &s);
  }

  std::optional<Session> login(const std::string& name, const auth::Enrolment& e) {
    // Each test step uses the next TOTP step, so no code is a replay.
    now_ += 30;
    auto r = login_raw(name, kPassword, auth::totp_code(e.totp_secret.span(), now_.load()));
    if (r.result() != bhttp::status::see_other) return std::nullopt;
    const std::string set = std::string(r[bhttp::field::set_cookie]);
    Session s;
    s.cookie = set.substr(0, set.find(';'));
    auto me = send(req(verb::get, "/api/v1/me", &s));
    if (me.result() != bhttp::status::ok) return std::nullopt;
    s.csrf = nlohmann::json::parse(me.body())["csrf_token"].get<std::string>();
    return s;
  }

  std::vector<std::pair<std::string, std::string>> audit_actions() {
    std::vector<std::pair<std::string, std::string>> out;
    auto r = store_->scan_audit(1, [&](const store::AuditEntryRow& row) {
      out.emplace_back(row.action, row.details);
      return true;
    });
    EXPECT_TRUE(r);
    return out;
  }

  static void expect_no_pii(const std::string& body) {
    for (const auto& p : kPeople) {
      for (const char* v : {p.given, p.family, p.email, p.phone}) {
        EXPECT_EQ(body.find(v), std::string::npos) << "a full value leaked into a masked answer";
      }
      // A postcode is five digits: inside a longer number (a timestamp in
      // microseconds, a seq) it is not the postcode.
      const std::string_view code = p.postcode;
      for (auto at = body.find(code); at != std::string::npos; at = body.find(code, at + 1)) {
        const bool inside_number = (at > 0 && std::isdigit(static_cast<unsigned char>(body[at - 1]))) ||
                                   (at + code.size() < body.size() &&
                                    std::isdigit(static_cast<unsigned char>(body[at + code.size()])));
        EXPECT_TRUE(inside_number) << "a full postcode leaked into a masked answer";
      }
    }
  }

  services::testing::Fixture fx_;
  std::optional<crypto::KeeperKeyring> keys_;
  std::optional<services::Vault> vault_;  // over keys_
  std::unique_ptr<store::KeeperStore> store_;
  std::atomic<std::int64_t> now_{services::unix_now()};
  auth::AuthOptions auth_options_;
  std::optional<auth::AccountService> ops_;
  std::vector<std::string> ids_;
  std::optional<http::testing::TestCertificate> cert_;
  guard::Budgets budgets_;
  guard::testing::Receiver receiver_{{200}};
  std::filesystem::path alerter_secret_;
  std::unique_ptr<guard::Alerter> alerter_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(ConsoleTest, SignInThenMaskedListThenRevealOneField) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);

  auto list = send(req(verb::get, "/supporters", &*s));
  ASSERT_EQ(list.result(), bhttp::status::ok);
  EXPECT_NE(list.body().find("g•••@e•••.org"), std::string::npos);
  expect_no_pii(list.body());
  EXPECT_EQ(list[bhttp::field::cache_control], "no-store");
  EXPECT_NE(std::string(list["Content-Security-Policy"]).find("default-src 'none'"), std::string::npos);

  auto rec = send(req(verb::get, "/supporters/" + ids_[0], &*s));
  ASSERT_EQ(rec.result(), bhttp::status::ok);
  expect_no_pii(rec.body());

  auto shown = form("/supporters/" + ids_[0] + "/reveal", "csrf=" + s->csrf + "&kind=email&reason=call+back", &*s);
  ASSERT_EQ(shown.result(), bhttp::status::ok);
  EXPECT_NE(shown.body().find(kPeople[0].email), std::string::npos);
  EXPECT_EQ(shown.body().find(kPeople[0].phone), std::string::npos);  // only the field asked for

  // A name and a phone together, in one form with one reason.
  shown = form("/supporters/" + ids_[0] + "/reveal",
               "csrf=" + s->csrf + "&kind=name&kind=phone&reason=phone+bank", &*s);
  ASSERT_EQ(shown.result(), bhttp::status::ok);
  EXPECT_NE(shown.body().find(kPeople[0].phone), std::string::npos);
  EXPECT_NE(shown.body().find(kPeople[0].given), std::string::npos);
  EXPECT_EQ(shown.body().find(kPeople[0].email), std::string::npos);
  // None ticked: the record again with a word, nothing revealed.
  shown = form("/supporters/" + ids_[0] + "/reveal", "csrf=" + s->csrf + "&reason=phone+bank", &*s);
  ASSERT_EQ(shown.result(), bhttp::status::ok);
  EXPECT_NE(shown.body().find("Tick the fields to reveal."), std::string::npos);
  expect_no_pii(shown.body());

  bool revealed = false;
  for (const auto& [action, details] : audit_actions()) {
    if (action == "supporter.reveal" && details.find("call back") != std::string::npos) revealed = true;
    EXPECT_EQ(details.find(kPeople[0].email), std::string::npos);
  }
  EXPECT_TRUE(revealed);
}

TEST_F(ConsoleTest, SessionCookieIsHttpOnlyStrictAndNotInBody) {
  auto e = add("orga", auth::Role::organiser);
  now_ += 30;
  auto r = login_raw("orga", kPassword, auth::totp_code(e.totp_secret.span(), now_.load()));
  ASSERT_EQ(r.result(), bhttp::status::see_other);
  const std::string set = std::string(r[bhttp::field::set_cookie]);
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(set.find("Path=/"), std::string::npos);
  const auto token = set.substr(set.find('=') + 1, set.find(';') - set.find('=') - 1);
  EXPECT_GE(token.size(), 43u);  // 256 bits in base64url
  EXPECT_EQ(r.body().find(token), std::string::npos);
}

TEST_F(ConsoleTest, FailedSignInsAllLookTheSame) {
  auto e = add("orga", auth::Role::organiser);
  now_ += 30;
  const auto good = auth::totp_code(e.totp_secret.span(), now_.load());
  std::vector<http::Response> answers;
  answers.push_back(login_raw("orga", "Wrong-Password-123", good));  // wrong password
  now_ += 30;
  answers.push_back(login_raw("orga", kPassword, "000000"));  // wrong code
  answers.push_back(login_raw("nobody", kPassword, auth::totp_code(e.totp_secret.span(), now_.load())));  // unknown
  for (const auto& a : answers) {
    EXPECT_EQ(a.result(), bhttp::status::unauthorized);
    EXPECT_EQ(a.body(), answers[0].body());
    EXPECT_TRUE(a[bhttp::field::set_cookie].empty());
  }
  // A code already used is refused (replay), even with the right password.
  now_ += 30;
  const auto code = auth::totp_code(e.totp_secret.span(), now_.load());
  EXPECT_EQ(login_raw("orga", kPassword, code).result(), bhttp::status::see_other);
  auto replay = login_raw("orga", kPassword, code);
  EXPECT_EQ(replay.result(), bhttp::status::unauthorized);
  EXPECT_EQ(replay.body(), answers[0].body());
}

TEST_F(ConsoleTest, PendingSignInIsSingleUseAndBoundToTheClient) {
  auto e = add("orga", auth::Role::organiser);
  auto first = form("/login", std::string("name=orga&password=") + kPassword);
  const auto pending = pending_of(first);
  ASSERT_FALSE(pending.empty());
  now_ += 30;
  const auto code = auth::totp_code(e.totp_secret.span(), now_.load());
  EXPECT_EQ(form("/login/code", "pending=" + pending + "&code=" + code).result(), bhttp::status::see_other);
  EXPECT_EQ(form("/login/code", "pending=" + pending + "&code=" + code).result(), bhttp::status::bad_request);
  EXPECT_EQ(form("/login/code", "pending=forged&code=" + code).result(), bhttp::status::bad_request);
}

// Nobody can fill the pending sign-ins and lock everyone else out: one
// address keeps at most 16 first steps in flight, its oldest giving way.
// (That other addresses are untouched needs a second source address: the
// console attack stage checks it from 127.0.0.66.)
TEST_F(ConsoleTest, FirstStepsFromOneAddressAreCapped) {
  auto e = add("orga", auth::Role::organiser);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    auto res = form("/login", std::string("name=orga&password=") + kPassword);
    ASSERT_EQ(res.result(), bhttp::status::ok);
    ids.push_back(pending_of(res));
  }
  now_ += 30;
  const auto code = auth::totp_code(e.totp_secret.span(), now_.load());
  // The first ones gave way; the latest still works.
  EXPECT_EQ(form("/login/code", "pending=" + ids.front() + "&code=" + code).result(), bhttp::status::bad_request);
  EXPECT_EQ(form("/login/code", "pending=" + ids.back() + "&code=" + code).result(), bhttp::status::see_other);
}

TEST_F(ConsoleTest, WithoutSessionPagesRedirectAndApiAnswers401) {
  auto page = send(req(verb::get, "/supporters"));
  EXPECT_EQ(page.result(), bhttp::status::see_other);
  EXPECT_EQ(page[bhttp::field::location], "/login");
  EXPECT_EQ(send(req(verb::get, "/api/v1/supporters")).result(), bhttp::status::unauthorized);
  Session forged{"rempart_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""};
  EXPECT_EQ(send(req(verb::get, "/api/v1/supporters", &forged)).result(), bhttp::status::unauthorized);
}

TEST_F(ConsoleTest, RevokedAndExpiredSessionsEnd) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  ASSERT_TRUE(ops_->revoke_sessions("operator:test", "orga"));
  EXPECT_EQ(send(req(verb::get, "/api/v1/supporters", &*s)).result(), bhttp::status::unauthorized);

  auto s2 = login("orga", e);
  ASSERT_TRUE(s2);
  now_ += 16 * 60;  // idle timeout is 15 minutes
  EXPECT_EQ(send(req(verb::get, "/api/v1/supporters", &*s2)).result(), bhttp::status::unauthorized);

  auto s3 = login("orga", e);
  ASSERT_TRUE(s3);
  for (int i = 0; i < 40; ++i) {  // active all along, but past the 8-hour absolute limit
    now_ += 14 * 60;
    if (send(req(verb::get, "/api/v1/me", &*s3)).result() != bhttp::status::ok) break;
  }
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*s3)).result(), bhttp::status::unauthorized);
}

TEST_F(ConsoleTest, SessionsPageListsEveryLiveSessionOfTheAccount) {
  auto e = add("orga", auth::Role::organiser);
  auto s1 = login("orga", e);
  auto s2 = login("orga", e);
  ASSERT_TRUE(s1 && s2);
  auto page = send(req(verb::get, "/sessions", &*s2));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  const std::string body = page.body();
  std::size_t rows = 0;
  for (auto p = body.find("<tr><td>"); p != std::string::npos; p = body.find("<tr><td>", p + 1)) ++rows;
  EXPECT_EQ(rows, 2u);
  EXPECT_NE(body.find("this session"), std::string::npos);
  EXPECT_EQ(body.find(s1->cookie.substr(s1->cookie.find('=') + 1)), std::string::npos);
}

TEST_F(ConsoleTest, LogoutEndsTheSession) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  auto out = form("/logout", "csrf=" + s->csrf, &*s);
  EXPECT_EQ(out.result(), bhttp::status::see_other);
  EXPECT_NE(std::string(out[bhttp::field::set_cookie]).find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*s)).result(), bhttp::status::unauthorized);
}

TEST_F(ConsoleTest, StateChangesNeedTheCsrfToken) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  const auto before = audit_actions().size();
  const auto target = "/supporters/" + ids_[0] + "/tags";
  EXPECT_EQ(form(target, "add=vip", &*s).result(), bhttp::status::forbidden);
  EXPECT_EQ(form(target, "csrf=wrong&add=vip", &*s).result(), bhttp::status::forbidden);
  auto api = req(verb::post, "/api/v1/supporters/" + ids_[0] + "/tags", &*s, R"({"add":["vip"]})", "application/json");
  EXPECT_EQ(send(api).result(), bhttp::status::forbidden);
  EXPECT_EQ(audit_actions().size(), before);  // nothing happened
  EXPECT_EQ(form(target, "csrf=" + s->csrf + "&add=vip", &*s).result(), bhttp::status::see_other);
  api.set("X-CSRF-Token", s->csrf);
  EXPECT_EQ(send(api).result(), bhttp::status::ok);
}

// A tag as people write it, accents and punctuation included, goes in
// through the record page's form, shows escaped, is listed with a link that
// leads back to its supporter, and comes off again whatever its case.
TEST_F(ConsoleTest, TagsAsPeopleWriteThemRoundTripThroughTheForms) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  const std::string target = "/supporters/" + ids_[0] + "/tags";
  const std::string odd = "pêche & <b>\"nature\"</b> #1 + c'est ça";
  // As a browser sends the form: "Comité Paris 2" and the odd tag typed in capitals.
  ASSERT_EQ(post(*s, target, "add=Comit%C3%A9+Paris+2").result(), bhttp::status::see_other);
  ASSERT_EQ(post(*s, target, "add=" + core::form_encode("P\xC3\x8A" "CHE & <b>\"Nature\"</b>  #1 + C'est ça"))
                .result(),
            bhttp::status::see_other);
  EXPECT_EQ(post(*s, target, "add=a%2Cb").result(), bhttp::status::bad_request);  // a CSV separator

  auto rec = send(req(verb::get, "/supporters/" + ids_[0], &*s));
  ASSERT_EQ(rec.result(), bhttp::status::ok);
  const std::string page = rec.body();
  EXPECT_NE(page.find("<li>comité paris 2 "), std::string::npos);
  EXPECT_NE(page.find("name=\"remove\" value=\"comité paris 2\""), std::string::npos);
  const std::string shown = "pêche &amp; &lt;b&gt;&quot;nature&quot;&lt;/b&gt; #1 + c&#39;est ça";
  EXPECT_NE(page.find("<li>" + shown + " "), std::string::npos);
  EXPECT_NE(page.find("name=\"remove\" value=\"" + shown + "\""), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);

  auto api = send(req(verb::get, "/api/v1/supporters/" + ids_[0], &*s));
  ASSERT_EQ(api.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(api.body())["tags"],
            (nlohmann::json{"comité paris 2", odd, "volunteer"}));

  // The tags page links each tag percent-encoded, and the link finds its supporter.
  auto tags = send(req(verb::get, "/tags", &*s));
  ASSERT_EQ(tags.result(), bhttp::status::ok);
  const std::string href = "/supporters?tag=" + core::form_encode(odd);
  EXPECT_NE(tags.body().find("href=\"" + href + "\""), std::string::npos);
  EXPECT_NE(tags.body().find(">" + shown + "</a>"), std::string::npos);
  auto listed = send(req(verb::get, href, &*s));
  ASSERT_EQ(listed.result(), bhttp::status::ok);
  EXPECT_NE(listed.body().find("<p>1 supporter tagged " + shown + "."), std::string::npos);
  auto by_api = send(req(verb::get, "/api/v1/supporters?tag=Comit%C3%89%20PARIS%202", &*s));
  ASSERT_EQ(by_api.result(), bhttp::status::ok);
  const auto found = nlohmann::json::parse(by_api.body());
  EXPECT_EQ(found["total"], 1);
  ASSERT_EQ(found["items"].size(), 1u);
  EXPECT_EQ(found["items"][0]["id"], ids_[0]);

  // Removed through the API, written another way.
  auto rm = req(verb::post, "/api/v1/supporters/" + ids_[0] + "/tags", &*s,
                R"({"remove":["  COMITÉ  Paris 2"]})", "application/json");
  rm.set("X-CSRF-Token", s->csrf);
  EXPECT_EQ(send(rm).result(), bhttp::status::ok);
  api = send(req(verb::get, "/api/v1/supporters/" + ids_[0], &*s));
  EXPECT_EQ(nlohmann::json::parse(api.body())["tags"], (nlohmann::json{odd, "volunteer"}));
}

TEST_F(ConsoleTest, CrossSitePostsAndForeignHostsAreRefused) {
  auto evil = req(verb::post, "/login", nullptr, "name=a&password=b", "application/x-www-form-urlencoded");
  evil.set(bhttp::field::origin, "https://attacker.example");
  EXPECT_EQ(send(evil).result(), bhttp::status::forbidden);
  auto site = req(verb::post, "/login", nullptr, "name=a&password=b", "application/x-www-form-urlencoded");
  site.set("Sec-Fetch-Site", "cross-site");
  EXPECT_EQ(send(site).result(), bhttp::status::forbidden);
  auto rebound = req(verb::get, "/login");
  rebound.set(bhttp::field::host, "attacker.example");
  EXPECT_EQ(send(rebound).result(), bhttp::status::misdirected_request);
}

// Every role against every endpoint: allowed ones never answer 403, the
// others always do, and the table is auth::permits.
TEST_F(ConsoleTest, RoleMatrix) {
  struct Endpoint {
    verb method;
    std::string target;
    std::optional<auth::Action> action;  // nullopt: any signed-in account
    std::string body;                    // form body without csrf, or JSON
    bool api;
    bool step_up = false;  // the form takes a fresh authenticator code
    // The route may refuse on its own rules (no such request): a permitted
    // role gets anything but 403 and 5xx.
    bool may_refuse = false;
  };
  const std::string id = ids_[1];
  // A call list's window as the form sends it: from a minute ago, 1 h long.
  const std::pair<std::string, std::string> window{form_time(now_.load() - 60), form_time(now_.load() + 3600)};
  const std::vector<Endpoint> endpoints = {
      {verb::get, "/supporters", auth::Action::list_masked, "", false},
      {verb::get, "/search", auth::Action::search, "", false},
      {verb::post, "/search", auth::Action::search, "kind=email&q=nobody%40exemple.org", false},
      {verb::get, "/supporters/" + id, auth::Action::list_masked, "", false},
      {verb::post, "/supporters/" + id + "/reveal", auth::Action::reveal, "kind=phone&reason=matrix", false},
      {verb::post, "/supporters/" + id + "/tags", auth::Action::tags, "add=matrix", false},
      {verb::get, "/tags", auth::Action::list_masked, "", false},
      {verb::get, "/accounts", auth::Action::manage_accounts, "", false},
      {verb::post, "/accounts/target/revoke-sessions", auth::Action::manage_accounts, "", false},
      {verb::post, "/accounts", auth::Action::manage_accounts, "name=matrix-new&role=viewer", false, true},
      {verb::post, "/accounts/target/role", auth::Action::manage_accounts, "role=organiser", false, true},
      {verb::post, "/accounts/target/budget", auth::Action::manage_accounts,
       "counted=email&per_hour=30&per_day=60&hours=8", false, true},
      {verb::get, "/requests", auth::Action::manage_accounts, "", false},
      {verb::post, "/requests/999/approve", auth::Action::approve_privilege, "", false, true, true},
      {verb::post, "/requests/999/refuse", auth::Action::manage_accounts, "", false, false, true},
      {verb::get, "/tokens", auth::Action::manage_tokens, "", false},
      {verb::post, "/tokens", auth::Action::manage_tokens, "label=matrix&scope=read-masked&days=1", false, true},
      {verb::get, "/exports", auth::Action::request_export, "", false},
      {verb::post, "/exports", auth::Action::request_export, "tag=volunteer&field=email&reason=matrix", false, true},
      {verb::get, "/audit", auth::Action::read_audit, "", false},
      {verb::post, "/audit/verify", auth::Action::read_audit, "", false},
      {verb::post, "/accounts/target/disable", auth::Action::manage_accounts, "", false},
      {verb::post, "/accounts/target/enable", auth::Action::manage_accounts, "", false, false, true},
      {verb::get, "/sessions", std::nullopt, "", false},
      {verb::get, "/account", std::nullopt, "", false},
      {verb::post, "/account/authenticator", std::nullopt, std::string("current=") + kPassword, false, true},
      {verb::post, "/account/authenticator/confirm", std::nullopt, "pending=AAAA&issued=1&code=123456", false, false,
       true},
      {verb::post, "/account/password", std::nullopt,
       std::string("current=") + kPassword + "&password=Autre-Galet-Seize-43&password2=Autre-Galet-Seize-43", false,
       true},
      {verb::get, "/api/v1/me", std::nullopt, "", true},
      {verb::get, "/api/v1/supporters", auth::Action::list_masked, "", true},
      {verb::post, "/api/v1/supporters/search", auth::Action::search, R"({"kind":"phone","value":"+33199000999"})",
       true},
      {verb::get, "/api/v1/supporters/" + id, auth::Action::list_masked, "", true},
      {verb::post, "/api/v1/supporters/" + id + "/reveal", auth::Action::reveal,
       R"({"fields":["name"],"reason":"matrix"})", true},
      {verb::post, "/api/v1/supporters/" + id + "/tags", auth::Action::tags, R"({"remove":["matrix"]})", true},
      {verb::get, "/api/v1/tags", auth::Action::list_masked, "", true},
      {verb::get, "/api/v1/audit", auth::Action::read_audit, "", true},
      {verb::post, "/api/v1/audit/verify", auth::Action::read_audit, R"({"actor":"","action":""})", true},
      {verb::get, "/api/v1/accounts", auth::Action::manage_accounts, "", true},
      {verb::post, "/api/v1/accounts/target/disable", auth::Action::manage_accounts, "{}", true},
      {verb::post, "/api/v1/accounts/target/enable", auth::Action::manage_accounts, "{}", true},
      {verb::get, "/metrics", auth::Action::read_metrics, "", true},  // a session, even from loopback: no
      {verb::get, "/segments", auth::Action::count_segments, "", false},
      {verb::get, "/segments/new", auth::Action::manage_segments, "", false},
      {verb::post, "/segments", auth::Action::manage_segments, "op=count&tags_all=volunteer", false},
      {verb::get, "/segments/matrix", auth::Action::count_segments, "", false},
      {verb::get, "/segments/matrix/edit", auth::Action::manage_segments, "", false},
      {verb::post, "/segments/matrix/tags", auth::Action::bulk_tags, "tag=matrix&change=add", false},
      {verb::post, "/segments/absent/delete", auth::Action::manage_segments, "", false, false, true},
      {verb::get, "/supporters?segment=matrix", auth::Action::list_masked, "", false},
      {verb::post, "/tags/rename", auth::Action::bulk_tags, "from=volunteer&to=helper&op=rename", false},
      {verb::get, "/api/v1/segments", auth::Action::count_segments, "", true},
      {verb::post, "/api/v1/segments", auth::Action::manage_segments,
       R"({"name":"matrix-api","definition":{"email":"given"}})", true},
      {verb::post, "/api/v1/segments/count", auth::Action::count_segments, R"({"definition":{}})", true},
      {verb::get, "/api/v1/segments/matrix", auth::Action::count_segments, "", true},
      {verb::post, "/api/v1/segments/matrix/tags", auth::Action::bulk_tags, R"({"add":"matrix"})", true},
      {verb::post, "/api/v1/segments/absent/delete", auth::Action::manage_segments, "{}", true, false, true},
      {verb::post, "/api/v1/tags/rename", auth::Action::bulk_tags, R"({"from":"absent","to":"other"})", true, false,
       true},
      {verb::get, "/calls", auth::Action::make_calls, "", false},
      {verb::post, "/calls", auth::Action::manage_call_lists,
       "name=matrix&segment=matrix&caller=target&starts=" + window.first + "&ends=" + window.second, false},
      {verb::get, "/calls/matrix", auth::Action::manage_call_lists, "", false},
      {verb::post, "/calls/matrix/next", auth::Action::make_calls, "", false, false, true},
      {verb::post, "/calls/matrix/outcome", auth::Action::make_calls, "entry=1&outcome=called&op=stop", false, false,
       true},
      {verb::post, "/calls/matrix/close", auth::Action::manage_call_lists, "", false},
      {verb::get, "/api/v1/call-lists", auth::Action::make_calls, "", true},
      {verb::post, "/api/v1/call-lists", auth::Action::manage_call_lists,
       R"({"name":"matrix-api","segment":"matrix","callers":["target"],"starts_at":)" +
           std::to_string(now_.load() - 60) + R"(,"ends_at":)" + std::to_string(now_.load() + 3600) + "}",
       true},
      {verb::get, "/api/v1/call-lists/matrix-api", auth::Action::manage_call_lists, "", true},
      {verb::post, "/api/v1/call-lists/matrix-api/next", auth::Action::make_calls, "{}", true, false, true},
      {verb::post, "/api/v1/call-lists/matrix-api/outcome", auth::Action::make_calls,
       R"({"entry":1,"outcome":"called"})", true, false, true},
      {verb::post, "/api/v1/call-lists/matrix-api/close", auth::Action::manage_call_lists, "{}", true},
      {verb::get, "/mailings", auth::Action::approve_mailings, "", false},
      {verb::get, "/mailings/new", auth::Action::write_mailings, "", false},
      {verb::post, "/mailings", auth::Action::write_mailings,
       "op=preview&name=matrix&subject=Hello&body=Bonjour+%7B%7Bgiven_name%7D%7D&segment=matrix", false},
      {verb::post, "/mailings", auth::Action::write_mailings,
       "op=save&name=matrix&subject=Hello&body=Bonjour+%7B%7Bgiven_name%7D%7D&segment=matrix", false},
      {verb::get, "/mailings/1", auth::Action::approve_mailings, "", false, false, true},
      {verb::get, "/mailings/1/edit", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/mailings/1/draw", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/mailings/1/approve", auth::Action::approve_mailings, "", false, true, true},
      {verb::post, "/mailings/1/start", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/mailings/1/pause", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/mailings/1/resume", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/mailings/1/cancel", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/mailings/1/test", auth::Action::write_mailings, "", false, false, true},
      {verb::post, "/account/test-address", auth::Action::write_mailings, "test_address=matrix%40exemple.org", false},
      {verb::get, "/api/v1/mailings", auth::Action::approve_mailings, "", true},
      {verb::get, "/api/v1/mailings/1", auth::Action::approve_mailings, "", true, false, true},
      {verb::post, "/supporters/" + id + "/edit", auth::Action::edit_record,
       "field=locality&value=Lille&reason=matrix", false},
      {verb::post, "/api/v1/supporters/" + id + "/edit", auth::Action::edit_record,
       R"({"fields":{"locality":"Roubaix"},"reason":"matrix"})", true},
      {verb::post, "/supporters/" + id + "/consent/withdraw", auth::Action::withdraw_consent,
       "channel=sms&source=letter", false},
      {verb::post, "/api/v1/supporters/" + id + "/consent/withdraw", auth::Action::withdraw_consent,
       R"({"channel":"email","source":"phone_call"})", true},
      {verb::post, "/supporters/" + id + "/notes", auth::Action::write_note, "kind=called&text=matrix", false},
      {verb::post, "/api/v1/supporters/" + id + "/notes", auth::Action::write_note,
       R"({"kind":"note","text":"matrix"})", true},
      {verb::get, "/api/v1/supporters/" + id + "/notes", auth::Action::read_notes, "", true},
      // Last: the admin's erasure takes the record away (a second one is 404).
      {verb::get, "/erase", auth::Action::erase_record, "", false},
      {verb::get, "/supporters/" + ids_[2] + "/erase", auth::Action::erase_record, "", false},
      {verb::post, "/supporters/" + ids_[2] + "/erase", auth::Action::erase_record, "reason=letter&confirm=erase",
       false, false, true},
      {verb::post, "/api/v1/supporters/" + ids_[2] + "/erase", auth::Action::erase_record,
       R"({"reason":"email","confirm":"erase"})", true, false, true},
  };
  add("target", auth::Role::viewer);
  ASSERT_TRUE(services::Segments(*store_, *keys_)
                  .save(services::Asker{"operator:test", ""}, "matrix",
                        services::parse_segment_definition(nlohmann::json{{"tags_any", {"volunteer"}}}).value(),
                        false));
  for (const auto role : auth::kAllRoles) {
    const std::string name = "m-" + std::string(auth::role_name(role));
    auto e = add(name, role);
    auto s = login(name, e);
    ASSERT_TRUE(s);
    for (const auto& ep : endpoints) {
      http::Request r;
      if (ep.method == verb::get) {
        r = req(verb::get, ep.target, &*s);
      } else if (ep.api) {
        r = req(verb::post, ep.target, &*s, ep.body, "application/json");
        r.set("X-CSRF-Token", s->csrf);
      } else {
        std::string body = "csrf=" + s->csrf + (ep.body.empty() ? "" : "&" + ep.body);
        if (ep.step_up) body += "&code=" + fresh_code(e);
        r = req(verb::post, ep.target, &*s, body, "application/x-www-form-urlencoded");
      }
      const auto res = send(r);
      const bool may = !ep.action || auth::permits(role, *ep.action);
      if (may && ep.may_refuse) {
        EXPECT_NE(res.result(), bhttp::status::forbidden) << auth::role_name(role) << " " << ep.target;
        EXPECT_LT(res.result_int(), 500u) << auth::role_name(role) << " " << ep.target;
      } else if (may) {
        EXPECT_LT(res.result_int(), 400u) << auth::role_name(role) << " " << ep.target;
      } else {
        EXPECT_EQ(res.result(), bhttp::status::forbidden) << auth::role_name(role) << " " << ep.target;
      }
      SCOPED_TRACE(std::string(auth::role_name(role)) + " " + ep.target);
      if (ep.target.find("/reveal") == std::string::npos) expect_no_pii(res.body());
    }
  }
}

TEST_F(ConsoleTest, ApiTokenScopes) {
  std::map<auth::Scope, std::string> tokens;
  for (const auto scope : auth::kAllScopes) {
    auto t = ops_->create_api_token("operator:test", "t", scope, 30);
    ASSERT_TRUE(t);
    tokens[scope] = std::string(t->token.text());
  }
  const auto call = [&](auth::Scope scope, verb v, const std::string& target, std::string body = {}) {
    auto r = make_request(v, target, std::move(body), v == verb::post ? "application/json" : "");
    r.set(bhttp::field::authorization, "Bearer " + tokens[scope]);
    return send(r);
  };
  const std::string id = ids_[2];
  // An intake token reads nothing at all.
  for (const auto& target : {"/api/v1/supporters", "/api/v1/tags", "/api/v1/supporters/"}) {
    const std::string t = std::string(target) == "/api/v1/supporters/" ? "/api/v1/supporters/" + id : target;
    EXPECT_EQ(call(auth::Scope::intake, verb::get, t).result(), bhttp::status::forbidden) << t;
  }
  EXPECT_EQ(call(auth::Scope::intake, verb::post, "/api/v1/supporters/search",
                 R"({"kind":"email","value":"ondine.marchetti@exemple.fr"})")
                .result(),
            bhttp::status::forbidden);
  const std::string reveal = R"({"fields":["email"],"reason":"api test"})";
  EXPECT_EQ(call(auth::Scope::intake, verb::post, "/api/v1/supporters/" + id + "/reveal", reveal).result(),
            bhttp::status::forbidden);
  // read-masked lists and searches, masked; it cannot reveal.
  auto list = call(auth::Scope::read_masked, verb::get, "/api/v1/supporters");
  EXPECT_EQ(list.result(), bhttp::status::ok);
  expect_no_pii(list.body());
  EXPECT_EQ(nlohmann::json::parse(list.body())["total"], 3);
  auto found = call(auth::Scope::read_masked, verb::post, "/api/v1/supporters/search",
                    R"({"kind":"email","value":"Ondine.Marchetti@exemple.fr"})");
  EXPECT_EQ(found.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(found.body())["items"].size(), 1u);
  expect_no_pii(found.body());
  EXPECT_EQ(call(auth::Scope::read_masked, verb::post, "/api/v1/supporters/" + id + "/reveal", reveal).result(),
            bhttp::status::forbidden);
  // reveal reveals, and is recorded under the token's actor.
  auto shown = call(auth::Scope::reveal, verb::post, "/api/v1/supporters/" + id + "/reveal", reveal);
  ASSERT_EQ(shown.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(shown.body())["fields"]["email"], kPeople[2].email);
  // No token reads the audit log.
  for (const auto scope : auth::kAllScopes) {
    EXPECT_EQ(call(scope, verb::get, "/api/v1/audit").result(), bhttp::status::forbidden);
  }
  // No token manages anything, and pages do not take tokens.
  auto pages = make_request(verb::get, "/accounts");
  pages.set(bhttp::field::authorization, "Bearer " + tokens[auth::Scope::reveal]);
  EXPECT_EQ(send(pages).result(), bhttp::status::see_other);
  auto bad = make_request(verb::get, "/api/v1/supporters");
  bad.set(bhttp::field::authorization, "Bearer rmp_nothing_here");
  EXPECT_EQ(send(bad).result(), bhttp::status::unauthorized);
}

// The way an account comes to be: one admin asks, an independent admin of
// long standing approves with a fresh code, and the new account's owner
// sets their own password and authenticator with a single-use link. The
// requester never sees the owner's TOTP secret, recovery codes or export key.
TEST_F(ConsoleTest, AccountsComeFromTwoAdminsAndTheirOwnersEnrolThemselves) {
  auto boss = add("boss", auth::Role::admin);
  auto peer = add("peer", auth::Role::admin);
  let_a_day_pass();
  auto sb = login("boss", boss);
  ASSERT_TRUE(sb);
  auto asked = post(*sb, "/accounts", "name=newbie&role=viewer&code=" + fresh_code(boss));
  ASSERT_EQ(asked.result(), bhttp::status::ok) << asked.body();
  std::smatch m;
  const std::string page = asked.body();
  ASSERT_TRUE(std::regex_search(page, m, std::regex("/enrol\\?code=(rmpe_[A-Za-z0-9_-]+)")));
  const std::string link_code = m[1].str();
  EXPECT_EQ(page.find("otpauth"), std::string::npos) << "nobody but the owner sees the TOTP set-up";
  EXPECT_EQ(page.find("rmpx1_"), std::string::npos);
  EXPECT_TRUE(alerted("privilege_request"));
  // Not before approval; never by the requester.
  EXPECT_EQ(send(req(verb::get, "/enrol?code=" + link_code)).result(), bhttp::status::not_found);
  auto self = post(*sb, "/requests/1/approve", "code=" + fresh_code(boss));
  EXPECT_EQ(self.result(), bhttp::status::forbidden);
  EXPECT_NE(self.body().find("another admin must approve"), std::string::npos);
  // An admin may not change their own account from the console.
  EXPECT_EQ(post(*sb, "/accounts/boss/disable").result(), bhttp::status::forbidden);

  auto sp = login("peer", peer);
  ASSERT_TRUE(sp);
  auto list = send(req(verb::get, "/requests", &*sp));
  ASSERT_EQ(list.result(), bhttp::status::ok);
  EXPECT_NE(list.body().find("newbie"), std::string::npos);
  // The code peer just signed in with is spent: a clear wait, not a failure.
  const auto reused = auth::totp_code(peer.totp_secret.span(), now_.load());
  auto early = post(*sp, "/requests/1/approve", "code=" + reused);
  EXPECT_EQ(early.result(), bhttp::status::conflict);
  EXPECT_NE(early.body().find("Wait for"), std::string::npos);
  EXPECT_EQ(ops_->account("peer")->failures, 0);
  ASSERT_EQ(post(*sp, "/requests/1/approve", "code=" + fresh_code(peer)).result(), bhttp::status::see_other);
  EXPECT_TRUE(alerted("privilege_approved"));
  auto info = ops_->account("newbie");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->enrolling);

  // The owner enrols: password twice, then the authenticator and a first code.
  auto open = send(req(verb::get, "/enrol?code=" + link_code));
  ASSERT_EQ(open.result(), bhttp::status::ok);
  EXPECT_NE(open.body().find("newbie"), std::string::npos);
  EXPECT_EQ(form("/enrol", "code=" + link_code + "&password=Autre-Galet-Seize-43&password2=Autre-Galet-Seize-44").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(form("/enrol", "code=" + link_code + "&password=newbie-newbie-newbie&password2=newbie-newbie-newbie").result(),
            bhttp::status::bad_request);
  auto setup = form("/enrol", "code=" + link_code + "&password=Autre-Galet-Seize-43&password2=Autre-Galet-Seize-43");
  ASSERT_EQ(setup.result(), bhttp::status::ok);
  const std::string sbody = setup.body();
  ASSERT_TRUE(std::regex_search(sbody, m, std::regex("secret=([A-Z2-7]+)")));
  EXPECT_NE(sbody.find("<svg"), std::string::npos);
  EXPECT_NE(sbody.find("rmpx1_"), std::string::npos) << "the owner receives their own export key";
  const std::string b32 = m[1].str();
  // base32 -> bytes, to compute codes as the owner's app would.
  const std::vector<std::uint8_t> secret = auth::test_support::from_base32(b32);
  auto owner = crypto::SecretBytes::copy_of(secret);
  ASSERT_TRUE(owner);
  // Not usable before the first code confirms the set-up.
  now_ += 30;
  EXPECT_EQ(login_raw("newbie", "Autre-Galet-Seize-43", auth::totp_code(owner->span(), now_.load())).result(),
            bhttp::status::unauthorized);
  EXPECT_EQ(form("/enrol/confirm", "code=" + link_code + "&totp=000000").result(), bhttp::status::bad_request);
  auto done = form("/enrol/confirm", "code=" + link_code + "&totp=" + fresh_code(*owner));
  ASSERT_EQ(done.result(), bhttp::status::see_other);
  EXPECT_EQ(std::string(done[bhttp::field::location]), "/login?enrolled=1");
  now_ += 30;
  EXPECT_EQ(login_raw("newbie", "Autre-Galet-Seize-43", auth::totp_code(owner->span(), now_.load())).result(),
            bhttp::status::see_other);
  // The link is spent.
  EXPECT_EQ(send(req(verb::get, "/enrol?code=" + link_code)).result(), bhttp::status::not_found);
  EXPECT_EQ(post(*sp, "/accounts/newbie/disable").result(), bhttp::status::see_other);
}

// Finding 1 as the attacker's script ran it: one admin session, alone,
// tries to make the accounts that would approve its own export. Every step
// ends in a refusal, and every request raises an alert.
TEST_F(ConsoleTest, OneAdminAloneCannotMakeTheSecondPerson) {
  auto mallory = add("mallory", auth::Role::admin);
  auto honest = add("honest", auth::Role::admin);
  let_a_day_pass();
  auto sm = login("mallory", mallory);
  ASSERT_TRUE(sm);
  // A second admin, and an organiser to export with: requests only.
  ASSERT_EQ(post(*sm, "/accounts", "name=puppet&role=admin&code=" + fresh_code(mallory)).result(), bhttp::status::ok);
  ASSERT_EQ(post(*sm, "/accounts", "name=puppet2&role=organiser&code=" + fresh_code(mallory)).result(),
            bhttp::status::ok);
  EXPECT_FALSE(ops_->account("puppet")) << "no account exists before a second admin approves";
  for (const char* id : {"1", "2"}) {
    EXPECT_EQ(post(*sm, std::string("/requests/") + id + "/approve", "code=" + fresh_code(mallory)).result(),
              bhttp::status::forbidden);
  }
  // Without a code, or with a wrong one, nothing is filed either.
  EXPECT_EQ(post(*sm, "/accounts", "name=puppet3&role=admin").result(), bhttp::status::forbidden);
  EXPECT_EQ(post(*sm, "/accounts/honest/role", "role=viewer&code=000000").result(), bhttp::status::forbidden);
  // Even if an honest admin lets the puppet in, the puppet is no second
  // person for mallory: not on the day it is made, not ever.
  auto sh = login("honest", honest);
  ASSERT_TRUE(sh);
  ASSERT_EQ(post(*sh, "/requests/1/approve", "code=" + fresh_code(honest)).result(), bhttp::status::see_other);
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto a = tx.find_account_by_name("puppet");
    if (!a || !*a) return fail(Errc::internal, "puppet");
    store::AccountRow row = **a;
    row.state = "active";  // as if enrolled
    row.password_hash = *auth::hash_password(kPassword, auth::PwhashLimits::for_tests());
    return tx.update_account(row);
  }));
  auto reset = ops_->reset_mfa("operator:test", "puppet");  // gives the test the puppet's TOTP
  ASSERT_TRUE(reset);
  now_ += 3 * 86400;
  sm = login("mallory", mallory);
  ASSERT_TRUE(sm);
  ASSERT_EQ(post(*sm, "/accounts/honest/role", "role=viewer&code=" + fresh_code(mallory)).result(),
            bhttp::status::ok);
  auto sp = login("puppet", *reset);
  ASSERT_TRUE(sp);
  auto refused = post(*sp, "/requests/3/approve", "code=" + fresh_code(*reset));
  EXPECT_EQ(refused.result(), bhttp::status::forbidden);
  EXPECT_NE(refused.body().find("independent"), std::string::npos);
  EXPECT_EQ(ops_->account("honest")->role, auth::Role::admin);
  EXPECT_TRUE(alerted("privilege_request"));
  EXPECT_TRUE(alerted("privilege_approved"));
  for (const auto& a : alerts()) expect_no_pii(a.dump());
}

// Finding 2: reveal tokens no longer multiply the budget. A token that
// reveals needs a second admin, works for its creator's account and spends
// that account's budget: three tokens together get one budget, then the
// account is locked, every token of it stops and an alert goes out.
TEST_F(ConsoleTest, TokensShareTheirCreatorsBudget) {
  budgets_.of(guard::Counted::email).per_hour = 4;
  auto mallory = add("mallory", auth::Role::admin);
  auto honest = add("honest", auth::Role::admin);
  let_a_day_pass();
  auto sm = login("mallory", mallory);
  ASSERT_TRUE(sm);
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i) {
    auto r = post(*sm, "/tokens",
                  "label=bulk" + std::to_string(i) + "&scope=reveal&days=1&code=" + fresh_code(mallory));
    ASSERT_EQ(r.result(), bhttp::status::ok);
    std::smatch m;
    const std::string body = r.body();
    ASSERT_TRUE(std::regex_search(body, m, std::regex("(rmp_[a-z2-7]+_[A-Za-z0-9_-]+)")));
    tokens.push_back(m[1].str());
  }
  const auto call = [&](const std::string& token, const std::string& id) {
    auto r = make_request(verb::post, "/api/v1/supporters/" + id + "/reveal", R"({"fields":["email"],"reason":"x"})",
                          "application/json");
    r.set(bhttp::field::authorization, "Bearer " + token);
    return send(r);
  };
  // Pending: the tokens open nothing.
  EXPECT_EQ(call(tokens[0], ids_[0]).result(), bhttp::status::unauthorized);
  auto sh = login("honest", honest);
  ASSERT_TRUE(sh);
  for (const char* id : {"1", "2", "3"}) {
    ASSERT_EQ(post(*sh, std::string("/requests/") + id + "/approve", "code=" + fresh_code(honest)).result(),
              bhttp::status::see_other);
  }
  int served = 0;
  for (int i = 0; i < 12; ++i) {
    const auto res = call(tokens[static_cast<std::size_t>(i) % 3], ids_[static_cast<std::size_t>(i) % 3]);
    if (res.result() != bhttp::status::ok) {
      EXPECT_EQ(res.result(), bhttp::status::forbidden);
      break;
    }
    ++served;
  }
  EXPECT_EQ(served, 4) << "one budget for the account, whatever the number of tokens";
  EXPECT_TRUE(ops_->account("mallory")->locked);
  for (const auto& t : tokens) EXPECT_EQ(call(t, ids_[0]).result(), bhttp::status::unauthorized);
  ASSERT_TRUE(alerted("reveal_budget"));
  // Unlocking brings back the person, not the tokens: they were revoked.
  ASSERT_TRUE(ops_->unlock("operator:test", "mallory", "spoke with her"));
  for (const auto& t : tokens) EXPECT_EQ(call(t, ids_[0]).result(), bhttp::status::unauthorized);
  for (const auto& a : alerts()) {
    if (a["kind"] == "reveal_budget") {
      EXPECT_EQ(a["details"]["account"], auth::account_actor(mallory.account_id));
    }
  }
}

// Guessing step-up codes ends like guessing sign-in codes: the tenth wrong
// one locks the account, ends the session and raises an alert.
TEST_F(ConsoleTest, GuessingStepUpCodesLocksAndAlerts) {
  auto boss = add("boss", auth::Role::admin);
  auto s = login("boss", boss);
  ASSERT_TRUE(s);
  const std::string wrong = fresh_code(boss) == "000000" ? "111111" : "000000";
  http::Response last;
  for (int i = 0; i < 10; ++i) {
    last = post(*s, "/tokens", "label=guess&scope=intake&days=1&code=" + wrong);
    if (last.result() != bhttp::status::forbidden || last.body().find("locked") != std::string::npos) break;
  }
  EXPECT_EQ(last.result(), bhttp::status::forbidden);
  EXPECT_NE(last.body().find("Account locked"), std::string::npos);
  EXPECT_TRUE(ops_->account("boss")->locked);
  EXPECT_TRUE(alerted("mfa_failures"));
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*s)).result(), bhttp::status::unauthorized);
}

// Finding 3: searches that find nobody are charged, and a burst of them
// (someone checking a leaked list against ours) locks at once.
TEST_F(ConsoleTest, ABurstOfFailedSearchesLocksAndAlerts) {
  auto e = add("view", auth::Role::viewer);
  auto s = login("view", e);
  ASSERT_TRUE(s);
  int answered = 0;
  bhttp::status last = bhttp::status::ok;
  for (int i = 0; i < 100; ++i) {
    auto r = req(verb::post, "/api/v1/supporters/search", &*s,
                 R"({"kind":"email","value":"nobody)" + std::to_string(i) + R"(@leak.example"})", "application/json");
    r.set("X-CSRF-Token", s->csrf);
    const auto res = send(r);
    last = res.result();
    if (last != bhttp::status::ok) break;
    ++answered;
  }
  EXPECT_EQ(last, bhttp::status::forbidden);
  EXPECT_EQ(answered, static_cast<int>(budgets_.of(guard::Counted::miss).per_minute));
  EXPECT_TRUE(ops_->account("view")->locked);
  EXPECT_TRUE(alerted("search_misses"));
  // Each miss was charged as a masked row too.
  std::int64_t rows = 0;
  ASSERT_TRUE(store_->snapshot([&]() -> Result<void> {
    const auto today = services::unix_now() - services::unix_now() % 86400;  // the guard counts on the real clock
    auto n = store_->counter(auth::account_actor(e.account_id), "masked/d", today);
    if (!n) return std::unexpected(n.error());
    rows = *n;
    return {};
  }));
  EXPECT_GE(rows, answered);
}

// Name and place search, as a page and through the API: whole words folded
// for case and accents, combined, answered masked; what was typed is in the
// form again and nowhere else.
TEST_F(ConsoleTest, FindsPeopleByNameAndPlace) {
  auto e = add("view", auth::Role::viewer);
  auto s = login("view", e);
  ASSERT_TRUE(s);
  // "Gwenaëlle Kerhervé", 29200 (Finistère, Bretagne).
  auto page = form("/search", "csrf=" + s->csrf + "&kind=find&name=KERHERVE&place=Bretagne", &*s);
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("1 supporter matches."), std::string::npos);
  EXPECT_NE(page.body().find("/supporters/" + ids_[0]), std::string::npos);
  EXPECT_NE(page.body().find("value=\"KERHERVE\""), std::string::npos);  // the form, filled in again
  expect_no_pii(page.body());

  auto none = form("/search", "csrf=" + s->csrf + "&kind=find&name=kerherve&place=59", &*s);
  ASSERT_EQ(none.result(), bhttp::status::ok);
  EXPECT_NE(none.body().find("Nobody matches"), std::string::npos);

  auto empty = form("/search", "csrf=" + s->csrf + "&kind=find&name=&place=", &*s);
  EXPECT_EQ(empty.result(), bhttp::status::bad_request);
  EXPECT_NE(empty.body().find("Type a name, a place or both"), std::string::npos);

  auto api = [&](const std::string& body) {
    auto r = req(verb::post, "/api/v1/supporters/search", &*s, body, "application/json");
    r.set("X-CSRF-Token", s->csrf);
    return send(r);
  };
  auto found = api(R"({"kind":"name","value":"Gwenaëlle"})");
  ASSERT_EQ(found.result(), bhttp::status::ok) << found.body();
  auto j = nlohmann::json::parse(found.body());
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["id"], ids_[0]);
  EXPECT_EQ(j["total"], 1);
  expect_no_pii(found.body());
  auto by_place = api(R"({"kind":"place","value":"13001","name":"marchetti"})");
  ASSERT_EQ(by_place.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(by_place.body())["items"][0]["id"], ids_[2]);
  for (const char* bad : {R"({"kind":"name","value":""})", R"({"kind":"name","value":"x","place":7})",
                          R"({"kind":"place","value":"x","limit":-1})", R"({"kind":"name","value":"x","cursor":"v1"})"}) {
    EXPECT_EQ(api(bad).result(), bhttp::status::bad_request) << bad;
  }
}

// The dashboard: a chart drawn as SVG, the tags of the people added and
// where they came from, the same numbers through the API, nobody's data.
TEST_F(ConsoleTest, TheDashboardDrawsTheMonthWithoutAScriptOrAPerson) {
  services::RecordWriter writer(*keys_);
  core::Person imported;
  imported.email = "imported@exemple.org";
  services::Provenance from;
  from.origin = "import:action-network";
  from.from_the_person = false;
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto u = writer.upsert(tx, imported, writer.prepare(imported), now_.load(), nullptr, nullptr, from);
    if (!u) return std::unexpected(u.error());
    return {};
  }));
  auto e = add("view", auth::Role::viewer);
  auto s = login("view", e);
  ASSERT_TRUE(s);
  auto page = send(req(verb::get, "/dashboard", &*s));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  const std::string body = page.body();
  EXPECT_NE(body.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_NE(body.find("4 supporters added in the last 30 days"), std::string::npos);
  EXPECT_NE(body.find("/supporters?tag=volunteer"), std::string::npos);
  EXPECT_NE(body.find("<td>Sign-up form or OSDI API</td><td>3</td>"), std::string::npos);
  EXPECT_NE(body.find("<td>Import (action-network)</td><td>1</td>"), std::string::npos);
  EXPECT_EQ(body.find("<script"), std::string::npos);
  expect_no_pii(body);
  EXPECT_EQ(body.find(imported.email), std::string::npos);
  auto api = send(req(verb::get, "/api/v1/dashboard", &*s));
  ASSERT_EQ(api.result(), bhttp::status::ok);
  auto j = nlohmann::json::parse(api.body());
  EXPECT_EQ(j["added"], 4);
  EXPECT_EQ(j["days"].size(), 30u);
  EXPECT_EQ(j["days"].back()["added"], 4);
  EXPECT_EQ(j["tags"][0]["tag"], "volunteer");
  EXPECT_EQ(j["sources"], nlohmann::json::parse(R"([{"origin":"intake","supporters":3},)"
                                                 R"({"origin":"import:action-network","supporters":1}])"));
  EXPECT_TRUE(j["inbox_backlog"].is_null());  // no fold loop in this process
  // The viewer's own budgets: the list of four rows shows as used.
  ASSERT_EQ(send(req(verb::get, "/supporters", &*s)).result(), bhttp::status::ok);
  j = nlohmann::json::parse(send(req(verb::get, "/api/v1/dashboard", &*s)).body());
  bool seen = false;
  for (const auto& b : j["budgets"]) {
    if (b["counted"] == "masked" && b["window"] == "minute") {
      seen = true;
      EXPECT_EQ(b["used"], 4);
      EXPECT_EQ(b["limit"], budgets_.of(guard::Counted::masked, "viewer").per_minute);
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_NE(send(req(verb::get, "/dashboard", &*s)).body().find("Rows shown masked</th><td>4 of "), std::string::npos);
}

// Finding 4: masked listing is budgeted in rows: a viewer paging through
// the directory is stopped after its rows, not its pages.
TEST_F(ConsoleTest, MaskedListingIsBudgetedInRows) {
  budgets_.masked_by_role[0] = guard::Limit{0, 10, 0};  // viewers: 10 rows an hour
  auto e = add("view", auth::Role::viewer);
  auto s = login("view", e);
  ASSERT_TRUE(s);
  std::size_t rows = 0;
  bhttp::status last = bhttp::status::ok;
  for (int i = 0; i < 20; ++i) {
    const auto res = send(req(verb::get, "/api/v1/supporters?limit=200", &*s));
    last = res.result();
    if (last != bhttp::status::ok) break;
    rows += nlohmann::json::parse(res.body())["items"].size();
  }
  EXPECT_EQ(last, bhttp::status::forbidden);
  EXPECT_EQ(rows, 9u) << "three pages of three rows; the fourth would make 12";
  EXPECT_TRUE(alerted("list_budget"));
}

TEST_F(ConsoleTest, AuditorSeesTheLogAndNoPersonalData) {
  auto e = add("aud", auth::Role::auditor);
  auto s = login("aud", e);
  ASSERT_TRUE(s);
  auto page = send(req(verb::get, "/audit", &*s));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("Chain verified"), std::string::npos);
  EXPECT_NE(page.body().find("login.success"), std::string::npos);
  expect_no_pii(page.body());
  EXPECT_EQ(send(req(verb::get, "/supporters", &*s)).result(), bhttp::status::forbidden);

  // The next view reads only what was appended since; asked, the whole chain.
  auto again = send(req(verb::get, "/audit", &*s));
  ASSERT_EQ(again.result(), bhttp::status::ok);
  EXPECT_NE(again.body().find("were read for this view; the ones before were read in full"), std::string::npos);
  auto whole = form("/audit/verify", "csrf=" + s->csrf + "&actor=&action=", &*s);
  ASSERT_EQ(whole.result(), bhttp::status::ok);
  EXPECT_NE(whole.body().find("entries were read for this view."), std::string::npos);

  // An entry edited in place, below what the page already verified: the
  // resumed view cannot see it; the whole verification does, and says so.
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(fx_.db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "UPDATE audit_entries SET client = 'ip:198.51.100.1' WHERE seq = 2", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(h);
  }
  EXPECT_NE(send(req(verb::get, "/audit", &*s)).body().find("Chain verified"), std::string::npos);
  auto found = form("/audit/verify", "csrf=" + s->csrf, &*s);
  ASSERT_EQ(found.result(), bhttp::status::ok);
  EXPECT_NE(found.body().find("The audit log does not verify:</strong> 1 fault, the first at entry 2."),
            std::string::npos);
  EXPECT_NE(found.body().find("entry 2: content does not match its hash (edited)"), std::string::npos);
  // From then on every view reads the whole chain, so the fault stays in sight.
  EXPECT_NE(send(req(verb::get, "/audit", &*s)).body().find("does not verify"), std::string::npos);
}

// The log read by people: actors by account name, details as labelled
// values, a filter by name (page and API), and a name nobody has refused
// without reading or recording anything.
TEST_F(ConsoleTest, AuditorReadsActorsByNameAndFiltersByAccountName) {
  auto ce = add("camille", auth::Role::organiser);
  const std::string camille = "account:" + ce.account_id;
  auto cs = login("camille", ce);
  ASSERT_TRUE(cs);
  auto shown = req(verb::post, "/api/v1/supporters/" + ids_[0] + "/reveal", &*cs,
                   R"({"fields":["email"],"reason":"checking a bounce"})", "application/json");
  shown.set("X-CSRF-Token", cs->csrf);
  ASSERT_EQ(send(shown).result(), bhttp::status::ok);
  auto ae = add("aud", auth::Role::auditor);
  auto s = login("aud", ae);
  ASSERT_TRUE(s);
  const auto entry_count = [&] {
    std::size_t n = 0;
    EXPECT_TRUE(store_->scan_audit(1, [&](const store::AuditEntryRow&) {
      ++n;
      return true;
    }));
    return n;
  };
  const auto actors_shown = [](const std::string& body) {
    std::vector<std::string> out;
    static const std::regex re("<td data-label=\"Actor\">(.*?)</td>");
    for (std::sregex_iterator it(body.begin(), body.end(), re), end; it != end; ++it) out.push_back((*it)[1].str());
    return out;
  };
  const std::string camille_link = "<a href=\"/audit?actor=camille\" title=\"" + camille + "\">camille</a>";

  // Unfiltered: actors by name, details as labelled values, no raw JSON.
  auto page = send(req(verb::get, "/audit", &*s));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  const std::string body = page.body();
  EXPECT_NE(body.find(camille_link), std::string::npos);
  EXPECT_NE(body.find("<dt>reason:</dt> <dd>checking a bounce</dd>"), std::string::npos);
  EXPECT_NE(body.find("<dt>fields:</dt> <dd>email</dd>"), std::string::npos);
  EXPECT_EQ(body.find("{&quot;"), std::string::npos) << "details are not shown as JSON text";
  EXPECT_NE(body.find("<datalist id=\"account-names\">"), std::string::npos);
  EXPECT_NE(body.find("<option value=\"camille\">"), std::string::npos);
  EXPECT_EQ(body.find("<script"), std::string::npos);
  expect_no_pii(body);

  // By name and by id: camille's entries only, the same ones.
  const std::size_t before = entry_count();
  auto by_name = send(req(verb::get, "/audit?actor=camille&action=", &*s));
  ASSERT_EQ(by_name.result(), bhttp::status::ok);
  const auto named = actors_shown(by_name.body());
  ASSERT_GE(named.size(), 2u);  // the sign-in and the reveal, at least
  for (const auto& a : named) EXPECT_EQ(a, camille_link);
  EXPECT_NE(by_name.body().find("<h2>Blast radius of camille</h2>"), std::string::npos);
  EXPECT_NE(by_name.body().find("value=\"camille\""), std::string::npos);
  auto by_id = send(req(verb::get, "/audit?actor=" + core::form_encode(camille), &*s));
  ASSERT_EQ(by_id.result(), bhttp::status::ok);
  EXPECT_EQ(actors_shown(by_id.body()), named);
  auto with_action = send(req(verb::get, "/audit?actor=camille&action=supporter.reveal", &*s));
  ASSERT_EQ(with_action.result(), bhttp::status::ok);
  EXPECT_EQ(actors_shown(with_action.body()).size(), 1u);
  EXPECT_EQ(entry_count(), before + 3);  // each reading recorded
  {
    std::string last;
    ASSERT_TRUE(store_->scan_audit_newest({}, 1, [&](const store::AuditEntryRow& r) {
      last = r.details;
      return true;
    }));
    EXPECT_EQ(nlohmann::json::parse(last), (nlohmann::json{{"filter_actor", camille},
                                                           {"filter_account", "camille"},
                                                           {"filter_action", "supporter.reveal"},
                                                           {"shown", 1}}));
  }

  // A name nobody has, and text that is no name: a clear refusal, the filter
  // kept in the form (escaped), nothing read or recorded.
  const std::size_t refused_from = entry_count();
  auto unknown = send(req(verb::get, "/audit?actor=nobody", &*s));
  EXPECT_EQ(unknown.result(), bhttp::status::bad_request);
  EXPECT_NE(unknown.body().find("No account has that name."), std::string::npos);
  EXPECT_NE(unknown.body().find("value=\"nobody\""), std::string::npos);
  EXPECT_EQ(unknown.body().find("Chain verified"), std::string::npos);
  auto hostile = send(req(verb::get, "/audit?actor=%3Cscript%3Ealert(1)%3C%2Fscript%3E", &*s));
  EXPECT_EQ(hostile.result(), bhttp::status::bad_request);
  EXPECT_NE(hostile.body().find("neither an account name"), std::string::npos);
  EXPECT_EQ(hostile.body().find("<script>"), std::string::npos);
  auto unknown_post = form("/audit/verify", "csrf=" + s->csrf + "&actor=nobody", &*s);
  EXPECT_EQ(unknown_post.result(), bhttp::status::bad_request);
  EXPECT_EQ(entry_count(), refused_from);

  // The JSON API: the same filter, entries carrying the actor's name.
  const auto api_pii_free = [&](const nlohmann::json& j) {
    nlohmann::json copy = j;
    for (auto& e : copy["entries"]) e.erase("at_us");  // microseconds may hold a postcode's digits
    expect_no_pii(copy.dump());
  };
  auto api = send(req(verb::get, "/api/v1/audit?actor=camille", &*s));
  ASSERT_EQ(api.result(), bhttp::status::ok) << api.body();
  const auto j = nlohmann::json::parse(api.body());
  EXPECT_EQ(j["filter"]["actor"], camille);
  EXPECT_EQ(j["filter"]["actor_name"], "camille");
  EXPECT_TRUE(j["chain"]["ok"].get<bool>());
  ASSERT_EQ(j["entries"].size(), named.size());
  bool saw_reveal = false;
  for (const auto& e : j["entries"]) {
    EXPECT_EQ(e["actor"], camille);
    EXPECT_EQ(e["actor_name"], "camille");
    EXPECT_TRUE(e["details"].is_object());
    if (e["action"] == "supporter.reveal") {
      saw_reveal = true;
      EXPECT_EQ(e["details"]["reason"], "checking a bounce");
      EXPECT_EQ(e["subject"], ids_[0]);
    }
  }
  EXPECT_TRUE(saw_reveal);
  EXPECT_TRUE(j.contains("blast_summary"));
  api_pii_free(j);
  auto all = nlohmann::json::parse(send(req(verb::get, "/api/v1/audit", &*s)).body());
  bool operator_unnamed = true;
  for (const auto& e : all["entries"]) {
    if (e["actor"] == "operator:test") operator_unnamed = operator_unnamed && e["actor_name"].is_null();
    if (e["actor"] == "account:" + ae.account_id) {
      EXPECT_EQ(e["actor_name"], "aud");
    }
  }
  EXPECT_TRUE(operator_unnamed);
  api_pii_free(all);

  auto whole = req(verb::post, "/api/v1/audit/verify", &*s, R"({"actor":"camille","action":"supporter.reveal"})",
                   "application/json");
  whole.set("X-CSRF-Token", s->csrf);
  auto w = send(whole);
  ASSERT_EQ(w.result(), bhttp::status::ok) << w.body();
  const auto wj = nlohmann::json::parse(w.body());
  EXPECT_TRUE(wj["chain"]["whole"].get<bool>());
  EXPECT_EQ(wj["entries"].size(), 1u);

  const std::size_t api_refused_from = entry_count();
  auto api_unknown = send(req(verb::get, "/api/v1/audit?actor=nobody", &*s));
  EXPECT_EQ(api_unknown.result(), bhttp::status::bad_request);
  EXPECT_EQ(nlohmann::json::parse(api_unknown.body()), (nlohmann::json{{"error", "unknown_account"}}));
  auto api_invalid = send(req(verb::get, "/api/v1/audit?actor=Camille%20D", &*s));
  EXPECT_EQ(api_invalid.result(), bhttp::status::bad_request);
  EXPECT_EQ(nlohmann::json::parse(api_invalid.body()), (nlohmann::json{{"error", "invalid_actor"}}));
  auto not_text = req(verb::post, "/api/v1/audit/verify", &*s, R"({"actor":5})", "application/json");
  not_text.set("X-CSRF-Token", s->csrf);
  EXPECT_EQ(send(not_text).result(), bhttp::status::bad_request);
  EXPECT_EQ(entry_count(), api_refused_from);
}

TEST_F(ConsoleTest, BadRequestsChangeNothingAndEchoNothing) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  const std::string marker = "zz%3Cscript%3Ealert(1)%3C%2Fscript%3E";
  auto r1 = form("/supporters/" + ids_[0] + "/reveal", "csrf=" + s->csrf + "&kind=" + marker + "&reason=x", &*s);
  EXPECT_EQ(r1.result(), bhttp::status::bad_request);
  EXPECT_EQ(r1.body().find("<script>"), std::string::npos);
  auto r2 = send(req(verb::get, "/supporters?cursor=" + marker, &*s));
  EXPECT_EQ(r2.result(), bhttp::status::bad_request);
  EXPECT_EQ(r2.body().find("<script>"), std::string::npos);
  auto r3 = send(req(verb::get, "/supporters/../../etc/passwd", &*s));
  EXPECT_EQ(r3.result(), bhttp::status::not_found);
  auto r4 = send(req(verb::post, "/api/v1/supporters/search", &*s, "{not json", "application/json"));
  EXPECT_NE(r4.result(), bhttp::status::ok);
  auto r5 = send(req(verb::delete_, "/supporters", &*s));
  EXPECT_EQ(r5.result(), bhttp::status::method_not_allowed);
  auto v = audit::verify(*store_, *keys_, {});
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
}

// A stolen organiser session reads records as fast as it can: it gets its
// budget and no more, the account is locked at once, and the alert reaches
// the webhook within a second.
TEST_F(ConsoleTest, StolenSessionGetsItsBudgetThenIsLockedAndAlerted) {
  budgets_.of(guard::Counted::email).per_hour = 5;
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  int served = 0;
  std::chrono::steady_clock::time_point locked_at;
  for (int i = 0; i < 50; ++i) {
    auto r = req(verb::post, "/api/v1/supporters/" + ids_[static_cast<std::size_t>(i) % ids_.size()] + "/reveal", &*s,
                 R"({"fields":["email"],"reason":"bulk"})", "application/json");
    r.set("X-CSRF-Token", s->csrf);
    const auto res = send(r);
    if (res.result() == bhttp::status::ok) {
      ++served;
      continue;
    }
    locked_at = std::chrono::steady_clock::now();
    EXPECT_EQ(res.result(), bhttp::status::forbidden);
    EXPECT_NE(res.body().find("locked"), std::string::npos);
    expect_no_pii(res.body());
    break;
  }
  EXPECT_EQ(served, 5);
  ASSERT_TRUE(receiver_.wait_for(1, std::chrono::seconds(1))) << "the alert reached the webhook within 1 s";
  EXPECT_LT(std::chrono::steady_clock::now() - locked_at, std::chrono::seconds(1));
  const auto alert = nlohmann::json::parse(receiver_.requests().at(0).body);
  EXPECT_EQ(alert["kind"], "reveal_budget");
  EXPECT_EQ(alert["severity"], "critical");
  EXPECT_EQ(alert["actor"].get<std::string>().rfind("account:", 0), 0u);
  expect_no_pii(receiver_.requests().at(0).body);
  // The alert's session label finds exactly what that session saw.
  const std::string label = alert["session"].get<std::string>();
  ASSERT_EQ(label.size(), 16u);
  auto blast = audit::blast_radius(*store_, {"", std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max(), label});
  ASSERT_TRUE(blast);
  EXPECT_EQ(blast->revealed.size(), 3u);
  auto other = audit::blast_radius(*store_, {"", std::numeric_limits<std::int64_t>::min(),
                                             std::numeric_limits<std::int64_t>::max(), "0000000000000000"});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->revealed.size(), 0u);
  // Everything after that is refused, and a new sign-in too.
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*s)).result(), bhttp::status::unauthorized);
  EXPECT_FALSE(login("orga", e));
  auto info = ops_->account("orga");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->locked);
  // Only another admin unlocks, with a reason.
  ASSERT_TRUE(ops_->unlock("operator:test", "orga", "checked with the organiser"));
  EXPECT_TRUE(login("orga", e));
}

TEST_F(ConsoleTest, RevealingOrFindingAHoneytokenLocksAtOnce) {
  ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
    auto id = std::vector<std::uint8_t>(16);
    for (std::size_t i = 0; i < 16; ++i) id[i] = static_cast<std::uint8_t>(std::stoi(ids_[2].substr(2 * i, 2), nullptr, 16));
    return tx.insert_honeytoken(id, now_.load(), "operator:test");
  }));
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  // Masked views show it like any other record.
  EXPECT_EQ(send(req(verb::get, "/supporters/" + ids_[2], &*s)).result(), bhttp::status::ok);
  auto shown = form("/supporters/" + ids_[2] + "/reveal", "csrf=" + s->csrf + "&kind=name&reason=curious", &*s);
  EXPECT_EQ(shown.result(), bhttp::status::forbidden);
  expect_no_pii(shown.body());
  ASSERT_TRUE(receiver_.wait_for(1, std::chrono::seconds(1)));
  EXPECT_EQ(nlohmann::json::parse(receiver_.requests().at(0).body)["kind"], "honeytoken");
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*s)).result(), bhttp::status::unauthorized);

  // An exact search that finds one (a stolen list being checked) too.
  auto e2 = add("orga2", auth::Role::organiser);
  auto s2 = login("orga2", e2);
  ASSERT_TRUE(s2);
  auto found = form("/search", "csrf=" + s2->csrf + "&kind=email&q=" + std::string(kPeople[2].email), &*s2);
  EXPECT_EQ(found.result(), bhttp::status::forbidden);
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*s2)).result(), bhttp::status::unauthorized);
  ASSERT_TRUE(receiver_.wait_for(2, std::chrono::seconds(1)));
}

// The two-person export through the console: an organiser asks, the
// organiser cannot approve, an admin approves with a fresh TOTP code, the
// organiser downloads a file only their export key opens, holding the
// tagged supporters and the canary rows.
TEST_F(ConsoleTest, ExportNeedsAnotherAdminsCodeAndOpensOnlyWithTheRequestersKey) {
  auto orga = add("orga", auth::Role::organiser);
  auto boss = add("boss", auth::Role::admin);
  let_a_day_pass();
  auto so = login("orga", orga);
  auto sb = login("boss", boss);
  ASSERT_TRUE(so && sb);
  // The request itself asks for a fresh code.
  EXPECT_EQ(post(*so, "/exports", "tag=volunteer&field=email&field=name&reason=phone+bank").result(),
            bhttp::status::forbidden);
  EXPECT_EQ(post(*so, "/exports", "tag=volunteer&field=email&field=name&reason=phone+bank&code=" + fresh_code(orga))
                .result(),
            bhttp::status::see_other);
  // Not before approval, and never by the requester.
  EXPECT_NE(send(req(verb::get, "/exports/1/download", &*so)).result(), bhttp::status::ok);
  EXPECT_EQ(form("/exports/1/approve", "csrf=" + so->csrf + "&code=123456", &*so).result(), bhttp::status::forbidden);
  EXPECT_EQ(form("/exports/1/approve", "csrf=" + sb->csrf + "&code=000000", &*sb).result(), bhttp::status::forbidden);
  now_ += 30;
  const auto code = auth::totp_code(boss.totp_secret.span(), now_.load());
  EXPECT_EQ(form("/exports/1/approve", "csrf=" + sb->csrf + "&code=" + code, &*sb).result(), bhttp::status::see_other);
  EXPECT_TRUE(alerted("export_approved"));
  // The admin does not get the file; the organiser does.
  EXPECT_EQ(send(req(verb::get, "/exports/1/download", &*sb)).result(), bhttp::status::forbidden);
  auto file = send(req(verb::get, "/exports/1/download", &*so));
  ASSERT_EQ(file.result(), bhttp::status::ok);
  expect_no_pii(file.body());
  const auto& body = file.body();
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
  EXPECT_FALSE(services::decrypt_export(bytes, boss.export_secret_key.text()));
  auto csv = services::decrypt_export(bytes, orga.export_secret_key.text());
  ASSERT_TRUE(csv) << csv.error().internal;
  for (const auto& p : kPeople) EXPECT_NE(csv->find(p.email), std::string::npos);
  EXPECT_EQ(std::count(csv->begin(), csv->end(), '\n'), 1 + 3 + 3);  // header, people, canaries
}

// An export of a saved segment's members: offered on the form, refused
// with a tag as well or for a segment nobody saved (nothing recorded),
// listed by the segment's name, and holding its members only.
TEST_F(ConsoleTest, ExportOfASavedSegmentHoldsItsMembersOnly) {
  auto orga = add("orga", auth::Role::organiser);
  auto boss = add("boss", auth::Role::admin);
  let_a_day_pass();
  auto so = login("orga", orga);
  auto sb = login("boss", boss);
  ASSERT_TRUE(so && sb);
  ASSERT_EQ(post(*so, "/segments", "op=save&name=bretons&place=Bretagne").result(), bhttp::status::see_other);
  auto page = send(req(verb::get, "/exports", &*so));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("<option value=\"bretons\">segment bretons</option>"), std::string::npos);
  EXPECT_NE(page.body().find("<label for=\"x-segment\">"), std::string::npos);

  const auto before = audit_actions().size();
  EXPECT_EQ(
      post(*so, "/exports", "tag=volunteer&segment=bretons&field=email&reason=r&code=" + fresh_code(orga)).result(),
      bhttp::status::bad_request);
  EXPECT_EQ(post(*so, "/exports", "segment=absent&field=email&reason=r&code=" + fresh_code(orga)).result(),
            bhttp::status::not_found);
  auto odd = post(*so, "/exports", "segment=%3Cb%3E%27&field=email&reason=r&code=" + fresh_code(orga));
  EXPECT_EQ(odd.result(), bhttp::status::bad_request);
  EXPECT_EQ(odd.body().find("<b>"), std::string::npos);
  const auto after = audit_actions();
  for (std::size_t i = before; i < after.size(); ++i) EXPECT_NE(after[i].first, "export.request");

  ASSERT_EQ(post(*so, "/exports", "segment=bretons&field=email&reason=phone+bank&code=" + fresh_code(orga)).result(),
            bhttp::status::see_other);
  const auto asked = audit_actions().back();
  EXPECT_EQ(asked.first, "export.request");
  EXPECT_EQ(nlohmann::json::parse(asked.second)["segment"], "bretons");
  EXPECT_NE(send(req(verb::get, "/exports", &*sb)).body().find("<td>segment bretons</td>"), std::string::npos);
  const auto code = fresh_code(boss);
  ASSERT_EQ(form("/exports/1/approve", "csrf=" + sb->csrf + "&code=" + code, &*sb).result(), bhttp::status::see_other);
  auto file = send(req(verb::get, "/exports/1/download", &*so));
  ASSERT_EQ(file.result(), bhttp::status::ok);
  const auto& body = file.body();
  auto csv = services::decrypt_export({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()},
                                      orga.export_secret_key.text());
  ASSERT_TRUE(csv) << csv.error().internal;
  EXPECT_NE(csv->find(kPeople[0].email), std::string::npos);  // 29200, in Brittany
  EXPECT_EQ(csv->find(kPeople[1].email), std::string::npos);
  EXPECT_EQ(csv->find(kPeople[2].email), std::string::npos);
  EXPECT_EQ(std::count(csv->begin(), csv->end(), '\n'), 1 + 1 + 3);  // header, the member, canaries

  // The same through the API: the fresh code in the body.
  const auto api = [&](verb v, const std::string& target, const std::string& json = {}) {
    auto r = req(v, target, &*so, json, v == verb::post ? "application/json" : "");
    if (v == verb::post) r.set("X-CSRF-Token", so->csrf);
    return send(r);
  };
  const auto with_code = [&](const std::string& members) {
    return "{" + members + R"(,"fields":["email","name"],"reason":"phone bank","code":")" + fresh_code(orga) + "\"}";
  };
  EXPECT_EQ(api(verb::post, "/api/v1/exports", R"({"segment":"bretons","fields":["email"],"reason":"r"})").result(),
            bhttp::status::forbidden);  // no code
  EXPECT_EQ(api(verb::post, "/api/v1/exports", with_code(R"("tag":"volunteer","segment":"bretons")")).result(),
            bhttp::status::bad_request);
  EXPECT_EQ(api(verb::post, "/api/v1/exports", with_code(R"("segment":7)")).result(), bhttp::status::bad_request);
  EXPECT_EQ(api(verb::post, "/api/v1/exports", with_code(R"("segment":"absent")")).result(), bhttp::status::not_found);
  auto made = api(verb::post, "/api/v1/exports", with_code(R"("segment":"bretons")"));
  ASSERT_EQ(made.result(), bhttp::status::created);
  EXPECT_EQ(nlohmann::json::parse(made.body())["id"], 2);
  auto listed = api(verb::get, "/api/v1/exports");
  ASSERT_EQ(listed.result(), bhttp::status::ok);
  const auto items = nlohmann::json::parse(listed.body())["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["segment"], "bretons");
  EXPECT_EQ(items[0]["status"], "pending");
  EXPECT_EQ(items[0]["fields"], nlohmann::json({"email", "name"}));
  EXPECT_EQ(items[1]["status"], "downloaded");
  expect_no_pii(listed.body());
  auto t = ops_->create_api_token("operator:test", "t", auth::Scope::reveal, 30);
  ASSERT_TRUE(t);
  auto by_token = make_request(verb::get, "/api/v1/exports", "", "");
  by_token.set(bhttp::field::authorization, "Bearer " + std::string(t->token.text()));
  EXPECT_EQ(send(by_token).result(), bhttp::status::forbidden);
}

// ---- The console for daily work: one's own account, landing pages, enabling
// accounts, lock reasons.

namespace {

using auth::test_support::from_base32;

std::string field_of(const std::string& body, const std::string& name) {
  std::smatch m;
  const std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

}  // namespace

TEST_F(ConsoleTest, EveryRoleLandsOnAPageItMaySee) {
  for (const auto role : auth::kAllRoles) {
    const std::string name = "land-" + std::string(auth::role_name(role));
    auto e = add(name, role);
    now_ += 30;
    auto r = login_raw(name, kPassword, auth::totp_code(e.totp_secret.span(), now_.load()));
    ASSERT_EQ(r.result(), bhttp::status::see_other) << name;
    const std::string landing(r[bhttp::field::location]);
    const std::string set = std::string(r[bhttp::field::set_cookie]);
    Session s{set.substr(0, set.find(';')), ""};
    auto page = send(req(verb::get, landing, &s));
    EXPECT_EQ(page.result(), bhttp::status::ok) << name << " lands on " << landing;
    // "/" sends the role to the same page.
    auto root = send(req(verb::get, "/", &s));
    EXPECT_EQ(std::string(root[bhttp::field::location]), landing) << name;
  }
}

TEST_F(ConsoleTest, ApproversSeeWhatWaitsForThemOnTheirLandingPage) {
  auto orga = add("orga", auth::Role::organiser);
  auto boss = add("boss", auth::Role::admin);
  auto peer = add("peer", auth::Role::admin);
  let_a_day_pass();
  auto so = login("orga", orga);
  ASSERT_TRUE(so);
  ASSERT_EQ(post(*so, "/exports", "tag=volunteer&field=email&reason=phone+bank&code=" + fresh_code(orga)).result(),
            bhttp::status::see_other);
  auto sp = login("peer", peer);
  ASSERT_TRUE(sp);
  ASSERT_EQ(post(*sp, "/accounts", "name=newbie&role=viewer&code=" + fresh_code(peer)).result(), bhttp::status::ok);

  now_ += 30;
  auto r = login_raw("boss", kPassword, auth::totp_code(boss.totp_secret.span(), now_.load()));
  ASSERT_EQ(r.result(), bhttp::status::see_other);
  const std::string landing(r[bhttp::field::location]);
  const std::string set = std::string(r[bhttp::field::set_cookie]);
  Session sb{set.substr(0, set.find(';')), ""};
  auto page = send(req(verb::get, landing, &sb));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  const std::string body = page.body();
  EXPECT_NE(body.find("Waiting for your approval"), std::string::npos);
  EXPECT_NE(body.find("Export #1"), std::string::npos);
  EXPECT_NE(body.find("action=\"/exports/1/approve\""), std::string::npos);
  EXPECT_NE(body.find("new account for newbie"), std::string::npos);
  expect_no_pii(body);
  // The requester of the account does not see their own request as waiting.
  auto peers = send(req(verb::get, "/accounts", &*sp));
  ASSERT_EQ(peers.result(), bhttp::status::ok);
  EXPECT_NE(peers.body().find("Export #1"), std::string::npos);
  EXPECT_EQ(peers.body().find("new account for newbie"), std::string::npos);
  // An organiser (who may not approve) lands on the supporters.
  now_ += 30;
  auto ro = login_raw("orga", kPassword, auth::totp_code(orga.totp_secret.span(), now_.load()));
  EXPECT_EQ(std::string(ro[bhttp::field::location]), "/supporters");
}

TEST_F(ConsoleTest, EveryoneChangesTheirOwnPassword) {
  auto e = add("viewer1", auth::Role::viewer);
  auto here = login("viewer1", e);
  auto there = login("viewer1", e);
  ASSERT_TRUE(here && there);
  auto page = send(req(verb::get, "/account", &*here));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("action=\"/account/password\""), std::string::npos);
  EXPECT_EQ(page.body().find("<script"), std::string::npos);
  const std::string fresh = "Autre-Galet-Seize-43";
  const std::string change = "password=" + fresh + "&password2=" + fresh;
  const auto before = audit_actions().size();
  // Refusals: wrong current password, wrong code, no code, two different
  // new passwords, a weak one. Each changes nothing and echoes nothing.
  for (const auto& [fields, status] : std::vector<std::pair<std::string, bhttp::status>>{
           {"current=Not-My-Password-9&" + change + "&code=" + fresh_code(e), bhttp::status::forbidden},
           {std::string("current=") + kPassword + "&" + change + "&code=000000", bhttp::status::forbidden},
           {std::string("current=") + kPassword + "&" + change, bhttp::status::forbidden},
           {std::string("current=") + kPassword + "&password=" + fresh + "&password2=" + fresh + "x&code=" +
                fresh_code(e),
            bhttp::status::bad_request},
           {std::string("current=") + kPassword + "&password=password1234&password2=password1234&code=" +
                fresh_code(e),
            bhttp::status::bad_request},
       }) {
    auto r = post(*here, "/account/password", fields);
    EXPECT_EQ(r.result(), status) << fields;
    EXPECT_EQ(r.body().find(kPassword), std::string::npos);
    EXPECT_EQ(r.body().find(fresh), std::string::npos);
    EXPECT_EQ(r.body().find("Not-My-Password-9"), std::string::npos);
  }
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*there)).result(), bhttp::status::ok) << "nothing changed";
  EXPECT_EQ(ops_->account("viewer1")->failures, 3);
  // Without the CSRF token: refused before anything.
  EXPECT_EQ(form("/account/password", std::string("current=") + kPassword + "&" + change + "&code=" + fresh_code(e),
                 &*here)
                .result(),
            bhttp::status::forbidden);

  auto ok = post(*here, "/account/password", std::string("current=") + kPassword + "&" + change + "&code=" + fresh_code(e));
  ASSERT_EQ(ok.result(), bhttp::status::see_other) << ok.body();
  EXPECT_EQ(std::string(ok[bhttp::field::location]), "/account?done=password");
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*here)).result(), bhttp::status::ok);
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*there)).result(), bhttp::status::unauthorized);
  EXPECT_TRUE(alerted("password_changed"));
  // The old password no longer signs in; the new one does.
  now_ += 30;
  EXPECT_EQ(login_raw("viewer1", kPassword, auth::totp_code(e.totp_secret.span(), now_.load())).result(),
            bhttp::status::unauthorized);
  now_ += 30;
  EXPECT_EQ(login_raw("viewer1", fresh, auth::totp_code(e.totp_secret.span(), now_.load())).result(),
            bhttp::status::see_other);
  bool changed = false;
  const auto all = audit_actions();
  for (std::size_t i = before; i < all.size(); ++i) {
    const auto& [action, details] = all[i];
    if (action == "account.password" && details.find("\"changed\"") != std::string::npos) changed = true;
    EXPECT_EQ(details.find(kPassword), std::string::npos);
    EXPECT_EQ(details.find(fresh), std::string::npos);
  }
  EXPECT_TRUE(changed);
}

TEST_F(ConsoleTest, EveryoneReplacesTheirOwnAuthenticatorAfterItsFirstCode) {
  auto e = add("audi", auth::Role::auditor);
  auto here = login("audi", e);
  auto there = login("audi", e);
  ASSERT_TRUE(here && there);
  // Refused without the right password or code.
  auto wrong = post(*here, "/account/authenticator", "current=Not-My-Password-9&code=" + fresh_code(e));
  EXPECT_EQ(wrong.result(), bhttp::status::forbidden);
  EXPECT_EQ(wrong.body().find("otpauth"), std::string::npos);
  EXPECT_EQ(post(*here, "/account/authenticator", std::string("current=") + kPassword + "&code=000000").result(),
            bhttp::status::forbidden);

  auto setup = post(*here, "/account/authenticator", std::string("current=") + kPassword + "&code=" + fresh_code(e));
  ASSERT_EQ(setup.result(), bhttp::status::ok);
  const std::string body = setup.body();
  EXPECT_NE(body.find("<svg"), std::string::npos);
  EXPECT_EQ(body.find("<script"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(body, m, std::regex("secret=([A-Z2-7]+)")));
  auto fresh = crypto::SecretBytes::copy_of(from_base32(m[1].str()));
  ASSERT_TRUE(fresh);
  const std::string pending = field_of(body, "pending");
  const std::string issued = field_of(body, "issued");
  ASSERT_FALSE(pending.empty());
  ASSERT_FALSE(issued.empty());
  // A wrong first code: the old authenticator stays, the form comes back.
  auto bad = post(*here, "/account/authenticator/confirm", "pending=" + pending + "&issued=" + issued + "&code=000000");
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_EQ(bad.body().find("otpauth"), std::string::npos) << "the set-up is shown once";
  EXPECT_EQ(field_of(bad.body(), "pending"), pending);
  // Another session cannot confirm it.
  EXPECT_EQ(post(*there, "/account/authenticator/confirm",
                 "pending=" + pending + "&issued=" + issued + "&code=" + fresh_code(*fresh))
                .result(),
            bhttp::status::bad_request);
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*there)).result(), bhttp::status::ok);

  auto ok = post(*here, "/account/authenticator/confirm",
                 "pending=" + pending + "&issued=" + issued + "&code=" + fresh_code(*fresh));
  ASSERT_EQ(ok.result(), bhttp::status::see_other) << ok.body();
  EXPECT_EQ(std::string(ok[bhttp::field::location]), "/account?done=authenticator");
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &*there)).result(), bhttp::status::unauthorized);
  // The old authenticator no longer signs in; the new one does.
  now_ += 30;
  EXPECT_EQ(login_raw("audi", kPassword, auth::totp_code(e.totp_secret.span(), now_.load())).result(),
            bhttp::status::unauthorized);
  now_ += 30;
  EXPECT_EQ(login_raw("audi", kPassword, auth::totp_code(fresh->span(), now_.load())).result(),
            bhttp::status::see_other);
  for (const auto& [action, details] : audit_actions()) {
    EXPECT_EQ(details.find(m[1].str()), std::string::npos) << "no secret in the audit log";
    EXPECT_EQ(details.find(pending), std::string::npos);
  }
}

TEST_F(ConsoleTest, AdminsEnableDisabledAccountsOthersCannot) {
  auto boss = add("boss", auth::Role::admin);
  auto orga = add("orga", auth::Role::organiser);
  auto target = add("target", auth::Role::viewer);
  auto sb = login("boss", boss);
  auto so = login("orga", orga);
  ASSERT_TRUE(sb && so);
  ASSERT_EQ(post(*sb, "/accounts/target/disable").result(), bhttp::status::see_other);
  EXPECT_FALSE(login("target", target));
  auto list = send(req(verb::get, "/accounts", &*sb));
  EXPECT_NE(list.body().find("action=\"/accounts/target/enable\""), std::string::npos);
  // Not by an organiser, on the page or the API; not by an API token.
  EXPECT_EQ(post(*so, "/accounts/target/enable").result(), bhttp::status::forbidden);
  auto api = req(verb::post, "/api/v1/accounts/target/enable", &*so, "{}", "application/json");
  api.set("X-CSRF-Token", so->csrf);
  EXPECT_EQ(send(api).result(), bhttp::status::forbidden);
  auto t = ops_->create_api_token("operator:test", "script", auth::Scope::reveal, 30);
  ASSERT_TRUE(t);
  auto by_token = make_request(verb::post, "/api/v1/accounts/target/enable", "{}", "application/json");
  by_token.set(bhttp::field::authorization, "Bearer " + std::string(t->token.text()));
  EXPECT_EQ(send(by_token).result(), bhttp::status::forbidden);
  // Not without the CSRF token.
  auto no_csrf = req(verb::post, "/api/v1/accounts/target/enable", &*sb, "{}", "application/json");
  EXPECT_EQ(send(no_csrf).result(), bhttp::status::forbidden);
  // Not one's own account (an admin cannot enable or disable themselves).
  EXPECT_EQ(post(*sb, "/accounts/boss/enable").result(), bhttp::status::forbidden);
  EXPECT_TRUE(ops_->account("target")->disabled);

  ASSERT_EQ(post(*sb, "/accounts/target/enable").result(), bhttp::status::see_other);
  EXPECT_FALSE(ops_->account("target")->disabled);
  EXPECT_TRUE(alerted("account_enabled"));
  EXPECT_TRUE(login("target", target));
  // Enabling what is not disabled: a clear refusal.
  auto again = post(*sb, "/accounts/target/enable");
  EXPECT_EQ(again.result(), bhttp::status::conflict);
  EXPECT_NE(again.body().find("not disabled"), std::string::npos);
  // The same on the JSON API.
  auto dis = req(verb::post, "/api/v1/accounts/target/disable", &*sb, "{}", "application/json");
  dis.set("X-CSRF-Token", sb->csrf);
  auto d = send(dis);
  ASSERT_EQ(d.result(), bhttp::status::ok) << d.body();
  EXPECT_EQ(nlohmann::json::parse(d.body())["state"], "disabled");
  auto en = req(verb::post, "/api/v1/accounts/target/enable", &*sb, "{}", "application/json");
  en.set("X-CSRF-Token", sb->csrf);
  auto e2 = send(en);
  ASSERT_EQ(e2.result(), bhttp::status::ok) << e2.body();
  EXPECT_EQ(nlohmann::json::parse(e2.body())["state"], "active");
  auto e3 = send(en);
  EXPECT_EQ(e3.result(), bhttp::status::conflict);
  EXPECT_EQ(nlohmann::json::parse(e3.body())["error"], "not_disabled");
  auto unknown = req(verb::post, "/api/v1/accounts/nobody/enable", &*sb, "{}", "application/json");
  unknown.set("X-CSRF-Token", sb->csrf);
  EXPECT_EQ(send(unknown).result(), bhttp::status::not_found);
  std::size_t enables = 0;
  for (const auto& [action, details] : audit_actions()) enables += action == "account.enable" ? 1 : 0;
  EXPECT_EQ(enables, 2u);
}

TEST_F(ConsoleTest, TheAccountsPageSaysWhyAnAccountIsLocked) {
  budgets_.of(guard::Counted::email).per_hour = 2;
  auto boss = add("boss", auth::Role::admin);
  auto orga = add("orga", auth::Role::organiser);
  auto so = login("orga", orga);
  ASSERT_TRUE(so);
  for (int i = 0; i < 3; ++i) {
    auto r = req(verb::post, "/api/v1/supporters/" + ids_[static_cast<std::size_t>(i)] + "/reveal", &*so,
                 R"({"fields":["email"],"reason":"calls"})", "application/json");
    r.set("X-CSRF-Token", so->csrf);
    (void)send(r);
  }
  ASSERT_TRUE(ops_->account("orga")->locked);
  auto sb = login("boss", boss);
  ASSERT_TRUE(sb);
  auto page = send(req(verb::get, "/accounts", &*sb));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("reveal budget exceeded: email, per hour, limit 2, since "), std::string::npos)
      << page.body();
  expect_no_pii(page.body());
  auto api = send(req(verb::get, "/api/v1/accounts", &*sb));
  ASSERT_EQ(api.result(), bhttp::status::ok);
  const auto j = nlohmann::json::parse(api.body());
  bool seen = false;
  for (const auto& a : j["accounts"]) {
    if (a["name"] != "orga") continue;
    seen = true;
    EXPECT_EQ(a["state"], "locked");
    EXPECT_EQ(a["lock"]["reason"], "guard: reveal_budget");
    EXPECT_EQ(a["lock"]["detail"]["counted"], "email");
    EXPECT_TRUE(a["lock"]["since"].is_number_integer());
  }
  EXPECT_TRUE(seen);
  expect_no_pii(api.body());
}

class ConsoleTlsTest : public ConsoleTest {
 protected:
  bool use_tls() const override { return true; }
};

// Over TLS the cookie takes the __Host- prefix and Secure, and HSTS is sent.
TEST_F(ConsoleTlsTest, CookieIsHostPrefixedAndSecureAndHstsIsSent) {
  auto e = add("orga", auth::Role::organiser);
  now_ += 30;
  auto r = login_raw("orga", kPassword, auth::totp_code(e.totp_secret.span(), now_.load()));
  ASSERT_EQ(r.result(), bhttp::status::see_other);
  const std::string set = std::string(r[bhttp::field::set_cookie]);
  EXPECT_EQ(set.rfind("__Host-rempart_session=", 0), 0u) << set;
  EXPECT_NE(set.find("; Secure"), std::string::npos);
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(std::string(r[bhttp::field::strict_transport_security]).find("max-age="), std::string::npos);
  Session s{set.substr(0, set.find(';')), ""};
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &s)).result(), bhttp::status::ok);
  // The plain-HTTP cookie name is not accepted over TLS.
  Session plain{"rempart_session=" + set.substr(set.find('=') + 1, set.find(';') - set.find('=') - 1), ""};
  EXPECT_EQ(send(req(verb::get, "/api/v1/me", &plain)).result(), bhttp::status::unauthorized);
}

// The page alone (a pure function): details of every shape read as labelled
// values, long lists cut with a count, account ids by name, text that is not
// a JSON object shown as stored, everything escaped.
TEST(AuditPage, DetailsOfEveryShapeReadAsLabelledValues) {
  const std::string camille_id = "0c8aa8" + std::string(26, '1');
  AuditView a;
  audit::VerifyReport report;
  report.last_seq = report.covered_seq = 3;
  report.entries = 3;
  a.verify = &report;
  a.names = {{"account:" + camille_id, "camille"}};
  nlohmann::json records = nlohmann::json::array();
  for (int i = 0; i < 25; ++i) records.push_back(std::string(32, static_cast<char>('a' + i % 6)));
  store::AuditEntryRow export_entry;
  export_entry.seq = 3;
  export_entry.actor = "account:" + camille_id;
  export_entry.action = "supporter.export";
  export_entry.details =
      nlohmann::json{{"records", records}, {"fields", {"email", "phone"}}, {"approved", true}}.dump();
  store::AuditEntryRow approval;
  approval.seq = 2;
  approval.actor = "operator:alice";
  approval.action = "privilege.approve";
  approval.details = nlohmann::json{{"requester_id", camille_id},
                                    {"applied", {{"role", "admin"}, {"previous", {{"role", "organiser"}}}}},
                                    {"note", "<b>&"}}
                         .dump();
  store::AuditEntryRow odd;
  odd.seq = 1;
  odd.actor = "token:7";
  odd.action = "x.y";
  odd.details = "not json <i>";
  a.entries = {export_entry, approval, odd};
  const std::string page = audit_page(Viewer{"aude", auth::Role::auditor, "csrf"}, a);

  EXPECT_NE(page.find("<a href=\"/audit?actor=camille\" title=\"account:" + camille_id + "\">camille</a>"),
            std::string::npos);
  EXPECT_NE(page.find("<dt>fields:</dt> <dd>email, phone</dd>"), std::string::npos);
  EXPECT_NE(page.find("<dt>approved:</dt> <dd>yes</dd>"), std::string::npos);
  EXPECT_NE(page.find(", … and 15 more</dd>"), std::string::npos);
  EXPECT_NE(page.find("<dt>records:</dt> <dd><code>" + std::string(32, 'a') + "</code>, <code>" +
                      std::string(32, 'b') + "</code>, <code>"),
            std::string::npos)
      << "the list in its stored order";
  EXPECT_NE(page.find("<dt>requester_id:</dt> <dd><span title=\"" + camille_id + "\">camille</span></dd>"),
            std::string::npos);
  EXPECT_NE(page.find("<dt>applied:</dt> <dd><dl class=\"kv\"><div><dt>previous:</dt> <dd><dl class=\"kv\"><div>"
                      "<dt>role:</dt> <dd>organiser</dd></div></dl></dd></div><div><dt>role:</dt> <dd>admin</dd>"),
            std::string::npos);
  EXPECT_NE(page.find("<dt>note:</dt> <dd>&lt;b&gt;&amp;</dd>"), std::string::npos);
  EXPECT_NE(page.find("<code>not json &lt;i&gt;</code>"), std::string::npos);
  EXPECT_NE(page.find("<code>token:7</code>"), std::string::npos);
  EXPECT_NE(page.find("<code>operator:alice</code>"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);

  // A refused filter: the notice and the form, nothing else.
  AuditView refused;
  refused.actor = "nobody";
  refused.notice = "No account has that name.";
  const std::string r = audit_page(Viewer{"aude", auth::Role::auditor, "csrf"}, refused);
  EXPECT_NE(r.find("<p class=\"notice\" role=\"status\">No account has that name.</p>"), std::string::npos);
  EXPECT_NE(r.find("value=\"nobody\""), std::string::npos);
  EXPECT_EQ(r.find("<table"), std::string::npos);
}


// The record page's writes on a real server: an organiser corrects a field
// without seeing it, withdraws a consent, writes notes and reads them; bad
// input changes nothing and echoes nothing; an admin erases the record.
TEST_F(ConsoleTest, RecordPageCorrectsWithdrawsNotesAndAnAdminErases) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  const std::string id = ids_[0];
  const std::string rec = "/supporters/" + id;
  auto page = send(req(verb::get, rec, &*s));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  for (const char* form : {"/edit\"", "/consent/withdraw\"", "/notes\""}) {
    EXPECT_NE(page.body().find("action=\"" + rec + form), std::string::npos) << form;
  }
  for (const char* label : {"for=\"edit-field\"", "for=\"edit-value\"", "for=\"edit-reason\"", "for=\"consent-channel\"",
                            "for=\"consent-source\"", "for=\"note-kind\"", "for=\"note-text\""}) {
    EXPECT_NE(page.body().find(label), std::string::npos) << label;
  }
  EXPECT_EQ(page.body().find("<script"), std::string::npos);
  EXPECT_EQ(page.body().find("/erase"), std::string::npos);  // not the organiser's

  // A correction: the new value is checked, sealed, searchable, never shown.
  const auto before = audit_actions().size();
  const std::string new_email = "gwen.kerherve@exemple.org";
  auto edited = post(*s, rec + "/edit", "field=email&value=Gwen.Kerherve%40Exemple.ORG&reason=she+called");
  ASSERT_EQ(edited.result(), bhttp::status::see_other);
  EXPECT_EQ(edited[bhttp::field::location], rec + "?done=edit");
  page = send(req(verb::get, rec + "?done=edit", &*s));
  EXPECT_NE(page.body().find("The correction is saved."), std::string::npos);
  EXPECT_EQ(page.body().find(new_email), std::string::npos);
  auto search = req(verb::post, "/api/v1/supporters/search", &*s,
                    nlohmann::json{{"kind", "email"}, {"value", new_email}}.dump(), "application/json");
  search.set("X-CSRF-Token", s->csrf);
  auto found = send(search);
  ASSERT_EQ(found.result(), bhttp::status::ok);
  ASSERT_EQ(nlohmann::json::parse(found.body())["items"].size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(found.body())["items"][0]["id"], id);
  bool audited = false;
  for (const auto& [action, details] : audit_actions()) {
    if (action != "supporter.edit") continue;
    audited = true;
    EXPECT_EQ(nlohmann::json::parse(details)["fields"], nlohmann::json({"email"}));
    EXPECT_EQ(details.find("gwen"), std::string::npos);
  }
  EXPECT_TRUE(audited);
  EXPECT_GT(audit_actions().size(), before);

  // Bad input changes nothing and is not echoed.
  const auto entries_before = audit_actions().size();
  for (const std::string& body :
       {std::string("field=email&value=pas-une-adresse-zorglub&reason=typo"), std::string("field=phone&value=zorglub12&reason=x"),
        std::string("field=email&value=ok%40exemple.org&reason="), std::string("field=tags&value=zorglub&reason=x"),
        std::string("value=zorglub&reason=x")}) {
    auto bad = post(*s, rec + "/edit", body);
    EXPECT_EQ(bad.result(), bhttp::status::bad_request) << body;
    EXPECT_EQ(bad.body().find("zorglub"), std::string::npos);
    EXPECT_NE(bad.body().find("Nothing was changed."), std::string::npos);
  }
  auto bad = post(*s, rec + "/edit", "field=email&value=pas-une-adresse&reason=typo");
  EXPECT_NE(bad.body().find("The new E-mail is not valid (invalid_email)."), std::string::npos);
  // Another record's e-mail: refused, nothing changes, nothing echoed.
  auto taken = post(*s, rec + "/edit", std::string("field=email&value=") + core::form_encode(kPeople[1].email) +
                                           "&reason=typo");
  EXPECT_EQ(taken.result(), bhttp::status::conflict);
  EXPECT_NE(taken.body().find("Another record already holds this e-mail address."), std::string::npos);
  expect_no_pii(taken.body());
  const auto after_bad = audit_actions();
  // The refusals wrote only the record views that answered them and the
  // refused edit's own entry, never a change.
  std::size_t edits = 0;
  for (std::size_t i = entries_before; i < after_bad.size(); ++i) {
    if (after_bad[i].first == "supporter.edit") {
      ++edits;
      EXPECT_EQ(nlohmann::json::parse(after_bad[i].second)["refused"], "email_taken");
    }
  }
  EXPECT_EQ(edits, 1u);
  found = send(search);
  EXPECT_EQ(nlohmann::json::parse(found.body())["items"][0]["id"], id);

  // A consent withdrawn on the person's behalf, and the log on the page.
  auto w = post(*s, rec + "/consent/withdraw", "channel=email&source=phone_call");
  ASSERT_EQ(w.result(), bhttp::status::see_other);
  page = send(req(verb::get, rec, &*s));
  EXPECT_NE(page.body().find("<td data-label=\"Channel\">E-mail</td><td data-label=\"Choice\">no</td>"),
            std::string::npos);
  EXPECT_NE(page.body().find("console, Phone call"), std::string::npos);
  EXPECT_EQ(post(*s, rec + "/consent/withdraw", "channel=fax&source=phone_call").result(), bhttp::status::bad_request);
  EXPECT_EQ(post(*s, rec + "/consent/withdraw", "channel=sms&source=pigeon").result(), bhttp::status::bad_request);

  // Notes: written, shown with their author, read under an audit entry.
  const std::string text = "Rappeler apr\xC3\xA8s 18h <b>porte</b>";
  ASSERT_EQ(post(*s, rec + "/notes", "kind=note&text=" + core::form_encode(text)).result(), bhttp::status::see_other);
  ASSERT_EQ(post(*s, rec + "/notes", "kind=left_message&text=").result(), bhttp::status::see_other);
  EXPECT_EQ(post(*s, rec + "/notes", "kind=note&text=").result(), bhttp::status::bad_request);
  EXPECT_EQ(post(*s, rec + "/notes", "kind=gossip&text=zorglub").result(), bhttp::status::bad_request);
  page = send(req(verb::get, rec, &*s));
  EXPECT_NE(page.body().find("<p>Rappeler apr\xC3\xA8s 18h &lt;b&gt;porte&lt;/b&gt;</p>"), std::string::npos);
  EXPECT_NE(page.body().find("Left a message"), std::string::npos);
  EXPECT_NE(page.body().find(", orga</span>"), std::string::npos);
  bool read = false, noted = false;
  for (const auto& [action, details] : audit_actions()) {
    if (action == "supporter.notes_read") read = true;
    if (action == "supporter.note") noted = true;
    EXPECT_EQ(details.find("Rappeler"), std::string::npos);
  }
  EXPECT_TRUE(read && noted);

  // The same through the API.
  auto api = [&](verb v, const std::string& target, const nlohmann::json& body) {
    auto r = req(v, target, &*s, v == verb::post ? body.dump() : "", v == verb::post ? "application/json" : "");
    if (v == verb::post) r.set("X-CSRF-Token", s->csrf);
    return send(r);
  };
  auto a = api(verb::post, "/api/v1" + rec + "/edit", {{"fields", {{"locality", "Quimper"}}}, {"reason", "api"}});
  ASSERT_EQ(a.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(a.body())["changed"], nlohmann::json({"locality"}));
  a = api(verb::post, "/api/v1" + rec + "/edit", {{"fields", {{"phone", kPeople[2].phone}}}, {"reason", "api"}});
  EXPECT_EQ(a.result(), bhttp::status::conflict);
  EXPECT_EQ(nlohmann::json::parse(a.body()), nlohmann::json({{"error", "phone_taken"}}));
  a = api(verb::post, "/api/v1" + rec + "/edit", {{"fields", {{"country", "Zorglubie"}}}, {"reason", "api"}});
  EXPECT_EQ(a.result(), bhttp::status::bad_request);
  EXPECT_EQ(nlohmann::json::parse(a.body()),
            nlohmann::json({{"error", "invalid_input"}, {"field", "country"}, {"code", "invalid_country"}}));
  a = api(verb::post, "/api/v1" + rec + "/consent/withdraw", {{"channel", "sms"}, {"source", "letter"}});
  ASSERT_EQ(a.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(a.body())["withdrawn"], true);
  a = api(verb::post, "/api/v1" + rec + "/notes", {{"kind", "attended"}, {"text", "AG du 12"}});
  ASSERT_EQ(a.result(), bhttp::status::created);
  a = api(verb::get, "/api/v1" + rec + "/notes", {});
  ASSERT_EQ(a.result(), bhttp::status::ok);
  const auto notes = nlohmann::json::parse(a.body())["items"];
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0]["kind"], "attended");
  EXPECT_EQ(notes[0]["author"], "orga");
  a = api(verb::get, "/api/v1" + rec, {});
  const auto log = nlohmann::json::parse(a.body())["consent_log"];
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log.back()["source"], "console:letter");

  // An admin erases it with the record id alone, after typing the word.
  auto ae = add("admin1", auth::Role::admin);
  auto as = login("admin1", ae);
  ASSERT_TRUE(as);
  auto look = send(req(verb::get, "/erase?id=" + id, &*as));
  EXPECT_EQ(look.result(), bhttp::status::see_other);
  EXPECT_EQ(look[bhttp::field::location], rec + "/erase");
  EXPECT_EQ(send(req(verb::get, "/erase?id=zorglub", &*as)).result(), bhttp::status::bad_request);
  auto confirm = send(req(verb::get, rec + "/erase", &*as));
  ASSERT_EQ(confirm.result(), bhttp::status::ok);
  expect_no_pii(confirm.body());
  EXPECT_EQ(post(*as, rec + "/erase", "reason=letter&confirm=maybe").result(), bhttp::status::bad_request);
  EXPECT_EQ(post(*as, rec + "/erase", "reason=whim&confirm=erase").result(), bhttp::status::bad_request);
  EXPECT_EQ(send(req(verb::get, rec, &*s)).result(), bhttp::status::ok);  // still there
  auto erased = post(*as, rec + "/erase", "reason=letter&confirm=Erase");
  ASSERT_EQ(erased.result(), bhttp::status::ok);
  EXPECT_NE(erased.body().find("is erased"), std::string::npos);
  expect_no_pii(erased.body());
  EXPECT_TRUE(alerted("record_erased"));
  EXPECT_EQ(send(req(verb::get, rec, &*s)).result(), bhttp::status::not_found);
  EXPECT_EQ(post(*as, rec + "/erase", "reason=letter&confirm=erase").result(), bhttp::status::not_found);
  bool erase_entry = false;
  for (const auto& [action, details] : audit_actions()) {
    if (action == "supporter.erase") {
      erase_entry = true;
      EXPECT_EQ(nlohmann::json::parse(details)["reason"], "letter");
    }
  }
  EXPECT_TRUE(erase_entry);
  // An organiser cannot erase; a viewer neither writes nor reads notes.
  EXPECT_EQ(post(*s, "/supporters/" + ids_[1] + "/erase", "reason=letter&confirm=erase").result(),
            bhttp::status::forbidden);
  auto ve = add("viewer1", auth::Role::viewer);
  auto vs = login("viewer1", ve);
  ASSERT_TRUE(vs);
  page = send(req(verb::get, "/supporters/" + ids_[1], &*vs));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_EQ(page.body().find("/notes\""), std::string::npos);
  EXPECT_EQ(page.body().find("/edit\""), std::string::npos);
  EXPECT_EQ(post(*vs, "/supporters/" + ids_[1] + "/notes", "kind=note&text=x").result(), bhttp::status::forbidden);
}

// Segments on the pages: build one, count it, save it, see its masked
// members, tag every member after a confirmation, rename a tag; a viewer
// sees counts and nothing that changes anything.
TEST_F(ConsoleTest, SegmentsBuiltCountedSavedAndBulkTagged) {
  services::RecordWriter writer(*keys_);
  for (int i = 0; i < 6; ++i) {
    core::Person p;
    p.given_name = kPeople[0].given;
    p.email = "segment" + std::to_string(i) + "@exemple.org";
    p.tags = {"donor"};
    p.postal_code = "69007";
    p.locality = "Lyon";
    p.consent.email = i % 2 == 0;
    ASSERT_TRUE(store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto u = writer.upsert(tx, p, now_.load());
      if (!u) return std::unexpected(u.error());
      return {};
    }));
  }
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);

  auto counted = post(*s, "/segments", "op=count&name=donors&tags_all=Donor&email=any");
  ASSERT_EQ(counted.result(), bhttp::status::ok);
  EXPECT_NE(counted.body().find("This segment matches 6 supporters."), std::string::npos);
  auto small = post(*s, "/segments", "op=count&tags_all=donor&email=given");
  EXPECT_NE(small.body().find("fewer than 5 supporters"), std::string::npos);
  auto placed = post(*s, "/segments", "op=count&tags_all=donor&place=+Lyon+");
  ASSERT_EQ(placed.result(), bhttp::status::ok);
  EXPECT_NE(placed.body().find("This segment matches 6 supporters."), std::string::npos);
  EXPECT_NE(placed.body().find("id=\"place\" name=\"place\""), std::string::npos);
  EXPECT_NE(placed.body().find("value=\"Lyon\""), std::string::npos);
  EXPECT_NE(post(*s, "/segments", "op=count&place=Auvergne-Rh%C3%B4ne-Alpes").body().find("matches 6 supporters."),
            std::string::npos);
  EXPECT_NE(post(*s, "/segments", "op=count&tags_all=donor&place=29").body().find("fewer than 5"), std::string::npos);
  // A place with words is looked up, never run: what it holds is only ever shown escaped.
  auto odd = post(*s, "/segments", "op=count&place=%3Cscript%3Ex%27+OR+1%3D1");
  ASSERT_EQ(odd.result(), bhttp::status::ok);
  EXPECT_EQ(odd.body().find("<script"), std::string::npos);
  EXPECT_NE(odd.body().find("&lt;script&gt;"), std::string::npos);

  // Hostile input: refused with fixed words, echoed nowhere, nothing saved.
  const auto before = audit_actions().size();
  for (const std::string& bad : std::vector<std::string>{
           "op=save&name=x&tags_all=%3Cscript%3E%2C%3Bx", "op=save&name=x&signed_up_from=2026-02-30",
           "op=save&name=x&email=%27+OR+1%3D1", "op=save&name=%3Cb%3E&tags_all=donor", "op=drop&name=x",
           "op=save&name=x&place=%3C%2F%3E%3B", "op=count&place=" + std::string(101, '7')}) {
    auto r = post(*s, "/segments", bad);
    EXPECT_EQ(r.result(), bhttp::status::bad_request) << bad;
    EXPECT_EQ(r.body().find("<script"), std::string::npos);
    EXPECT_EQ(r.body().find("OR 1=1"), std::string::npos);
    EXPECT_EQ(r.body().find("<b>"), std::string::npos);
  }
  EXPECT_EQ(audit_actions().size(), before);
  auto refused = post(*s, "/segments", "op=save&name=x&tags_all=donor&place=%2B%2B");
  EXPECT_NE(refused.body().find("The place is not valid"), std::string::npos);
  EXPECT_NE(refused.body().find("value=\"donor\""), std::string::npos);  // the valid part kept

  auto in_lyon = post(*s, "/segments", "op=save&name=lyon&place=Lyon");
  ASSERT_EQ(in_lyon.result(), bhttp::status::see_other);
  auto lyon = send(req(verb::get, "/segments/lyon", &*s));
  EXPECT_NE(lyon.body().find("<dt>Place</dt><dd>Lyon</dd>"), std::string::npos);
  EXPECT_NE(lyon.body().find("6 supporters."), std::string::npos);
  EXPECT_NE(send(req(verb::get, "/segments/lyon/edit", &*s)).body().find("value=\"Lyon\""), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(audit_actions().back().second)["definition"]["place"], "Lyon");

  auto saved = post(*s, "/segments", "op=save&name=donors&tags_all=donor");
  ASSERT_EQ(saved.result(), bhttp::status::see_other);
  EXPECT_EQ(saved[bhttp::field::location], "/segments/donors");
  EXPECT_EQ(post(*s, "/segments", "op=save&name=donors&tags_all=donor").result(), bhttp::status::conflict);
  auto page = send(req(verb::get, "/segments/donors", &*s));
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("6 supporters."), std::string::npos);
  EXPECT_NE(page.body().find("Tag every member"), std::string::npos);

  auto members = send(req(verb::get, "/supporters?segment=donors", &*s));
  ASSERT_EQ(members.result(), bhttp::status::ok);
  EXPECT_NE(members.body().find("class=\"people\""), std::string::npos);
  expect_no_pii(members.body());
  EXPECT_EQ(send(req(verb::get, "/supporters?segment=absent", &*s)).result(), bhttp::status::not_found);
  const auto listed = audit_actions().back();
  EXPECT_EQ(listed.first, "supporter.list");
  EXPECT_EQ(nlohmann::json::parse(listed.second)["segment"], "donors");

  auto confirm = post(*s, "/segments/donors/tags", "tag=Phoning&change=add");
  ASSERT_EQ(confirm.result(), bhttp::status::ok);
  EXPECT_NE(confirm.body().find("name=\"confirm\" value=\"6\""), std::string::npos);
  EXPECT_EQ(post(*s, "/segments/donors/tags", "tag=phoning&change=add&confirm=5").result(), bhttp::status::ok);
  EXPECT_NE(audit_actions().back().first, "supporter.tag_bulk");  // a stale count does nothing
  auto done = post(*s, "/segments/donors/tags", "tag=phoning&change=add&confirm=6");
  ASSERT_EQ(done.result(), bhttp::status::ok);
  EXPECT_NE(done.body().find("Added the tag for 6 supporters."), std::string::npos);
  const auto bulk = audit_actions().back();
  EXPECT_EQ(bulk.first, "supporter.tag_bulk");
  EXPECT_EQ(nlohmann::json::parse(bulk.second)["count"], 6);

  auto rename = post(*s, "/tags/rename", "from=phoning&to=appels&op=rename");
  ASSERT_EQ(rename.result(), bhttp::status::ok);
  EXPECT_NE(rename.body().find("<strong>6</strong> supporters"), std::string::npos);
  EXPECT_EQ(post(*s, "/tags/rename", "from=phoning&to=donor&op=rename&confirm=1").result(), bhttp::status::conflict);
  EXPECT_EQ(post(*s, "/tags/rename", "from=phoning&to=appels&op=rename&confirm=1").result(), bhttp::status::see_other);
  EXPECT_EQ(audit_actions().back().first, "tag.rename");
  auto tags = send(req(verb::get, "/api/v1/tags", &*s));
  EXPECT_NE(tags.body().find("\"appels\""), std::string::npos);
  EXPECT_EQ(tags.body().find("\"phoning\""), std::string::npos);

  auto v = add("watcher", auth::Role::viewer);
  auto vs = login("watcher", v);
  ASSERT_TRUE(vs);
  auto seen = send(req(verb::get, "/segments/donors", &*vs));
  ASSERT_EQ(seen.result(), bhttp::status::ok);
  EXPECT_NE(seen.body().find("6 supporters."), std::string::npos);
  EXPECT_EQ(seen.body().find("Tag every member"), std::string::npos);
  EXPECT_EQ(seen.body().find("Delete this segment"), std::string::npos);
  EXPECT_EQ(post(*vs, "/segments/donors/delete").result(), bhttp::status::forbidden);
  EXPECT_EQ(post(*s, "/segments/donors/delete").result(), bhttp::status::see_other);
  EXPECT_EQ(audit_actions().back().first, "segment.delete");
}

TEST_F(ConsoleTest, SegmentsThroughTheApi) {
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  const auto api = [&](verb v, const std::string& target, const std::string& body = {}) {
    auto r = req(v, target, &*s, body, v == verb::post ? "application/json" : "");
    if (v == verb::post) r.set("X-CSRF-Token", s->csrf);
    return send(r);
  };
  auto made = api(verb::post, "/api/v1/segments", R"({"name":"all","definition":{"tags_any":["volunteer"]}})");
  ASSERT_EQ(made.result(), bhttp::status::ok);
  auto j = nlohmann::json::parse(made.body());
  EXPECT_EQ(j["name"], "all");
  EXPECT_TRUE(j["supporters"].is_null());  // 3 people: fewer than 5
  EXPECT_EQ(j["fewer_than"], 5);
  EXPECT_EQ(api(verb::post, "/api/v1/segments", R"({"name":"all","definition":{}})").result(), bhttp::status::conflict);
  EXPECT_EQ(api(verb::post, "/api/v1/segments", R"({"name":"x","definition":{"sql":"1=1"}})").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(api(verb::post, "/api/v1/segments", R"({"name":"x","definition":[]})").result(), bhttp::status::bad_request);
  EXPECT_EQ(api(verb::post, "/api/v1/segments", R"({"name":"x","definition":{"place":"--"}})").result(),
            bhttp::status::bad_request);
  EXPECT_EQ(api(verb::post, "/api/v1/segments/count", R"({"definition":{"place":["29"]}})").result(),
            bhttp::status::bad_request);
  auto breton = api(verb::post, "/api/v1/segments", R"({"name":"breton","definition":{"place":"Bretagne"}})");
  ASSERT_EQ(breton.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(breton.body())["definition"]["place"], "Bretagne");
  auto breton_count = api(verb::post, "/api/v1/segments/breton/tags", R"({"add":"x"})");  // the exact count, dry
  EXPECT_EQ(nlohmann::json::parse(breton_count.body())["count"], 1);
  EXPECT_EQ(api(verb::post, "/api/v1/segments/breton/delete", "{}").result(), bhttp::status::ok);
  auto list = api(verb::get, "/api/v1/segments");
  ASSERT_EQ(list.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(list.body())["items"].size(), 1u);

  auto dry = api(verb::post, "/api/v1/segments/all/tags", R"({"add":"appel"})");
  ASSERT_EQ(dry.result(), bhttp::status::ok);
  auto d = nlohmann::json::parse(dry.body());
  EXPECT_EQ(d["count"], 3);
  EXPECT_EQ(d["done"], false);
  EXPECT_EQ(api(verb::post, "/api/v1/segments/all/tags", R"({"add":"appel","count":2})").result(),
            bhttp::status::conflict);
  auto done = api(verb::post, "/api/v1/segments/all/tags", R"({"add":"appel","count":3})");
  ASSERT_EQ(done.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(done.body())["done"], true);
  EXPECT_EQ(api(verb::post, "/api/v1/segments/all/tags", R"({"add":"a","remove":"b"})").result(),
            bhttp::status::bad_request);

  auto merged = api(verb::post, "/api/v1/tags/rename", R"({"from":"appel","to":"volunteer","merge":true})");
  ASSERT_EQ(merged.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(merged.body())["count"], 3);
  EXPECT_EQ(api(verb::post, "/api/v1/tags/rename", R"({"from":"volunteer","to":"volunteer"})").result(),
            bhttp::status::bad_request);

  auto members = api(verb::get, "/api/v1/supporters?segment=all");
  ASSERT_EQ(members.result(), bhttp::status::ok);
  EXPECT_EQ(nlohmann::json::parse(members.body())["items"].size(), 3u);
  expect_no_pii(members.body());

  // A read-masked token counts, and changes nothing.
  auto t = ops_->create_api_token("operator:test", "t", auth::Scope::read_masked, 30);
  ASSERT_TRUE(t);
  const auto token = [&](verb v, const std::string& target, const std::string& body = {}) {
    auto r = make_request(v, target, body, v == verb::post ? "application/json" : "");
    r.set(bhttp::field::authorization, "Bearer " + std::string(t->token.text()));
    return send(r);
  };
  EXPECT_EQ(token(verb::get, "/api/v1/segments/all").result(), bhttp::status::ok);
  EXPECT_EQ(token(verb::post, "/api/v1/segments/count", R"({"definition":{}})").result(), bhttp::status::ok);
  EXPECT_EQ(token(verb::post, "/api/v1/segments/all/tags", R"({"add":"x","count":3})").result(),
            bhttp::status::forbidden);
  EXPECT_EQ(token(verb::post, "/api/v1/segments/all/delete", "{}").result(), bhttp::status::forbidden);
  EXPECT_EQ(api(verb::post, "/api/v1/segments/all/delete", "{}").result(), bhttp::status::ok);
}

// A phone-banking evening: an organiser makes a list from a segment for a
// volunteer, who calls more people than the hourly phone budget allows,
// each name and phone shown together, one at a time, every opening and
// outcome audited, and is never locked.
TEST_F(ConsoleTest, CallListsCarryAPhoneBankingEvening) {
  const std::size_t people = static_cast<std::size_t>(budgets_.of(guard::Counted::phone).per_hour) + 2;
  for (std::size_t i = 0; i < people; ++i) {
    core::Person p;
    p.given_name = "Appelée";
    p.family_name = "Numéro" + std::to_string(i);
    p.email = "appel" + std::to_string(i) + "@exemple.org";
    p.phone = "+331990002" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    p.tags = {"phonebank"};
    put(p);
  }
  auto oe = add("orga", auth::Role::organiser);
  auto o = login("orga", oe);
  ASSERT_TRUE(o);
  auto ve = add("vol", auth::Role::viewer);
  auto v = login("vol", ve);
  ASSERT_TRUE(v);
  ASSERT_EQ(post(*o, "/segments", "op=save&name=phonebank&tags_all=phonebank").result(), bhttp::status::see_other);
  add("admin-boss", auth::Role::admin);  // admins read no personal data: never offered as callers

  auto form = send(req(verb::get, "/calls", &*o));
  ASSERT_EQ(form.result(), bhttp::status::ok);
  EXPECT_NE(form.body().find("Make a call list"), std::string::npos);
  EXPECT_NE(form.body().find("value=\"vol\""), std::string::npos);
  EXPECT_EQ(form.body().find("value=\"admin-boss\""), std::string::npos);
  // Refusals: fixed words, nothing typed echoed unchecked, nothing written.
  const auto before = audit_actions().size();
  auto bad_time = post(*o, "/calls",
                       "name=evening&segment=phonebank&caller=vol&starts=tomorrow&ends=%3Cb%3E"
                       "&script=Parlez+de+la+r%C3%A9union+de+jeudi");
  EXPECT_EQ(bad_time.result(), bhttp::status::bad_request);
  EXPECT_NE(bad_time.body().find("as a date and a time"), std::string::npos);
  EXPECT_EQ(bad_time.body().find("<b>"), std::string::npos);
  // The script typed is not lost: it validates, so it is shown again.
  EXPECT_NE(bad_time.body().find("Parlez de la réunion de jeudi"), std::string::npos);
  auto bad_script = post(*o, "/calls", "name=evening&segment=phonebank&caller=vol&starts=tomorrow&ends=x"
                                       "&script=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  EXPECT_EQ(bad_script.body().find("<script>alert"), std::string::npos);
  auto no_caller = post(*o, "/calls", "name=evening&segment=phonebank&starts=2026-01-01T10:00&ends=2026-01-01T12:00");
  EXPECT_EQ(no_caller.result(), bhttp::status::bad_request);
  EXPECT_NE(no_caller.body().find("Choose between 1 and 50 callers."), std::string::npos);
  EXPECT_EQ(audit_actions().size(), before);

  const std::int64_t now = now_.load();
  auto made = post(*o, "/calls", "name=evening&segment=phonebank&caller=vol&starts=" + form_time(now - 60) +
                                     "&ends=" + form_time(now + 7200) + "&script=Bonjour%2C+je+vous+appelle");
  ASSERT_EQ(made.result(), bhttp::status::see_other);
  EXPECT_EQ(made[bhttp::field::location], "/calls/evening");
  EXPECT_EQ(audit_actions().back().first, "call_list.create");
  auto progress = send(req(verb::get, "/calls/evening", &*o));
  ASSERT_EQ(progress.result(), bhttp::status::ok);
  EXPECT_NE(progress.body().find("0 of " + std::to_string(people) + " done"), std::string::npos);

  auto mine = send(req(verb::get, "/calls", &*v));
  ASSERT_EQ(mine.result(), bhttp::status::ok);
  EXPECT_NE(mine.body().find("Start calling"), std::string::npos);
  EXPECT_EQ(mine.body().find("Make a call list"), std::string::npos);
  EXPECT_EQ(send(req(verb::get, "/calls/evening", &*v)).result(), bhttp::status::forbidden);

  std::set<std::string> called;
  auto page = post(*v, "/calls/evening/next");
  for (std::size_t i = 0; i < people; ++i) {
    ASSERT_EQ(page.result(), bhttp::status::ok) << i;
    const std::string& b = page.body();
    const std::string shown = "callee-name\">";
    const auto at = b.find(shown + "Appelée Numéro");
    ASSERT_NE(at, std::string::npos) << i;
    const std::string name = b.substr(at + shown.size(), b.find('<', at) - at - shown.size());
    EXPECT_TRUE(called.insert(name).second) << "the same person twice";
    EXPECT_NE(b.find("href=\"tel:+331990002"), std::string::npos);
    EXPECT_NE(b.find("Bonjour, je vous appelle"), std::string::npos);
    const auto opened = audit_actions().back();
    EXPECT_EQ(opened.first, "supporter.reveal");
    EXPECT_EQ(nlohmann::json::parse(opened.second)["by"], "call_list");
    const std::string marker = "name=\"entry\" value=\"";
    const auto entry = b.find(marker);
    ASSERT_NE(entry, std::string::npos);
    const auto from = entry + marker.size();
    const std::string n = b.substr(from, b.find('"', from) - from);
    page = post(*v, "/calls/evening/outcome",
                "entry=" + n + "&outcome=" + (i % 2 ? "no_answer" : "rsvp") + "&text=&op=next");
  }
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_NE(page.body().find("has been called. Thank you."), std::string::npos);
  EXPECT_EQ(called.size(), people);
  auto me = send(req(verb::get, "/api/v1/me", &*v));
  ASSERT_EQ(me.result(), bhttp::status::ok);  // never locked
  auto done = send(req(verb::get, "/calls/evening", &*o));
  EXPECT_NE(done.body().find(std::to_string(people) + " of " + std::to_string(people) + " done"), std::string::npos);
  EXPECT_NE(done.body().find("Will come (RSVP)"), std::string::npos);
  for (const auto* body : {&form.body(), &progress.body(), &mine.body(), &done.body()}) {
    EXPECT_EQ(body->find("Appelée"), std::string::npos);
    EXPECT_EQ(body->find("+331990002"), std::string::npos);
  }
  EXPECT_EQ(post(*o, "/calls/evening/close").result(), bhttp::status::see_other);
  EXPECT_EQ(audit_actions().back().first, "call_list.close");
  EXPECT_EQ(post(*v, "/calls/evening/next").result(), bhttp::status::conflict);
}

// The console in French: asked for by the browser (Accept-Language), or
// chosen with the switch (the rempart_lang cookie, which wins over the
// browser). Texts, dates and country names follow; nothing English is left
// of the texts checked, and English stays the default.
TEST_F(ConsoleTest, PagesSpeakFrenchWhenAskedTo) {
  core::Person abroad;
  abroad.given_name = "Jördis";
  abroad.family_name = "Brandtner";
  abroad.email = "joerdis.brandtner@exemple.de";
  abroad.country = "DE";
  put(abroad);
  auto e = add("orga", auth::Role::organiser);
  auto s = login("orga", e);
  ASSERT_TRUE(s);
  auto api = send(req(verb::get, "/api/v1/supporters?limit=10", &*s));
  ASSERT_EQ(api.result(), bhttp::status::ok);
  std::string abroad_id;
  std::int64_t created_at = 0;
  const auto listed = nlohmann::json::parse(api.body());
  for (const auto& m : listed["items"]) {
    if (m["country"] == "DE") abroad_id = m["id"].get<std::string>();
    created_at = m["created_at"].get<std::int64_t>();
  }
  ASSERT_FALSE(abroad_id.empty());
  const auto date_in = [&](i18n::Lang l, bool with_time) {
    const i18n::Scope language(l);
    return with_time ? i18n::date_time(created_at) : i18n::date(created_at);
  };
  ASSERT_NE(date_in(i18n::Lang::fr, true), date_in(i18n::Lang::en, true));
  ASSERT_NE(date_in(i18n::Lang::fr, false), date_in(i18n::Lang::en, false));

  // `texts`: French that must be there; `english`: what they replace, gone.
  const auto check = [](const std::string& body, std::initializer_list<const char*> texts,
                        std::initializer_list<const char*> english) {
    EXPECT_NE(body.find("<html lang=\"fr\">"), std::string::npos);
    EXPECT_NE(body.find("href=\"/language?to=en\""), std::string::npos);  // the way back
    for (const char* t : texts) EXPECT_NE(body.find(t), std::string::npos) << t;
    for (const char* t : english) EXPECT_EQ(body.find(t), std::string::npos) << t;
  };
  const auto check_pages = [&](const std::function<http::Response(const std::string&)>& get) {
    auto signin = get("/login");
    ASSERT_EQ(signin.result(), bhttp::status::ok);
    check(signin.body(), {"Nom du compte", "Mot de passe", "Continuer", "<title>Se connecter"},
          {"Account name", "Password", ">Continue<", "Sign in"});

    auto list = get("/supporters");
    ASSERT_EQ(list.result(), bhttp::status::ok);
    check(list.body(),
          {"4 sympathisants. Les valeurs sont masquées", "data-label=\"Téléphone\"", ">Tableau de bord<",
           ">Se déconnecter<", "tous les sympathisants"},
          {"supporters. Values are masked", "data-label=\"Phone\"", ">Dashboard<", ">Sign out<", "all supporters"});
    EXPECT_NE(list.body().find(date_in(i18n::Lang::fr, true)), std::string::npos);
    EXPECT_EQ(list.body().find(date_in(i18n::Lang::en, true)), std::string::npos);
    expect_no_pii(list.body());

    auto record = get("/supporters/" + abroad_id);
    ASSERT_EQ(record.result(), bhttp::status::ok);
    check(record.body(),
          {"<title>Fiche sympathisant", "<dt>Pays</dt><dd>Allemagne</dd>", "<dt>Consentement</dt>",
           "e-mail\u00a0: non demandé", "Corriger un champ", "Retirer le consentement", ">Révéler<",
           "Identifiant de la fiche"},
          {"Germany", "<dt>Country</dt>", "Correct a field", "Withdraw consent", ">Reveal<", "Record id"});
    EXPECT_NE(record.body().find(date_in(i18n::Lang::fr, true)), std::string::npos);

    auto dashboard = get("/dashboard");
    ASSERT_EQ(dashboard.result(), bhttp::status::ok);
    check(dashboard.body(),
          {"4 sympathisants ajoutés ces 30 derniers jours", "Ajouts par jour", "Vos quotas",
           "Lignes affichées masquées", "Formulaire d’inscription ou API OSDI"},
          {"supporters added in the last", "Added per day", "Your budgets", "Rows shown masked",
           "Sign-up form or OSDI API"});
    EXPECT_NE(dashboard.body().find("<td>" + date_in(i18n::Lang::fr, false) + "</td>"), std::string::npos);
    EXPECT_EQ(dashboard.body().find(date_in(i18n::Lang::en, false)), std::string::npos);

    // A refusal is French too (answers.cpp), its API code is not.
    auto missing = get("/supporters/" + std::string(32, '0'));
    EXPECT_EQ(missing.result(), bhttp::status::not_found);
    check(missing.body(), {"Introuvable", "Il n’y a rien ici."}, {"Not found", "There is nothing here."});
  };

  // 1. The browser asks for French.
  check_pages([&](const std::string& target) {
    auto r = req(verb::get, target, target == "/login" ? nullptr : &*s);
    r.set(bhttp::field::accept_language, "fr-FR,fr;q=0.9,en;q=0.5");
    return send(std::move(r));
  });

  // 2. The switch: GET /language?to=fr sets the cookie and goes back to
  // the page it was clicked on; the cookie wins over an English browser.
  auto sw = req(verb::get, "/language?to=fr", &*s);
  sw.set(bhttp::field::referer, "http://127.0.0.1/dashboard?x=1");
  auto switched = send(std::move(sw));
  ASSERT_EQ(switched.result(), bhttp::status::see_other);
  EXPECT_EQ(switched[bhttp::field::location], "/dashboard");
  const std::string set = std::string(switched[bhttp::field::set_cookie]);
  ASSERT_TRUE(set.starts_with("rempart_lang=fr;")) << set;
  const std::string lang_cookie = set.substr(0, set.find(';'));
  check_pages([&](const std::string& target) {
    auto r = req(verb::get, target);
    r.set(bhttp::field::cookie, target == "/login" ? lang_cookie : s->cookie + "; " + lang_cookie);
    r.set(bhttp::field::accept_language, "en-GB,en;q=0.9");
    return send(std::move(r));
  });

  // English stays the default.
  auto english = send(req(verb::get, "/supporters", &*s));
  EXPECT_NE(english.body().find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(english.body().find("4 supporters. Values are masked"), std::string::npos);
  EXPECT_NE(english.body().find(date_in(i18n::Lang::en, true)), std::string::npos);
}

// The administrative pages in French (accounts, one's own account,
// segments, mailings, the audit log): their language, French texts and
// none of their English originals; English when asked for.
TEST_F(ConsoleTest, AccountsSegmentsMailingsAndTheAuditLogSpeakFrench) {
  for (const char* email : {"gwenaelle.kerherve@exemple.org", "thibault.vasseur@exemple.net"}) {
    core::Person p;
    p.given_name = "Ondine";
    p.email = email;
    p.tags = {"volunteer"};
    put(p);
  }
  const auto get = [&](const Session& s, const std::string& target,
                       const char* language = "fr-FR,fr;q=0.9,en;q=0.5") {
    auto r = req(verb::get, target, &s);
    r.set(bhttp::field::accept_language, language);
    return send(std::move(r));
  };
  const auto expect_french = [](const http::Response& page, const std::vector<std::string>& french,
                                const std::vector<std::string>& english) {
    ASSERT_EQ(page.result(), bhttp::status::ok);
    const std::string body = page.body();
    EXPECT_NE(body.find("<html lang=\"fr\">"), std::string::npos);
    for (const auto& f : french) EXPECT_NE(body.find(f), std::string::npos) << "missing: " << f;
    for (const auto& e : english) EXPECT_EQ(body.find(e), std::string::npos) << "still in English: " << e;
  };
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
