// Known-answer tests pinning the libsodium primitives this layer builds on,
// so a broken or substituted library is caught before anything is sealed.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.hpp"

namespace rempart::crypto {
namespace {

std::vector<std::uint8_t> unhex(std::string_view hex) {
  std::vector<std::uint8_t> out(hex.size() / 2);
  size_t len = 0;
  EXPECT_EQ(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr), 0);
  out.resize(len);
  return out;
}

TEST(Primitives, Blake2b512KnownAnswerRfc7693) {
  ASSERT_TRUE(init());
  // RFC 7693, Appendix A: BLAKE2b-512("abc").
  const auto expected = unhex(
      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
      "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  std::vector<std::uint8_t> out(64);
  const std::string_view abc = "abc";
  ASSERT_EQ(crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(abc.data()),
                               abc.size(), nullptr, 0),
            0);
  EXPECT_EQ(out, expected);
}

TEST(Primitives, XChaCha20Poly1305KnownAnswerDraftXchachaA31) {
  ASSERT_TRUE(init());
  // draft-irtf-cfrg-xchacha-03, A.3.1.
  const auto key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const auto nonce = unhex("404142434445464748494a4b4c4d4e4f5051525354555657");
  const auto ad = unhex("50515253c0c1c2c3c4c5c6c7");
  const std::string pt =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would "
      "be it.";
  const auto expected = unhex(
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
      "21f9664c97637da9768812f615c68b13b52e"
      "c0875924c1c7987947deafd8780acf49");
  std::vector<std::uint8_t> ct(pt.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &ct_len, reinterpret_cast<const unsigned char*>(pt.data()),
                                             pt.size(), ad.data(), ad.size(), nullptr, nonce.data(), key.data());
  ASSERT_EQ(ct_len, ct.size());
  EXPECT_EQ(ct, expected);
}

}  // namespace
}  // namespace rempart::crypto
