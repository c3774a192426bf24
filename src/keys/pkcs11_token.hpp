#pragma once
// A PKCS#11 token reached through p11-kit: SoftHSM2 in the tests, an HSM,
// a smartcard (opensc) or a TPM (tpm2-pkcs11) in production. The keys made
// here are created inside the token, sensitive and never extractable: the
// keeper asks the token to encrypt, decrypt and sign with them and never
// holds their bytes (docs/key-custody.md).
//
// What runs in the token:
//   - AES-256-GCM (CKM_AES_GCM through C_Encrypt / C_Decrypt) for wrapping
//     small secrets such as record data keys, with associated data that
//     binds what the secret belongs to. SoftHSM2 2.6 refuses GCM in
//     C_WrapKey, hence encryption of the key bytes rather than C_WrapKey.
//   - Ed25519 signatures (CKM_EDDSA), for the audit log's checkpoints.
//
// One session per Token, used under a mutex: PKCS#11 sessions must not be
// used by two threads at once. Errors name the PKCS#11 function and return
// value, never a PIN or a key.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::keys {

using crypto::Bytes;
using crypto::SecretBytes;

struct TokenOptions {
  std::filesystem::path module;    // the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;         // the token, by its label
  std::filesystem::path pin_file;  // the user PIN, mode 0600, outside the data directory
};

// What the token says of a key, read back from it (for `keys status` and
// the self-check: a key that is extractable, or was once, is not custody).
struct KeyFacts {
  bool found = false;
  bool sensitive = false;
  bool extractable = true;
  bool always_sensitive = false;
  bool never_extractable = false;
  bool on_token = false;  // a token object, not a session object
};

// AES-GCM as the token does it here: a 12-byte nonce (from libsodium's
// generator, never the token's counter: nonces must not repeat across
// tokens restored from one backup) and a 16-byte tag.
inline constexpr std::size_t kGcmNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

class Token {
 public:
  using Handle = unsigned long;  // CK_OBJECT_HANDLE

  // Loads the module, finds the token by label, opens a read-write session
  // and logs in with the PIN (crypto::read_secret_file: mode 0600, one
  // line). Errc::not_found for an unknown token, Errc::permission for a
  // refused PIN, Errc::config for a PIN file others may read or a module
  // that does not load.
  static Result<std::unique_ptr<Token>> open(const TokenOptions& options);
  ~Token();
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  // The AES-256 secret key labelled `label`: found, or when `create` and
  // absent, generated in the token (a token object: sensitive, never
  // extractable, encrypt and decrypt only). Errc::not_found when absent
  // and not `create`; Errc::conflict when two keys carry the label.
  Result<Handle> aes_key(std::string_view label, bool create);

  // `plaintext` (a key: at most 1,008 bytes) encrypted under `key` in the
  // token with associated data `aad`: nonce || ciphertext || tag.
  Result<Bytes> seal(Handle key, std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> aad);
  // The reverse, into guarded memory. Errc::crypto for anything that does
  // not authenticate (another key, other associated data, a changed byte).
  Result<SecretBytes> open(Handle key, std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> aad);

  // The Ed25519 key pair labelled `label` (the private key sensitive, never
  // extractable): found, or generated when `create`. Returns the private
  // key's handle.
  Result<Handle> ed25519_key(std::string_view label, bool create);
  // The public half of the pair labelled `label`, as libsodium takes it.
  Result<std::array<std::uint8_t, 32>> ed25519_public(std::string_view label);
  // A detached Ed25519 signature (RFC 8032) of `message`.
  Result<std::array<std::uint8_t, 64>> sign(Handle private_key, std::span<const std::uint8_t> message);

  // What the token says of `key`'s attributes.
  Result<KeyFacts> facts(Handle key);
  // Whether the token hands out `key`'s value: false for a sensitive key
  // (CKR_ATTRIBUTE_SENSITIVE), which is the point.
  Result<bool> value_readable(Handle key);

  // Removes every object labelled `label` (tests, and retiring a version).
  Result<int> destroy(std::string_view label);

  struct Impl;

 private:
  explicit Token(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::mutex mu_;
};

}  // namespace rempart::keys
