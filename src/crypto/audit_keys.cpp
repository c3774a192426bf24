#include "crypto/audit_keys.hpp"

#include <sodium.h>

#include <string>

#include "crypto/key_access.hpp"

namespace rempart::crypto {

using detail::KeyAccess;

Result<AuditMac> AuditMac::current(const KeeperKeyring& keyring) {
  const KeySet& ks = keyring.current();
  return over(KeyAccess::audit_mac(ks), ks.version);
}

Result<AuditMac> AuditMac::of(const KeeperKeyring& keyring, std::uint32_t version) {
  const KeySet* ks = keyring.version(version);
  if (ks == nullptr) return fail(Errc::not_found, "no audit MAC key of version " + std::to_string(version));
  return over(KeyAccess::audit_mac(*ks), version);
}

Result<AuditMac> AuditMac::over(const SecretBytes& key, std::uint32_t version) {
  if (key.size() != kKeySize) return fail(Errc::crypto, "audit MAC key has the wrong size");
  return AuditMac(key, version);
}

AuditMac::Tag AuditMac::mac(std::span<const std::uint8_t> bytes) const noexcept {
  Tag t{};
  crypto_generichash(t.data(), t.size(), bytes.data(), bytes.size(), key_->data(), key_->size());
  return t;
}

bool AuditMac::verify(std::span<const std::uint8_t> bytes, std::span<const std::uint8_t> tag) const noexcept {
  if (tag.size() != kTagSize) return false;
  const Tag expected = mac(bytes);
  return sodium_memcmp(expected.data(), tag.data(), kTagSize) == 0;
}

Result<AuditSigner> AuditSigner::current(const KeeperKeyring& keyring) {
  const KeySet& ks = keyring.current();
  if (ks.sign_in_token) {
    const AuditKeySigner* token = keyring.audit_signer();
    if (token == nullptr || !token->holds(ks.version)) {
      return fail(Errc::config, "the audit signing key of key version " + std::to_string(ks.version) +
                                    " is held by the PKCS#11 token, which this process has not opened ([keys] "
                                    "provider = \"pkcs11\")");
    }
    return AuditSigner(*token, ks.version);
  }
  const SecretBytes& secret = KeyAccess::audit_sign_secret(ks);
  if (secret.size() != crypto_sign_SECRETKEYBYTES) return fail(Errc::crypto, "audit signing key has the wrong size");
  return AuditSigner(secret, ks.version);
}

Result<Signature> AuditSigner::sign(std::span<const std::uint8_t> message) const {
  static_assert(kSignatureSize == crypto_sign_BYTES);
  if (token_ != nullptr) return token_->sign(version_, message);
  Signature s{};
  if (crypto_sign_detached(s.data(), nullptr, message.data(), message.size(), secret_->data()) != 0) {
    return fail(Errc::crypto, "cannot sign the audit checkpoint");
  }
  return s;
}

Result<AuditVerifier> AuditVerifier::of(const KeeperKeyring& keyring, std::uint32_t version) {
  const KeySet* ks = keyring.version(version);
  if (ks == nullptr) return fail(Errc::not_found, "no audit signing key of version " + std::to_string(version));
  return AuditVerifier(ks->audit_sign_public, version);
}

bool AuditVerifier::verify(std::span<const std::uint8_t> message,
                           std::span<const std::uint8_t> signature) const noexcept {
  if (signature.size() != kSignatureSize) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), public_key_.data()) == 0;
}

}  // namespace rempart::crypto
