// Record data keys wrapped by a real SoftHSM2 token (keys/token_wrapper.hpp)
// through the keyring's RecordKeyWrapper: the record functions of
// crypto/seal.hpp and crypto/record_notes.hpp, a rewrap from a key file's
// version to the token's, and what destroying a version's key in the token
// leaves.
#include "keys/token_wrapper.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "crypto/audit_keys.hpp"
#include "crypto/field_codec.hpp"
#include "crypto/record_notes.hpp"
#include "crypto/seal.hpp"
#include "crypto/test_support.hpp"
#include "keys/test_support.hpp"

namespace rempart::keys {
namespace {

using crypto::test::code_of;
using test_support::ThrowawayToken;

const std::uint8_t kRecord[] = {0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
const std::uint8_t kOther[] = {0x52, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

std::vector<core::Field> fields() {
  return {{"given_name", "Hermeline"}, {"family_name", "Jetonnière"}, {"email", "hermeline@example.org"}};
}

class TokenRecordKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    hsm_ = std::make_unique<ThrowawayToken>("rempart-records", "161803");
    ASSERT_TRUE(hsm_->ok()) << "softhsm2-util could not make a token";
    auto t = Token::open(hsm_->options());
    ASSERT_TRUE(t) << t.error().internal;
    token_ = std::move(*t);
    auto kr = crypto::KeeperKeyring::generate();
    ASSERT_TRUE(kr);
    keyring_ = std::make_unique<crypto::KeeperKeyring>(std::move(*kr));
  }

  std::shared_ptr<TokenRecordWrapper> wrapper() { return std::make_shared<TokenRecordWrapper>(*token_); }

  std::unique_ptr<ThrowawayToken> hsm_;
  std::unique_ptr<Token> token_;
  std::unique_ptr<crypto::KeeperKeyring> keyring_;
};

TEST_F(TokenRecordKeys, ARecordOfAVersionTheTokenHoldsIsWrappedThereAndOpensOnlyThrough) {
  ASSERT_TRUE(make_record_wrap_key(*token_, 1));
  keyring_->use_record_wrapper(wrapper());
  auto rec = crypto::seal_record(*keyring_, kRecord, fields());
  ASSERT_TRUE(rec) << rec.error().internal;
  ASSERT_EQ(rec->wrapped_key.size(), crypto::detail::kTokenWrappedKeySize);
  EXPECT_EQ(rec->wrapped_key[0], crypto::detail::kTokenWrapFormat);
  EXPECT_EQ(*crypto::open_record(*keyring_, kRecord, *rec), fields());
  EXPECT_EQ(code_of(crypto::open_record(*keyring_, kOther, *rec)), Errc::crypto);
  for (std::size_t i = 0; i < rec->wrapped_key.size(); ++i) {
    crypto::SealedRecord bad = *rec;
    bad.wrapped_key[i] ^= static_cast<std::uint8_t>(1 << (i % 8));
    ASSERT_FALSE(crypto::open_record(*keyring_, kRecord, bad)) << i;
  }
  // A note under the record's data key, and an edit, go through the token too.
  crypto::NoteId note{};
  auto sealed_note = crypto::seal_record_note(*keyring_, kRecord, *rec, "call", fields(), note);
  ASSERT_TRUE(sealed_note) << sealed_note.error().internal;
  auto edited = crypto::reseal_record(*keyring_, kRecord, *rec, fields());
  ASSERT_TRUE(edited);
  EXPECT_EQ(edited->wrapped_key[0], crypto::detail::kTokenWrapFormat);
  const crypto::SealedNoteView view{note, "call", *sealed_note};
  auto notes = crypto::open_record_notes(*keyring_, kRecord, *edited, std::span(&view, 1));
  ASSERT_TRUE(notes) << notes.error().internal;
  EXPECT_EQ((*notes)[0], fields());

  // The same keyring without the token opens nothing of it.
  auto bytes = crypto::serialise_keeper_keyring(*keyring_);
  ASSERT_TRUE(bytes);
  auto alone = crypto::parse_keeper_keyring(bytes->span());
  ASSERT_TRUE(alone);
  EXPECT_EQ(code_of(crypto::open_record(*alone, kRecord, *rec)), Errc::not_found);
}

TEST_F(TokenRecordKeys, ARewrapMovesAKeyFileRecordIntoTheTokenAndDestroyingTheKeyShredsIt) {
  keyring_->use_record_wrapper(wrapper());
  auto rec = crypto::seal_record(*keyring_, kRecord, fields());  // version 1: no key in the token
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->wrapped_key.size(), crypto::detail::kWrappedKeySize);
  ASSERT_TRUE(keyring_->add_version());
  ASSERT_TRUE(make_record_wrap_key(*token_, 2));
  auto moved = crypto::rewrap_record(*keyring_, kRecord, *rec);
  ASSERT_TRUE(moved) << moved.error().internal;
  EXPECT_EQ(moved->key_version, 2u);
  EXPECT_EQ(moved->wrapped_key[0], crypto::detail::kTokenWrapFormat);
  EXPECT_EQ(moved->fields, rec->fields);
  auto retired = keyring_->with_retired(1);
  ASSERT_TRUE(retired);
  retired->use_record_wrapper(wrapper());
  EXPECT_EQ(*crypto::open_record(*retired, kRecord, *moved), fields());
  EXPECT_EQ(code_of(crypto::open_record(*retired, kRecord, *rec)), Errc::not_found);

