#include "http/intake_routes.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>

#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "core/metrics.hpp"
#include "http/test_client.hpp"

namespace rempart::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::Client;
using testing::exchange;
using testing::make_request;
using testing::send;

// TEST-ONLY sink: keeps what it is given in memory and answers `durable`,
// either at once or from a thread of its own (as the real group-commit sink
// does). Never use outside tests: it holds plaintext personal data.
class RecordingSink : public services::SubmissionSink {
 public:
  explicit RecordingSink(bool durable = true, bool from_another_thread = true)
      : durable_(durable), async_(from_another_thread) {}
  ~RecordingSink() override {
    for (auto& t : threads_) t.join();
  }

  using services::SubmissionSink::submit;
  void submit(std::vector<core::Field> fields, std::function<void(bool)> done) override {
    std::lock_guard lock(m_);
    if (auto link = core::to_link_action(fields)) {
      links_.push_back(std::move(*link));
      link_values_.push_back(core::to_person(fields));
    } else {
      people_.push_back(core::to_person(fields));
      autoresponse_.push_back(core::wants_autoresponse(fields));
      sources_.push_back(core::field_value(fields, core::field::source));
    }
    langs_.push_back(core::language_of(fields));
    if (!async_) return done(durable_);
    threads_.emplace_back([done = std::move(done), durable = durable_] {
      std::this_thread::sleep_for(5ms);
      done(durable);
    });
  }

  std::vector<core::Person> people() {
    std::lock_guard lock(m_);
    return people_;
  }
  std::vector<core::LinkAction> links() {
    std::lock_guard lock(m_);
    return links_;
  }
  std::vector<bool> autoresponse() {
    std::lock_guard lock(m_);
    return autoresponse_;
  }
  // Each item's language (core::field::lang), sign-ups and links alike.
  std::vector<std::string> langs() {
    std::lock_guard lock(m_);
    return langs_;
  }
  // Each sign-up's core::field::source ("" when it carried none).
  std::vector<std::string> sources() {
    std::lock_guard lock(m_);
    return sources_;
  }
  // The person fields each link carried (a self-service correction's).
  std::vector<core::Person> link_values() {
    std::lock_guard lock(m_);
    return link_values_;
  }

 private:
  std::mutex m_;
  std::vector<core::Person> people_;
  std::vector<core::LinkAction> links_;
  std::vector<std::string> langs_;
  std::vector<bool> autoresponse_;
  std::vector<std::string> sources_;
  std::vector<core::Person> link_values_;
  std::vector<std::thread> threads_;
  bool durable_;
  bool async_;
};

constexpr const char* kOsdi = "/api/v1/people/person_signup_helper";
constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr const char* kJson = "application/json";
constexpr const char* kAllowedOrigin = "https://petition.example.org";

IntakeRoutesOptions test_routes_options() {
  IntakeRoutesOptions o;
  o.allowed_origins = {kAllowedOrigin};
  o.rate_per_second = 1000;
  o.burst = 1000;
  return o;
}

class IntakeRoutesTest : public ::testing::Test {
 protected:
  void start(IntakeRoutesOptions o = test_routes_options(), services::SubmissionSink* sink = nullptr) {
    auto r = IntakeRoutes::create(std::move(o), sink ? *sink : sink_);
    ASSERT_TRUE(r) << r.error().internal;
    routes_ = std::move(*r);
    ServerOptions so;
    so.threads = 2;
    so.read_timeout = 2s;
    so.idle_timeout = 2s;
    so.drain_timeout = 2s;
    auto s = Server::start(so, routes_->handler(), routes_->error_renderer());
    ASSERT_TRUE(s) << s.error().internal;
    server_ = std::move(*s);
  }
  unsigned short port() const { return server_->port(); }

  Response get(const std::string& target) { return send(port(), make_request(bhttp::verb::get, target)); }
  Response post(const std::string& target, std::string body, std::string type) {
    return send(port(), make_request(bhttp::verb::post, target, std::move(body), std::move(type)));
  }

  RecordingSink sink_;
  std::unique_ptr<IntakeRoutes> routes_;
  std::unique_ptr<Server> server_;  // declared last: stops first
};

void expect_security_headers(const Response& res) {
  EXPECT_EQ(res["Content-Security-Policy"],
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Referrer-Policy"], "same-origin");
  EXPECT_EQ(res["X-Frame-Options"], "DENY");
  EXPECT_EQ(res.count(bhttp::field::server), 0u);
  if (!res.body().empty()) {
    EXPECT_NE(res[bhttp::field::content_type].find("charset=utf-8"), std::string::npos);
  }
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string serialize(const Response& res) {
  std::ostringstream os;
  os << res;
  return os.str();
}

const std::string kFormBody =
    "given_name=Ad%C3%A8le&family_name=Martin&email=adele.martin%40Example.ORG"
    "&phone=06+12+34+56+78&postal_code=75011&locality=Paris&country=fr&consent_email=on";

TEST_F(IntakeRoutesTest, SignUpPageIsAccessibleAndCarriesTheHeaders) {
  start();
  const auto res = get("/");
  ASSERT_EQ(res.result(), bhttp::status::ok);
  expect_security_headers(res);
  EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  const std::string& html = res.body();
  EXPECT_TRUE(contains(html, "<html lang=\"en\">"));
  // No action: the form posts to the page's own address, query included.
  EXPECT_TRUE(contains(html, "<form method=\"post\" accept-charset=\"utf-8\" novalidate>"));
  EXPECT_FALSE(contains(html, "action="));
  EXPECT_TRUE(contains(html, "<fieldset>"));
  EXPECT_TRUE(contains(html, "<legend>"));
  for (const char* ac : {"given-name", "family-name", "email", "tel", "postal-code",
                         "address-level2", "country"}) {
    EXPECT_TRUE(contains(html, std::string("autocomplete=\"") + ac + "\"")) << ac;
  }
  for (const char* id : {"given_name", "family_name", "email", "phone", "postal_code", "locality",
                         "country", "consent_email", "consent_sms"}) {
    EXPECT_TRUE(contains(html, std::string("<label for=\"") + id + "\"")) << id;
    EXPECT_TRUE(contains(html, std::string("id=\"") + id + "\"")) << id;
  }
  EXPECT_TRUE(contains(html, "type=\"email\""));
  EXPECT_TRUE(contains(html, "type=\"tel\""));
  EXPECT_TRUE(contains(html, "inputmode=\"tel\""));
  EXPECT_TRUE(contains(html, "type=\"checkbox\""));
  EXPECT_FALSE(contains(html, "checked"));  // consent is never pre-ticked
  EXPECT_TRUE(contains(html, "id=\"contact-note\""));  // the markers are explained
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "style="));
  EXPECT_FALSE(contains(html, "<style"));
  EXPECT_TRUE(contains(html, "href=\"/static/rempart.css\""));
}

