// End-to-end: the real binary, a real SQLite file, real HTTP on loopback.
#include <gtest/gtest.h>

#include <thread>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

// Test personal data: none of it may ever appear on disk in clear, in a log
// line or in a response.
const std::string kGiven = "Zéphyrine";
const std::string kFamily = "Quennevillard";
const std::string kEmail = "zephyrine.quennevillard@example.org";
const std::string kPhoneNational = "01 99 00 43 21";
const std::string kPhoneE164 = "+33199004321";
const std::string kGiven2 = "Octavien";
const std::string kFamily2 = "Brasdefer";
const std::string kEmail2 = "octavien.brasdefer@example.net";
const std::string kPhone2E164 = "+33261915678";

std::string form_body() {
  return "given_name=Z%C3%A9phyrine&family_name=Quennevillard&email=zephyrine.quennevillard%40example.org"
         "&phone=01+99+00+43+21&postal_code=75011&consent_email=on";
}

std::string osdi_body() {
  return R"({"person":{"given_name":"Octavien","family_name":"Brasdefer",)"
         R"("email_addresses":[{"address":"octavien.brasdefer@example.net","primary":true,"status":"subscribed"}],)"
         R"("phone_numbers":[{"number":33261915678,"number_type":"Mobile","sms_capable":true}],)"
         R"("postal_addresses":[{"postal_code":"69007","locality":"Lyon","country":"FR"}]},)"
         R"("add_tags":["volunteer"],"consent":{"email":true,"sms":true}})";
}

std::string count(const Instance& in) {
  auto r = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// Waits until `supporters count` prints `want` (folding runs in the keeper).
bool wait_count(const Instance& in, int want, std::chrono::seconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count(in) == std::to_string(want) + "\n") return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

void expect_no_pii(const std::string& where, const std::string& text) {
  for (const auto& s : {kGiven, kFamily, kEmail, kPhoneE164, kPhoneNational, kGiven2, kFamily2, kEmail2,
                        kPhone2E164, std::string("99004321"), std::string("zephyrine"), std::string("Brasdefer")}) {
    EXPECT_EQ(text.find(s), std::string::npos) << where << " contains test personal data";
  }
}

TEST(Serve, SignsUpThroughBothEndpointsAndFolds) {
  Instance in;
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();

  auto page = http_request(port, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form"), std::string::npos);
  EXPECT_NE(page.headers["content-security-policy"].find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(page.headers.count("server"), 0u);

  auto form = http_request(port, "POST", "/signup", "application/x-www-form-urlencoded", form_body());
  EXPECT_TRUE(form.status == 200 || form.status == 303) << form.status;
  auto api = http_request(port, "POST", "/api/v1/people/person_signup_helper", "application/json", osdi_body());
  EXPECT_EQ(api.status, 202);
  expect_no_pii("form response", form.body);
  expect_no_pii("api response", api.body);

  ASSERT_TRUE(wait_count(in, 2)) << srv.log();

  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--email", kEmail, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("\"given_name\":\"" + kGiven + "\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"family_name\":\"" + kFamily + "\""), std::string::npos);
  EXPECT_NE(show.out.find("\"phone\":\"" + kPhoneE164 + "\""), std::string::npos);
  EXPECT_NE(show.out.find("\"postal_code\":\"75011\""), std::string::npos);
  EXPECT_NE(show.out.find("\"email\":true"), std::string::npos);  // consent

  auto by_phone = run_rempart({"supporters", "show", "--config", in.config.string(), "--phone", "+33 2 61 91 56 78",
                               "--json"});
  ASSERT_EQ(by_phone.exit_code, 0) << by_phone.err;
  EXPECT_NE(by_phone.out.find("\"email\":\"" + kEmail2 + "\""), std::string::npos) << by_phone.out;
  EXPECT_NE(by_phone.out.find("volunteer"), std::string::npos);
  EXPECT_NE(by_phone.out.find("\"sms\":true"), std::string::npos);

  auto missing = run_rempart({"supporters", "show", "--config", in.config.string(), "--email", "nobody@example.com"});
  EXPECT_EQ(missing.exit_code, 3);

  EXPECT_EQ(srv.terminate(), 0) << srv.log();
}

TEST(Serve, SamePersonTwiceGivesOneRecordAndIdenticalResponses) {
  Instance in;
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();
  auto a = http_request(port, "POST", "/api/v1/people/person_signup_helper", "application/json", osdi_body());
  ASSERT_TRUE(wait_count(in, 1)) << srv.log();
  // The second time the person is already known: the answer must not say so.
  auto b = http_request(port, "POST", "/api/v1/people/person_signup_helper", "application/json", osdi_body());
  EXPECT_EQ(a.status, 202);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.body, b.body);
  auto ha = a.headers, hb = b.headers;
  ha.erase("date");
  hb.erase("date");
  EXPECT_EQ(ha, hb);
  // A third sign-up of the same person with a new consent merges.
  auto c = http_request(port, "POST", "/signup", "application/x-www-form-urlencoded",
                        "email=octavien.brasdefer%40example.net&given_name=Octavien");
  EXPECT_TRUE(c.status == 200 || c.status == 303);
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(wait_count(in, 1));
  auto inbox_empty = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_EQ(inbox_empty.err.find("waiting in the inbox"), std::string::npos) << inbox_empty.err;
  EXPECT_EQ(srv.terminate(), 0);
}

