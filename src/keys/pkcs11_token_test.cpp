// The PKCS#11 token against a real SoftHSM2 token, made by each test in a
// temporary directory (SOFTHSM2_CONF) with softhsm2-util.
#include "keys/pkcs11_token.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "keys/test_support.hpp"

namespace rempart::keys {
namespace {

namespace fs = std::filesystem;
using test_support::ThrowawayToken;

constexpr const char* kLabel = "rempart-test";
constexpr const char* kPin = "271828";

std::string module_path() {
  const char* m = std::getenv("REMPART_TEST_PKCS11_MODULE");
  return m != nullptr ? m : test_support::kSoftHsmModule;
}

class Pkcs11Token : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(module_path())) << module_path() << " is missing: scripts/deps test installs softhsm2";
    hsm_ = std::make_unique<ThrowawayToken>(kLabel, kPin, module_path());
    ASSERT_TRUE(hsm_->ok()) << "softhsm2-util could not make a token";
    dir_ = hsm_->dir();
  }

  static void write_pin(const fs::path& p, const std::string& pin, mode_t mode) {
    ThrowawayToken::write_pin(p, pin, mode);
  }

  TokenOptions options() const { return hsm_->options(); }

  std::unique_ptr<Token> open_token() {
    auto t = Token::open(options());
    EXPECT_TRUE(t) << (t ? "" : t.error().internal);
    return t ? std::move(*t) : nullptr;
  }

  std::unique_ptr<ThrowawayToken> hsm_;
  fs::path dir_;
};

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST_F(Pkcs11Token, AnAesKeyMadeInTheTokenNeverLeavesIt) {
  auto token = open_token();
  ASSERT_TRUE(token);
  auto missing = token->aes_key("record-wrap-v1", false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto key = token->aes_key("record-wrap-v1", true);
  ASSERT_TRUE(key) << key.error().internal;
  auto facts = token->facts(*key);
  ASSERT_TRUE(facts) << facts.error().internal;
  EXPECT_TRUE(facts->found);
  EXPECT_TRUE(facts->sensitive);
  EXPECT_FALSE(facts->extractable);
  EXPECT_TRUE(facts->always_sensitive);
  EXPECT_TRUE(facts->never_extractable);
  EXPECT_TRUE(facts->on_token);
  auto readable = token->value_readable(*key);
  ASSERT_TRUE(readable) << readable.error().internal;
  EXPECT_FALSE(*readable);
  // Asked again, the same key, not a second one.
  auto again = token->aes_key("record-wrap-v1", true);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *key);
}

TEST_F(Pkcs11Token, SealedValuesOpenOnlyWithTheirKeyAndAssociatedData) {
  auto token = open_token();
  ASSERT_TRUE(token);
  const auto v1 = token->aes_key("record-wrap-v1", true).value();
  const auto v2 = token->aes_key("record-wrap-v2", true).value();
  std::array<std::uint8_t, 32> data_key{};
  ::randombytes_buf(data_key.data(), data_key.size());
  const auto aad = bytes("record 0123456789abcdef, key version 1");
  auto sealed = token->seal(v1, data_key, aad);
  ASSERT_TRUE(sealed) << sealed.error().internal;
  EXPECT_EQ(sealed->size(), kGcmNonceBytes + data_key.size() + kGcmTagBytes);
  auto opened = token->open(v1, *sealed, aad);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_TRUE(opened->equals(data_key));

  // A second sealing of the same key: another nonce, another ciphertext.
  auto twice = token->seal(v1, data_key, aad);
  ASSERT_TRUE(twice);
  EXPECT_NE(*twice, *sealed);

  auto other_key = token->open(v2, *sealed, aad);
  ASSERT_FALSE(other_key);
  EXPECT_EQ(other_key.error().code, Errc::crypto);
  auto other_record = token->open(v1, *sealed, bytes("record 0123456789abcdee, key version 1"));
  ASSERT_FALSE(other_record);
  EXPECT_EQ(other_record.error().code, Errc::crypto);
  for (std::size_t i : {std::size_t{0}, kGcmNonceBytes + 3, sealed->size() - 1}) {
    auto changed = *sealed;
    changed[i] ^= 0x01;
    auto r = token->open(v1, changed, aad);
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error().code, Errc::crypto);
  }
  auto short_value = token->open(v1, std::span(*sealed).first(kGcmNonceBytes + kGcmTagBytes - 1), aad);
  EXPECT_FALSE(short_value);
  // Keys, not records: a secret past 1,008 bytes is refused before the
  // token sees it.
  const std::vector<std::uint8_t> long_secret(1009, 7);
  auto too_long = token->seal(v1, long_secret, aad);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, Errc::invalid_input);
  EXPECT_TRUE(token->seal(v1, std::span(long_secret).first(1008), aad));
  // The token still works after refusals (no operation left active).
  EXPECT_TRUE(token->open(v1, *sealed, aad));
}