TEST_F(IntakeRoutesTest, HeadAndStylesheet) {
  start();
  const auto head = send(port(), make_request(bhttp::verb::head, "/"));
  EXPECT_EQ(head.result(), bhttp::status::ok);
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(get("/").body().size()));
  expect_security_headers(head);

  const auto css = get("/static/rempart.css");
  EXPECT_EQ(css.result(), bhttp::status::ok);
  EXPECT_EQ(css[bhttp::field::content_type], "text/css; charset=utf-8");
  EXPECT_TRUE(contains(css.body(), ".error-message"));
  expect_security_headers(css);

  // Browsers ask for /favicon.ico by themselves: an empty answer, not a 404.
  const auto icon = get("/favicon.ico");
  EXPECT_EQ(icon.result(), bhttp::status::no_content);
  EXPECT_TRUE(icon.body().empty());
  expect_security_headers(icon);
  EXPECT_EQ(post("/favicon.ico", "", kForm).result(), bhttp::status::method_not_allowed);
}

TEST_F(IntakeRoutesTest, FormPostReachesTheSinkNormalisedAndRedirects) {
  start();
  const auto res = post("/signup", kFormBody, kForm);
  EXPECT_EQ(res.result(), bhttp::status::see_other);
  EXPECT_EQ(res[bhttp::field::location], "/thanks");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  expect_security_headers(res);
  const auto people = sink_.people();
  ASSERT_EQ(people.size(), 1u);
  const core::Person& p = people[0];
  EXPECT_EQ(p.given_name, "Ad\xC3\xA8le");
  EXPECT_EQ(p.family_name, "Martin");
  EXPECT_EQ(p.email, core::normalize_email("adele.martin@Example.ORG").value());
  EXPECT_TRUE(p.email.ends_with("@example.org"));
  EXPECT_EQ(p.phone, "+33612345678");
  EXPECT_EQ(p.postal_code, "75011");
  EXPECT_EQ(p.country, "FR");
  EXPECT_TRUE(p.consent.email);
  EXPECT_FALSE(p.consent.sms);

  const auto thanks = get("/thanks");
  EXPECT_EQ(thanks.result(), bhttp::status::ok);
  EXPECT_TRUE(contains(thanks.body(), "Thank you"));
  // It promises nothing rempart does not do: no confirmation message is sent yet.
  EXPECT_FALSE(contains(thanks.body(), "confirm"));
  EXPECT_TRUE(contains(thanks.body(), "correct or erase"));
  expect_security_headers(thanks);
}

// The form follows the schema: required fields are marked and refused
// empty; a name the page does not know never fails the sign-up; the
// declared sources are kept, from the body or from the page's own address
// (the form has no action, so the link's utm_* come along), and nothing of
// them is ever written into a page.
TEST_F(IntakeRoutesTest, FormFollowsTheSchemaAndKeepsWhereTheSignUpCameFrom) {
  auto o = test_routes_options();
  o.intake.require = {"given_name"};
  o.intake.collect = {"given_name", "email", "phone"};
  start(o);
  const auto page = get("/?utm_campaign=%3Csvg%3Ezz9");
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_TRUE(contains(page.body(), "First name <span class=\"marker\">(required)</span>"));
  EXPECT_TRUE(contains(page.body(), "(e-mail or phone)"));
  EXPECT_FALSE(contains(page.body(), "Postcode"));
  EXPECT_FALSE(contains(page.body(), "zz9"));

  const auto missing = post("/?utm_source=zz9", "email=ada%40example.org", kForm);
  EXPECT_EQ(missing.result(), bhttp::status::bad_request);
  EXPECT_TRUE(contains(missing.body(), "id=\"given_name-error\""));
  EXPECT_TRUE(contains(missing.body(), "This field cannot be empty."));
  EXPECT_FALSE(contains(missing.body(), "zz9"));
  EXPECT_TRUE(sink_.people().empty());

  const auto res = post("/?utm_campaign=rentr%C3%A9e&utm_source=newsletter&source=ignored-second&ref=x",
                        "given_name=Ada&email=ada%40example.org&postal_code=75011&source=tract-march%C3%A9"
                        "&unknown_thing=1",
                        kForm);
  EXPECT_EQ(res.result(), bhttp::status::see_other);
  EXPECT_EQ(res[bhttp::field::location], "/thanks");
  // And the JSON API: custom_fields of declared names.
  const auto api = post(kOsdi,
                        R"({"person":{"given_name":"Bo","email_addresses":[{"address":"bo@example.org"}],)"
                        R"("custom_fields":{"utm_medium":"partner","shoe_size":43,"source":7}}})",
                        kJson);
  EXPECT_EQ(api.result(), bhttp::status::accepted);
  const auto people = sink_.people();
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].given_name, "Ada");
  EXPECT_EQ(people[0].postal_code, "");  // not collected
  const auto sources = sink_.sources();
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0], "source=tract-march\xC3\xA9\nutm_source=newsletter\nutm_campaign=rentr\xC3\xA9" "e");
  EXPECT_EQ(sources[1], "source=7\nutm_medium=partner");
}

