#include "crypto/seal.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <random>
#include <thread>

#include "crypto/field_codec.hpp"
#include "crypto/key_access.hpp"
#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

using test::code_of;

const std::uint8_t kItemA[] = {0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
const std::uint8_t kItemB[] = {0xb0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

std::vector<core::Field> person_fields() {
  return {{"given_name", "Louise"},      {"family_name", "Michel"},   {"email", "louise.michel@example.org"},
          {"phone", "+33612345678"},     {"postal_code", "75018"},    {"locality", "Paris"},
          {"country", "FR"},             {"consent_email", "1"}};
}

std::string label(int t, int i) { return std::to_string(t) + "/" + std::to_string(i); }

class Sealing : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kr = KeeperKeyring::generate();
    ASSERT_TRUE(kr);
    keeper = std::make_unique<KeeperKeyring>(std::move(*kr));
    auto s = BatchSealer::create(keeper->intake());
    ASSERT_TRUE(s) << s.error().internal;
    sealer = *s;
  }
  BatchOpener opener_for(const BatchSealer& s) {
    auto o = BatchOpener::create(*keeper, s.key_version(), s.ephemeral_public());
    EXPECT_TRUE(o) << o.error().internal;
    return std::move(*o);
  }

  std::unique_ptr<KeeperKeyring> keeper;
  std::shared_ptr<const BatchSealer> sealer;
};

TEST_F(Sealing, SubmissionRoundTrip) {
  const auto fields = person_fields();
  auto sealed = sealer->seal(kItemA, fields);
  ASSERT_TRUE(sealed) << sealed.error().internal;
  EXPECT_EQ(sealer->key_version(), keeper->current().version);
  auto opened = opener_for(*sealer).open(kItemA, *sealed);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(*opened, fields);
}

TEST_F(Sealing, RoundTripOfEmptyValuesAndNoFields) {
  const std::vector<core::Field> fields{{"given_name", ""}, {"tags", "a\nb"}};
  auto sealed = sealer->seal(kItemA, fields);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(*opener_for(*sealer).open(kItemA, *sealed), fields);
  auto none = sealer->seal(kItemA, {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(opener_for(*sealer).open(kItemA, *none)->empty());
}

TEST_F(Sealing, SameInputSealsDifferently) {
  auto a = sealer->seal(kItemA, person_fields());
  auto b = sealer->seal(kItemA, person_fields());
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->wrapped_key, b->wrapped_key);
  EXPECT_NE(a->fields, b->fields);
}

TEST_F(Sealing, SealedBytesHoldNoPlaintext) {
  auto s = sealer->seal(kItemA, person_fields());
  ASSERT_TRUE(s);
  for (const auto& f : person_fields()) {
    if (f.value.size() < 4) continue;
    EXPECT_EQ(std::search(s->fields.begin(), s->fields.end(), f.value.begin(), f.value.end()), s->fields.end())
        << f.name;
  }
}

TEST_F(Sealing, AnyFlippedBitFails) {
  auto sealed = sealer->seal(kItemA, person_fields());
  ASSERT_TRUE(sealed);
  const BatchOpener opener = opener_for(*sealer);
  for (std::size_t i = 0; i < sealed->wrapped_key.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Sealed bad = *sealed;
      bad.wrapped_key[i] ^= static_cast<std::uint8_t>(1 << bit);
      ASSERT_FALSE(opener.open(kItemA, bad)) << "wrapped_key byte " << i << " bit " << bit;
    }
  }
  for (std::size_t i = 0; i < sealed->fields.size(); ++i) {
    Sealed bad = *sealed;
    bad.fields[i] ^= static_cast<std::uint8_t>(1 << (i % 8));
    ASSERT_FALSE(opener.open(kItemA, bad)) << "fields byte " << i;
  }
}

TEST_F(Sealing, BoundToItemId) {
  auto a = sealer->seal(kItemA, person_fields());
  auto b = sealer->seal(kItemB, person_fields());
  ASSERT_TRUE(a && b);
  const BatchOpener opener = opener_for(*sealer);
  EXPECT_EQ(code_of(opener.open(kItemB, *a)), Errc::crypto);
  // Mixing one item's data key with another item's fields fails too.
  EXPECT_EQ(code_of(opener.open(kItemA, Sealed{a->wrapped_key, b->fields})), Errc::crypto);
  EXPECT_EQ(code_of(opener.open(kItemB, Sealed{a->wrapped_key, b->fields})), Errc::crypto);
  EXPECT_EQ(code_of(opener.open({}, *a)), Errc::invalid_input);
}

