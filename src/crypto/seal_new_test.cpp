// seal_new and seal_new_record: the item id comes from the same CSPRNG call
// as the data key and nonces. These check that the id is fresh, bound into
// the ciphertexts, and that nothing repeats between items.
#include <gtest/gtest.h>
#include <sodium.h>

#include <optional>
#include <set>

#include "crypto/field_codec.hpp"
#include "crypto/seal.hpp"
#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

std::vector<core::Field> fields() {
  return {{"given_name", "Louise"}, {"email", "louise.michel@example.org"}, {"postal_code", "75018"}};
}

// The 24-byte nonce of a fields blob (format 2 in field_codec.hpp), and the
// nonce of a wrapped key.
Bytes fields_nonce_of(const Bytes& blob) {
  EXPECT_EQ(blob.at(0), 2);
  return Bytes(blob.begin() + 1, blob.begin() + 25);
}
Bytes wrap_nonce_of(const Bytes& wrapped) { return Bytes(wrapped.begin() + 1, wrapped.begin() + 25); }

class SealNew : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kr = KeeperKeyring::generate();
    ASSERT_TRUE(kr);
    keeper = std::make_unique<KeeperKeyring>(std::move(*kr));
    auto s = BatchSealer::create(keeper->intake());
    ASSERT_TRUE(s) << s.error().internal;
    sealer = *s;
  }
  std::unique_ptr<KeeperKeyring> keeper;
  std::shared_ptr<const BatchSealer> sealer;
};

TEST_F(SealNew, SubmissionGetsAFreshIdBoundIntoItsCiphertexts) {
  Bytes id(16, 0);
  auto sealed = sealer->seal_new(id, fields());
  ASSERT_TRUE(sealed) << sealed.error().internal;
  EXPECT_FALSE(sodium_is_zero(id.data(), id.size()));
  auto opener = BatchOpener::create(*keeper, sealer->key_version(), sealer->ephemeral_public());
  ASSERT_TRUE(opener);
  auto opened = opener->open(id, *sealed);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(*opened, fields());
  Bytes other = id;
  other[0] ^= 1;
  EXPECT_EQ(test::code_of(opener->open(other, *sealed)), Errc::crypto);
}

TEST_F(SealNew, RecordGetsAFreshIdBoundIntoItsCiphertexts) {
  Bytes id(16, 0);
  auto sealed = seal_new_record(*keeper, id, fields());
  ASSERT_TRUE(sealed) << sealed.error().internal;
  EXPECT_FALSE(sodium_is_zero(id.data(), id.size()));
  EXPECT_EQ(sealed->key_version, keeper->current().version);
  auto opened = open_record(*keeper, id, *sealed);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(*opened, fields());
  Bytes other = id;
  other[15] ^= 0x80;
  EXPECT_EQ(test::code_of(open_record(*keeper, other, *sealed)), Errc::crypto);
}

TEST_F(SealNew, RecordKeepsTheCallersPrefixAndBindsIt) {
  Bytes id(16, 0);
  const Bytes prefix{0x01, 0x93, 0x5e, 0x2a, 0x7c, 0x10};
  std::copy(prefix.begin(), prefix.end(), id.begin());
  auto sealed = seal_new_record(*keeper, id, fields(), prefix.size());
  ASSERT_TRUE(sealed) << sealed.error().internal;
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), id.begin()));
  EXPECT_FALSE(sodium_is_zero(id.data() + prefix.size(), id.size() - prefix.size()));
  auto opened = open_record(*keeper, id, *sealed);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(*opened, fields());
  // The prefix is part of the id the ciphertexts are bound to.
  Bytes moved = id;
  moved[5] ^= 1;
  EXPECT_EQ(test::code_of(open_record(*keeper, moved, *sealed)), Errc::crypto);
  // Two records made with the same prefix still get different ids.
  Bytes twin(16, 0);
  std::copy(prefix.begin(), prefix.end(), twin.begin());
  ASSERT_TRUE(seal_new_record(*keeper, twin, fields(), prefix.size()));
  EXPECT_NE(twin, id);
  // Too few random bytes left after the prefix: refused.
  Bytes short_id(12, 0);
  EXPECT_EQ(test::code_of(seal_new_record(*keeper, short_id, fields(), 6)), Errc::invalid_input);
  EXPECT_EQ(test::code_of(seal_new_record(*keeper, id, fields(), 17)), Errc::invalid_input);
}

TEST_F(SealNew, IdsKeysAndNoncesNeverRepeat) {
  std::set<Bytes> ids, nonces, wrapped;
  constexpr int kItems = 200;
  for (int i = 0; i < kItems; ++i) {
    Bytes id(16, 0);
    std::optional<Sealed> s;
    if (i % 2 == 0) {
      auto r = sealer->seal_new(id, fields());
      ASSERT_TRUE(r);
      s = std::move(*r);
    } else {
      auto r = seal_new_record(*keeper, id, fields());
      ASSERT_TRUE(r);
      s = Sealed{std::move(r->wrapped_key), std::move(r->fields)};
    }
    EXPECT_TRUE(ids.insert(id).second);
    EXPECT_TRUE(wrapped.insert(s->wrapped_key).second);
    EXPECT_TRUE(nonces.insert(wrap_nonce_of(s->wrapped_key)).second);
    EXPECT_TRUE(nonces.insert(fields_nonce_of(s->fields)).second);
  }
  EXPECT_EQ(nonces.size(), static_cast<std::size_t>(kItems) * 2);
}

TEST_F(SealNew, RefusesBadIdsAndTooManyFields) {
  Bytes empty;
  EXPECT_EQ(test::code_of(sealer->seal_new(empty, fields())), Errc::invalid_input);
  EXPECT_EQ(test::code_of(seal_new_record(*keeper, empty, fields())), Errc::invalid_input);
  Bytes id(16, 0);
  std::vector<core::Field> many;
  for (std::size_t i = 0; i <= detail::kMaxFields; ++i) many.push_back({"f" + std::to_string(i), "v"});
  EXPECT_EQ(test::code_of(sealer->seal_new(id, many)), Errc::invalid_input);
  EXPECT_EQ(test::code_of(seal_new_record(*keeper, id, many)), Errc::invalid_input);
}

}  // namespace
}  // namespace rempart::crypto