// The page names the organisation and carries its privacy notice (escaped
// configuration text); without a controller there is no notice.
TEST_F(IntakeRoutesTest, ThePageNamesTheOrganisationAndCarriesItsPrivacyNotice) {
  start();
  const auto plain = get("/");
  EXPECT_TRUE(contains(plain.body(), "<h1>Sign up</h1>"));
  EXPECT_FALSE(contains(plain.body(), "How we use your data"));
  auto o = test_routes_options();
  o.intake.organisation = "Mouvement <Démo> & Co";
  o.intake.privacy = {"Mouvement Démo, 1 rue de la Paix, 75002 Paris", "keep you informed of our campaigns",
                      "three years after your last contact with us", "", "dpo@mouvement.example"};
  start(o);
  const auto page = get("/");
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_TRUE(contains(page.body(), "<title>Sign up \xE2\x80\x93 Mouvement &lt;Démo&gt; &amp; Co</title>"));
  EXPECT_TRUE(contains(page.body(), "<h1>Sign up \xE2\x80\x93 Mouvement &lt;Démo&gt; &amp; Co</h1>"));
  EXPECT_TRUE(contains(page.body(), "<h2 id=\"privacy-h\">How we use your data</h2>"));
  EXPECT_TRUE(contains(page.body(), "Mouvement Démo, 1 rue de la Paix, 75002 Paris keeps what you give here to keep "
                                    "you informed of our campaigns."));
  EXPECT_TRUE(contains(page.body(), "How long it is kept: three years after your last contact with us."));
  EXPECT_TRUE(contains(page.body(), "by writing to dpo@mouvement.example"));
  EXPECT_TRUE(contains(page.body(), "the CNIL"));
  // The error page too: the notice is where people decide.
  const auto again = post("/signup", "email=not-an-address", kForm);
  EXPECT_TRUE(contains(again.body(), "How we use your data"));
}

// The organisation's look: its logo above every page's heading, served
// from the intake itself (the CSP allows images from 'self' only), and its
// colour as the stylesheet's accent. Without a logo, /static/logo is 404.
TEST_F(IntakeRoutesTest, TheOrganisationsLogoAndColourDressThePage) {
  start();
  EXPECT_EQ(get("/static/logo").result(), bhttp::status::not_found);
  EXPECT_FALSE(contains(get("/").body(), "/static/logo"));
  EXPECT_FALSE(contains(get("/static/rempart.css").body(), "--accent:"));
  auto o = test_routes_options();
  o.intake.organisation = "Mouvement \"Démo\"";
  o.intake.colour = "#8a1538";
  o.intake.logo = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"10\" height=\"10\"/></svg>";
  o.intake.logo_type = "image/svg+xml";
  start(o);
  for (const char* path : {"/", "/thanks", "/no-such-page"}) {
    EXPECT_TRUE(contains(get(path).body(),
                         "<header class=\"site\"><img src=\"/static/logo\" alt=\"Mouvement &quot;Démo&quot;\"></header>"))
        << path;
  }
  const auto logo = get("/static/logo");
  ASSERT_EQ(logo.result(), bhttp::status::ok);
  EXPECT_EQ(logo[bhttp::field::content_type], "image/svg+xml");
  EXPECT_EQ(logo.body(), o.intake.logo);
  EXPECT_EQ(logo[bhttp::field::cache_control], "public, max-age=3600");
  EXPECT_TRUE(contains(std::string(logo["Content-Security-Policy"]), "default-src 'none'"));  // no script in an SVG
  EXPECT_TRUE(contains(get("/static/rempart.css").body(), ":root { --accent: #8a1538; }"));
}

// The page's language: ?lang= first, then Accept-Language, then the
// default; it goes with the sign-up, so its mails are in it too, and the
// redirect to the thank-you page keeps a chosen language.
TEST_F(IntakeRoutesTest, ThePagesLanguageComesFromTheAddressOrTheBrowserAndGoesWithTheSignUp) {
  auto o = test_routes_options();
  o.confirmation_mail = true;  // the thank-you page links to /manage
  start(o);
  auto fr = make_request(bhttp::verb::get, "/");
  fr.set(bhttp::field::accept_language, "fr-FR,fr;q=0.9,en;q=0.5");
  const auto page = send(port(), fr);
  EXPECT_TRUE(contains(page.body(), "<html lang=\"fr\">"));
  EXPECT_TRUE(contains(page.body(), "<h1>S’inscrire</h1>"));
  EXPECT_TRUE(contains(page.body(), "<a href=\"/?lang=en\" hreflang=\"en\" lang=\"en\">English</a>"));
  EXPECT_FALSE(contains(page.body(), "About you"));
  const auto en = get("/?lang=en");
  EXPECT_TRUE(contains(en.body(), "<html lang=\"en\">"));
  EXPECT_TRUE(contains(en.body(), "href=\"/?lang=fr\""));
  // A value that is none of ours is ignored, never reflected.
  const auto odd = get("/?lang=%3Cscript%3E");
  EXPECT_TRUE(contains(odd.body(), "<html lang=\"en\">"));
  EXPECT_FALSE(contains(odd.body(), "script"));

  auto post_fr = make_request(bhttp::verb::post, "/?lang=fr", "email=lina%40example.org", kForm);
  const auto done = send(port(), post_fr);
  EXPECT_EQ(done.result(), bhttp::status::see_other);
  EXPECT_EQ(done[bhttp::field::location], "/thanks?lang=fr");
  auto post_browser = make_request(bhttp::verb::post, "/", "email=noe%40example.org", kForm);
  post_browser.set(bhttp::field::accept_language, "fr");
  EXPECT_EQ(send(port(), post_browser)[bhttp::field::location], "/thanks?lang=fr");
  EXPECT_EQ(post("/", "email=ada%40example.org", kForm)[bhttp::field::location], "/thanks");
  EXPECT_EQ(sink_.langs(), (std::vector<std::string>{"fr", "fr", "en"}));
  const auto thanks = get("/thanks?lang=fr");
  EXPECT_TRUE(contains(thanks.body(), "<h1>Merci</h1>"));
  EXPECT_TRUE(contains(thanks.body(), "href=\"/manage?lang=fr\""));
}

TEST_F(IntakeRoutesTest, InvalidFormComesBackEmptyWithAccessibleErrors) {
  start();
  const auto res = post("/signup", "given_name=Zo%C3%A9&email=not-an-address&phone=12", kForm);
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  expect_security_headers(res);
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  const std::string& html = res.body();
  EXPECT_TRUE(contains(html, "aria-invalid=\"true\""));
  EXPECT_TRUE(contains(html, "id=\"email-error\""));
  EXPECT_TRUE(contains(html, "aria-describedby=\"email-error"));
  EXPECT_TRUE(contains(html, "href=\"#email\""));
  // No input carries a value; the only values are the country list's
  // codes, ours, with none selected.
  EXPECT_FALSE(std::regex_search(html, std::regex("<input[^>]* value=")));
  EXPECT_FALSE(contains(html, " selected"));
  EXPECT_FALSE(contains(html, "Zo\xC3\xA9"));
  EXPECT_FALSE(contains(html, "not-an-address"));
  EXPECT_TRUE(sink_.people().empty());
}

