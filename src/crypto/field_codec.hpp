#pragma once
// Internal to the crypto layer (used by seal.cpp, exposed for its tests):
// the AEAD encoding of an item's fields and of its wrapped data key.
//
// Every ciphertext is XChaCha20-Poly1305-IETF with a fresh random 24-byte
// nonce. Its associated data binds it to where it belongs, so moving a
// ciphertext to another item, key version or batch fails to open:
//   fields AD: lp("rempart/fields/v2") lp(context) lp(item_id) u32(key_version)
//   wrap AD:   lp("rempart/wrap/v1")   lp(context) lp(item_id) u32(key_version) lp(binding)
// where lp(x) = u32 little-endian length || x, and binding is the batch's
// ephemeral public key for submissions, empty for records.
//
// Fields blob, format 2 (all integers little-endian): one AEAD over all of
// an item's fields, names included:
//   u8 format=2, nonce[24], AEAD(plaintext)
//   plaintext: u16 count, count x { u16 name_len, name, u32 value_len, value }
// Format 1 (one AEAD per field, written before format 2) is still opened,
// never written:
//   u8 format=1, u16 count, count x { u16 name_len, name, u32 ct_len, nonce[24], ct[ct_len] }
//   with field AD lp("rempart/field/v1") lp(context) lp(item_id) u32(key_version) lp(field name)
// Every item has its own fresh data key, which only ever encrypts that
// item's fields, so one AEAD binds each value to its name and its item as
// the per-field AEADs did, hides which fields an item has, and costs one
// AEAD call instead of one per field (docs/architecture.md, "Sealing").
//
// Wrapped key: u8 format=1, nonce[24], ct[32 + 16]; the fields are bound to
// the same key version as the wrap.
// Rewrapped record key: u8 format=2, u32 fields_version, nonce[24],
// ct[32 + 16], with AD
//   lp("rempart/wrap/v2") lp(context) lp(item_id) u32(key_version) u32(fields_version) lp(binding)
// Record key wrapped by a token (RecordKeyWrapper, keyring.hpp): u8 format=3,
// u32 fields_version, the token's AES-GCM output (nonce[12], ct[32],
// tag[16]), with AD
//   lp("rempart/wrap/token/v1") lp(context) lp(item_id) u32(key_version) u32(fields_version) lp(binding)
// A rewrap (rotation) moves a record's data key under a newer wrapping key
// without opening its fields, which stay bound to the version they were
// sealed under; the wrapped key names that version, and binds it.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "core/error.hpp"
#include "core/person.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto::detail {

inline constexpr std::string_view kSubmissionContext = "submission";
inline constexpr std::string_view kRecordContext = "record";

inline constexpr std::size_t kDataKeySize = 32;
inline constexpr std::size_t kMaxFields = 256;
inline constexpr std::size_t kMaxFieldNameSize = 255;
inline constexpr std::size_t kMaxFieldValueSize = 1u << 20;
inline constexpr std::size_t kMaxItemIdSize = 1024;
inline constexpr std::size_t kNonceSize = 24;  // XChaCha20-Poly1305 nonce
inline constexpr std::size_t kWrappedKeySize = 1 + kNonceSize + kDataKeySize + 16;
inline constexpr std::size_t kRewrappedKeySize = 1 + 4 + kNonceSize + kDataKeySize + 16;
inline constexpr std::uint8_t kTokenWrapFormat = 3;
inline constexpr std::size_t kTokenWrapSize = 12 + kDataKeySize + 16;  // AES-GCM: nonce, ciphertext, tag
inline constexpr std::size_t kTokenWrappedKeySize = 1 + 4 + kTokenWrapSize;

// What a ciphertext is bound to. Views only; the caller keeps them alive.
struct Binding {
  std::string_view context;                // kSubmissionContext or kRecordContext
  std::span<const std::uint8_t> item_id;   // record id or submission id bytes
  std::uint32_t key_version = 0;
  std::span<const std::uint8_t> batch{};   // ephemeral public key, or empty
};

// A per-item data key: on the stack, wiped when it goes (WipedKey, secret.hpp).
using DataKey = WipedKey<kDataKeySize>;

// Refuses (Errc::invalid_input) an empty or oversized item id.
Result<void> check_item_id(std::span<const std::uint8_t> item_id);

// Encrypts every field under `key` (format 2). Refuses (Errc::invalid_input)
// more than kMaxFields fields, an empty, oversized or duplicate field name,
// or an oversized value. Thread-safe (no shared state).
Result<Bytes> encrypt_fields(const DataKey& key, const Binding& b, std::span<const core::Field> fields);
// Same, with a fresh random nonce the caller drew, never reused. Lets a
// caller draw an item's data key and its nonces in one CSPRNG call: each
// call is a getrandom() system call here.
Result<Bytes> encrypt_fields(const DataKey& key, const Binding& b, std::span<const core::Field> fields,
                             std::span<const std::uint8_t, kNonceSize> nonce);

// Decodes and decrypts a fields blob of format 2 or 1. Any malformation is
// Errc::invalid_input, any authentication failure Errc::crypto; decrypted
// bytes are wiped before returning an error. Safe on arbitrary input.
Result<std::vector<core::Field>> decrypt_fields(const DataKey& key, const Binding& b,
                                                std::span<const std::uint8_t> blob);

// Wraps a data key; `wrapping_key` must be 32 bytes (checked by callers).
Bytes wrap_key(std::span<const std::uint8_t> wrapping_key, const DataKey& data_key, const Binding& b);
// Same, with a fresh random nonce the caller drew.
Bytes wrap_key(std::span<const std::uint8_t> wrapping_key, const DataKey& data_key, const Binding& b,
               std::span<const std::uint8_t, kNonceSize> nonce);
// Wraps a record's data key under `b.key_version` for fields sealed under
// `fields_version` (format 2; format 1 when the two are equal).
Bytes rewrap_key(std::span<const std::uint8_t> wrapping_key, const DataKey& data_key, const Binding& b,
                 std::uint32_t fields_version);
// The AD of a token-wrapped record key (format 3).
Bytes token_wrap_ad(const Binding& b, std::uint32_t fields_version);

// Unwraps format 1 or 2 into `out` and returns the key version the item's
// fields are bound to (b.key_version for format 1). Errc::invalid_input if
// malformed (format 2 for a submission, or naming a fields version not
// older than the wrap's), Errc::crypto if it does not authenticate.
Result<std::uint32_t> unwrap_key(std::span<const std::uint8_t> wrapping_key, std::span<const std::uint8_t> wrapped,
                                 const Binding& b, DataKey& out);

}  // namespace rempart::crypto::detail
