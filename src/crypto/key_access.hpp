#pragma once
// Internal to the crypto layer: the one way to reach the secret keys of a
// KeySet. Its primitives (keyring.cpp, seal.cpp, blind_index.cpp,
// audit_keys.cpp, account_keys.cpp) and their tests include it; no other
// layer does, and the keys leave this layer only through those primitives.
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto::detail {

struct KeyAccess {
  static const SecretBytes& seal_secret(const KeySet& s) noexcept { return s.seal_secret_; }
  static const SecretBytes& blind_index(const KeySet& s) noexcept { return s.blind_index_; }
  static const SecretBytes& record_wrap(const KeySet& s) noexcept { return s.record_wrap_; }
  static const SecretBytes& audit_mac(const KeySet& s) noexcept { return s.audit_mac_; }
  static const SecretBytes& audit_sign_secret(const KeySet& s) noexcept { return s.audit_sign_secret_; }

  // For building a key set (a keyring file being read, tests).
  static SecretBytes& seal_secret(KeySet& s) noexcept { return s.seal_secret_; }
  static SecretBytes& blind_index(KeySet& s) noexcept { return s.blind_index_; }
  static SecretBytes& record_wrap(KeySet& s) noexcept { return s.record_wrap_; }
  static SecretBytes& audit_mac(KeySet& s) noexcept { return s.audit_mac_; }
  static SecretBytes& audit_sign_secret(KeySet& s) noexcept { return s.audit_sign_secret_; }
};

}  // namespace rempart::crypto::detail
