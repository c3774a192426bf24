#include "crypto/field_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "crypto/byte_io.hpp"
#include "crypto/test_support.hpp"

namespace rempart::crypto::detail {
namespace {

using test::code_of;

const std::uint8_t kItem[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
const std::uint8_t kOtherItem[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x89};

std::vector<core::Field> sample_fields() {
  return {{"given_name", "Louise"}, {"family_name", "Michel"}, {"email", "louise@example.org"}, {"phone", ""}};
}

class FieldCodec : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(init());
    randombytes_buf(key.data(), kDataKeySize);
  }
  DataKey key;
  Binding binding{kRecordContext, kItem, 7, {}};
};

// Splits a fields blob into (name, nonce||ct) entries; test-side parser for
// building tampered blobs.
struct Entry {
  std::string name;
  Bytes sealed;
};
std::vector<Entry> split(const Bytes& blob) {
  ByteReader r(blob);
  r.u8();
  const std::size_t n = r.u16();
  std::vector<Entry> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto name = r.take(r.u16());
    const std::size_t len = r.u32();
    auto sealed = r.take(24 + len);
    out.push_back({std::string(name.begin(), name.end()), Bytes(sealed.begin(), sealed.end())});
  }
  EXPECT_TRUE(r.at_end());
  return out;
}
Bytes join(const std::vector<Entry>& entries) {
  Bytes out;
  put_u8(out, 1);
  put_u16(out, static_cast<std::uint16_t>(entries.size()));
  for (const auto& e : entries) {
    put_u16(out, static_cast<std::uint16_t>(e.name.size()));
    put_bytes(out, std::string_view(e.name));
    put_u32(out, static_cast<std::uint32_t>(e.sealed.size() - 24));
    put_bytes(out, e.sealed);
  }
  return out;
}

TEST_F(FieldCodec, RoundTrip) {
  const auto fields = sample_fields();
  auto blob = encrypt_fields(key, binding, fields);
  ASSERT_TRUE(blob);
  auto back = decrypt_fields(key, binding, *blob);
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(*back, fields);
  EXPECT_EQ(join(split(*blob)), *blob);  // the test parser agrees with the format
}

TEST_F(FieldCodec, EmptyFieldListRoundTrips) {
  auto blob = encrypt_fields(key, binding, {});
  ASSERT_TRUE(blob);
  auto back = decrypt_fields(key, binding, *blob);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST_F(FieldCodec, PlaintextDoesNotAppearInBlob) {
  const std::vector<core::Field> fields{{"email", "distinctive.value@example.org"}};
  auto blob = encrypt_fields(key, binding, fields);
  ASSERT_TRUE(blob);
  const std::string_view v = fields[0].value;
  EXPECT_EQ(std::search(blob->begin(), blob->end(), v.begin(), v.end()), blob->end());
}

TEST_F(FieldCodec, BindingToContextItemAndVersion) {
  auto blob = encrypt_fields(key, binding, sample_fields());
  ASSERT_TRUE(blob);
  const Binding other_context{kSubmissionContext, kItem, 7, {}};
  const Binding other_item{kRecordContext, kOtherItem, 7, {}};
  const Binding other_version{kRecordContext, kItem, 8, {}};
  for (const Binding& b : {other_context, other_item, other_version}) {
    auto r = decrypt_fields(key, b, *blob);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::crypto);
  }
  DataKey other_key;
  randombytes_buf(other_key.data(), kDataKeySize);
  EXPECT_EQ(code_of(decrypt_fields(other_key, binding, *blob)), Errc::crypto);
}

TEST_F(FieldCodec, CiphertextBoundToFieldName) {
  auto blob = encrypt_fields(key, binding, sample_fields());
  ASSERT_TRUE(blob);
  auto entries = split(*blob);
  std::swap(entries[0].sealed, entries[1].sealed);  // given_name <-> family_name values
  auto swapped = decrypt_fields(key, binding, join(entries));
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().code, Errc::crypto);

  entries = split(*blob);
  entries[2].name = "phone2";  // renamed field
  EXPECT_EQ(code_of(decrypt_fields(key, binding, join(entries))), Errc::crypto);
}