TEST(Serve, OperatorReadsWhileServingSeeEveryFold) {
  // Intake and keeper share one process and one database file; operator
  // commands read it from other processes in between. Each must see every
  // fold so far (a lost POSIX lock would let a reader delete the live WAL).
  Instance in;
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();
  for (int i = 1; i <= 4; ++i) {
    auto r = http_request(port, "POST", "/signup", "application/x-www-form-urlencoded",
                          "email=reader" + std::to_string(i) + "%40example.org");
    ASSERT_EQ(r.status, 303);
    ASSERT_TRUE(wait_count(in, i)) << "fold " << i << " not visible\n" << srv.log();
  }
  ASSERT_EQ(srv.terminate(), 0);
  EXPECT_EQ(count(in), "4\n");
}

TEST(Serve, NothingInClearOnDiskOrInLogs) {
  Instance in;
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();
  http_request(port, "POST", "/signup", "application/x-www-form-urlencoded", form_body());
  http_request(port, "POST", "/api/v1/people/person_signup_helper", "application/json", osdi_body());
  // A rejected submission must not leak its values into logs either.
  auto bad = http_request(port, "POST", "/api/v1/people/person_signup_helper", "application/json",
                          R"({"person":{"given_name":"Zéphyrine","email_addresses":[{"address":"zephyrine@@x"}]}})");
  EXPECT_EQ(bad.status, 400);
  expect_no_pii("error response", bad.body);
  ASSERT_TRUE(wait_count(in, 2)) << srv.log();
  // Inspect the files while the server still runs (WAL not yet merged) ...
  for (const auto& entry : fs::directory_iterator(in.data)) {
    expect_no_pii(entry.path().filename().string(), read_file(entry.path()));
  }
  ASSERT_EQ(srv.terminate(), 0);
  // ... and after a clean shutdown.
  for (const auto& entry : fs::directory_iterator(in.data)) {
    expect_no_pii(entry.path().filename().string(), read_file(entry.path()));
  }
  expect_no_pii("server log", srv.log());
  expect_no_pii("server stdout", read_file(in.dir.path() / "serve.log.out"));
}

