// End-to-end test of `rempart incident lockdown` and `incident release` on a
// serving instance (docs/incident.md): a signed-in session and an API token
// that worked stop working at once, the break-glass admin signs in again,
// the running keeper takes the new key version, the log verifies, and an
// account comes back only through a new enrolment.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr const char* kOathtool = "/usr/bin/oathtool";
constexpr const char* kPassword = "Correct-Horse-Battery-42";

// Adds an account with kPassword; its TOTP secret (base32).
std::string add_account(const Instance& in, const std::string& name, const std::string& role) {
  const auto add = run_rempart_input(
      {"admin", "add", name, "--role", role, "--password-stdin", "--config", in.config.string()},
      std::string(kPassword) + "\n");
  EXPECT_EQ(add.exit_code, 0) << add.err;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(add.out, m, std::regex("secret=([A-Z2-7]+)"))) << "no otpauth URI";
  return m.empty() ? std::string() : m[1].str();
}

// Signs `name` in, both steps, as a person does: the session cookie, or ""
// when a step is refused.
std::string sign_in(unsigned short port, const std::string& name, const std::string& secret) {
  const auto first = http_request(port, "POST", "/login", kForm, "name=" + name + "&password=" + kPassword);
  std::smatch pending;
  if (!std::regex_search(first.body, pending, std::regex("name=\"pending\" value=\"([A-Za-z0-9_-]+)\""))) return "";
  const auto code = run_program({kOathtool, "--totp", "-b", secret});
  if (code.exit_code != 0) return "";
  const auto second = http_request(port, "POST", "/login/code", kForm,
                                   "pending=" + pending[1].str() + "&code=" + code.out.substr(0, 6));
  if (second.status != 303) return "";
  const auto set_cookie = second.headers.count("set-cookie") ? second.headers.at("set-cookie") : std::string();
  return set_cookie.substr(0, set_cookie.find(';'));
}

int me(unsigned short port, const std::string& cookie) {
  return http_request(port, "GET", "/api/v1/me", "", "", {{"Cookie", cookie}}).status;
}

TEST(IncidentLockdown, EveryoneIsOutAtOnceAndComesBackOnlyThroughANewEnrolment) {
  Instance in;
  const auto cfg = in.config.string();
  const auto chief = add_account(in, "chief", "admin");
  const auto orga = add_account(in, "orga", "organiser");
  const auto token_out =
      run_rempart({"admin", "token", "create", "--scope", "read-masked", "--name", "dashboard", "--config", cfg});
  ASSERT_EQ(token_out.exit_code, 0) << token_out.err;
  std::smatch tm;
  ASSERT_TRUE(std::regex_search(token_out.out, tm, std::regex("(rmp_[A-Za-z0-9_-]+)"))) << token_out.out;
  const std::string token = tm[1].str();

  Server srv({"serve", "--config", cfg}, in.dir.path() / "serve.log");
  const auto console = srv.wait_for_port(30s, "console");
  ASSERT_NE(console, 0) << srv.log();
  const auto by_token = [&] {
    return http_request(console, "GET", "/api/v1/tags", "", "", {{"Authorization", "Bearer " + token}}).status;
  };
  const std::string orga_cookie = sign_in(console, "orga", orga);
  ASSERT_FALSE(orga_cookie.empty()) << srv.log();
  ASSERT_EQ(me(console, orga_cookie), 200);
  ASSERT_EQ(by_token(), 200);

  // Refused: no reason, a kept account that is no admin. Nothing changed.
  EXPECT_EQ(run_rempart({"incident", "lockdown", "--config", cfg}).exit_code, 2);
  auto refused = run_rempart({"incident", "lockdown", "--keep", "orga", "--reason", "breach", "--config", cfg});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("nothing changed"), std::string::npos) << refused.err;
  EXPECT_EQ(me(console, orga_cookie), 200);

  auto l = run_rempart({"incident", "lockdown", "--keep", "chief", "--reason", "admin password on a paste site",
                        "--config", cfg});
  ASSERT_EQ(l.exit_code, 0) << l.out << l.err;
  EXPECT_NE(l.out.find("Sessions ended: 1"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("API tokens revoked: 1"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("(orga)"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("Keys rotated: version 2 is current (was 1)"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("Audit checkpoint signed"), std::string::npos) << l.out;
  EXPECT_NE(l.err.find("\"incident_lockdown\""), std::string::npos) << "the alert, on stderr: " << l.err;
  EXPECT_NE(l.err.find("critical"), std::string::npos) << l.err;

  // The serving keeper needs no restart: the stolen cookie and token are dead.
  EXPECT_EQ(me(console, orga_cookie), 401);
  EXPECT_EQ(by_token(), 401);
  EXPECT_TRUE(sign_in(console, "orga", orga).empty()) << "the old password and authenticator no longer sign in";
  EXPECT_TRUE(srv.wait_for_log("key version 2 taken from keeper.keyring", 30s)) << srv.log();
  // The break-glass admin signs in with what it had.
  const std::string chief_cookie = sign_in(console, "chief", chief);
  ASSERT_FALSE(chief_cookie.empty()) << srv.log();
  EXPECT_EQ(me(console, chief_cookie), 200);

  // Back one account at a time, through a new enrolment link.
  auto rel = run_rempart({"incident", "release", "orga", "--reason", "laptop checked", "--config", cfg});
  ASSERT_EQ(rel.exit_code, 0) << rel.err;
  EXPECT_NE(rel.out.find("/enrol?code=rmpe_"), std::string::npos) << rel.out;
  auto list = run_rempart({"admin", "list", "--config", cfg});
  EXPECT_NE(list.out.find("enrolling"), std::string::npos) << list.out;

  auto q = run_rempart({"audit", "query", "--config", cfg, "--action", "incident.lockdown", "--format", "jsonl"});
  EXPECT_NE(q.out.find("\"accounts_locked\":[\"orga\"]"), std::string::npos) << q.out;
  auto v = run_rempart({"audit", "verify", "--config", cfg});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(srv.terminate(), 0) << srv.log();
}

}  // namespace
}  // namespace rempart::test