TEST_F(Pkcs11Token, KeysOutliveTheSessionThatMadeThem) {
  Bytes sealed;
  const auto aad = bytes("record 42");
  const std::array<std::uint8_t, 4> secret{1, 2, 3, 4};
  {
    auto token = open_token();
    ASSERT_TRUE(token);
    const auto key = token->aes_key("record-wrap-v1", true).value();
    sealed = token->seal(key, secret, aad).value();
  }
  auto token = open_token();
  ASSERT_TRUE(token);
  auto key = token->aes_key("record-wrap-v1", false);
  ASSERT_TRUE(key) << key.error().internal;
  auto opened = token->open(*key, sealed, aad);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_TRUE(opened->equals(secret));
  // Destroyed, it opens nothing any more: the key is the only way in.
  EXPECT_EQ(token->destroy("record-wrap-v1").value(), 1);
  EXPECT_FALSE(token->aes_key("record-wrap-v1", false));
}

TEST_F(Pkcs11Token, Ed25519SignaturesVerifyWithLibsodium) {
  auto token = open_token();
  ASSERT_TRUE(token);
  auto key = token->ed25519_key("audit-sign-v1", true);
  ASSERT_TRUE(key) << key.error().internal;
  auto pub = token->ed25519_public("audit-sign-v1");
  ASSERT_TRUE(pub) << pub.error().internal;
  const auto message = bytes("audit checkpoint: seq 1200, head 9f...");
  auto sig = token->sign(*key, message);
  ASSERT_TRUE(sig) << sig.error().internal;
  EXPECT_EQ(::crypto_sign_verify_detached(sig->data(), message.data(), message.size(), pub->data()), 0);
  auto changed = std::vector<std::uint8_t>(message.begin(), message.end());
  changed.back() ^= 1;
  EXPECT_NE(::crypto_sign_verify_detached(sig->data(), changed.data(), changed.size(), pub->data()), 0);
  auto facts = token->facts(*key);
  ASSERT_TRUE(facts);
  EXPECT_TRUE(facts->sensitive);
  EXPECT_FALSE(facts->extractable);
  EXPECT_FALSE(token->value_readable(*key).value());
  EXPECT_EQ(token->ed25519_key("audit-sign-v1", false).value(), *key);
}

TEST_F(Pkcs11Token, AWrongPinAnOpenPinFileOrAnUnknownTokenIsRefused) {
  write_pin(dir_ / "wrong", "000000", 0600);
  auto wrong = Token::open(TokenOptions{module_path(), kLabel, dir_ / "wrong"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::permission);
  EXPECT_EQ(wrong.error().internal.find("000000"), std::string::npos);

  write_pin(dir_ / "open", kPin, 0644);
  auto open = Token::open(TokenOptions{module_path(), kLabel, dir_ / "open"});
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code, Errc::config);
  EXPECT_NE(open.error().internal.find("chmod 600"), std::string::npos);

  auto unknown = Token::open(TokenOptions{module_path(), "no-such-token", dir_ / "pin"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);

  auto no_module = Token::open(TokenOptions{dir_ / "missing.so", kLabel, dir_ / "pin"});
  ASSERT_FALSE(no_module);
  EXPECT_EQ(no_module.error().code, Errc::config);
  // And after all that, the right PIN still opens it.
  EXPECT_TRUE(open_token());
}

}  // namespace
}  // namespace rempart::keys