TEST_F(IntakeRoutesTest, OsdiPostWithNumericPhoneAndSeveralAddressesIsAccepted) {
  start();
  const std::string body = R"({"person":{"given_name":"Jean","family_name":"Dupont",
    "email_addresses":[{"address":"old@example.org"},{"address":"Jean.Dupont@example.org","primary":true}],
    "phone_numbers":[{"number":33612345678}],
    "postal_addresses":[{"postal_code":"69001","locality":"Lyon","country":"FR"}]},
    "add_tags":["volunteer"],"consent":{"email":true,"sms":true}})";
  const auto res = post(kOsdi, body, "application/json; charset=UTF-8");
  EXPECT_EQ(res.result(), bhttp::status::accepted);
  EXPECT_EQ(res.body(), R"({"status":"accepted"})");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  expect_security_headers(res);
  const auto people = sink_.people();
  ASSERT_EQ(people.size(), 1u);
  EXPECT_EQ(people[0].email, core::normalize_email("Jean.Dupont@example.org").value());
  EXPECT_EQ(people[0].phone, "+33612345678");
  EXPECT_EQ(people[0].postal_code, "69001");
  EXPECT_TRUE(people[0].consent.sms);
}

// What Action Network or NationBuilder sends for someone in La Réunion: a
// tag with an accent, the country by name, the mobile in national form.
TEST_F(IntakeRoutesTest, OsdiPostWithAccentedTagAndCountryNameIsAccepted) {
  start();
  const std::string body = R"({"person":{"given_name":"Maëlys","email_addresses":[{"address":"maelys@example.org"}],
    "phone_numbers":[{"number":"0692 12 34 56"}],
    "postal_addresses":[{"postal_code":"97400","locality":"Saint-Denis","country":"La R\u00e9union"}]},
    "add_tags":["Comité Paris 2","  comité   PARIS 2 ","Bénévoles 🌻"]})";
  const auto res = post(kOsdi, body, kJson);
  EXPECT_EQ(res.result(), bhttp::status::accepted);
  EXPECT_EQ(res.body(), R"({"status":"accepted"})");
  const auto people = sink_.people();
  ASSERT_EQ(people.size(), 1u);
  EXPECT_EQ(people[0].tags, (std::vector<std::string>{"bénévoles 🌻", "comité paris 2"}));
  EXPECT_EQ(people[0].country, "RE");
  EXPECT_EQ(people[0].phone, "+262692123456");

  // A tag that would break a CSV list is still refused, naming no value.
  const auto bad = post(kOsdi, R"({"person":{"email_addresses":[{"address":"x@example.org"}]},"add_tags":["a,b"]})",
                        kJson);
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_EQ(bad.body(), R"({"errors":[{"code":"invalid_tag","field":"tags"}]})");
  EXPECT_EQ(sink_.people().size(), 1u);
}

TEST_F(IntakeRoutesTest, TheSamePersonTwiceGetsByteIdenticalAnswers) {
  start();
  const std::string body = R"({"person":{"email_addresses":[{"address":"same@example.org"}]}})";
  const std::string raw = "POST " + std::string(kOsdi) +
                          " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Connection: close\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  const auto first = exchange(port(), raw);
  const auto second = exchange(port(), raw);
  EXPECT_TRUE(first.starts_with("HTTP/1.1 202 ")) << first;
  EXPECT_EQ(first, second);
  // And a different person gets the very same bytes too.
  const std::string other = R"({"person":{"email_addresses":[{"address":"else@example.org"}]}})";
  const auto third = exchange(port(), "POST " + std::string(kOsdi) +
                                          " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                          "Connection: close\r\nContent-Length: " +
                                          std::to_string(other.size()) + "\r\n\r\n" + other);
  EXPECT_EQ(first, third);
  // The form route likewise.
  EXPECT_EQ(serialize(post("/signup", "email=a%40example.org", kForm)),
            serialize(post("/signup", "email=b%40example.org&given_name=B", kForm)));
  EXPECT_EQ(sink_.people().size(), 5u);
}

TEST_F(IntakeRoutesTest, OsdiErrorsNameFieldsAndCodesOnly) {
  start();
  const auto res = post(kOsdi, R"({"person":{"email_addresses":[{"address":"nope"}]}})", kJson);
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  expect_security_headers(res);
  const auto j = nlohmann::json::parse(res.body());
  ASSERT_TRUE(j.contains("errors"));
  ASSERT_FALSE(j["errors"].empty());
  for (const auto& e : j["errors"]) {
    EXPECT_EQ(e.size(), 2u);
    EXPECT_TRUE(e["field"].is_string());
    EXPECT_TRUE(e["code"].is_string());
  }
  EXPECT_EQ(j["errors"][0]["code"], "invalid_email");
  EXPECT_FALSE(contains(res.body(), "nope"));
}

