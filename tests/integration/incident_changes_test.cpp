// End-to-end test of `rempart incident changes` (docs/incident.md, "What
// changed"): on a real instance, changes made before a time are left out
// and those after it are listed under their kind (an account, a role, a
// token, a key rotation, a configuration and the first start), a reveal
// and sign-ups are counted, not listed, nothing of a supporter appears in
// either format, and a tampered log is said to be so (exit 1).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPassword = "Correct-Horse-Battery-42";
// The test person: none of this may appear in what the command prints.
constexpr const char* kGiven = "Ondine";
constexpr const char* kFamily = "Quatrevaux-Zephyrine";
constexpr const char* kEmail = "ondine1.zephyrine@example.org";  // the first; the second is ondine2.…
constexpr const char* kPhone = "+336123456";                     // both begin so

bool has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

void add_account(const Instance& in, const std::string& name, const std::string& role) {
  const auto add =
      run_rempart_input({"admin", "add", name, "--role", role, "--password-stdin", "--config", in.config.string()},
                        std::string(kPassword) + "\n");
  ASSERT_EQ(add.exit_code, 0) << add.err;
}

void create_token(const Instance& in, const std::string& label) {
  const auto t = run_rempart(
      {"admin", "token", "create", "--scope", "read-masked", "--name", label, "--config", in.config.string()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
}

int supporters(const Instance& in) {
  const auto r = run_rempart({"supporters", "count", "--config", in.config.string()});
  return r.exit_code == 0 ? std::stoi(r.out) : -1;
}

// A serve that takes the sign-up of test person `n` (1, 2, …: each a new
// supporter) and folds it, then stops.
void serve_and_sign_up(const Instance& in, int n) {
  Server srv({"serve", "--config", in.config.string()}, in.dir.path() / ("serve" + std::to_string(n) + ".log"));
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();
  const std::string i = std::to_string(n);
  const auto r = http_request(port, "POST", "/signup", "application/x-www-form-urlencoded",
                              std::string("given_name=") + kGiven + "&family_name=" + kFamily + "&email=ondine" + i +
                                  ".zephyrine%40example.org&phone=%2B3361234567" + i + "&consent_email=on");
  ASSERT_EQ(r.status, 303) << r.body;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (supporters(in) < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(supporters(in), n) << srv.log();
  EXPECT_EQ(srv.terminate(), 0) << srv.log();
}

void expect_no_person(const std::string& text) {
  for (const char* pii : {kGiven, kFamily, kEmail, kPhone, "zephyrine"}) {
    EXPECT_FALSE(has(text, pii)) << pii << " appears in:\n" << text;
  }
}

// Unix seconds of a moment strictly after everything done so far, once it
// has come: entries before it have an earlier second.
std::int64_t next_second() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now).count() + 1;
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::seconds(t)) + 50ms);
  return t;
}

TEST(IncidentChanges, ListsWhatChangedAfterTheTimeByKindAndNothingOfAPerson) {
  Instance in;
  const auto cfg = in.config.string();

  // Before the time: a first start with a sign-up, an account, a token.
  serve_and_sign_up(in, 1);
  add_account(in, "early", "viewer");
  create_token(in, "early-site");
  const std::int64_t since = next_second();

  // After it: what an intruder might leave behind, and ordinary work.
  add_account(in, "mallory", "viewer");
  ASSERT_EQ(run_rempart({"admin", "set-role", "mallory", "admin", "--config", cfg}).exit_code, 0);
  create_token(in, "backdoor-sync");
  const auto show =
      run_rempart({"supporters", "show", "--email", kEmail, "--reason", "incident test", "--config", cfg});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  ASSERT_TRUE(has(show.out, kFamily)) << "the reveal shows the person, so the test can tell it is not repeated";
  // The configuration edited, then a start on it and a second sign-up.
  {
    std::string text = read_file(in.config);
    text += "\n# edited after the time\n";
    std::ofstream(in.config, std::ios::binary | std::ios::trunc) << text;
  }
  serve_and_sign_up(in, 2);
  // Rotated with no keeper running: no record moves to the new version yet.
  const auto rotate = run_rempart({"keys", "rotate", "--config", cfg});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;

  const auto r = run_rempart({"incident", "changes", "--since", std::to_string(since), "--config", cfg});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string& out = r.out;
  EXPECT_TRUE(has(out, "Audit log verified")) << out;
  // The summary, at the top, by kind.
  EXPECT_TRUE(std::regex_search(out, std::regex("\n  accounts +1\n"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\n  roles +1\n"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\n  tokens +1\n"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\n  keys +1\n"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\n  configuration +1\n"))) << out;
  EXPECT_TRUE(has(out, "no change of: budgets")) << out;
  EXPECT_LT(out.find("  accounts "), out.find("\nAccounts (1)")) << out;
  // The lines, under their kinds.
  EXPECT_TRUE(has(out, "account \"mallory\" created (role viewer)")) << out;
  EXPECT_TRUE(has(out, "role of \"mallory\": viewer -> admin")) << out;
  EXPECT_TRUE(has(out, "\"backdoor-sync\" created (scope read-masked")) << out;
  EXPECT_TRUE(has(out, "keys rotated: version 1 -> 2")) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("role all: configuration [0-9a-f]{16} -> [0-9a-f]{16}"))) << out;
  // The schema is the same: the start says nothing of it.
  EXPECT_FALSE(has(out, "schema version")) << out;
  // Before the time: not there.
  EXPECT_FALSE(has(out, "\"early\"")) << out;
  EXPECT_FALSE(has(out, "early-site")) << out;
  // Counted, not listed: the reveal and the sign-up.
  EXPECT_TRUE(std::regex_search(out, std::regex("supporter\\.reveal 1"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("supporter\\.create 1"))) << out;
  expect_no_person(out);
  expect_no_person(r.err);

  // The same as JSON lines: a summary, then one line per change.
  const auto j =
      run_rempart({"incident", "changes", "--since", std::to_string(since), "--format", "jsonl", "--config", cfg});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  expect_no_person(j.out);
  std::istringstream lines(j.out);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  const auto summary = nlohmann::json::parse(line);
  EXPECT_EQ(summary.at("type"), "summary");
  EXPECT_EQ(summary.at("chain").at("ok"), true);
  EXPECT_EQ(summary.at("by_kind").at("roles"), 1);
  EXPECT_EQ(summary.at("by_kind").at("tokens"), 1);
  EXPECT_EQ(summary.at("changes"), 5);
  int changes = 0;
  bool named = false;
  while (std::getline(lines, line)) {
    const auto c = nlohmann::json::parse(line);
    EXPECT_EQ(c.at("type"), "change");
    EXPECT_GE(c.at("at_us").get<std::int64_t>(), since * 1'000'000);
    named = named || (c.at("action") == "account.role" && c.at("what") == "role of \"mallory\": viewer -> admin");
    ++changes;
  }
  EXPECT_EQ(changes, 5);
  EXPECT_TRUE(named) << j.out;

  // A window that ends before the changes lists none of them, and the
  // first start of all is the first start seen.
  const auto early =
      run_rempart({"incident", "changes", "--since", "2020-01-01", "--until", std::to_string(since), "--config", cfg});
  ASSERT_EQ(early.exit_code, 0) << early.err;
  EXPECT_TRUE(has(early.out, "role all: first start seen; configuration ")) << early.out;
  EXPECT_TRUE(std::regex_search(early.out, std::regex("role all: schema version [0-9]+ \\(first start seen\\)")))
      << early.out;
  EXPECT_TRUE(has(early.out, "account \"early\" created")) << early.out;
  EXPECT_FALSE(has(early.out, "mallory")) << early.out;
  expect_no_person(early.out);
}

