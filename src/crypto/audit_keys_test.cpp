#include "crypto/audit_keys.hpp"

#include <sodium.h>

#include <gtest/gtest.h>

#include "crypto/key_access.hpp"
#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

using detail::KeyAccess;
using test::code_of;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(AuditMac, IsKeyedBlake2bOfTheKeyringVersion) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr && kr->add_version());
  const auto msg = bytes_of("an entry hash");
  for (std::uint32_t v : {1u, 2u}) {
    auto mac = AuditMac::of(*kr, v);
    ASSERT_TRUE(mac);
    EXPECT_EQ(mac->version(), v);
    const SecretBytes& key = KeyAccess::audit_mac(*kr->version(v));
    AuditMac::Tag want{};
    crypto_generichash(want.data(), want.size(), msg.data(), msg.size(), key.data(), key.size());
    EXPECT_EQ(mac->mac(msg), want);
    EXPECT_TRUE(mac->verify(msg, want));
    want[0] ^= 1;
    EXPECT_FALSE(mac->verify(msg, want));
    EXPECT_FALSE(mac->verify(msg, std::span(want).first(31)));
  }
  EXPECT_EQ(AuditMac::current(*kr)->version(), 2u);
  EXPECT_NE(AuditMac::of(*kr, 1)->mac(msg), AuditMac::of(*kr, 2)->mac(msg));
  EXPECT_EQ(code_of(AuditMac::of(*kr, 3)), Errc::not_found);
}

TEST(AuditMac, RefusesAKeyOfTheWrongSize) {
  auto short_key = SecretBytes::random(16);
  ASSERT_TRUE(short_key);
  EXPECT_EQ(code_of(AuditMac::over(*short_key)), Errc::crypto);
}

TEST(AuditSigner, SignsWithEd25519AndTheVerifierOfItsVersionChecks) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr && kr->add_version());
  const auto msg = bytes_of("a checkpoint");
  auto signer = AuditSigner::current(*kr);
  ASSERT_TRUE(signer);
  EXPECT_EQ(signer->version(), 2u);
  auto sig = signer->sign(msg);
  ASSERT_TRUE(sig);
  Signature want{};
  ASSERT_EQ(crypto_sign_detached(want.data(), nullptr, msg.data(), msg.size(),
                                 KeyAccess::audit_sign_secret(kr->current()).data()),
            0);
  EXPECT_EQ(*sig, want);  // Ed25519 is deterministic

  auto verifier = AuditVerifier::of(*kr, 2);
  ASSERT_TRUE(verifier);
  EXPECT_TRUE(verifier->verify(msg, *sig));
  EXPECT_FALSE(verifier->verify(bytes_of("another checkpoint"), *sig));
  EXPECT_FALSE(verifier->verify(msg, std::span(*sig).first(63)));
  EXPECT_FALSE(AuditVerifier::of(*kr, 1)->verify(msg, *sig));
  EXPECT_EQ(code_of(AuditVerifier::of(*kr, 3)), Errc::not_found);
}

}  // namespace
}  // namespace rempart::crypto
