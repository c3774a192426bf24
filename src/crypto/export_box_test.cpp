#include "crypto/export_box.hpp"

#include <sodium.h>

#include <gtest/gtest.h>

#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

using test::code_of;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(ExportBox, KeyPairTextOpensWhatIsSealedToItsPublicKey) {
  auto kp = generate_export_key_pair();
  ASSERT_TRUE(kp);
  ASSERT_EQ(kp->public_key.size(), kExportPublicKeySize);
  const std::string_view text = kp->secret_key_text.text();
  ASSERT_TRUE(text.starts_with(kExportSecretKeyPrefix));
  EXPECT_EQ(text.size(), kExportSecretKeyPrefix.size() + 43);  // 32 bytes, unpadded base64url
  // The text is the X25519 secret of the public key.
  std::array<std::uint8_t, 32> sk{}, pk{};
  std::size_t len = 0;
  const std::string_view b64 = text.substr(kExportSecretKeyPrefix.size());
  ASSERT_EQ(sodium_base642bin(sk.data(), sk.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING),
            0);
  ASSERT_EQ(crypto_scalarmult_base(pk.data(), sk.data()), 0);
  EXPECT_TRUE(std::equal(pk.begin(), pk.end(), kp->public_key.begin()));

  // Empty, one chunk, and more than one chunk (64 KiB each).
  for (std::size_t n : {std::size_t{0}, std::size_t{10}, std::size_t{64 * 1024}, std::size_t{150'000}}) {
    const std::string plain(n, 'x');
    std::string sealed;
    ASSERT_TRUE(seal_export(sealed, plain, kp->public_key, bytes_of("header")));
    auto opener = ExportOpener::from_text("  " + std::string(text) + "\n");
    ASSERT_TRUE(opener);
    auto opened = opener->open(bytes_of(sealed), bytes_of("header"));
    ASSERT_TRUE(opened) << n;
    EXPECT_EQ(*opened, plain);
    EXPECT_EQ(code_of(opener->open(bytes_of(sealed), bytes_of("another header"))), Errc::crypto);
    EXPECT_EQ(code_of(opener->open(bytes_of(sealed).first(sealed.size() - 1), bytes_of("header"))), Errc::crypto);
  }
}

TEST(ExportBox, RefusesBadKeysAndBadBodies) {
  auto kp = generate_export_key_pair();
  auto other = generate_export_key_pair();
  ASSERT_TRUE(kp && other);
  std::string sealed;
  ASSERT_TRUE(seal_export(sealed, "a,b\r\n", kp->public_key, {}));
  EXPECT_EQ(code_of(ExportOpener::from_text(other->secret_key_text.text())->open(bytes_of(sealed), {})), Errc::crypto);
  EXPECT_EQ(code_of(ExportOpener::from_text("not a key")), Errc::invalid_input);
  EXPECT_EQ(code_of(ExportOpener::from_text("rmpx1_short")), Errc::invalid_input);
  EXPECT_EQ(code_of(ExportOpener::from_text(kp->secret_key_text.text())->open(bytes_of(sealed).first(50), {})),
            Errc::invalid_input);
  std::string out;
  EXPECT_EQ(code_of(seal_export(out, "x", std::span(kp->public_key).first(31), {})), Errc::crypto);
}

}  // namespace
}  // namespace rempart::crypto