TEST_F(IntakeRoutesTest, AFailingSinkGives503) {
  RecordingSink failing(/*durable=*/false);
  start(test_routes_options(), &failing);
  const auto api = post(kOsdi, R"({"person":{"email_addresses":[{"address":"x@example.org"}]}})", kJson);
  EXPECT_EQ(api.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(api.body(), R"({"errors":[{"code":"unavailable","field":"body"}]})");
  expect_security_headers(api);
  const auto form = post("/signup", "email=x%40example.org", kForm);
  EXPECT_EQ(form.result(), bhttp::status::service_unavailable);
  EXPECT_FALSE(contains(form.body(), "x@example.org"));
  expect_security_headers(form);
  server_.reset();  // before `failing` goes away
}

TEST_F(IntakeRoutesTest, ASinkAnsweringOnTheSameThreadWorksToo) {
  RecordingSink sync(/*durable=*/true, /*from_another_thread=*/false);
  start(test_routes_options(), &sync);
  EXPECT_EQ(post("/signup", "email=x%40example.org", kForm).result(), bhttp::status::see_other);
  server_.reset();
}

TEST_F(IntakeRoutesTest, WrongContentTypeIs415) {
  start();
  EXPECT_EQ(post(kOsdi, "{}", "text/plain").result(), bhttp::status::unsupported_media_type);
  EXPECT_EQ(post(kOsdi, "{}", "application/json; charset=latin1").result(),
            bhttp::status::unsupported_media_type);
  EXPECT_EQ(post(kOsdi, "{}", "").result(), bhttp::status::unsupported_media_type);
  EXPECT_EQ(post("/signup", "email=x%40example.org", kJson).result(),
            bhttp::status::unsupported_media_type);
  const auto res = post("/signup", "a", "multipart/form-data; boundary=x");
  EXPECT_EQ(res.result(), bhttp::status::unsupported_media_type);
  expect_security_headers(res);
  EXPECT_TRUE(sink_.people().empty());
}

TEST_F(IntakeRoutesTest, LimitsAnswerWithTheSameHeaders) {
  start();
  const auto big = exchange(port(), "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                                        std::string(kForm) + "\r\nContent-Length: 20000\r\n\r\n" +
                                        std::string(20000, 'a'));
  EXPECT_TRUE(big.starts_with("HTTP/1.1 413 ")) << big.substr(0, 40);
  EXPECT_TRUE(contains(big, "X-Frame-Options: DENY"));
  EXPECT_TRUE(contains(big, "Content-Security-Policy: default-src 'none'"));
  EXPECT_TRUE(contains(big, "Content-Type: text/plain; charset=utf-8"));
  const auto tall = exchange(port(), "GET / HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(9000, 'c') +
                                         "\r\n\r\n");
  EXPECT_TRUE(tall.starts_with("HTTP/1.1 431 ")) << tall.substr(0, 40);
  EXPECT_TRUE(contains(tall, "X-Content-Type-Options: nosniff"));
  EXPECT_FALSE(contains(tall, "ccccc"));
}

TEST_F(IntakeRoutesTest, UnknownPathsAre404AndWrongMethods405) {
  start();
  const auto missing = get("/admin?email=someone%40example.org");
  EXPECT_EQ(missing.result(), bhttp::status::not_found);
  expect_security_headers(missing);
  EXPECT_FALSE(contains(missing.body(), "admin"));
  EXPECT_FALSE(contains(missing.body(), "someone"));
  EXPECT_EQ(get("/api/v2/other").result(), bhttp::status::not_found);
  EXPECT_EQ(get("/api/v2/other")[bhttp::field::content_type], "application/json; charset=utf-8");

  const auto put = send(port(), make_request(bhttp::verb::put, "/", "x", "text/plain"));
  EXPECT_EQ(put.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(put[bhttp::field::allow], "GET, HEAD, POST");
  expect_security_headers(put);
  EXPECT_EQ(get("/signup")[bhttp::field::allow], "POST");
  const auto api = get(kOsdi);
  EXPECT_EQ(api.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(api[bhttp::field::allow], "OPTIONS, POST");
}

Request preflight(const std::string& origin) {
  Request req = make_request(bhttp::verb::options, kOsdi);
  req.set(bhttp::field::origin, origin);
  req.set(bhttp::field::access_control_request_method, "POST");
  req.set(bhttp::field::access_control_request_headers, "content-type");
  return req;
}

TEST_F(IntakeRoutesTest, CorsPreflightForListedOriginsOnly) {
  start();
  const auto ok = send(port(), preflight(kAllowedOrigin));
  EXPECT_EQ(ok.result(), bhttp::status::no_content);
  EXPECT_EQ(ok[bhttp::field::access_control_allow_origin], kAllowedOrigin);
  EXPECT_EQ(ok[bhttp::field::access_control_allow_methods], "POST");
  EXPECT_EQ(ok[bhttp::field::access_control_allow_headers], "Content-Type");
  EXPECT_FALSE(ok[bhttp::field::access_control_max_age].empty());
  EXPECT_EQ(ok[bhttp::field::vary], "Origin");
  expect_security_headers(ok);

  for (const char* origin : {"https://evil.example", "https://petition.example.org.evil",
                                   "null", "http://petition.example.org"}) {
    const auto refused = send(port(), preflight(origin));
    EXPECT_EQ(refused.result(), bhttp::status::forbidden) << origin;
    EXPECT_EQ(refused.count(bhttp::field::access_control_allow_origin), 0u);
    EXPECT_EQ(refused.count(bhttp::field::access_control_allow_methods), 0u);
    EXPECT_EQ(refused.count(bhttp::field::access_control_allow_headers), 0u);
    EXPECT_FALSE(contains(serialize(refused), "evil")) << origin;
    expect_security_headers(refused);
  }

  const std::string body = R"({"person":{"email_addresses":[{"address":"c@example.org"}]}})";
  Request listed = make_request(bhttp::verb::post, kOsdi, body, kJson);
  listed.set(bhttp::field::origin, kAllowedOrigin);
  const auto with = send(port(), listed);
  EXPECT_EQ(with.result(), bhttp::status::accepted);
  EXPECT_EQ(with[bhttp::field::access_control_allow_origin], kAllowedOrigin);
  Request other = make_request(bhttp::verb::post, kOsdi, body, kJson);
  other.set(bhttp::field::origin, "https://evil.example");
  const auto without = send(port(), other);
  EXPECT_EQ(without.count(bhttp::field::access_control_allow_origin), 0u);
}

// Another site's page cannot make its visitors' browsers sign up addresses
// of its choosing: a form post a browser says comes from elsewhere is
// refused unless that origin is listed; one from the page itself, a listed
// origin, or a client that is no browser (no Origin, no Sec-Fetch-Site)
// goes through.
TEST_F(IntakeRoutesTest, CrossSiteFormPostsAreRefused) {
  start();
  const auto form = [&](std::initializer_list<std::pair<const char*, const char*>> headers) {
    Request req = make_request(bhttp::verb::post, "/signup", "email=victim%40example.org", kForm);
    for (const auto& [name, value] : headers) req.set(name, value);
    return send(port(), req);
  };
  for (const auto& refused : {form({{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}}),
                              form({{"Origin", "https://evil.example"}}),
                              form({{"Origin", "null"}}),
                              form({{"Sec-Fetch-Site", "cross-site"}}),
                              form({{"Origin", "https://www.example.org"}, {"Sec-Fetch-Site", "same-site"}}),
                              form({{"Origin", "https://127.0.0.1.evil.example"}})}) {
    EXPECT_EQ(refused.result(), bhttp::status::forbidden);
    EXPECT_TRUE(contains(refused.body(), "sent from another website, so nothing was kept"));
    EXPECT_FALSE(contains(serialize(refused), "evil"));
    EXPECT_FALSE(contains(serialize(refused), "victim"));
    expect_security_headers(refused);
  }
  EXPECT_TRUE(sink_.people().empty());

  EXPECT_EQ(form({{"Origin", "http://127.0.0.1"}, {"Sec-Fetch-Site", "same-origin"}}).result(),
            bhttp::status::see_other);
  EXPECT_EQ(form({{"Origin", "http://127.0.0.1"}}).result(), bhttp::status::see_other);  // no Sec-Fetch-Site
  // Sec-Fetch-Site decides where a browser sends it: an Origin "null" from
  // our own page (a browser's privacy setting) is not a reason to refuse.
  EXPECT_EQ(form({{"Origin", "null"}, {"Sec-Fetch-Site", "same-origin"}}).result(), bhttp::status::see_other);
  EXPECT_EQ(form({{"Origin", kAllowedOrigin}, {"Sec-Fetch-Site", "cross-site"}}).result(), bhttp::status::see_other);
  EXPECT_EQ(form({}).result(), bhttp::status::see_other);
  EXPECT_EQ(sink_.people().size(), 5u);
}

TEST_F(IntakeRoutesTest, RefusesBadOriginSettings) {
  for (const char* bad : {"*", "null", "https://a.example/", "https://A.example",
                                "ftp://a.example", "https://a.example/path"}) {
    IntakeRoutesOptions o = test_routes_options();
    o.allowed_origins = {bad};
    auto r = IntakeRoutes::create(o, sink_);
    EXPECT_FALSE(r) << bad;
  }
}

TEST_F(IntakeRoutesTest, PostsAreRateLimitedWith429AndRetryAfter) {
  IntakeRoutesOptions o = test_routes_options();
  o.rate_per_second = 0.01;
  o.burst = 2;
  start(o);
  EXPECT_EQ(post("/signup", "email=a%40example.org", kForm).result(), bhttp::status::see_other);
  EXPECT_EQ(post(kOsdi, "{}", kJson).result(), bhttp::status::bad_request);
  const auto limited = post("/signup", "email=b%40example.org", kForm);
  EXPECT_EQ(limited.result(), bhttp::status::too_many_requests);
  const int retry = std::stoi(std::string(limited[bhttp::field::retry_after]));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 100);
  expect_security_headers(limited);
  EXPECT_EQ(post(kOsdi, "{}", kJson).result(), bhttp::status::too_many_requests);
  // Pages are not limited.
  EXPECT_EQ(get("/").result(), bhttp::status::ok);
  EXPECT_EQ(sink_.people().size(), 1u);
}

// Input meant to be reflected: none of it may come back, whatever route or
// error it hits.
TEST_F(IntakeRoutesTest, HostileInputIsNeverReflected) {
  start();
  const std::vector<std::string> needles = {"alert(", "onerror", "<svg", "evil", "DROP TABLE", "zz9"};
  std::vector<std::string> answers;
  const auto form_post = [&](const std::string& body, const std::string& type) {
    answers.push_back(serialize(post("/signup", body, type)));
  };
  form_post("given_name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E%40evil",
            kForm);
  form_post("email=x%40&%3Csvg+onload%3Dalert(1)%3E=zz9&source=%3Csvg%3Ezz9", kForm);
  form_post("email=zz9'%3B+DROP+TABLE+people%3B--&phone=%3Csvg%3E", kForm);
  form_post("email=%ZZzz9", kForm);
  form_post("given_name=zz9\xC3\x28&email=a%40b.example", kForm);
  form_post("<svg onload=alert(1)>zz9", "text/evil; charset=zz9");
  const auto api = [&](const std::string& body) {
    answers.push_back(serialize(post(kOsdi, body, kJson)));
  };
  api(R"({"person":{"email_addresses":[{"address":"<img src=x onerror=alert(1)>@evil"}]}})");
  api(R"({"person":{"given_name":"<svg>","<svg onload=alert(1)>":"zz9"}})");
  api(R"({"person":{"email_addresses":[{"address":"a@b.example","address":"zz9@evil"}]}})");
  api(R"({"zz9": "DROP TABLE", "person": 5})");
  api(R"({"person":{"phone_numbers":[{"number":"zz9 onerror"}]}})");
  api("<svg onload=alert(1)> zz9");
  answers.push_back(exchange(port(), "GET /<svg>zz9 HTTP/1.1\r\nHost: evil\r\nConnection: close\r\n\r\n"));
  answers.push_back(exchange(port(), "GET /zz9?q=alert( HTTP/1.1\r\nHost: evil\r\nConnection: close\r\n\r\n"));
  answers.push_back(exchange(port(), "POST /signup HTTP/1.1\r\nHost: evil\r\nX-Evil: zz9\r\nContent-Length: 1\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n"));
  for (std::size_t i = 0; i < answers.size(); ++i) {
    for (const auto& n : needles) {
      EXPECT_FALSE(contains(answers[i], n)) << "answer " << i << " reflects " << n;
    }
    EXPECT_FALSE(answers[i].empty()) << i;
    EXPECT_FALSE(answers[i].starts_with("HTTP/1.1 5")) << i;
  }
  EXPECT_TRUE(sink_.people().empty());
}

// The thank-you page tells what happens next: a confirmation mail only
// where the keeper sends one.
TEST_F(IntakeRoutesTest, ThanksPageMentionsTheConfirmationMailOnlyWhenMailIsOn) {
  auto o = test_routes_options();
  o.confirmation_mail = true;
  start(o);
  const auto thanks = get("/thanks");
  EXPECT_EQ(thanks.result(), bhttp::status::ok);
  EXPECT_TRUE(contains(thanks.body(), "message to confirm it")) << thanks.body();
  EXPECT_TRUE(contains(thanks.body(), "anti-phishing phrase")) << thanks.body();
}

const std::string kToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";  // 43 base64url characters

// Opening a mailed link changes nothing (mail scanners open links); its
// button posts back to the same address, and the token is never written
// into the page.
TEST_F(IntakeRoutesTest, ALinkOpenedShowsAButtonAndStoresNothing) {
  start();
  for (const char* path : {"/confirm", "/unsubscribe"}) {
    const auto res = get(std::string(path) + "?t=" + kToken);
    ASSERT_EQ(res.result(), bhttp::status::ok) << path;
    EXPECT_TRUE(contains(res.body(), "<form method=\"post\">")) << res.body();
    EXPECT_FALSE(contains(res.body(), "action=")) << res.body();
    EXPECT_FALSE(contains(res.body(), kToken)) << res.body();
    EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
    EXPECT_EQ(send(port(), make_request(bhttp::verb::head, std::string(path) + "?t=" + kToken)).result(),
              bhttp::status::ok);
  }
  EXPECT_TRUE(sink_.links().empty());
  EXPECT_TRUE(sink_.people().empty());
  EXPECT_EQ(send(port(), make_request(bhttp::verb::put, "/confirm?t=" + kToken)).result(),
            bhttp::status::method_not_allowed);
}

// The button's POST and a mail client's RFC 8058 one-click POST hand the
// token to the sink as it came; the answer is the same for a token that
// has the shape of one and for anything else (which is not stored).
TEST_F(IntakeRoutesTest, ALinkPostedIsSealedWithTheSameAnswerWhateverTheToken) {
  start();
  const auto confirm = post("/confirm?t=" + kToken, "", kForm);
  const auto one_click = post("/unsubscribe?x=1&t=" + kToken, "List-Unsubscribe=One-Click", kForm);
  const auto bogus = post("/confirm?t=not-a-token", "", kForm);
  const auto none = post("/unsubscribe", "List-Unsubscribe=One-Click", kForm);
  for (const auto* r : {&confirm, &bogus}) {
    EXPECT_EQ(r->result(), bhttp::status::ok);
    EXPECT_TRUE(contains(r->body(), "If the link was valid")) << r->body();
  }
  EXPECT_EQ(confirm.body(), bogus.body());
  for (const auto* r : {&one_click, &none}) {
    EXPECT_EQ(r->result(), bhttp::status::ok);
    EXPECT_TRUE(contains(r->body(), "You are unsubscribed")) << r->body();
  }
  EXPECT_EQ(one_click.body(), none.body());
  const auto links = sink_.links();
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], (core::LinkAction{"confirm", kToken, "", "", "en"}));
  EXPECT_EQ(links[1], (core::LinkAction{"unsubscribe", kToken, "", "", "en"}));
  EXPECT_TRUE(sink_.people().empty());
}

