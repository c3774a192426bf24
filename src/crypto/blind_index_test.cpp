#include "crypto/blind_index.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "crypto/key_access.hpp"

namespace rempart::crypto {
namespace {

KeySet with_blind_key(std::uint8_t first_byte) {
  KeySet k;
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(first_byte + i);
  detail::KeyAccess::blind_index(k) = *SecretBytes::copy_of(key);
  return k;
}

TEST(BlindIndex, DeterministicPerKeyKindAndValue) {
  const KeySet k = with_blind_key(0);
  const auto a = blind_index(k, kBlindIndexEmail, "louise@example.org");
  EXPECT_EQ(a, blind_index(k, kBlindIndexEmail, "louise@example.org"));
  EXPECT_NE(a, blind_index(k, kBlindIndexEmail, "louise@example.net"));
  EXPECT_NE(a, blind_index(k, kBlindIndexPhone, "louise@example.org"));
  EXPECT_NE(a, blind_index(with_blind_key(1), kBlindIndexEmail, "louise@example.org"));
  EXPECT_NE(blind_index(k, kBlindIndexPhone, "+33612345678"), blind_index(k, kBlindIndexEmail, "+33612345678"));
}

TEST(BlindIndex, EncodingIsUnambiguous) {
  const KeySet k = with_blind_key(0);
  // Same concatenation, different split between kind and value.
  EXPECT_NE(blind_index(k, "email", "x"), blind_index(k, "emai", "lx"));
  EXPECT_NE(blind_index(k, "", "emailx"), blind_index(k, "email", "x"));
}

TEST(BlindIndex, IsKeyedBlake2bOfLengthPrefixedInput) {
  // Pins the construction: stored indexes must stay findable across builds.
  const KeySet k = with_blind_key(0);
  std::array<std::uint8_t, 32> expected{};
  const unsigned char input[] = {5, 0, 0, 0, 'p', 'h', 'o', 'n', 'e', 3, 0, 0, 0, '+', '3', '3'};
  crypto_generichash_blake2b_salt_personal(expected.data(), expected.size(), input, sizeof input,
                                           detail::KeyAccess::blind_index(k).data(),
                                           detail::KeyAccess::blind_index(k).size(), nullptr,
                                           reinterpret_cast<const unsigned char*>("rempart-bindex-1"));
  EXPECT_EQ(blind_index(k, kBlindIndexPhone, "+33"), expected);
  // Not the unkeyed hash.
  std::array<std::uint8_t, 32> unkeyed{};
  crypto_generichash(unkeyed.data(), unkeyed.size(), input, sizeof input, nullptr, 0);
  EXPECT_NE(blind_index(k, kBlindIndexPhone, "+33"), unkeyed);
}

TEST(BlindIndex, GeneratedKeysDiffer) {
  auto a = KeySet::generate(1);
  auto b = KeySet::generate(1);
  ASSERT_TRUE(a && b);
  EXPECT_NE(blind_index(*a, kBlindIndexEmail, "a@example.org"), blind_index(*b, kBlindIndexEmail, "a@example.org"));
}

TEST(BlindIndexDeathTest, WrongKeySizeAborts) {
  KeySet empty;
  EXPECT_DEATH(blind_index(empty, kBlindIndexEmail, "a@example.org"), "");
}

}  // namespace
}  // namespace rempart::crypto
