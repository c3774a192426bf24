#pragma once
// Sealing of submissions (intake side, public key only) and of supporter
// records (keeper side). See DESIGN.md "Key hierarchy" and field_codec.hpp
// for the exact encodings.
//
// Every item gets a fresh random data key; its fields are encrypted under
// that key and the data key is wrapped (AEAD) under a longer-lived key:
//  - submissions: the batch wrapping key, derived once per intake batch from
//    an ephemeral X25519 key pair and the keeper's sealing public key, so the
//    intake role can seal but never open, and pays for one X25519 operation
//    per batch rather than per submission;
//  - records: the keyring's record wrapping key.
// Erasing the wrapped key erases the item (crypto-shredding).
//
// Cost, measured by rempart_crypto_bench (Release build, this machine): one
// BatchSealer::seal_new of a representative sign-up 3.7-3.8 µs (one
// getrandom() call, two AEAD calls: the fields and the key wrap), one
// BatchSealer::create about 65-70 µs (two X25519 operations).
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "core/person.hpp"
#include "crypto/keyring.hpp"
#include "crypto/secret.hpp"

namespace rempart::crypto {

// A sealed submission, as stored in the inbox next to its batch's ephemeral
// public key and key version.
struct Sealed {
  Bytes wrapped_key;  // data key wrapped under the batch wrapping key
  Bytes fields;       // all fields encrypted under the data key
};

namespace detail {
// A batch wrapping key: a WipedKey (secret.hpp) on the heap, wiped when
// dropped. Not in SecretBytes: sodium_malloc's guard pages and mlock cost
// system calls per batch (mmap, mprotect, mlock and back; a new batch took
// 121.6 µs with them and 64.7-70.1 µs without in rempart_crypto_bench), and
// unmapping makes every core flush its TLB, while the key lives for one group
// commit (the per-item data keys are kept the same way, see field_codec.hpp).
using BatchKey = std::unique_ptr<WipedKey<32>>;
}  // namespace detail

// Intake side. Holds the batch wrapping key and the ephemeral public key;
// the ephemeral secret and the X25519 shared secret are wiped inside create().
// A process holding a BatchSealer can seal items of its batch, and (being
// able to rebuild the wrapping key) could open them too, which is why one
// batch lasts at most one group commit and the sealer is dropped afterwards.
// The wrapping key is wiped on destruction.
class BatchSealer {
 public:
  // Starts a batch for the keyring's sealing public key. Fails with
  // Errc::crypto if the public key is degenerate (all-zero shared secret)
  // or libsodium is unavailable.
  static Result<std::shared_ptr<const BatchSealer>> create(const IntakeKeyring& keyring);

  BatchSealer(const BatchSealer&) = delete;
  BatchSealer& operator=(const BatchSealer&) = delete;

  // Stored with the batch; the keeper needs it (with key_version) to open.
  const std::array<std::uint8_t, 32>& ephemeral_public() const noexcept { return ephemeral_public_; }
  std::uint32_t key_version() const noexcept { return key_version_; }

  // Seals `fields` of the item `item_id` (1..1024 bytes, e.g. the
  // submission id). Refuses (Errc::invalid_input) a bad item id, more than
  // 256 fields, an empty/duplicate/over-255-byte field name or a value over
  // 1 MiB. Thread-safe: may be called concurrently on one sealer.
  Result<Sealed> seal(std::span<const std::uint8_t> item_id, std::span<const core::Field> fields) const;
  // Same for a new item: first fills `new_item_id` (1..1024 bytes) with
  // fresh random bytes, drawn in the same CSPRNG call as the data key and
  // the nonces (one getrandom() per item). On error `new_item_id` holds
  // unspecified bytes. Thread-safe.
  Result<Sealed> seal_new(std::span<std::uint8_t> new_item_id, std::span<const core::Field> fields) const;

 private:
  BatchSealer(detail::BatchKey wrapping_key, std::array<std::uint8_t, 32> ephemeral_public,
              std::uint32_t version) noexcept;