  // Version 2's key destroyed in the token: its records open under nothing.
  ASSERT_TRUE(token_->destroy(record_wrap_label(2)));
  retired->use_record_wrapper(wrapper());  // a new wrapper: nothing cached
  EXPECT_EQ(code_of(crypto::open_record(*retired, kRecord, *moved)), Errc::not_found);
  keyring_->use_record_wrapper(wrapper());
  EXPECT_EQ(code_of(crypto::open_record(*keyring_, kRecord, *moved)), Errc::not_found);
}

// The audit signing key of a version made in the token: the keyring keeps
// its public half, checkpoints are signed there and check against the
// keyring alone, the private key is never readable, and without the token
// (or once its key is destroyed) nothing signs for that version.
TEST_F(TokenRecordKeys, AVersionsAuditSigningKeyLivesInTheTokenAndSignsOnlyThere) {
  ASSERT_TRUE(keyring_->add_version());
  auto pub = make_audit_sign_key(*token_, 2);
  ASSERT_TRUE(pub) << pub.error().internal;
  auto again = make_audit_sign_key(*token_, 2);  // found, not made twice
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *pub);
  auto moved = keyring_->with_token_signing(*pub);
  ASSERT_TRUE(moved) << moved.error().internal;
  moved->use_audit_signer(std::make_shared<TokenAuditSigner>(*token_));
  auto signer = crypto::AuditSigner::current(*moved);
  ASSERT_TRUE(signer) << signer.error().internal;
  EXPECT_EQ(signer->version(), 2u);
  const std::uint8_t head[] = {'s', 'e', 'q', '4', '2'};
  auto sig = signer->sign(head);
  ASSERT_TRUE(sig) << sig.error().internal;
  auto verifier = crypto::AuditVerifier::of(*moved, 2);
  ASSERT_TRUE(verifier);
  EXPECT_TRUE(verifier->verify(head, *sig));
  const std::uint8_t other[] = {'s', 'e', 'q', '4', '3'};
  EXPECT_FALSE(verifier->verify(other, *sig));
  auto key = token_->ed25519_key(audit_sign_label(2), false);
  ASSERT_TRUE(key);
  EXPECT_FALSE(token_->value_readable(*key).value());

  // The same keyring file without the token signs nothing for version 2.
  auto bytes = crypto::serialise_keeper_keyring(*moved);
  ASSERT_TRUE(bytes);
  auto alone = crypto::parse_keeper_keyring(bytes->span());
  ASSERT_TRUE(alone);
  EXPECT_EQ(code_of(crypto::AuditSigner::current(*alone)), Errc::config);
  // Its key destroyed (keys retire), a fresh signer finds none.
  ASSERT_TRUE(token_->destroy(audit_sign_label(2)));
  EXPECT_FALSE(TokenAuditSigner(*token_).holds(2));
}

}  // namespace
}  // namespace rempart::keys
