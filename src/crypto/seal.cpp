#include "crypto/seal.hpp"

#include <sodium.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "crypto/field_codec.hpp"
#include "crypto/key_access.hpp"

namespace rempart::crypto {
namespace {

using detail::Binding;
using detail::DataKey;

// Exactly crypto_generichash_blake2b_PERSONALBYTES (16) characters.
constexpr char kBatchPersonal[] = "rempart-batch-v1";
static_assert(sizeof kBatchPersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);

// The ephemeral secret and the shared secret live on the stack in WipedKey
// (secret.hpp, wiped on scope exit) rather than in SecretBytes: each
// sodium_malloc costs ~150 µs here (mmap, mprotect, mlock), and they exist
// for microseconds.
using Key32 = detail::WipedKey<32>;

// Batch wrapping key = BLAKE2b-256, personalised, over
// X25519 shared secret || ephemeral public key || sealing public key.
// Hashing both public keys in binds the key to this exact pair, as
// crypto_kx and crypto_box_seal do.
detail::BatchKey derive_wrapping_key(const Key32& shared, std::span<const std::uint8_t, 32> ephemeral_public,
                                     std::span<const std::uint8_t, 32> seal_public) {
  auto key = std::make_unique<Key32>();
  const auto out = key->span();
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init_salt_personal(&st, nullptr, 0, out.size(), nullptr,
                                                reinterpret_cast<const unsigned char*>(kBatchPersonal));
  crypto_generichash_blake2b_update(&st, shared.data(), shared.bytes.size());
  crypto_generichash_blake2b_update(&st, ephemeral_public.data(), ephemeral_public.size());
  crypto_generichash_blake2b_update(&st, seal_public.data(), seal_public.size());
  crypto_generichash_blake2b_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);  // the state has absorbed the shared secret
  return key;
}

// X25519(secret, public); refuses an all-zero result, which a small-order
// public key would produce.
Result<void> shared_secret(const std::uint8_t* secret, std::span<const std::uint8_t, 32> peer_public, Key32& out) {
  static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);
  if (crypto_scalarmult(out.data(), secret, peer_public.data()) != 0 || sodium_is_zero(out.data(), out.bytes.size()))
    return fail(Errc::crypto, "X25519 produced a degenerate shared secret");
  return {};
}

// All the randomness one sealed item needs, from one CSPRNG call (each
// call is a getrandom() system call here, ~1.3 µs or more, and an item used
// to make four): an optional new item id, the data key, the nonce that wraps
// it and the nonce of its fields. Every part is fresh: nothing is reused
// across items. The data key is moved into `key` and its copy in the buffer
// wiped at once; the rest is public once stored.
class ItemRandomness {
 public:
  // `new_id` (may be empty) receives fresh random bytes.
  explicit ItemRandomness(std::span<std::uint8_t> new_id)
      : buf_(new_id.size() + detail::kDataKeySize + 2 * detail::kNonceSize) {
    // One 32-byte getrandom() seed expanded with ChaCha20 (libsodium's
    // deterministic generator, the construction the kernel's own generator
    // uses): libsodium splits requests over 256 bytes into several system
    // calls, and a long item id makes the request longer. The seed is fresh
    // per item and wiped at once, so every part stays fresh.
    detail::WipedKey<randombytes_SEEDBYTES> seed;
    randombytes_buf(seed.data(), seed.bytes.size());
    randombytes_buf_deterministic(buf_.data(), buf_.size(), seed.data());
    std::copy_n(buf_.data(), new_id.size(), new_id.data());
    std::uint8_t* k = buf_.data() + new_id.size();
    std::copy_n(k, detail::kDataKeySize, key.data());
    sodium_memzero(k, detail::kDataKeySize);
    wrap_nonce_at_ = new_id.size() + detail::kDataKeySize;
  }
  ItemRandomness(const ItemRandomness&) = delete;
  ItemRandomness& operator=(const ItemRandomness&) = delete;

  DataKey key;
  std::span<const std::uint8_t, detail::kNonceSize> wrap_nonce() const {
    return std::span<const std::uint8_t, detail::kNonceSize>(buf_.data() + wrap_nonce_at_, detail::kNonceSize);
  }
  std::span<const std::uint8_t, detail::kNonceSize> fields_nonce() const {
    return std::span<const std::uint8_t, detail::kNonceSize>(buf_.data() + wrap_nonce_at_ + detail::kNonceSize,
                                                             detail::kNonceSize);
  }

 private:
  Bytes buf_;
  std::size_t wrap_nonce_at_ = 0;
};

