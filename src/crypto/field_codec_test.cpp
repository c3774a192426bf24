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

// A format-1 blob (one AEAD per field), as the code before format 2 wrote
// it: sample_fields() under the data key 00 01 .. 1f, bound to (record,
// kItem, version 7), with the nonces a0 a1 .. ff. Kept to prove that items
// sealed before format 2 still open, and that they are still checked.
constexpr std::string_view kFormatOneBlob =
    "0104000a00676976656e5f6e616d6516000000a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b709837f74c4386a71982101816a"
    "ae1d1fd8d7b013450b0b0066616d696c795f6e616d6516000000b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf0296c03556cd"
    "788b32fa2158d195f8ffede64ad28e330500656d61696c22000000d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e44a07a31c"
    "e5a6f1e214b8159bc341457fac81a6ed83eab52bd4c07d857f844b3c5b050070686f6e6510000000e8e9eaebecedeeeff0f1f2f3f4f5f6f7"
    "f8f9fafbfcfdfeff8a07f75643d11344524af44e6a836c2d";

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
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

// Splits a format-1 blob into (name, nonce||ct) entries; test-side parser
// for building tampered blobs.
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
  ASSERT_FALSE(blob->empty());
  EXPECT_EQ((*blob)[0], 2);  // format 2: one AEAD for the whole item
  // format, nonce, then the encoded list under a single tag.
  std::size_t plain = 2;
  for (const auto& f : fields) plain += 2 + f.name.size() + 4 + f.value.size();
  EXPECT_EQ(blob->size(), 1 + kNonceSize + plain + 16);
}

