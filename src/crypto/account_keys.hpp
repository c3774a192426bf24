#pragma once
// Keyed primitives of console accounts (docs/accounts.md): the sealing of
// TOTP secrets and the hashing of recovery codes. Both use keys derived
// (crypto_kdf, context "rmpauth1") from a keyring version's record wrapping
// key, which otherwise only wraps record data keys; subkey 1 seals TOTP
// secrets, subkey 2 hashes recovery codes. The auth layer chooses what is
// sealed or hashed and what it is bound to; the keys stay here.
//
// Each object holds its derived key in SecretBytes, wiped when it goes;
// const methods are safe to call concurrently.
#include <cstdint>
#include <span>
#include <string_view>

#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

// XChaCha20-Poly1305-IETF with a fresh random nonce. Sealed value:
//   u32 key version (little-endian) || nonce[24] || ciphertext || tag[16]
class TotpSealer {
 public:
  static constexpr std::size_t kOverhead = 4 + 24 + 16;

  // The sealer of the keyring's current version.
  static Result<TotpSealer> current(const KeeperKeyring& keyring);
  // The sealer of `version`: Errc::not_found if the keyring lacks it.
  static Result<TotpSealer> of(const KeeperKeyring& keyring, std::uint32_t version);
  // The key version a sealed value names (its first four bytes, as many as
  // there are); no check of anything else.
  static std::uint32_t version_of(std::span<const std::uint8_t> sealed) noexcept;

  std::uint32_t version() const noexcept { return version_; }
  // Seals `plaintext`, bound to `associated` (not stored in the output).
  Bytes seal(std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> associated) const;
  // Errc::invalid_input if shorter than kOverhead, Errc::crypto if it names
  // another key version or does not authenticate with `associated`.
  Result<SecretBytes> open(std::span<const std::uint8_t> sealed, std::span<const std::uint8_t> associated) const;

 private:
  TotpSealer(SecretBytes key, std::uint32_t version) noexcept : key_(std::move(key)), version_(version) {}
  SecretBytes key_;
  std::uint32_t version_;
};

// Keyed BLAKE2b-256 of an account's recovery code.
class RecoveryCodeHasher {
 public:
  static constexpr std::size_t kHashSize = 32;

  // The hasher of `version`: Errc::not_found if the keyring lacks it.
  static Result<RecoveryCodeHasher> of(const KeeperKeyring& keyring, std::uint32_t version);

  std::uint32_t version() const noexcept { return version_; }
  // Over account_id || code (no length prefixes: the account id has a fixed size).
  Bytes hash(std::span<const std::uint8_t> account_id, std::string_view code) const;

 private:
  RecoveryCodeHasher(SecretBytes key, std::uint32_t version) noexcept : key_(std::move(key)), version_(version) {}
  SecretBytes key_;
  std::uint32_t version_;
};

}  // namespace rempart::crypto
