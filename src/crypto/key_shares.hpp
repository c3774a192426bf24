#pragma once
// The keeper keyring split into shares for trustees (Shamir's scheme over
// GF(2^8), computed by libgfshare): any `threshold` of the `count` shares
// rebuild the keyring, fewer tell nothing about it. Each share travels as
// text a person can type back from paper (docs/operations.md, "Key backup in
// shares").
//
// A share's record, integers big-endian:
//   "RKS1" u8 format=1 u8 threshold u8 count u8 number (libgfshare's x,
//   1..255) fingerprint[8] u16 length, share[length], checksum[16]
// fingerprint: the first 8 bytes of BLAKE2b-256 of the serialised keyring,
// the same in every share of it; it names the keyring without telling
// anything of keys that are random. checksum: unkeyed BLAKE2b-128 of every
// preceding byte; it catches a mistyped character, not a forgery (a share
// is only as trustworthy as the trustee who kept it).
// Its text: the record in RFC 4648 base32 without padding, in groups of 4
// characters, 8 groups a line, between kShareBeginLine and kShareEndLine.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

inline constexpr unsigned kMinShareThreshold = 2;
inline constexpr unsigned kMaxShareCount = 16;
inline constexpr std::string_view kShareBeginLine = "-----BEGIN REMPART KEY SHARE-----";
inline constexpr std::string_view kShareEndLine = "-----END REMPART KEY SHARE-----";

using KeyringFingerprint = std::array<std::uint8_t, 8>;

// 16 lower-case hex digits.
std::string fingerprint_hex(const KeyringFingerprint& fingerprint);
// The fingerprint of a keyring, as its shares carry it. Fails only if
// guarded memory is unavailable.
Result<KeyringFingerprint> keyring_fingerprint(const KeeperKeyring& keyring);

// One share of a keyring. Move-only: `threshold` of them are the keyring.
struct KeyShare {
  std::uint8_t threshold = 0;
  std::uint8_t count = 0;
  std::uint8_t number = 0;  // 1..255; split_keeper_keyring numbers them 1..count
  KeyringFingerprint fingerprint{};
  SecretBytes bytes;  // as long as the serialised keyring
};

// Splits `keyring` into `count` shares numbered 1..count, any `threshold`
// of which rebuild it. Refuses with Errc::invalid_input unless
// 2 <= threshold < count <= 16 (libgfshare needs the threshold below the
// count), or when the keyring is too large for a share's 16-bit length
// (some 250 key versions). The randomness comes from libsodium.
// Thread-safe, as are the functions below.
Result<std::vector<KeyShare>> split_keeper_keyring(const KeeperKeyring& keyring, unsigned count,
                                                   unsigned threshold);

// Rebuilds the keyring from shares of it. Refuses with Errc::crypto, before
// combining anything: no share, shares whose fingerprints, thresholds,
// counts or lengths differ, a share number given twice, fewer shares than
// the threshold ("3 shares needed, 2 given"). Also refuses (Errc::crypto)
// a combination that does not give back the keyring the shares name: its
// fingerprint differs or it does not parse as a keeper keyring, e.g. shares
// of two backups of one keyring (each backup splits it anew). Every share
// given is used.
Result<KeeperKeyring> combine_key_shares(std::span<const KeyShare> shares);

// The share as text: the BEGIN line, the base32 lines, the END line, each
// ending with '\n'. In guarded memory (text()): it is the share.
Result<SecretBytes> encode_key_share(const KeyShare& share);

// Reads a share's text: either a block as encode_key_share writes it
// (BEGIN and END lines included, text around them ignored) or the lines
// between them. Spaces, line breaks and case do not matter. Refuses with
// Errc::crypto and the message "a character was mistyped or the text is
// damaged" when the text is not base32 or its checksum does not match;
// with Errc::invalid_input a record that checks out but is not a share this
// version reads (another magic or format, impossible numbers). Messages
// never quote the text.
Result<KeyShare> decode_key_share(std::string_view text);

// Every share block in `text`, in order, each from its BEGIN line to its
// END line included (views into `text`). Refuses (Errc::invalid_input) a
// BEGIN line without its END line. No block: an empty list.
Result<std::vector<std::string_view>> find_key_share_blocks(std::string_view text);

}  // namespace rempart::crypto