// A link's POST from a storage that is down: 503, nothing promised.
TEST_F(IntakeRoutesTest, ALinkPostedWhenTheInboxIsDownAnswers503) {
  RecordingSink down(false);
  start(test_routes_options(), &down);
  const auto res = post("/unsubscribe?t=" + kToken, "List-Unsubscribe=One-Click", kForm);
  EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
  EXPECT_TRUE(contains(res.body(), "Nothing was kept")) << res.body();
}

// TEST-ONLY: an inbox whose room the test sets, counting how often it is asked.
class ScriptedRoom : public services::InboxRoom {
 public:
  bool has_room() noexcept override {
    ++asked;
    return room.load();
  }
  std::atomic<bool> room{true};
  std::atomic<int> asked{0};
};

// The disk reserve: without room, every route that stores answers 503 with
// Retry-After and the same body as a failing inbox, and nothing reaches the
// sink; a field error is still shown first. With room again, 202.
TEST_F(IntakeRoutesTest, WithoutRoomInTheInboxNothingIsSealedAnd503AsksToComeBack) {
  ScriptedRoom room;
  auto o = test_routes_options();
  o.inbox_room = &room;
  o.confirmation_mail = true;  // the self-service routes too
  start(o);
  auto& rejected = core::metrics::process_registry().rejected;
  const auto refused_before = rejected[core::metrics::Reject::disk_reserve].value();
  const auto unavailable_before = rejected[core::metrics::Reject::unavailable].value();
  room.room = false;

  const std::string person = R"({"person":{"email_addresses":[{"address":"x@example.org"}]}})";
  auto osdi_req = make_request(bhttp::verb::post, kOsdi, person, kJson);
  osdi_req.set(bhttp::field::origin, kAllowedOrigin);
  const auto api = send(port(), std::move(osdi_req));
  EXPECT_EQ(api.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(api.body(), R"({"errors":[{"code":"unavailable","field":"body"}]})");
  EXPECT_EQ(api[bhttp::field::retry_after], "120");
  EXPECT_EQ(api[bhttp::field::access_control_allow_origin], kAllowedOrigin);
  expect_security_headers(api);
  const auto form = post("/signup", "email=x%40example.org", kForm);
  EXPECT_EQ(form.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(form[bhttp::field::retry_after], "120");
  EXPECT_TRUE(contains(form.body(), "Nothing was kept")) << form.body();
  EXPECT_FALSE(contains(form.body(), "x@example.org"));
  expect_security_headers(form);
  for (const std::string& target : {"/confirm?t=" + kToken, "/unsubscribe?t=" + kToken}) {
    const auto link = post(target, "", kForm);
    EXPECT_EQ(link.result(), bhttp::status::service_unavailable) << target;
    EXPECT_EQ(link[bhttp::field::retry_after], "120");
  }
  EXPECT_EQ(post("/manage", "email=x%40example.org", kForm).result(), bhttp::status::service_unavailable);
  // Fields are checked before the room: the person still sees a mistake.
  EXPECT_EQ(post("/signup", "email=not-an-address", kForm).result(), bhttp::status::bad_request);
  EXPECT_EQ(room.asked.load(), 5);
  EXPECT_TRUE(sink_.people().empty());
  EXPECT_TRUE(sink_.links().empty());
  EXPECT_EQ(rejected[core::metrics::Reject::disk_reserve].value() - refused_before, 5u);
  EXPECT_EQ(rejected[core::metrics::Reject::unavailable].value(), unavailable_before);

  room.room = true;
  const auto back = post(kOsdi, person, kJson);
  EXPECT_EQ(back.result(), bhttp::status::accepted);
  EXPECT_EQ(back.count(bhttp::field::retry_after), 0u);
  EXPECT_EQ(sink_.people().size(), 1u);
}

// OSDI's triggers.autoresponse.enabled = false travels beside the person.
TEST_F(IntakeRoutesTest, OsdiAutoresponseOffTravelsWithTheSignUp) {
  start();
  const std::string quiet = R"({"person": {"email_addresses": [{"address": "quiet@example.org"}]},
                                "triggers": {"autoresponse": {"enabled": false}}, "consent": {"email": true}})";
  const std::string loud = R"({"person": {"email_addresses": [{"address": "loud@example.org"}]},
                               "consent": {"email": true}})";
  EXPECT_EQ(post(kOsdi, quiet, kJson).result(), bhttp::status::accepted);
  EXPECT_EQ(post(kOsdi, loud, kJson).result(), bhttp::status::accepted);
  const auto flags = sink_.autoresponse();
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_FALSE(flags[0]);
  EXPECT_TRUE(flags[1]);
}

