#pragma once
// Keys a PKCS#11 token holds per key version (docs/key-custody.md, "Record
// keys in the token" and "The audit signing key in the token"):
// - an AES-256 key labelled "rempart-record-wrap-v<N>" (sensitive, never
//   extractable): the keeper asks the token to wrap each new record's data
//   key and to unwrap it for each opening;
// - an Ed25519 key pair labelled "rempart-audit-sign-v<N>" (the private key
//   sensitive, never extractable): it signs the audit log's checkpoints and
//   the backups' manifests.
// Neither key ever enters the keeper's memory.
#include <cstdint>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "crypto/keyring.hpp"
#include "keys/pkcs11_token.hpp"

namespace rempart::keys {

// The label of version `version`'s record wrapping key in the token.
std::string record_wrap_label(std::uint32_t version);

// Makes version `version`'s record wrapping key in the token if absent.
Result<void> make_record_wrap_key(Token& token, std::uint32_t version);

class TokenRecordWrapper final : public crypto::RecordKeyWrapper {
 public:
  // `token` must outlive this.
  explicit TokenRecordWrapper(Token& token) : token_(token) {}

  bool holds(std::uint32_t version) const override;
  Result<Bytes> wrap(std::uint32_t version, std::span<const std::uint8_t> data_key,
                     std::span<const std::uint8_t> ad) const override;
  Result<void> unwrap(std::uint32_t version, std::span<const std::uint8_t> wrapped, std::span<const std::uint8_t> ad,
                      std::span<std::uint8_t> out) const override;

 private:
  // The key of `version`, looked up once, found or not: a version's key is
  // made with the version (keys rotate, keys seal), before any keeper holds
  // the version.
  Result<Token::Handle> key_of(std::uint32_t version) const;

  Token& token_;
  mutable std::mutex mu_;
  mutable std::map<std::uint32_t, std::optional<Token::Handle>> found_;
};

// The label of version `version`'s audit signing key pair in the token.
std::string audit_sign_label(std::uint32_t version);

// Makes version `version`'s audit signing key pair in the token if absent;
// its public half, for the keyring (KeeperKeyring::with_token_signing).
Result<std::array<std::uint8_t, 32>> make_audit_sign_key(Token& token, std::uint32_t version);

class TokenAuditSigner final : public crypto::AuditKeySigner {
 public:
  // `token` must outlive this.
  explicit TokenAuditSigner(Token& token) : token_(token) {}

  bool holds(std::uint32_t version) const override;
  Result<std::array<std::uint8_t, 64>> sign(std::uint32_t version,
                                            std::span<const std::uint8_t> message) const override;

 private:
  // The private key of `version`. Only a key found is kept: a version's
  // key is made before the keyring naming it is written, but a lookup
  // before that must not hide it afterwards.
  Result<Token::Handle> key_of(std::uint32_t version) const;

  Token& token_;
  mutable std::mutex mu_;
  mutable std::map<std::uint32_t, Token::Handle> found_;
};

}  // namespace rempart::keys