TEST_F(Sealing, BoundToBatch) {
  auto other = BatchSealer::create(keeper->intake());
  ASSERT_TRUE(other);
  EXPECT_NE((*other)->ephemeral_public(), sealer->ephemeral_public());
  auto sealed = sealer->seal(kItemA, person_fields());
  ASSERT_TRUE(sealed);
  EXPECT_EQ(code_of(opener_for(**other).open(kItemA, *sealed)), Errc::crypto);
}

TEST_F(Sealing, OpenerRefusesWrongEphemeralKeyOrVersion) {
  auto sealed = sealer->seal(kItemA, person_fields());
  ASSERT_TRUE(sealed);
  std::array<std::uint8_t, 32> random_pub{};
  // Some valid point.
  crypto_scalarmult_base(random_pub.data(), detail::KeyAccess::blind_index(keeper->current()).data());
  auto wrong = BatchOpener::create(*keeper, sealer->key_version(), random_pub);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(code_of(wrong->open(kItemA, *sealed)), Errc::crypto);

  const std::array<std::uint8_t, 32> zero{};
  EXPECT_EQ(code_of(BatchOpener::create(*keeper, sealer->key_version(), zero)), Errc::crypto);
  EXPECT_EQ(code_of(BatchOpener::create(*keeper, sealer->key_version(),
                                        std::span(sealer->ephemeral_public()).first(31))),
            Errc::invalid_input);
  EXPECT_EQ(code_of(BatchOpener::create(*keeper, 99, sealer->ephemeral_public())), Errc::not_found);
}

TEST_F(Sealing, BoundToKeyVersion) {
  ASSERT_TRUE(keeper->add_version());
  auto v2 = BatchSealer::create(keeper->intake());
  ASSERT_TRUE(v2);
  EXPECT_EQ((*v2)->key_version(), 2u);
  auto sealed = (*v2)->seal(kItemA, person_fields());
  ASSERT_TRUE(sealed);
  // The right ephemeral key under the wrong version's sealing secret.
  auto as_v1 = BatchOpener::create(*keeper, 1, (*v2)->ephemeral_public());
  ASSERT_TRUE(as_v1);
  EXPECT_EQ(code_of(as_v1->open(kItemA, *sealed)), Errc::crypto);
  EXPECT_EQ(*opener_for(**v2).open(kItemA, *sealed), person_fields());
  // The version-1 batch still opens after rotation.
  auto old = sealer->seal(kItemB, person_fields());
  ASSERT_TRUE(old);
  EXPECT_EQ(*opener_for(*sealer).open(kItemB, *old), person_fields());
}

TEST_F(Sealing, SealerRefusesDegeneratePublicKey) {
  EXPECT_EQ(code_of(BatchSealer::create(IntakeKeyring{1, {}})), Errc::crypto);
  EXPECT_EQ(code_of(BatchSealer::create(IntakeKeyring{0, keeper->current().seal_public})), Errc::invalid_input);
}

TEST_F(Sealing, SealRefusesBadInput) {
  EXPECT_EQ(code_of(sealer->seal({}, person_fields())), Errc::invalid_input);
  EXPECT_EQ(code_of(sealer->seal(Bytes(2000, 1), person_fields())), Errc::invalid_input);
  EXPECT_EQ(code_of(sealer->seal(kItemA, std::vector<core::Field>{{"email", "a"}, {"email", "b"}})),
            Errc::invalid_input);
}