// Seals `fields` under a fresh data key wrapped with `wrapping_key`; `b`
// names the item whose id `new_id` receives (if not empty) fresh bytes first.
Result<Sealed> seal_item(std::span<const std::uint8_t> wrapping_key, const Binding& b,
                         std::span<std::uint8_t> new_id, std::span<const core::Field> fields) {
  if (fields.size() > detail::kMaxFields) return fail(Errc::invalid_input, "too many fields to seal");
  ItemRandomness rnd(new_id);
  auto blob = detail::encrypt_fields(rnd.key, b, fields, rnd.fields_nonce());
  if (!blob) return std::unexpected(blob.error());
  return Sealed{detail::wrap_key(wrapping_key, rnd.key, b, rnd.wrap_nonce()), std::move(*blob)};
}

}  // namespace

BatchSealer::BatchSealer(detail::BatchKey wrapping_key, std::array<std::uint8_t, 32> ephemeral_public,
                         std::uint32_t version) noexcept
    : wrapping_key_(std::move(wrapping_key)), ephemeral_public_(ephemeral_public), key_version_(version) {}

Result<std::shared_ptr<const BatchSealer>> BatchSealer::create(const IntakeKeyring& keyring) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  if (keyring.version == 0) return fail(Errc::invalid_input, "intake keyring has no key version");
  std::array<std::uint8_t, 32> ephemeral_public{};
  Key32 shared;
  {
    Key32 ephemeral_secret;  // wiped at the end of this block
    randombytes_buf(ephemeral_secret.data(), ephemeral_secret.bytes.size());
    if (crypto_scalarmult_base(ephemeral_public.data(), ephemeral_secret.data()) != 0)
      return fail(Errc::crypto, "ephemeral key generation failed");
    if (auto ok = shared_secret(ephemeral_secret.data(), keyring.seal_public, shared); !ok)
      return std::unexpected(ok.error());
  }
  return std::shared_ptr<const BatchSealer>(new BatchSealer(
      derive_wrapping_key(shared, ephemeral_public, keyring.seal_public), ephemeral_public, keyring.version));
}

Result<Sealed> BatchSealer::seal(std::span<const std::uint8_t> item_id, std::span<const core::Field> fields) const {
  if (auto ok = detail::check_item_id(item_id); !ok) return std::unexpected(ok.error());
  const Binding b{detail::kSubmissionContext, item_id, key_version_, ephemeral_public_};
  return seal_item(wrapping_key_->span(), b, {}, fields);
}

Result<Sealed> BatchSealer::seal_new(std::span<std::uint8_t> new_item_id, std::span<const core::Field> fields) const {
  if (auto ok = detail::check_item_id(new_item_id); !ok) return std::unexpected(ok.error());
  // The binding views new_item_id, which seal_item fills before any use.
  const Binding b{detail::kSubmissionContext, new_item_id, key_version_, ephemeral_public_};
  return seal_item(wrapping_key_->span(), b, new_item_id, fields);
}

BatchOpener::BatchOpener(detail::BatchKey wrapping_key, std::array<std::uint8_t, 32> ephemeral_public,
                         std::uint32_t version) noexcept
    : wrapping_key_(std::move(wrapping_key)), ephemeral_public_(ephemeral_public), key_version_(version) {}

Result<BatchOpener> BatchOpener::create(const KeeperKeyring& keyring, std::uint32_t key_version,
                                        std::span<const std::uint8_t> ephemeral_public) {
  const KeySet* set = keyring.version(key_version);
  if (set == nullptr || set->retired)
    return fail(Errc::not_found, "no sealing key of version " + std::to_string(key_version) +
                                     (set != nullptr ? " (retired)" : ""));
  if (ephemeral_public.size() != 32) return fail(Errc::invalid_input, "ephemeral public key must be 32 bytes");
  std::array<std::uint8_t, 32> eph{};
  std::copy(ephemeral_public.begin(), ephemeral_public.end(), eph.begin());
  Key32 shared;
  if (auto ok = shared_secret(detail::KeyAccess::seal_secret(*set).data(), eph, shared); !ok) return std::unexpected(ok.error());
  return BatchOpener(derive_wrapping_key(shared, eph, set->seal_public), eph, key_version);
}