TEST_F(FieldCodec, EveryFlippedBitFails) {
  auto blob = encrypt_fields(key, binding, sample_fields());
  ASSERT_TRUE(blob);
  for (std::size_t i = 0; i < blob->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = *blob;
      bad[i] ^= static_cast<std::uint8_t>(1 << bit);
      ASSERT_FALSE(decrypt_fields(key, binding, bad)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(FieldCodec, EncryptRefusesBadFieldLists) {
  const auto refused = [&](const std::vector<core::Field>& f) {
    auto r = encrypt_fields(key, binding, f);
    return !r && r.error().code == Errc::invalid_input;
  };
  EXPECT_TRUE(refused({{"", "x"}}));
  EXPECT_TRUE(refused({{std::string(256, 'n'), "x"}}));
  EXPECT_FALSE(refused({{std::string(255, 'n'), "x"}}));
  EXPECT_TRUE(refused({{"email", "a"}, {"phone", "b"}, {"email", "c"}}));
  EXPECT_TRUE(refused({{"notes", std::string(kMaxFieldValueSize + 1, 'v')}}));
  EXPECT_FALSE(refused({{"notes", std::string(kMaxFieldValueSize, 'v')}}));
  std::vector<core::Field> many;
  for (std::size_t i = 0; i <= kMaxFields; ++i) many.push_back({std::to_string(i) + "f", "v"});
  EXPECT_TRUE(refused(many));
  many.pop_back();
  EXPECT_FALSE(refused(many));
}

// Hostile input: every outcome must be a clean error (ASan/UBSan watch for
// anything else).
TEST_F(FieldCodec, HostileBlobsFailCleanly) {
  const auto clean_failure = [&](const Bytes& b) {
    auto r = decrypt_fields(key, binding, b);
    return !r && (r.error().code == Errc::invalid_input || r.error().code == Errc::crypto);
  };
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    Bytes b(rng() % 400);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    if (!b.empty() && i % 2 == 0) b[0] = 1;  // get past the format byte half of the time
    ASSERT_TRUE(clean_failure(b)) << "random blob " << i;
  }

  auto blob = encrypt_fields(key, binding, sample_fields());
  ASSERT_TRUE(blob);
  for (std::size_t len = 0; len < blob->size(); ++len)
    ASSERT_TRUE(clean_failure(Bytes(blob->begin(), blob->begin() + static_cast<std::ptrdiff_t>(len)))) << len;
  Bytes trailing = *blob;
  trailing.push_back(0);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, trailing)), Errc::invalid_input);

  // Huge length prefixes.
  Bytes huge_count{1, 0xff, 0xff};
  EXPECT_EQ(code_of(decrypt_fields(key, binding, huge_count)), Errc::invalid_input);
  Bytes huge_name{1, 1, 0, 0xff, 0xff};
  huge_name.resize(200, 'a');
  EXPECT_EQ(code_of(decrypt_fields(key, binding, huge_name)), Errc::invalid_input);
  Bytes huge_ct{1, 1, 0, 1, 0, 'e', 0xff, 0xff, 0xff, 0xff};
  huge_ct.resize(200, 0);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, huge_ct)), Errc::invalid_input);
  Bytes short_ct{1, 1, 0, 1, 0, 'e', 15, 0, 0, 0};  // shorter than a tag
  short_ct.resize(10 + 24 + 15, 0);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, short_ct)), Errc::invalid_input);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, {})), Errc::invalid_input);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, Bytes{2, 0, 0})), Errc::invalid_input);

  // Duplicate names are refused even when each entry is well formed.
  auto entries = split(*blob);
  entries[1].name = entries[0].name;
  EXPECT_EQ(code_of(decrypt_fields(key, binding, join(entries))), Errc::invalid_input);
}

TEST_F(FieldCodec, WrapRoundTripAndBinding) {
  DataKey wrapping;
  randombytes_buf(wrapping.data(), kDataKeySize);
  const std::uint8_t batch_a[32] = {1};
  const std::uint8_t batch_b[32] = {2};
  const Binding b{kSubmissionContext, kItem, 3, batch_a};
  const Bytes wrapped = wrap_key(wrapping.bytes, key, b);
  ASSERT_EQ(wrapped.size(), kWrappedKeySize);

  DataKey out;
  ASSERT_TRUE(unwrap_key(wrapping.bytes, wrapped, b, out));
  EXPECT_EQ(out.bytes, key.bytes);

  for (const Binding& other : {Binding{kRecordContext, kItem, 3, batch_a}, Binding{kSubmissionContext, kOtherItem, 3, batch_a},
                               Binding{kSubmissionContext, kItem, 4, batch_a}, Binding{kSubmissionContext, kItem, 3, batch_b},
                               Binding{kSubmissionContext, kItem, 3, {}}}) {
    auto r = unwrap_key(wrapping.bytes, wrapped, other, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::crypto);
  }
  for (std::size_t i = 0; i < wrapped.size(); ++i) {
    Bytes bad = wrapped;
    bad[i] ^= 0x80;
    EXPECT_FALSE(unwrap_key(wrapping.bytes, bad, b, out)) << i;
  }
  EXPECT_EQ(code_of(unwrap_key(wrapping.bytes, Bytes(wrapped.begin(), wrapped.end() - 1), b, out)),
            Errc::invalid_input);
  EXPECT_EQ(code_of(unwrap_key(wrapping.bytes, {}, b, out)), Errc::invalid_input);
}

TEST(ItemId, Limits) {
  EXPECT_FALSE(check_item_id({}));
  EXPECT_TRUE(check_item_id(Bytes(1)));
  EXPECT_TRUE(check_item_id(Bytes(kMaxItemIdSize)));
  EXPECT_FALSE(check_item_id(Bytes(kMaxItemIdSize + 1)));
}

}  // namespace
}  // namespace rempart::crypto::detail