TEST_F(Sealing, ConcurrentSealsOnOneSealer) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::vector<std::vector<std::pair<Bytes, Sealed>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Bytes id{static_cast<std::uint8_t>(t), static_cast<std::uint8_t>(i)};
        auto fields = person_fields();
        fields[0].value = label(t, i);
        auto s = sealer->seal(id, fields);
        if (s) results[t].emplace_back(std::move(id), std::move(*s));
      }
    });
  }
  for (auto& th : threads) th.join();
  const BatchOpener opener = opener_for(*sealer);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      auto opened = opener.open(results[t][i].first, results[t][i].second);
      ASSERT_TRUE(opened);
      EXPECT_EQ((*opened)[0].value, label(t, i));
    }
  }
}

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Informative only (no assertion on speed): prints the CPU cost of one seal
// of 8 small fields and of starting a batch. CPU time rather than wall time,
// because the build machine is shared.
TEST_F(Sealing, Timing) {
  const auto fields = person_fields();
  constexpr int kRounds = 2000;
  const double t0 = thread_cpu_us();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(sealer->seal(kItemA, fields));
  const double t1 = thread_cpu_us();
  constexpr int kBatches = 50;
  for (int i = 0; i < kBatches; ++i) ASSERT_TRUE(BatchSealer::create(keeper->intake()));
  const double t2 = thread_cpu_us();
  std::cout << "[ timing ] CPU per BatchSealer::seal of 8 fields: " << (t1 - t0) / kRounds
            << " us; per BatchSealer::create: " << (t2 - t1) / kBatches << " us\n";
  RecordProperty("seal_8_fields_cpu_us", std::to_string((t1 - t0) / kRounds));
}

class Records : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kr = KeeperKeyring::generate();
    ASSERT_TRUE(kr);
    keeper = std::make_unique<KeeperKeyring>(std::move(*kr));
  }
  std::unique_ptr<KeeperKeyring> keeper;
};

TEST_F(Records, RoundTrip) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec) << rec.error().internal;
  EXPECT_EQ(rec->key_version, 1u);
  auto opened = open_record(*keeper, kItemA, *rec);
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(*opened, person_fields());
}

TEST_F(Records, AnyFlippedBitFails) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec);
  for (std::size_t i = 0; i < rec->wrapped_key.size(); ++i) {
    SealedRecord bad = *rec;
    bad.wrapped_key[i] ^= static_cast<std::uint8_t>(1 << (i % 8));
    ASSERT_FALSE(open_record(*keeper, kItemA, bad)) << "wrapped_key byte " << i;
  }
  for (std::size_t i = 0; i < rec->fields.size(); ++i) {
    SealedRecord bad = *rec;
    bad.fields[i] ^= static_cast<std::uint8_t>(0x80 >> (i % 8));
    ASSERT_FALSE(open_record(*keeper, kItemA, bad)) << "fields byte " << i;
  }
}

TEST_F(Records, BoundToRecordIdAndVersion) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec);
  EXPECT_EQ(code_of(open_record(*keeper, kItemB, *rec)), Errc::crypto);

  ASSERT_TRUE(keeper->add_version());
  SealedRecord relabelled = *rec;
  relabelled.key_version = 2;
  EXPECT_EQ(code_of(open_record(*keeper, kItemA, relabelled)), Errc::crypto);
  relabelled.key_version = 3;
  EXPECT_EQ(code_of(open_record(*keeper, kItemA, relabelled)), Errc::not_found);

  // Old records still open after rotation; new ones use the new version.
  EXPECT_EQ(*open_record(*keeper, kItemA, *rec), person_fields());
  auto rec2 = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec2);
  EXPECT_EQ(rec2->key_version, 2u);
  EXPECT_EQ(*open_record(*keeper, kItemA, *rec2), person_fields());
}

