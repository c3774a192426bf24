#pragma once
// Sealing of bulk export files to their requester's export key pair
// (docs/exports.md). The keeper holds only the public key; the secret key
// exists as text ("rmpx1_<base64url of 32 bytes>"), shown once to its owner,
// who opens files offline.
//
// Sealed body, after a header the caller writes and binds:
//   crypto_box_seal(file key) (80 bytes) | secretstream header (24 bytes) |
//   chunks: u32 ciphertext length (LE) | ciphertext, the last tagged FINAL
// A fresh file key per file, chunks of at most 64 KiB of plaintext
// (XChaCha20-Poly1305 secretstream), each carrying the header as associated
// data.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

// The text prefix of an export secret key.
inline constexpr std::string_view kExportSecretKeyPrefix = "rmpx1_";
inline constexpr std::size_t kExportPublicKeySize = 32;
// Bytes of the sealed body before its first chunk.
inline constexpr std::size_t kExportSealPrefixSize = 80 + 24;

struct ExportKeyPair {
  Bytes public_key;             // kExportPublicKeySize bytes, stored with the account
  SecretBytes secret_key_text;  // "rmpx1_…": text(); shown once, never stored
};

// A fresh X25519 key pair. Fails only if libsodium or guarded memory is
// unavailable.
Result<ExportKeyPair> generate_export_key_pair();

// Appends the sealed body of `plain` to `out`, every chunk bound to
// `associated`. Errc::crypto for a public key of the wrong size or a
// failure of libsodium. Thread-safe.
Result<void> seal_export(std::string& out, std::string_view plain, std::span<const std::uint8_t> public_key,
                         std::span<const std::uint8_t> associated);

// Opens sealed bodies with an export secret key.
class ExportOpener {
 public:
  // From the key's text, surrounding blanks (space, tab, CR, LF) ignored.
  // Errc::invalid_input for anything but kExportSecretKeyPrefix and 32
  // bytes of unpadded base64url.
  static Result<ExportOpener> from_text(std::string_view secret_key_text);

  // The plaintext of a sealed body bound to `associated`. Errc::invalid_input
  // if shorter than kExportSealPrefixSize, Errc::crypto if it was sealed to
  // another key, altered or truncated (nothing of it is returned then).
  Result<std::string> open(std::span<const std::uint8_t> body, std::span<const std::uint8_t> associated) const;

 private:
  ExportOpener(SecretBytes secret, const std::array<std::uint8_t, 32>& public_key) noexcept
      : secret_(std::move(secret)), public_key_(public_key) {}
  SecretBytes secret_;
  std::array<std::uint8_t, 32> public_key_;
};

}  // namespace rempart::crypto