TEST_F(FieldCodec, EmptyFieldListRoundTrips) {
  auto blob = encrypt_fields(key, binding, {});
  ASSERT_TRUE(blob);
  auto back = decrypt_fields(key, binding, *blob);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST_F(FieldCodec, PlaintextDoesNotAppearInBlob) {
  const std::vector<core::Field> fields{{"email", "distinctive.value@example.org"}, {"distinctive_name", "x"}};
  auto blob = encrypt_fields(key, binding, fields);
  ASSERT_TRUE(blob);
  // Neither the values nor, since format 2, the names of the fields.
  for (const std::string_view v : {std::string_view(fields[0].value), std::string_view(fields[1].name)})
    EXPECT_EQ(std::search(blob->begin(), blob->end(), v.begin(), v.end()), blob->end()) << v;
}

TEST_F(FieldCodec, SameFieldsSealTwiceDiffer) {
  auto a = encrypt_fields(key, binding, sample_fields());
  auto b = encrypt_fields(key, binding, sample_fields());
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // a fresh nonce each time
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

TEST_F(FieldCodec, FormatOneBlobsStillOpen) {
  DataKey kat_key;
  for (std::size_t i = 0; i < kDataKeySize; ++i) kat_key.bytes[i] = static_cast<std::uint8_t>(i);
  const Bytes blob = from_hex(kFormatOneBlob);
  ASSERT_EQ(join(split(blob)), blob);  // the test parser agrees with the format
  auto back = decrypt_fields(kat_key, binding, blob);
  ASSERT_TRUE(back) << back.error().internal;
  EXPECT_EQ(*back, sample_fields());
  // Still bound to its item, context and version, and to its key.
  for (const Binding& b : {Binding{kSubmissionContext, kItem, 7, {}}, Binding{kRecordContext, kOtherItem, 7, {}},
                           Binding{kRecordContext, kItem, 8, {}}})
    EXPECT_EQ(code_of(decrypt_fields(kat_key, b, blob)), Errc::crypto);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, blob)), Errc::crypto);
  for (std::size_t i = 0; i < blob.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = blob;
      bad[i] ^= static_cast<std::uint8_t>(1 << bit);
      ASSERT_FALSE(decrypt_fields(kat_key, binding, bad)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(FieldCodec, FormatOneCiphertextBoundToFieldName) {
  DataKey kat_key;
  for (std::size_t i = 0; i < kDataKeySize; ++i) kat_key.bytes[i] = static_cast<std::uint8_t>(i);
  const Bytes blob = from_hex(kFormatOneBlob);
  auto entries = split(blob);
  std::swap(entries[0].sealed, entries[1].sealed);  // given_name <-> family_name values
  auto swapped = decrypt_fields(kat_key, binding, join(entries));
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().code, Errc::crypto);

  entries = split(blob);
  entries[2].name = "phone2";  // renamed field
  EXPECT_EQ(code_of(decrypt_fields(kat_key, binding, join(entries))), Errc::crypto);

  // Duplicate names are refused even when each entry is well formed.
  entries = split(blob);
  entries[1].name = entries[0].name;
  EXPECT_EQ(code_of(decrypt_fields(kat_key, binding, join(entries))), Errc::invalid_input);
  Bytes trailing = blob;
  trailing.push_back(0);
  EXPECT_EQ(code_of(decrypt_fields(kat_key, binding, trailing)), Errc::invalid_input);
}

// A format-2 plaintext that authenticates but is not a well-formed list
// (only a holder of the data key could write one) is refused all the same.
TEST_F(FieldCodec, AuthenticatedButMalformedListsAreRefused) {
  Bytes ad;
  put_lp(ad, std::string_view("rempart/fields/v2"));
  put_lp(ad, binding.context);
  put_lp(ad, binding.item_id);
  put_u32(ad, binding.key_version);
  const auto seal_plain = [&](const Bytes& plain) {
    Bytes out(1 + kNonceSize + plain.size() + 16);
    out[0] = 2;
    randombytes_buf(out.data() + 1, kNonceSize);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + 1 + kNonceSize, nullptr, plain.data(), plain.size(),
                                               ad.data(), ad.size(), nullptr, out.data() + 1, key.data());
    return out;
  };
  const auto entry = [](Bytes& p, std::string_view name, std::string_view value) {
    put_u16(p, static_cast<std::uint16_t>(name.size()));
    put_bytes(p, name);
    put_u32(p, static_cast<std::uint32_t>(value.size()));
    put_bytes(p, value);
  };
  Bytes good;
  put_u16(good, 1);
  entry(good, "email", "a@example.org");
  auto ok = decrypt_fields(key, binding, seal_plain(good));
  ASSERT_TRUE(ok) << ok.error().internal;  // the hand-built encoding is the real one
  EXPECT_EQ(*ok, (std::vector<core::Field>{{"email", "a@example.org"}}));

  std::vector<Bytes> bad(7);
  put_u16(bad[0], 2);  // duplicate names
  entry(bad[0], "email", "a");
  entry(bad[0], "email", "b");
  put_u16(bad[1], 2);  // one entry fewer than counted
  entry(bad[1], "email", "a");
  bad[2] = good;  // trailing byte
  bad[2].push_back(0);
  put_u16(bad[3], 1);  // empty name
  entry(bad[3], "", "a");
  put_u16(bad[4], 1);  // value longer than what follows
  put_u16(bad[4], 1);
  put_bytes(bad[4], std::string_view("e"));
  put_u32(bad[4], 0xffffffff);
  put_u16(bad[5], 0xffff);  // more fields than allowed
  bad[6] = {};              // not even a count
  for (std::size_t i = 0; i < bad.size(); ++i)
    EXPECT_EQ(code_of(decrypt_fields(key, binding, seal_plain(bad[i]))), Errc::invalid_input) << i;
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
    if (!b.empty() && i % 3 != 2) b[0] = static_cast<std::uint8_t>(1 + i % 3);  // get past the format byte
    ASSERT_TRUE(clean_failure(b)) << "random blob " << i;
  }

  auto blob = encrypt_fields(key, binding, sample_fields());
  ASSERT_TRUE(blob);
  for (std::size_t len = 0; len < blob->size(); ++len)
    ASSERT_TRUE(clean_failure(Bytes(blob->begin(), blob->begin() + static_cast<std::ptrdiff_t>(len)))) << len;
  Bytes trailing = *blob;
  trailing.push_back(0);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, trailing)), Errc::crypto);  // format 2: the tag moved

  // Huge length prefixes (format 1).
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
  EXPECT_EQ(code_of(decrypt_fields(key, binding, Bytes(1 + kNonceSize + 16 + 1, 2))), Errc::invalid_input);
  EXPECT_EQ(code_of(decrypt_fields(key, binding, Bytes{3, 0, 0})), Errc::invalid_input);  // unknown format
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
