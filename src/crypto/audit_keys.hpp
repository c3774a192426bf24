#pragma once
// The audit log's keyed primitives (docs/audit.md): the MAC that seals each
// entry of the chain and the Ed25519 key pair that signs checkpoints. The
// audit layer builds what is MAC'd or signed; the keys never leave this
// layer.
//
// AuditMac and AuditSigner are handles onto a key held elsewhere (a keyring,
// or a SecretBytes the caller owns): cheap to make and copy, valid only while
// that key lives. Their const methods are safe to call concurrently.
#include <array>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

// Keyed BLAKE2b-256 under a keyring version's audit MAC key.
class AuditMac {
 public:
  static constexpr std::size_t kTagSize = 32;
  using Tag = std::array<std::uint8_t, kTagSize>;

  // The MAC of the keyring's current version.
  static Result<AuditMac> current(const KeeperKeyring& keyring);
  // The MAC of `version`: Errc::not_found if the keyring lacks it.
  static Result<AuditMac> of(const KeeperKeyring& keyring, std::uint32_t version);
  // A MAC under a key the caller holds (32 bytes, else Errc::crypto), named
  // `version`; `key` must outlive the handle.
  static Result<AuditMac> over(const SecretBytes& key, std::uint32_t version = 0);

  std::uint32_t version() const noexcept { return version_; }
  Tag mac(std::span<const std::uint8_t> bytes) const noexcept;
  // Whether `tag` is the MAC of `bytes`; constant time in the tag's content.
  bool verify(std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> tag) const noexcept;

 private:
  AuditMac(const SecretBytes& key, std::uint32_t version) noexcept : key_(&key), version_(version) {}
  const SecretBytes* key_;
  std::uint32_t version_;
};

inline constexpr std::size_t kSignatureSize = 64;  // Ed25519, detached
using Signature = std::array<std::uint8_t, kSignatureSize>;

// Ed25519 detached signatures under a keyring version's audit signing key.
class AuditSigner {
 public:
  // The signer of the keyring's current version: its secret in the
  // keyring, or, for a version marked sign_in_token, the keyring's
  // AuditKeySigner (Errc::config when the keyring has none that holds it:
  // the process did not open the token).
  static Result<AuditSigner> current(const KeeperKeyring& keyring);

  std::uint32_t version() const noexcept { return version_; }
  // Errc::crypto if libsodium fails; the token's error when it signs.
  Result<Signature> sign(std::span<const std::uint8_t> message) const;

 private:
  AuditSigner(const SecretBytes& secret, std::uint32_t version) noexcept : secret_(&secret), version_(version) {}
  AuditSigner(const AuditKeySigner& token, std::uint32_t version) noexcept : token_(&token), version_(version) {}
  const SecretBytes* secret_ = nullptr;
  const AuditKeySigner* token_ = nullptr;
  std::uint32_t version_;
};

// Checks signatures made by AuditSigner. Holds only a public key.
class AuditVerifier {
 public:
  // The verifier of `version`: Errc::not_found if the keyring lacks it.
  static Result<AuditVerifier> of(const KeeperKeyring& keyring, std::uint32_t version);

  std::uint32_t version() const noexcept { return version_; }
  // False for a signature of the wrong size or one that does not verify.
  bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) const noexcept;

 private:
  AuditVerifier(const std::array<std::uint8_t, 32>& public_key, std::uint32_t version) noexcept
      : public_key_(public_key), version_(version) {}
  std::array<std::uint8_t, 32> public_key_;
  std::uint32_t version_;
};

}  // namespace rempart::crypto
