// End-to-end test of keeper.keyring sealed by a PKCS#11 token (a real
// SoftHSM2 token made for the test; docs/key-custody.md): `keys seal`, a
// serving keeper and intake, a rotation written sealed, `audit verify`, and
// the refusals without the token or with a wrong PIN.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <chrono>
#include <string>
#include <thread>

#include "integration/process.hpp"
#include "keys/test_support.hpp"

namespace rempart::test {
namespace {

using namespace std::chrono_literals;

// `config` with the [keys] settings that name `token`'s PIN file `pin`.
std::string with_token(const std::string& config, const keys::test_support::ThrowawayToken& token,
                       const fs::path& pin) {
  const auto o = token.options();
  std::string out = config;
  const auto at = out.find("[keys]\n");
  EXPECT_NE(at, std::string::npos);
  out.insert(at + 7, "provider = \"pkcs11\"\nmodule = \"" + o.module.string() + "\"\ntoken = \"" + o.token_label +
                         "\"\npin_file = \"" + pin.string() + "\"\n");
  return out;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
}

TEST(KeysToken, ASealedKeyringServesAndRotatesAndOpensNothingWithoutTheToken) {
  keys::test_support::ThrowawayToken token("rempart-e2e", "56781234");
  ASSERT_TRUE(token.ok()) << "softhsm2-util could not make a token";
  Instance in;
  ASSERT_EQ(run_rempart({"supporters", "synth", "4", "--config", in.config.string()}).exit_code, 0);
  const std::string plain_config = read_file(in.config);
  const std::string plain_keyring = read_file(in.keys / "keeper.keyring");
  ASSERT_EQ(plain_keyring.rfind("RMPKEEPR", 0), 0u);
  write_text(in.config, with_token(plain_config, token, token.dir() / "pin"));

  // Named but not sealed yet: every keeper command says what to run.
  auto before = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_NE(before.exit_code, 0);
  EXPECT_NE(before.err.find("rempart keys seal"), std::string::npos) << before.err;

  auto seal = run_rempart({"keys", "seal", "--config", in.config.string()});
  ASSERT_EQ(seal.exit_code, 0) << seal.err;
  const std::string sealed = read_file(in.keys / "keeper.keyring");
  EXPECT_EQ(sealed.rfind("RMPKSEAL", 0), 0u);
  // Not one of the keyring's secrets is left in the file: version 1's
  // sealing secret (after the 16-byte header, the version and its state).
  const std::string secret = plain_keyring.substr(16 + 4 + 1, 32);
  EXPECT_EQ(sealed.find(secret), std::string::npos);
  auto again = run_rempart({"keys", "seal", "--config", in.config.string()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("sealed by a token already"), std::string::npos) << again.err;

  {
    Server srv({"serve", "--config", in.config.string(), "--role", "all"}, in.dir.path() / "serve.log");
    const auto port = srv.wait_for_port();
    ASSERT_NE(port, 0) << srv.log();
    const auto sign_up = [&](int i) {
      const std::string body = "given_name=Jetonne&family_name=Scellier&email=token" + std::to_string(i) +
                               "%40example.org&consent_email=on";
      return http_request(port, "POST", "/signup", "application/x-www-form-urlencoded", body).status;
    };
    EXPECT_EQ(sign_up(1), 303);
    auto rotate = run_rempart({"keys", "rotate", "--config", in.config.string()});
    ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
    EXPECT_EQ(read_file(in.keys / "keeper.keyring").rfind("RMPKSEAL", 0), 0u);  // written sealed
    EXPECT_TRUE(srv.wait_for_log("key version 2 taken from keeper.keyring", 10s)) << srv.log();
    EXPECT_TRUE(srv.wait_for_log("intake: sealing to key version 2", 10s)) << srv.log();
    EXPECT_EQ(sign_up(2), 303);
    bool folded = false;
    for (int i = 0; i < 80 && !folded; ++i) {
      folded = run_rempart({"supporters", "count", "--config", in.config.string()}).out == "6\n";
      if (!folded) std::this_thread::sleep_for(250ms);
    }
    EXPECT_TRUE(folded) << srv.log();
    auto show = run_rempart({"supporters", "show", "--email", "token2@example.org", "--config", in.config.string()});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("Scellier"), std::string::npos);
    EXPECT_EQ(srv.terminate(), 0);
  }
  // Version 2's records (wrapped by the token's key of version 2) moved to
  // version 3, version 2 retired: its key is destroyed in the token, and
  // every record still opens.
  ASSERT_EQ(run_rempart({"keys", "rotate", "--config", in.config.string()}).exit_code, 0);
  auto rewrap = run_rempart({"keys", "rewrap", "--config", in.config.string()});
  ASSERT_EQ(rewrap.exit_code, 0) << rewrap.err;
  EXPECT_NE(rewrap.out.find("6 records moved to key version 3"), std::string::npos) << rewrap.out;
  for (const char* v : {"1", "2"}) {
    auto retire = run_rempart({"keys", "retire", v, "--config", in.config.string()});
    EXPECT_EQ(retire.exit_code, 0) << retire.err;
  }
  for (const char* email : {"token1@example.org", "token2@example.org"}) {
    auto shown = run_rempart({"supporters", "show", "--email", email, "--config", in.config.string()});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_NE(shown.out.find("Scellier"), std::string::npos) << shown.out;
    // Each command signs what it recorded, under version 3, whose signing
    // key the token made with the version and holds.
    EXPECT_EQ(shown.err.find("checkpoint not published"), std::string::npos) << shown.err;
  }
  auto cp = run_rempart({"audit", "checkpoint", "--config", in.config.string()});
  EXPECT_EQ(cp.exit_code, 0) << cp.out << cp.err;
  auto status = run_rempart({"keys", "status", "--config", in.config.string()});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("   token          v1\n"), std::string::npos)
      << "version 3 signs in the token, with version 1's blind-index key: " << status.out;
  auto verify = run_rempart({"audit", "verify", "--config", in.config.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // Without the token in the configuration, or with a wrong PIN: refused,
  // plainly, with no PIN in the message.
  write_text(in.config, plain_config);
  auto no_token = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_NE(no_token.exit_code, 0);
  EXPECT_NE(no_token.err.find("sealed by a PKCS#11 token"), std::string::npos) << no_token.err;
  keys::test_support::ThrowawayToken::write_pin(in.dir.path() / "wrong-pin", "00000000", 0600);
  write_text(in.config, with_token(plain_config, token, in.dir.path() / "wrong-pin"));
  auto wrong = run_rempart({"supporters", "count", "--config", in.config.string()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("refused the PIN"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("00000000"), std::string::npos);
  EXPECT_EQ(wrong.err.find("56781234"), std::string::npos);
}

}  // namespace
}  // namespace rempart::test