TEST_F(Records, RewrapMovesTheKeyAndLeavesTheFieldsUntouched) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec);
  EXPECT_EQ(code_of(rewrap_record(*keeper, kItemA, *rec)), Errc::invalid_input);  // already current
  ASSERT_TRUE(keeper->add_version());
  ASSERT_TRUE(keeper->add_version());
  auto moved = rewrap_record(*keeper, kItemA, *rec);
  ASSERT_TRUE(moved) << moved.error().internal;
  EXPECT_EQ(moved->key_version, 3u);
  EXPECT_EQ(moved->fields, rec->fields);  // not one byte of the fields changed
  EXPECT_NE(moved->wrapped_key, rec->wrapped_key);
  EXPECT_EQ(*open_record(*keeper, kItemA, *moved), person_fields());
  // Bound like any wrapped key: another record, another version, any bit.
  EXPECT_EQ(code_of(open_record(*keeper, kItemB, *moved)), Errc::crypto);
  SealedRecord relabelled = *moved;
  relabelled.key_version = 2;
  EXPECT_FALSE(open_record(*keeper, kItemA, relabelled));
  for (std::size_t i = 0; i < moved->wrapped_key.size(); ++i) {
    SealedRecord bad = *moved;
    bad.wrapped_key[i] ^= static_cast<std::uint8_t>(1 << (i % 8));
    ASSERT_FALSE(open_record(*keeper, kItemA, bad)) << "wrapped_key byte " << i;
  }
  // An edit after the rewrap seals its fields under the current version.
  auto edited = reseal_record(*keeper, kItemA, *moved, person_fields());
  ASSERT_TRUE(edited);
  EXPECT_EQ(edited->key_version, 3u);
  EXPECT_EQ(*open_record(*keeper, kItemA, *edited), person_fields());
  // A second rotation moves the rewrapped key again; the fields still name version 1.
  ASSERT_TRUE(keeper->add_version());
  auto again = rewrap_record(*keeper, kItemA, *moved);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key_version, 4u);
  EXPECT_EQ(*open_record(*keeper, kItemA, *again), person_fields());
}

TEST_F(Records, ARewrappedKeyCannotClaimFieldsOfItsOwnVersion) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec);
  ASSERT_TRUE(keeper->add_version());
  auto moved = rewrap_record(*keeper, kItemA, *rec);
  ASSERT_TRUE(moved);
  ASSERT_EQ(moved->wrapped_key.size(), detail::kRewrappedKeySize);
  // The fields version it names is bound by the AD: changing it to anything
  // else fails, and one not older than the wrap is refused as malformed.
  SealedRecord bad = *moved;
  bad.wrapped_key[1] = 2;
  EXPECT_EQ(code_of(open_record(*keeper, kItemA, bad)), Errc::invalid_input);
  bad.wrapped_key[1] = 0;
  EXPECT_EQ(code_of(open_record(*keeper, kItemA, bad)), Errc::invalid_input);
}

TEST_F(Records, NothingOpensUnderARetiredVersion) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec);
  auto batch = BatchSealer::create(keeper->intake());
  ASSERT_TRUE(batch);
  auto item = (*batch)->seal(kItemB, person_fields());
  ASSERT_TRUE(item);
  const auto eph = (*batch)->ephemeral_public();
  ASSERT_TRUE(keeper->add_version());
  auto retired = keeper->with_retired(1);
  ASSERT_TRUE(retired);
  EXPECT_EQ(code_of(open_record(*retired, kItemA, *rec)), Errc::not_found);
  EXPECT_EQ(code_of(rewrap_record(*retired, kItemA, *rec)), Errc::not_found);
  EXPECT_EQ(code_of(BatchOpener::create(*retired, 1, eph)), Errc::not_found);
  // Rewrapped before the retirement, the record opens under version 2 alone.
  auto moved = rewrap_record(*keeper, kItemA, *rec);
  ASSERT_TRUE(moved);
  EXPECT_EQ(*open_record(*retired, kItemA, *moved), person_fields());
}

TEST_F(Records, NotOpenableUnderAnotherKeyring) {
  auto rec = seal_record(*keeper, kItemA, person_fields());
  ASSERT_TRUE(rec);
  auto other = KeeperKeyring::generate();
  ASSERT_TRUE(other);
  EXPECT_EQ(code_of(open_record(*other, kItemA, *rec)), Errc::crypto);
}

TEST_F(Records, HostileSealedRecordsFailCleanly) {
  std::mt19937 rng(777);
  for (int i = 0; i < 500; ++i) {
    SealedRecord r{1, Bytes(rng() % 120), Bytes(rng() % 300)};
    for (auto& x : r.wrapped_key) x = static_cast<std::uint8_t>(rng());
    for (auto& x : r.fields) x = static_cast<std::uint8_t>(rng());
    auto opened = open_record(*keeper, kItemA, r);
    ASSERT_FALSE(opened);
    EXPECT_TRUE(opened.error().code == Errc::crypto || opened.error().code == Errc::invalid_input);
  }
}

}  // namespace
}  // namespace rempart::crypto