TEST(Serve, IntakeWithoutAnySecretKeyIsFoldedByAKeeperLater) {
  Instance in;
  // Every key file but the intake keyring moves away: the intake role must
  // not need them.
  const auto away = in.dir.path() / "elsewhere";
  fs::create_directories(away);
  for (const auto& entry : fs::directory_iterator(in.keys)) {
    if (entry.path().filename() != "intake.keyring") fs::rename(entry.path(), away / entry.path().filename());
  }
  ASSERT_TRUE(fs::exists(in.keys / "intake.keyring"));
  {
    Server intake({"serve", "--config", in.config.string(), "--role", "intake"}, in.dir.path() / "intake.log");
    const auto port = intake.wait_for_port();
    ASSERT_NE(port, 0) << intake.log();
    auto r1 = http_request(port, "POST", "/signup", "application/x-www-form-urlencoded", form_body());
    auto r2 = http_request(port, "POST", "/api/v1/people/person_signup_helper", "application/json", osdi_body());
    EXPECT_TRUE(r1.status == 200 || r1.status == 303);
    EXPECT_EQ(r2.status, 202);
    EXPECT_EQ(intake.terminate(), 0) << intake.log();
    // Without the keeper keyring nothing can be read.
    auto denied = run_rempart({"supporters", "count", "--config", in.config.string()});
    EXPECT_NE(denied.exit_code, 0);
  }
  for (const auto& entry : fs::directory_iterator(away)) fs::rename(entry.path(), in.keys / entry.path().filename());
  Server keeper({"serve", "--config", in.config.string(), "--role", "keeper"}, in.dir.path() / "keeper.log");
  ASSERT_TRUE(wait_count(in, 2)) << keeper.log();
  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--email", kEmail, "--json"});
  EXPECT_NE(show.out.find(kGiven), std::string::npos) << show.err;
  EXPECT_EQ(keeper.terminate(), 0) << keeper.log();
  // The keeper serves its console, never the intake routes.
  EXPECT_EQ(keeper.log().find("intake listening"), std::string::npos);
}

// The console is the keeper's: `--role intake` serves none of it, and the
// two listeners never answer each other's routes.
TEST(Serve, ConsoleOnlyOnTheKeeperAndOnItsOwnAddress) {
  Instance in;
  {
    Server intake({"serve", "--config", in.config.string(), "--role", "intake"}, in.dir.path() / "intake.log");
    const auto port = intake.wait_for_port();
    ASSERT_NE(port, 0) << intake.log();
    EXPECT_EQ(http_request(port, "GET", "/login").status, 404);
    EXPECT_EQ(http_request(port, "GET", "/api/v1/me").status, 404);
    EXPECT_EQ(intake.terminate(), 0) << intake.log();
    EXPECT_EQ(intake.log().find("console listening"), std::string::npos);
  }
  Server all({"serve", "--config", in.config.string()}, in.dir.path() / "all.log");
  const auto intake_port = all.wait_for_port();
  const auto console_port = all.wait_for_port(std::chrono::seconds(30), "console");
  ASSERT_NE(intake_port, 0) << all.log();
  ASSERT_NE(console_port, 0) << all.log();
  EXPECT_NE(intake_port, console_port);
  EXPECT_EQ(http_request(console_port, "GET", "/login").status, 200);
  EXPECT_EQ(http_request(console_port, "GET", "/api/v1/me").status, 401);
  EXPECT_EQ(http_request(console_port, "POST", "/signup", "application/x-www-form-urlencoded", form_body()).status,
            404);
  EXPECT_EQ(http_request(intake_port, "GET", "/login").status, 404);
  EXPECT_EQ(all.terminate(), 0) << all.log();
}

TEST(Serve, RefusesKeyFilesOpenToOthers) {
  Instance in;
  fs::permissions(in.keys / "keeper.keyring", fs::perms::others_read | fs::perms::group_read, fs::perm_options::add);
  auto r = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("keeper.keyring"), std::string::npos) << r.err;
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / "serve.log");
  EXPECT_EQ(srv.wait_for_port(10s), 0);
}

}  // namespace
}  // namespace rempart::test