// Self-service: without mail nothing can reach anyone, so no page.
TEST_F(IntakeRoutesTest, SelfServicePagesNeedMail) {
  start();
  EXPECT_EQ(get("/manage").result(), bhttp::status::not_found);
  EXPECT_EQ(post("/manage", "email=a%40example.org", kForm).result(), bhttp::status::not_found);
  EXPECT_TRUE(sink_.links().empty());
}

// Asking for a self-service link: the same answer for any address, the
// address sealed normalised; a mistyped one shown as an error; another
// site's page refused.
TEST_F(IntakeRoutesTest, ASelfServiceLinkIsAskedForWithTheSameAnswerForAnyAddress) {
  auto o = test_routes_options();
  o.confirmation_mail = true;
  start(o);
  const auto page = get("/manage");
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_TRUE(contains(page.body(), "<form method=\"post\" action=\"/manage\"")) << page.body();
  EXPECT_TRUE(contains(page.body(), "autocomplete=\"email\""));
  expect_security_headers(page);

  const auto a = post("/manage", "email=Adele.Martin%40EXAMPLE.org", kForm);
  const auto b = post("/manage", "email=nobody%40example.net", kForm);
  EXPECT_EQ(a.result(), bhttp::status::ok);
  EXPECT_EQ(a.body(), b.body());
  EXPECT_TRUE(contains(a.body(), "If this address is in our records")) << a.body();
  EXPECT_FALSE(contains(a.body(), "adele"));
  auto links = sink_.links();
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], (core::LinkAction{"manage_request", "", "", "adele.martin@example.org", "en"}));

  const auto bad = post("/manage", "email=not+an+address", kForm);
  EXPECT_EQ(bad.result(), bhttp::status::bad_request);
  EXPECT_TRUE(contains(bad.body(), "aria-invalid=\"true\"")) << bad.body();
  EXPECT_FALSE(contains(bad.body(), "not an address"));
  auto cross = make_request(bhttp::verb::post, "/manage", "email=victim%40example.org", kForm);
  cross.set(bhttp::field::origin, "https://evil.example");
  cross.set("Sec-Fetch-Site", "cross-site");
  EXPECT_EQ(send(port(), std::move(cross)).result(), bhttp::status::forbidden);
  EXPECT_EQ(sink_.links().size(), 2u);
}

