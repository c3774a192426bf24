#include "crypto/account_keys.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"
#include "crypto/key_access.hpp"
#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

using detail::KeyAccess;
using test::code_of;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Version 1 with a record wrapping key of 0x40, 0x41, …, 0x5f.
KeeperKeyring fixed_keyring() {
  auto set = KeySet::generate(1);
  if (!set) throw std::runtime_error("no key set");
  std::array<std::uint8_t, 32> master{};
  for (std::size_t i = 0; i < master.size(); ++i) master[i] = static_cast<std::uint8_t>(0x40 + i);
  KeyAccess::record_wrap(*set) = *SecretBytes::copy_of(master);
  std::vector<KeySet> sets;
  sets.push_back(std::move(*set));
  return *KeeperKeyring::from_sets(std::move(sets));
}

Bytes account_id() {
  Bytes id(16);
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(i);
  return id;
}

Bytes totp_ad() {
  Bytes ad = bytes_of("rempart/totp/v1");
  const Bytes id = account_id();
  ad.insert(ad.end(), id.begin(), id.end());
  return ad;
}

// A TOTP secret (0xa0, 0xa1, …, 0xb3) sealed for account_id() under
// fixed_keyring() with the nonce 0x10, 0x11, …, 0x27: the format and key
// derivation of every TOTP secret already stored.
constexpr std::string_view kStoredSeal =
    "01000000101112131415161718191a1b1c1d1e1f2021222324252627"
    "30d406560ca3daf1e6338caf87144708539f9c73b3b8b93dd3c7a9556d463904c1ab4117";

TEST(TotpSealer, OpensAValueSealedInTheStoredFormat) {
  const KeeperKeyring kr = fixed_keyring();
  const auto sealed = core::from_hex(kStoredSeal, kStoredSeal.size() / 2);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(TotpSealer::version_of(*sealed), 1u);
  auto sealer = TotpSealer::of(kr, 1);
  ASSERT_TRUE(sealer);
  auto secret = sealer->open(*sealed, totp_ad());
  ASSERT_TRUE(secret);
  std::array<std::uint8_t, 20> want{};
  for (std::size_t i = 0; i < want.size(); ++i) want[i] = static_cast<std::uint8_t>(0xa0 + i);
  EXPECT_TRUE(secret->equals(want));
}

TEST(TotpSealer, SealsRoundTripBoundToTheAssociatedData) {
  auto kr = KeeperKeyring::generate();
  ASSERT_TRUE(kr && kr->add_version());
  auto sealer = TotpSealer::current(*kr);
  ASSERT_TRUE(sealer);
  EXPECT_EQ(sealer->version(), 2u);
  const Bytes plain = bytes_of("a TOTP secret, 20 b.");
  const Bytes sealed = sealer->seal(plain, bytes_of("ad"));
  ASSERT_EQ(sealed.size(), plain.size() + TotpSealer::kOverhead);
  EXPECT_EQ(TotpSealer::version_of(sealed), 2u);
  EXPECT_NE(sealer->seal(plain, bytes_of("ad")), sealed);  // a fresh nonce each time
  auto opened = sealer->open(sealed, bytes_of("ad"));
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->equals(plain));
  EXPECT_EQ(code_of(sealer->open(sealed, bytes_of("another ad"))), Errc::crypto);
  Bytes flipped = sealed;
  flipped.back() ^= 1;
  EXPECT_EQ(code_of(sealer->open(flipped, bytes_of("ad"))), Errc::crypto);
  EXPECT_EQ(code_of(sealer->open(std::span(sealed).first(TotpSealer::kOverhead - 1), bytes_of("ad"))),
            Errc::invalid_input);
  // Another version's sealer refuses it, as does another keyring's.
  EXPECT_EQ(code_of(TotpSealer::of(*kr, 1)->open(sealed, bytes_of("ad"))), Errc::crypto);
  auto stranger = KeeperKeyring::generate(2);
  ASSERT_TRUE(stranger);
  EXPECT_EQ(code_of(TotpSealer::current(*stranger)->open(sealed, bytes_of("ad"))), Errc::crypto);
  EXPECT_EQ(code_of(TotpSealer::of(*kr, 3)), Errc::not_found);
}

TEST(RecoveryCodeHasher, KnownAnswerAndKeyedByVersion) {
  const KeeperKeyring kr = fixed_keyring();
  auto hasher = RecoveryCodeHasher::of(kr, 1);
  ASSERT_TRUE(hasher);
  const Bytes h = hasher->hash(account_id(), "abcd2345efgh6789");
  EXPECT_EQ(core::to_hex(h), "a265c2bc6451ebb3ca9a017188fd672e94a11f7bd9f853ed77301329f890f8ad");
  EXPECT_EQ(code_of(RecoveryCodeHasher::of(kr, 2)), Errc::not_found);
  auto other = KeeperKeyring::generate();
  ASSERT_TRUE(other);
  EXPECT_NE(RecoveryCodeHasher::of(*other, 1)->hash(account_id(), "abcd2345efgh6789"), h);
}

}  // namespace
}  // namespace rempart::crypto
