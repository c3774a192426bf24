#include "crypto/seal.hpp"

#include <sodium.h>

#include <algorithm>
#include <memory>
#include <optional>
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

// Seals `fields` under a fresh data key, wrapped by `wrap(data_key,
// nonce)`; `b` names the item whose id `new_id` receives (if not empty)
// fresh bytes first.
template <typename Wrap>
Result<Sealed> seal_item_with(const Binding& b, std::span<std::uint8_t> new_id, std::span<const core::Field> fields,
                              Wrap&& wrap) {
  if (fields.size() > detail::kMaxFields) return fail(Errc::invalid_input, "too many fields to seal");
  ItemRandomness rnd(new_id);
  auto blob = detail::encrypt_fields(rnd.key, b, fields, rnd.fields_nonce());
  if (!blob) return std::unexpected(blob.error());
  Result<Bytes> wrapped = wrap(rnd.key, rnd.wrap_nonce());
  if (!wrapped) return std::unexpected(wrapped.error());
  return Sealed{std::move(*wrapped), std::move(*blob)};
}

// Seals `fields` under a fresh data key wrapped with `wrapping_key`.
Result<Sealed> seal_item(std::span<const std::uint8_t> wrapping_key, const Binding& b,
                         std::span<std::uint8_t> new_id, std::span<const core::Field> fields) {
  return seal_item_with(b, new_id, fields,
                        [&](const DataKey& key, std::span<const std::uint8_t, detail::kNonceSize> nonce) -> Result<Bytes> {
                          return detail::wrap_key(wrapping_key, key, b, nonce);
                        });
}

// Wraps a record's data key under `set` (`b` names its version): by the
// keyring's RecordKeyWrapper when that holds the version (format 3), else
// under the version's record wrapping key (format 1, or 2 for fields of an
// older version). `nonce`, when given, serves a format 1 wrap.
Result<Bytes> wrap_record_key(const KeeperKeyring& keyring, const KeySet& set, const DataKey& key, const Binding& b,
                              std::uint32_t fields_version,
                              std::optional<std::span<const std::uint8_t, detail::kNonceSize>> nonce = std::nullopt) {
  if (const RecordKeyWrapper* w = keyring.record_wrapper(); w != nullptr && w->holds(set.version)) {
    auto blob = w->wrap(set.version, std::span<const std::uint8_t>(key.data(), detail::kDataKeySize),
                        detail::token_wrap_ad(b, fields_version));
    if (!blob) return std::unexpected(blob.error());
    if (blob->size() != detail::kTokenWrapSize) return fail(Errc::crypto, "the token's wrapped key has an unexpected size");
    Bytes out;
    out.reserve(detail::kTokenWrappedKeySize);
    out.push_back(detail::kTokenWrapFormat);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(fields_version >> (8 * i)));
    out.insert(out.end(), blob->begin(), blob->end());
    return out;
  }
  const auto wrapping_key = detail::KeyAccess::record_wrap(set).span();
  if (fields_version != set.version) return detail::rewrap_key(wrapping_key, key, b, fields_version);
  if (nonce) return detail::wrap_key(wrapping_key, key, b, *nonce);
  return detail::wrap_key(wrapping_key, key, b);
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
  auto sealed = seal_item_with(
      b, {}, fields, [&](const DataKey& key, std::span<const std::uint8_t, detail::kNonceSize> nonce) {
        return wrap_record_key(keyring, set, key, b, set.version, nonce);
      });
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
  auto sealed = seal_item_with(
      b, new_record_id.subspan(kept_prefix), fields,
      [&](const DataKey& key, std::span<const std::uint8_t, detail::kNonceSize> nonce) {
        return wrap_record_key(keyring, set, key, b, set.version, nonce);
      });
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
  const auto& wrapped = sealed.wrapped_key;
  if (wrapped.empty() || wrapped[0] != kTokenWrapFormat) return unwrap_key(KeyAccess::record_wrap(*set).span(), wrapped, b, out);
  // Wrapped by a token (format 3).
  const RecordKeyWrapper* w = keyring.record_wrapper();
  if (w == nullptr || !w->holds(sealed.key_version))
    return fail(Errc::not_found, "the record's key of version " + std::to_string(sealed.key_version) +
                                     " is held by a token this keeper does not reach");
  if (wrapped.size() != kTokenWrappedKeySize) return fail(Errc::invalid_input, "wrapped data key is malformed");
  std::uint32_t fields_version = 0;
  for (int i = 0; i < 4; ++i) fields_version |= std::uint32_t{wrapped[1 + static_cast<std::size_t>(i)]} << (8 * i);
  if (fields_version == 0 || fields_version > sealed.key_version)
    return fail(Errc::invalid_input, "wrapped data key is malformed");
  if (auto ok = w->unwrap(sealed.key_version, std::span(wrapped).subspan(5), token_wrap_ad(b, fields_version),
                          std::span<std::uint8_t>(out.data(), kDataKeySize));
      !ok) {
    return std::unexpected(ok.error());
  }
  return fields_version;
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
  auto wrapped = wrap_record_key(keyring, set, data_key, b, set.version);
  if (!wrapped) return std::unexpected(wrapped.error());
  return SealedRecord{set.version, std::move(*wrapped), std::move(*blob)};
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
  auto wrapped = wrap_record_key(keyring, set, data_key, b, *fields_version);
  if (!wrapped) return std::unexpected(wrapped.error());
  return SealedRecord{set.version, std::move(*wrapped), sealed.fields};
}

}  // namespace rempart::crypto