// A self-service link's page: every step posts back, nothing held is shown,
// mistakes are caught before anything is sealed.
TEST_F(IntakeRoutesTest, SelfServiceStepsAreCheckedThenSealedWithTheToken) {
  auto o = test_routes_options();
  o.confirmation_mail = true;
  start(o);
  const std::string at = "/manage?t=" + kToken;
  const auto page = get(at);
  ASSERT_EQ(page.result(), bhttp::status::ok);
  EXPECT_FALSE(contains(page.body(), kToken));
  EXPECT_FALSE(contains(page.body(), "action="));
  EXPECT_EQ(page["Referrer-Policy"], "no-referrer");
  for (const char* step : {"value=\"export\"", "value=\"withdraw\"", "value=\"correct\"", "value=\"erase\""}) {
    EXPECT_TRUE(contains(page.body(), step)) << step;
  }
  EXPECT_FALSE(contains(page.body(), "id=\"email\""));  // an address is not corrected here

  const auto bad_phone = post(at, "step=correct&phone=12", kForm);
  EXPECT_EQ(bad_phone.result(), bhttp::status::bad_request);
  EXPECT_TRUE(contains(bad_phone.body(), "Enter a phone number")) << bad_phone.body();
  const auto unticked = post(at, "step=erase", kForm);
  EXPECT_EQ(unticked.result(), bhttp::status::bad_request);
  EXPECT_TRUE(contains(unticked.body(), "Tick the box")) << unticked.body();
  EXPECT_EQ(post(at, "step=correct&email=x%40example.org", kForm).result(), bhttp::status::bad_request);
  EXPECT_EQ(post(at, "step=dance", kForm).result(), bhttp::status::bad_request);
  EXPECT_TRUE(sink_.links().empty());

  const auto fixed = post(at, "step=correct&given_name=Ad%C3%A8le&family_name=&phone=06+12+34+56+78", kForm);
  EXPECT_EQ(fixed.result(), bhttp::status::ok);
  EXPECT_TRUE(contains(fixed.body(), "your corrections are saved")) << fixed.body();
  const auto erase = post(at, "step=erase&understood=on", kForm);
  EXPECT_TRUE(contains(erase.body(), "your data is erased")) << erase.body();
  const auto other = post("/manage?t=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "step=erase&understood=on", kForm);
  EXPECT_EQ(erase.body(), other.body());
  const auto links = sink_.links();
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[0], (core::LinkAction{"manage", kToken, "correct", "", "en"}));
  EXPECT_EQ(links[1], (core::LinkAction{"manage", kToken, "erase", "", "en"}));
  EXPECT_TRUE(sink_.people().empty());  // a correction travels as a link's fields, never as a sign-up
  const auto values = sink_.link_values();
  EXPECT_EQ(values[0].given_name, "Adèle");
  EXPECT_EQ(values[0].family_name, "");
  EXPECT_EQ(values[0].phone, "+33612345678");
  EXPECT_EQ(values[1].given_name, "");
}

}  // namespace
}  // namespace rempart::http