TEST(IncidentChanges, RefusesBadArgumentsAndSaysSoWhenTheLogWasTamperedWith) {
  Instance in;
  const auto cfg = in.config.string();
  EXPECT_EQ(run_rempart({"incident", "changes", "--config", cfg}).exit_code, 2);
  EXPECT_EQ(run_rempart({"incident", "changes", "--since", "yesterday", "--config", cfg}).exit_code, 2);
  EXPECT_EQ(
      run_rempart({"incident", "changes", "--since", "2026-01-02", "--until", "2026-01-01", "--config", cfg}).exit_code,
      2);
  EXPECT_EQ(run_rempart({"incident", "changes", "--since", "0", "--format", "csv", "--config", cfg}).exit_code, 2);
  // A configuration that is not there: nothing is read (exit 1, as every
  // command that opens the keeper says).
  EXPECT_NE(run_rempart({"incident", "changes", "--since", "0", "--config", (in.dir.path() / "none.toml").string()})
                .exit_code,
            0);

  add_account(in, "mallory", "viewer");
  ASSERT_EQ(run_rempart({"admin", "set-role", "mallory", "admin", "--config", cfg}).exit_code, 0);
  ASSERT_EQ(run_rempart({"incident", "changes", "--since", "0", "--config", cfg}).exit_code, 0);

  // The intruder rewrites the role change to hide it.
  const auto db = (in.data / "rempart.db").string();
  const auto edit =
      run_program({"/usr/bin/python3", "-c",
                   "import sqlite3, sys\n"
                   "c = sqlite3.connect(sys.argv[1])\n"
                   "c.execute(\"UPDATE audit_entries SET details = replace(details, '\\\"to\\\":\\\"admin\\\"', "
                   "'\\\"to\\\":\\\"viewer\\\"') WHERE action = 'account.role'\")\n"
                   "assert c.total_changes == 1\n"
                   "c.commit()\n",
                   db});
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  const auto r = run_rempart({"incident", "changes", "--since", "0", "--config", cfg});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(has(r.out, "THE AUDIT LOG FAILED VERIFICATION")) << r.out;
  EXPECT_TRUE(has(r.err, "FAILED verification")) << r.err;
  // The line the log now shows is marked as coming after the first bad entry.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n! [0-9]+ +[-0-9T:Z]+ +operator:[^ ]+ +account\\.role +role of "
                                                  "\"mallory\": viewer -> viewer")))
      << r.out;
  const auto j = run_rempart({"incident", "changes", "--since", "0", "--format", "jsonl", "--config", cfg});
  EXPECT_EQ(j.exit_code, 1);
  std::istringstream lines(j.out);
  std::string first;
  ASSERT_TRUE(std::getline(lines, first));
  EXPECT_EQ(nlohmann::json::parse(first).at("chain").at("ok"), false) << first;
}

}  // namespace
}  // namespace rempart::test
