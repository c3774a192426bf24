// keeper.keyring sealed by a real SoftHSM2 token (keys/sealed_keyring.hpp):
// it opens to the same keyring through the token's key and no other, and
// a file cut, reordered or changed is refused.
#include "keys/sealed_keyring.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "crypto/test_support.hpp"
#include "keys/test_support.hpp"

namespace rempart::keys {
namespace {

using test_support::ThrowawayToken;

class SealedKeyring : public ::testing::Test {
 protected:
  void SetUp() override {
    hsm_ = std::make_unique<ThrowawayToken>("rempart-sealed", "314159");
    ASSERT_TRUE(hsm_->ok()) << "softhsm2-util could not make a token";
    auto t = Token::open(hsm_->options());
    ASSERT_TRUE(t) << t.error().internal;
    token_ = std::move(*t);
    auto k = token_->aes_key(kKeyringKeyLabel, true);
    ASSERT_TRUE(k);
    key_ = *k;
    // Enough versions for several chunks.
    auto kr = crypto::KeeperKeyring::generate();
    ASSERT_TRUE(kr);
    for (int i = 0; i < 9; ++i) ASSERT_TRUE(kr->add_version());
    keyring_ = std::make_unique<crypto::KeeperKeyring>(std::move(*kr));
  }

  std::unique_ptr<ThrowawayToken> hsm_;
  std::unique_ptr<Token> token_;
  Token::Handle key_ = 0;
  std::unique_ptr<crypto::KeeperKeyring> keyring_;
};

TEST_F(SealedKeyring, OpensToTheSameKeyringThroughTheTokenOnly) {
  const auto seal = token_keyring_seal(*token_, key_);
  auto plain = crypto::serialise_keeper_keyring(*keyring_);
  ASSERT_TRUE(plain);
  auto file = seal.seal(plain->span());
  ASSERT_TRUE(file) << file.error().internal;
  ASSERT_GT(file->size(), 2 * 960u);  // three chunks
  // No 16 bytes of the keyring's secrets in the file.
  for (std::size_t at = 0; at + 16 <= plain->size(); at += 16) {
    const auto window = plain->span().subspan(at, 16);
    if (std::all_of(window.begin(), window.end(), [](std::uint8_t b) { return b == 0; })) continue;
    ASSERT_EQ(std::search(file->begin(), file->end(), window.begin(), window.end()), file->end()) << at;
  }
  auto back = seal.open(*file);
  ASSERT_TRUE(back) << back.error().internal;
  ASSERT_EQ(back->size(), plain->size());
  EXPECT_TRUE(std::equal(back->span().begin(), back->span().end(), plain->span().begin()));

  // Another key of the same token does not open it.
  auto other = token_->aes_key("another-key", true);
  ASSERT_TRUE(other);
  EXPECT_EQ(crypto::test::code_of(token_keyring_seal(*token_, *other).open(*file)), Errc::crypto);
}

TEST_F(SealedKeyring, ACutReorderedOrChangedFileIsRefused) {
  const auto seal = token_keyring_seal(*token_, key_);
  auto plain = crypto::serialise_keeper_keyring(*keyring_);
  ASSERT_TRUE(plain);
  auto file = seal.seal(plain->span());
  ASSERT_TRUE(file);
  // Truncated anywhere.
  for (std::size_t n : {std::size_t{4}, std::size_t{15}, file->size() / 2, file->size() - 1}) {
    const crypto::Bytes cut(file->begin(), file->begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(seal.open(cut)) << n;
  }
  // One byte changed in each region.
  for (std::size_t at : {std::size_t{9}, std::size_t{13}, std::size_t{20}, file->size() / 2, file->size() - 3}) {
    crypto::Bytes bad = *file;
    bad[at] ^= 0x10;
    EXPECT_FALSE(seal.open(bad)) << at;
  }
  // The first two chunks swapped: each is bound to its place.
  const auto u32 = [&](std::size_t at) {
    return std::uint32_t{(*file)[at]} | std::uint32_t{(*file)[at + 1]} << 8 | std::uint32_t{(*file)[at + 2]} << 16 |
           std::uint32_t{(*file)[at + 3]} << 24;
  };
  const std::size_t first = 16, len1 = u32(first), second = first + 4 + len1, len2 = u32(second);
  crypto::Bytes swapped(file->begin(), file->begin() + 16);
  swapped.insert(swapped.end(), file->begin() + static_cast<std::ptrdiff_t>(second),
                 file->begin() + static_cast<std::ptrdiff_t>(second + 4 + len2));
  swapped.insert(swapped.end(), file->begin() + static_cast<std::ptrdiff_t>(first),
                 file->begin() + static_cast<std::ptrdiff_t>(first + 4 + len1));
  swapped.insert(swapped.end(), file->begin() + static_cast<std::ptrdiff_t>(second + 4 + len2), file->end());
  ASSERT_EQ(swapped.size(), file->size());
  EXPECT_EQ(crypto::test::code_of(seal.open(swapped)), Errc::crypto);
  // A plain keyring is not a sealed one.
  EXPECT_EQ(crypto::test::code_of(seal.open(plain->span())), Errc::invalid_input);
}

}  // namespace
}  // namespace rempart::keys
