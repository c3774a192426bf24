#include "crypto/record_notes.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "crypto/test_support.hpp"

namespace rempart::crypto {
namespace {

using test::code_of;

const std::uint8_t kRecord[] = {0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
const std::uint8_t kOther[] = {0xb0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

class RecordNotes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kr = KeeperKeyring::generate();
    ASSERT_TRUE(kr);
    keys = std::make_unique<KeeperKeyring>(std::move(*kr));
    auto r = seal_record(*keys, kRecord, fields);
    ASSERT_TRUE(r) << r.error().internal;
    record = std::move(*r);
  }
  std::vector<core::Field> fields{{"given_name", "Louise"}, {"email", "louise@example.org"}};
  std::vector<core::Field> note{{"text", "Rappeler jeudi"}};
  std::unique_ptr<KeeperKeyring> keys;
  SealedRecord record;
};

TEST_F(RecordNotes, OpensUnderTheRecordKeyAndItsBinding) {
  NoteId id{};
  auto blob = seal_record_note(*keys, kRecord, record, "note", note, id);
  ASSERT_TRUE(blob) << blob.error().internal;
  const SealedNoteView v{id, "note", *blob};
  auto opened = open_record_notes(*keys, kRecord, record, std::span(&v, 1));
  ASSERT_TRUE(opened) << opened.error().internal;
  ASSERT_EQ(opened->size(), 1u);
  EXPECT_EQ(opened->front(), note);

  // Another record, another kind, another note id: none opens.
  const SealedNoteView other_kind{id, "called", *blob};
  EXPECT_EQ(code_of(open_record_notes(*keys, kRecord, record, std::span(&other_kind, 1))), Errc::crypto);
  NoteId moved = id;
  moved[0] ^= 1;
  const SealedNoteView other_id{moved, "note", *blob};
  EXPECT_EQ(code_of(open_record_notes(*keys, kRecord, record, std::span(&other_id, 1))), Errc::crypto);
  auto other = seal_record(*keys, kOther, fields);
  ASSERT_TRUE(other);
  EXPECT_FALSE(open_record_notes(*keys, kOther, *other, std::span(&v, 1)));
}

TEST_F(RecordNotes, StayOpenableWhenTheRecordIsResealedOrRewrapped) {
  NoteId id{};
  auto blob = seal_record_note(*keys, kRecord, record, "called", note, id);
  ASSERT_TRUE(blob);
  std::vector<core::Field> changed{{"given_name", "Louise"}, {"email", "l.michel@example.org"}};
  ASSERT_TRUE(keys->add_version());
  auto resealed = reseal_record(*keys, kRecord, record, changed);
  ASSERT_TRUE(resealed) << resealed.error().internal;
  EXPECT_EQ(resealed->key_version, keys->current().version);
  EXPECT_NE(resealed->fields, record.fields);
  auto fields_back = open_record(*keys, kRecord, *resealed);
  ASSERT_TRUE(fields_back);
  EXPECT_EQ(*fields_back, changed);
  const SealedNoteView v{id, "called", *blob};
  auto opened = open_record_notes(*keys, kRecord, *resealed, std::span(&v, 1));
  ASSERT_TRUE(opened) << opened.error().internal;
  EXPECT_EQ(opened->front(), note);
}

TEST_F(RecordNotes, RefuseAWrongRecordKey) {
  NoteId id{};
  auto blob = seal_record_note(*keys, kRecord, record, "note", note, id);
  ASSERT_TRUE(blob);
  SealedRecord tampered = record;
  tampered.wrapped_key.back() ^= 1;
  const SealedNoteView v{id, "note", *blob};
  EXPECT_EQ(code_of(open_record_notes(*keys, kRecord, tampered, std::span(&v, 1))), Errc::crypto);
  EXPECT_EQ(code_of(seal_record_note(*keys, kRecord, tampered, "note", note, id)), Errc::crypto);
  EXPECT_EQ(code_of(seal_record_note(*keys, kRecord, record, "", note, id)), Errc::invalid_input);
}

}  // namespace
}  // namespace rempart::crypto