  detail::BatchKey wrapping_key_;
  std::array<std::uint8_t, 32> ephemeral_public_;
  std::uint32_t key_version_;
};

// Keeper side: opens the submissions of one batch.
class BatchOpener {
 public:
  // Recomputes the batch wrapping key from the sealing secret of
  // `key_version`. Errc::not_found if the keyring has no such version,
  // Errc::invalid_input if `ephemeral_public` is not 32 bytes,
  // Errc::crypto if it is degenerate.
  static Result<BatchOpener> create(const KeeperKeyring& keyring, std::uint32_t key_version,
                                    std::span<const std::uint8_t> ephemeral_public);

  // Opens one sealed item of this batch. Errc::invalid_input on malformed
  // input, Errc::crypto if anything fails to authenticate (tampering, wrong
  // item id, wrong batch, wrong key version). The returned values are
  // personal data. Thread-safe (const, no shared mutable state).
  Result<std::vector<core::Field>> open(std::span<const std::uint8_t> item_id, const Sealed& sealed) const;

 private:
  BatchOpener(detail::BatchKey wrapping_key, std::array<std::uint8_t, 32> ephemeral_public,
              std::uint32_t version) noexcept;

  detail::BatchKey wrapping_key_;
  std::array<std::uint8_t, 32> ephemeral_public_;
  std::uint32_t key_version_;
};

// A supporter record's sealed data as stored.
struct SealedRecord {
  std::uint32_t key_version = 0;  // version of the record wrapping key used
  Bytes wrapped_key;              // data key wrapped under record_wrap
  Bytes fields;                   // all fields encrypted under the data key
};

// Seals a record under the keyring's current version, with a fresh data key
// (so re-sealing after an edit or rotation also replaces the data key).
// Same input limits as BatchSealer::seal. Thread-safe.
Result<SealedRecord> seal_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                 std::span<const core::Field> fields);

// Same for a new record: first fills `new_record_id` (1..1024 bytes) with
// fresh random bytes from the same CSPRNG call as its data key and nonces,
// except its first `kept_prefix` bytes, which the caller has set (a record
// id starts with its creation time, see services/records.hpp) and which are
// bound into the ciphertexts like the rest. At least 8 bytes must be drawn:
// Errc::invalid_input otherwise. On error `new_record_id` holds unspecified
// bytes after the prefix. Thread-safe.
Result<SealedRecord> seal_new_record(const KeeperKeyring& keyring, std::span<std::uint8_t> new_record_id,
                                     std::span<const core::Field> fields, std::size_t kept_prefix = 0);

// Seals a record's new fields under the data key it already has (unwrapped
// from `sealed`, of any version the keyring still holds), with a fresh
// nonce, and wraps that key again under the current version. A record keeps
// one data key for its life: what else is sealed under it (its notes,
// record_notes.hpp) stays openable when its fields change. Erasing the
// wrapped key still erases all of it. Errors as open_record and
// seal_record. Thread-safe.
Result<SealedRecord> reseal_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                   const SealedRecord& sealed, std::span<const core::Field> fields);

// Moves a record's data key under the keyring's current version (a rewrap
// after a rotation) without opening its fields: the returned record has the
// same fields blob, which stays bound to the version it was sealed under,
// and a new wrapped key (field_codec.hpp, format 2) that names that version.
// The data key is unwrapped for the time of the call only. Errc::invalid_input
// if the record is already under the current version; otherwise errors as
// open_record. Thread-safe.
Result<SealedRecord> rewrap_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                   const SealedRecord& sealed);

// Opens a record sealed under any version the keyring still holds.
// Errc::not_found if that version is gone, otherwise as BatchOpener::open.
Result<std::vector<core::Field>> open_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                             const SealedRecord& sealed);

namespace detail {
// The one unwrap of a record's data key (seal.cpp, record_notes.cpp):
// under the version the record names, either wrap format. Returns the
// version the record's fields are bound to. Errc::not_found if the keyring
// lacks the version.
Result<std::uint32_t> unwrap_record_key(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                        const SealedRecord& sealed, WipedKey<32>& out);
}  // namespace detail

}  // namespace rempart::crypto
