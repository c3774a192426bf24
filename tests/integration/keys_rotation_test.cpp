// End-to-end test of a key rotation on a serving instance (docs/key-custody.md):
// `rempart keys rotate` while sign-ups arrive, the running keeper and intake
// taking the new version without a restart, the background rewrap, `keys
// status`, `keys retire` and `audit verify` afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <utility>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

// The counts `keys status` prints for `version`: records, inbox items (the
// first two numbers after the state); nullopt if the version is not listed.
std::optional<std::pair<long, long>> status_of(const std::string& status, unsigned version) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    unsigned v = 0;
    std::string state;
    long records = -1, inbox = -1;
    if (row >> v >> state >> records >> inbox && v == version) return std::make_pair(records, inbox);
  }
  return std::nullopt;
}

TEST(KeysRotation, ARotationUnderSignUpLoadLosesNothingAndRetiresTheOldVersion) {
  Instance in;
  Server srv({"serve", "--config", in.config.string(), "--role", "all"}, in.dir.path() / "serve.log");
  const auto port = srv.wait_for_port();
  ASSERT_NE(port, 0) << srv.log();

  // Sign-ups from many loopback addresses (each its own rate limit), until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0}, refused{0};
  std::thread load([&] {
    for (int i = 0; !stop.load() && i < 2000; ++i) {
      const std::string body = "given_name=Rotanne&family_name=Versionnet&email=rot" + std::to_string(i) +
                               "%40example.org&consent_email=on";
      const std::string from = "127.0." + std::to_string(10 + i / 200) + "." + std::to_string(1 + i % 200);
      auto r = try_http_request(port, "POST", "/signup", "application/x-www-form-urlencoded", body, {}, from, 10s);
      if (r.stage == HttpOutcome::Stage::answered && (r.response.status == 303 || r.response.status == 200)) {
        ++acknowledged;
      } else {
        ++refused;
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  std::this_thread::sleep_for(1500ms);
  const auto rotate = run_rempart({"keys", "rotate", "--config", in.config.string()});
  EXPECT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_NE(rotate.out.find("Key version 2 is current"), std::string::npos) << rotate.out;
  EXPECT_TRUE(srv.wait_for_log("key version 2 taken from keeper.keyring", 10s)) << srv.log();
  EXPECT_TRUE(srv.wait_for_log("intake: sealing to key version 2", 10s)) << srv.log();
  std::this_thread::sleep_for(1500ms);  // sign-ups sealed under version 2
  stop = true;
  load.join();
  EXPECT_EQ(refused.load(), 0);
  ASSERT_GT(acknowledged.load(), 20);

  // Every acknowledged sign-up is a record, all under version 2, none waiting.
  std::string status;
  bool settled = false;
  for (int i = 0; i < 120 && !settled; ++i) {
    auto s = run_rempart({"keys", "status", "--config", in.config.string()});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    status = s.out;
    const auto v1 = status_of(status, 1), v2 = status_of(status, 2);
    settled = v1 && v2 && v1->first == 0 && v1->second == 0 && v2->second == 0 && v2->first == acknowledged.load();
    if (!settled) std::this_thread::sleep_for(250ms);
  }
  ASSERT_TRUE(settled) << status << "\nacknowledged " << acknowledged.load() << "\n" << srv.log();
  EXPECT_NE(srv.log().find("keeper: rewrap done"), std::string::npos);
  EXPECT_EQ(srv.log().find("example.org"), std::string::npos);  // no address in the log

  auto verify = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // The current version cannot be retired; version 1 can, now nothing needs it.
  auto current = run_rempart({"keys", "retire", "2", "--config", in.config.string()});
  EXPECT_EQ(current.exit_code, 1);
  EXPECT_NE(current.err.find("current key version cannot be retired"), std::string::npos) << current.err;
  auto retire = run_rempart({"keys", "retire", "1", "--config", in.config.string()});
  ASSERT_EQ(retire.exit_code, 0) << retire.err;
  EXPECT_NE(retire.out.find("Key version 1 is retired"), std::string::npos) << retire.out;
  auto again = run_rempart({"keys", "retire", "1", "--config", in.config.string()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("retired already"), std::string::npos) << again.err;

  // With version 1's secrets gone, the first sign-up (sealed under 1,
  // rewrapped to 2) still opens, and the audit log, MAC'd partly under 1,
  // still verifies.
  auto show = run_rempart({"supporters", "show", "--email", "rot0@example.org", "--config", in.config.string()});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Versionnet"), std::string::npos) << show.out;
  verify = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  status = run_rempart({"keys", "status", "--config", in.config.string()}).out;
  EXPECT_NE(status.find("retired"), std::string::npos) << status;
  EXPECT_TRUE(srv.wait_for_log("key version 1 is retired in keeper.keyring", 10s)) << srv.log();
  EXPECT_EQ(srv.terminate(), 0);
}

// Without a keeper to rewrap them, records stay under version 1: its
// retirement is refused, says why, and leaves the keyring as it was.
TEST(KeysRotation, ARetirementIsRefusedWhileRecordsNeedTheVersion) {
  Instance in;
  auto synth = run_rempart({"supporters", "synth", "5", "--config", in.config.string()});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  ASSERT_EQ(run_rempart({"keys", "rotate", "--config", in.config.string()}).exit_code, 0);
  const auto before = read_file(in.keys / "keeper.keyring");
  auto retire = run_rempart({"keys", "retire", "1", "--config", in.config.string()});
  EXPECT_EQ(retire.exit_code, 1);
  EXPECT_NE(retire.err.find("5 records are still wrapped under it"), std::string::npos) << retire.err;
  EXPECT_NE(retire.err.find("nothing changed"), std::string::npos) << retire.err;
  EXPECT_EQ(read_file(in.keys / "keeper.keyring"), before);
  auto missing = run_rempart({"keys", "retire", "9", "--config", in.config.string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no key version 9"), std::string::npos) << missing.err;
  auto status = run_rempart({"keys", "status", "--config", in.config.string()});
  ASSERT_EQ(status.exit_code, 0);
  const auto v1 = status_of(status.out, 1);
  ASSERT_TRUE(v1) << status.out;
  EXPECT_EQ(v1->first, 5);
}

// `keys rotate --key blind-index`: nobody goes missing before the reindex
// (a reveal by e-mail, an import of the same people merges), `keys status`
// names each version's index key, and `supporters reindex` moves every
// record's indexes to the new key, once.
TEST(KeysRotation, ANewBlindIndexKeyFindsEveryoneAndTheReindexMovesTheirIndexes) {
  Instance in;
  const auto csv = in.dir.path() / "people.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << "Prénom;Nom;Courriel;Téléphone\n"
        << "Aline;Ferrand;aline.ferrand@example.org;02 61 91 00 01\n"
        << "Denis;Ibert;denis.ibert@example.net;\n";
  }
  const std::vector<std::string> import = {"supporters", "import", csv.string(), "--config", in.config.string(),
                                           "--no-progress", "--map",
                                           "given_name=Prénom,family_name=Nom,email=Courriel,phone=Téléphone"};
  auto first = run_rempart(import);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("(2 new,"), std::string::npos) << first.out;

  EXPECT_EQ(run_rempart({"keys", "rotate", "--key", "passwords", "--config", in.config.string()}).exit_code, 2);
  auto rotate = run_rempart({"keys", "rotate", "--key", "blind-index", "--config", in.config.string()});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_NE(rotate.out.find("The blind-index key is new"), std::string::npos) << rotate.out;
  EXPECT_NE(rotate.out.find("rempart supporters reindex --config"), std::string::npos) << rotate.out;
  auto status = run_rempart({"keys", "status", "--config", in.config.string()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("keyring          v1\n"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("keyring          v2\n"), std::string::npos) << status.out;

  auto show = run_rempart({"supporters", "show", "--config", in.config.string(), "--email",
                           "aline.ferrand@example.org", "--reason", "test", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("\"family_name\":\"Ferrand\""), std::string::npos) << show.out;
  auto again = run_rempart(import);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("(0 new,"), std::string::npos) << again.out;
  EXPECT_EQ(run_rempart({"supporters", "count", "--config", in.config.string()}).out, "2\n");

  auto reindex = run_rempart({"supporters", "reindex", "--no-progress", "--config", in.config.string()});
  ASSERT_EQ(reindex.exit_code, 0) << reindex.err;
  EXPECT_NE(reindex.out.find("the e-mail and phone indexes of 2 moved to the current blind-index key"),
            std::string::npos)
      << reindex.out;
  reindex = run_rempart({"supporters", "reindex", "--no-progress", "--config", in.config.string()});
  ASSERT_EQ(reindex.exit_code, 0) << reindex.err;
  EXPECT_EQ(reindex.out.find("moved"), std::string::npos) << reindex.out;
  show = run_rempart({"supporters", "show", "--config", in.config.string(), "--phone", "+33261910001", "--reason",
                      "test", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("\"given_name\":\"Aline\""), std::string::npos) << show.out;
  auto verify = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace rempart::test