Result<std::vector<core::Field>> BatchOpener::open(std::span<const std::uint8_t> item_id, const Sealed& sealed) const {
  if (auto ok = detail::check_item_id(item_id); !ok) return std::unexpected(ok.error());
  const Binding b{detail::kSubmissionContext, item_id, key_version_, ephemeral_public_};
  DataKey data_key;
  if (auto ok = detail::unwrap_key(wrapping_key_->span(), sealed.wrapped_key, b, data_key); !ok)
    return std::unexpected(ok.error());
  return detail::decrypt_fields(data_key, b, sealed.fields);
}

Result<SealedRecord> seal_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                 std::span<const core::Field> fields) {
  if (auto ok = detail::check_item_id(record_id); !ok) return std::unexpected(ok.error());
  const KeySet& set = keyring.current();
  const Binding b{detail::kRecordContext, record_id, set.version, {}};
  auto sealed = seal_item(detail::KeyAccess::record_wrap(set).span(), b, {}, fields);
  if (!sealed) return std::unexpected(sealed.error());
  return SealedRecord{set.version, std::move(sealed->wrapped_key), std::move(sealed->fields)};
}

Result<SealedRecord> seal_new_record(const KeeperKeyring& keyring, std::span<std::uint8_t> new_record_id,
                                     std::span<const core::Field> fields, std::size_t kept_prefix) {
  if (auto ok = detail::check_item_id(new_record_id); !ok) return std::unexpected(ok.error());
  // Fewer random bytes than this and two records made in the same
  // millisecond could share an id.
  constexpr std::size_t kMinDrawn = 8;
  if (kept_prefix > new_record_id.size() || new_record_id.size() - kept_prefix < kMinDrawn)
    return fail(Errc::invalid_input, "a new record id needs at least 8 random bytes after its prefix");
  const KeySet& set = keyring.current();
  const Binding b{detail::kRecordContext, new_record_id, set.version, {}};
  auto sealed = seal_item(detail::KeyAccess::record_wrap(set).span(), b, new_record_id.subspan(kept_prefix), fields);
  if (!sealed) return std::unexpected(sealed.error());
  return SealedRecord{set.version, std::move(sealed->wrapped_key), std::move(sealed->fields)};
}

namespace detail {
Result<std::uint32_t> unwrap_record_key(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                        const SealedRecord& sealed, DataKey& out) {
  if (auto ok = check_item_id(record_id); !ok) return std::unexpected(ok.error());
  const KeySet* set = keyring.version(sealed.key_version);
  if (set == nullptr || set->retired)
    return fail(Errc::not_found, "no record wrapping key of version " + std::to_string(sealed.key_version) +
                                     (set != nullptr ? " (retired)" : ""));
  const Binding b{kRecordContext, record_id, sealed.key_version, {}};
  return unwrap_key(KeyAccess::record_wrap(*set).span(), sealed.wrapped_key, b, out);
}
}  // namespace detail

Result<std::vector<core::Field>> open_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                             const SealedRecord& sealed) {
  DataKey data_key;
  auto fields_version = detail::unwrap_record_key(keyring, record_id, sealed, data_key);
  if (!fields_version) return std::unexpected(fields_version.error());
  const Binding b{detail::kRecordContext, record_id, *fields_version, {}};
  return detail::decrypt_fields(data_key, b, sealed.fields);
}

Result<SealedRecord> reseal_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                   const SealedRecord& sealed, std::span<const core::Field> fields) {
  if (fields.size() > detail::kMaxFields) return fail(Errc::invalid_input, "too many fields to seal");
  DataKey data_key;
  if (auto ok = detail::unwrap_record_key(keyring, record_id, sealed, data_key); !ok)
    return std::unexpected(ok.error());
  const KeySet& set = keyring.current();
  const Binding b{detail::kRecordContext, record_id, set.version, {}};
  auto blob = detail::encrypt_fields(data_key, b, fields);
  if (!blob) return std::unexpected(blob.error());
  return SealedRecord{set.version, detail::wrap_key(detail::KeyAccess::record_wrap(set).span(), data_key, b),
                      std::move(*blob)};
}

Result<SealedRecord> rewrap_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                   const SealedRecord& sealed) {
  const KeySet& set = keyring.current();
  if (sealed.key_version >= set.version)
    return fail(Errc::invalid_input, "the record is already wrapped under the current key version");
  DataKey data_key;
  auto fields_version = detail::unwrap_record_key(keyring, record_id, sealed, data_key);
  if (!fields_version) return std::unexpected(fields_version.error());
  const Binding b{detail::kRecordContext, record_id, set.version, {}};
  return SealedRecord{set.version,
                      detail::rewrap_key(detail::KeyAccess::record_wrap(set).span(), data_key, b, *fields_version),
                      sealed.fields};
}

}  // namespace rempart::crypto
