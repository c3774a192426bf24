// End-to-end tests of `rempart selfcheck` on an `init`ed instance: what
// `init` makes is clean (nothing fails), a key file opened to others fails
// with its fix and exit status 1, a plaintext address planted in the
// database is counted but never shown, --format json is machine-readable,
// --strict makes warnings fail, and a bad command line exits 2.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

bool has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

class Selfcheck : public ::testing::Test {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin(), "selfcheck");
    args.push_back("--config");
    args.push_back(in.config.string());
    return run_rempart(args);
  }
  nlohmann::json finding(const nlohmann::json& report, const std::string& id) {
    for (const auto& f : report["findings"]) {
      if (f["id"] == id) return f;
    }
    ADD_FAILURE() << "no finding " << id;
    return nlohmann::json::object();
  }
  Instance in;
};

TEST_F(Selfcheck, AFreshInstanceFailsNothing) {
  const auto r = run({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "0 failed")) << r.out;
  EXPECT_TRUE(has(r.out, "plaintext scan:")) << r.out;
  const auto j = run({"--format", "json", "--all"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  const auto report = nlohmann::json::parse(j.out);
  EXPECT_EQ(report["summary"]["fail"], 0);
  for (const char* id : {"keys.location", "keys.mode", "data.mode", "listen.intake", "listen.console",
                         "libs.list_age", "libs.sqlite", "libs.openssl", "libs.libsodium", "libs.curl", "libs.libpq",
                         "libs.boost", "plaintext.rempart_db"}) {
    EXPECT_EQ(finding(report, id)["level"], "ok") << id << ": " << finding(report, id)["finding"];
  }
  // `init` sets no outside alert sink: a warning, which --strict makes fail.
  EXPECT_EQ(finding(report, "alerts.sink")["level"], "warn");
  EXPECT_EQ(run({"--strict"}).exit_code, 1);
  // The scan's counts are recorded for the console, closed to others.
  struct stat st {};
  ASSERT_EQ(::stat((in.data / "selfcheck-scan.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST_F(Selfcheck, AnOpenKeyFileFailsWithItsFix) {
  ASSERT_EQ(::chmod((in.keys / "keeper.keyring").c_str(), 0644), 0);
  const auto r = run({"--no-scan"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(has(r.out, "FAIL  keys.mode")) << r.out;
  EXPECT_TRUE(has(r.out, "keeper.keyring 0644")) << r.out;
  EXPECT_TRUE(has(r.out, "fix: chmod 700 " + in.keys.string() + " and chmod 600 every file in it")) << r.out;
}

TEST_F(Selfcheck, APlantedAddressIsCountedNeverShown) {
  // A tag is kept in clear: where an address typed as a tag would sit.
  if (::access("/usr/bin/sqlite3", X_OK) != 0) GTEST_SKIP() << "no sqlite3 program";
  const auto planted = run_program({"/usr/bin/sqlite3", (in.data / "rempart.db").string(),
                                    "INSERT INTO supporter_tags (supporter_id, tag, added_at) "
                                    "VALUES (x'01', 'marie.selfcheck@example.fr', 0);"});
  ASSERT_EQ(planted.exit_code, 0) << planted.err;
  // And a phone number in a file of the exports directory.
  std::filesystem::create_directories(in.data / "exports");
  std::ofstream(in.data / "exports" / "leak.csv") << "name,phone\nMarie,+33612345678\n";
  const auto r = run({"--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto report = nlohmann::json::parse(r.out);
  const auto f = finding(report, "plaintext.rempart_db");
  EXPECT_EQ(f["level"], "fail");
  // Counted where it lies: the table and the index on tags hold it each.
  EXPECT_TRUE(has(f["finding"].get<std::string>(), ": 2 e-mail-shaped and 0 phone-shaped")) << f;
  const auto x = finding(report, "plaintext.exports");
  EXPECT_EQ(x["level"], "fail");
  EXPECT_TRUE(has(x["finding"].get<std::string>(), "0 e-mail-shaped and 1 phone-shaped")) << x;
  for (const char* value : {"marie", "612345678"}) {
    EXPECT_FALSE(has(r.out, value)) << "the value itself is shown";
    EXPECT_FALSE(has(r.err, value));
  }
}

TEST_F(Selfcheck, ABadCommandLineExitsTwo) {
  EXPECT_EQ(run({"--format", "yaml"}).exit_code, 2);
  EXPECT_EQ(run_rempart({"selfcheck", "--config", (in.dir.path() / "none.toml").string()}).exit_code, 2);
  EXPECT_EQ(run_rempart({"selfcheck"}).exit_code, 2);
}

}  // namespace
}  // namespace rempart::test
