#include "crypto/seal.hpp"

#include <sodium.h>

#include <algorithm>
#include <string>
#include <utility>

#include "crypto/field_codec.hpp"

namespace rempart::crypto {
namespace {

using detail::Binding;
using detail::DataKey;

// Exactly crypto_generichash_blake2b_PERSONALBYTES (16) characters.
constexpr char kBatchPersonal[] = "rempart-batch-v1";
static_assert(sizeof kBatchPersonal - 1 == crypto_generichash_blake2b_PERSONALBYTES);

// The ephemeral secret and the shared secret live on the stack in WipedKey
// (wiped on scope exit) rather than in SecretBytes: each sodium_malloc costs
// ~150 µs here (mmap, mprotect, mlock), and they exist for microseconds.
using Key32 = detail::WipedKey<32>;

// Batch wrapping key = BLAKE2b-256, personalised, over
// X25519 shared secret || ephemeral public key || sealing public key.
// Hashing both public keys in binds the key to this exact pair, as
// crypto_kx and crypto_box_seal do.
Result<SecretBytes> derive_wrapping_key(const Key32& shared, std::span<const std::uint8_t, 32> ephemeral_public,
                                        std::span<const std::uint8_t, 32> seal_public) {
  auto key = SecretBytes::allocate(detail::kDataKeySize);
  if (!key) return key;
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init_salt_personal(&st, nullptr, 0, key->size(), nullptr,
                                                reinterpret_cast<const unsigned char*>(kBatchPersonal));
  crypto_generichash_blake2b_update(&st, shared.data(), shared.bytes.size());
  crypto_generichash_blake2b_update(&st, ephemeral_public.data(), ephemeral_public.size());
  crypto_generichash_blake2b_update(&st, seal_public.data(), seal_public.size());
  crypto_generichash_blake2b_final(&st, key->data(), key->size());
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

}  // namespace

BatchSealer::BatchSealer(SecretBytes wrapping_key, std::array<std::uint8_t, 32> ephemeral_public,
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
  auto wrapping = derive_wrapping_key(shared, ephemeral_public, keyring.seal_public);
  if (!wrapping) return std::unexpected(wrapping.error());
  return std::shared_ptr<const BatchSealer>(
      new BatchSealer(std::move(*wrapping), ephemeral_public, keyring.version));
}

Result<Sealed> BatchSealer::seal(std::span<const std::uint8_t> item_id, std::span<const core::Field> fields) const {
  if (auto ok = detail::check_item_id(item_id); !ok) return std::unexpected(ok.error());
  DataKey data_key;
  randombytes_buf(data_key.data(), detail::kDataKeySize);
  const Binding b{detail::kSubmissionContext, item_id, key_version_, ephemeral_public_};
  auto blob = detail::encrypt_fields(data_key, b, fields);
  if (!blob) return std::unexpected(blob.error());
  return Sealed{detail::wrap_key(wrapping_key_.span(), data_key, b), std::move(*blob)};
}

BatchOpener::BatchOpener(SecretBytes wrapping_key, std::array<std::uint8_t, 32> ephemeral_public,
                         std::uint32_t version) noexcept
    : wrapping_key_(std::move(wrapping_key)), ephemeral_public_(ephemeral_public), key_version_(version) {}

Result<BatchOpener> BatchOpener::create(const KeeperKeyring& keyring, std::uint32_t key_version,
                                        std::span<const std::uint8_t> ephemeral_public) {
  const KeySet* set = keyring.version(key_version);
  if (set == nullptr) return fail(Errc::not_found, "no sealing key of version " + std::to_string(key_version));
  if (ephemeral_public.size() != 32) return fail(Errc::invalid_input, "ephemeral public key must be 32 bytes");
  std::array<std::uint8_t, 32> eph{};
  std::copy(ephemeral_public.begin(), ephemeral_public.end(), eph.begin());
  Key32 shared;
  if (auto ok = shared_secret(set->seal_secret.data(), eph, shared); !ok) return std::unexpected(ok.error());
  auto wrapping = derive_wrapping_key(shared, eph, set->seal_public);
  if (!wrapping) return std::unexpected(wrapping.error());
  return BatchOpener(std::move(*wrapping), eph, key_version);
}

Result<std::vector<core::Field>> BatchOpener::open(std::span<const std::uint8_t> item_id, const Sealed& sealed) const {
  if (auto ok = detail::check_item_id(item_id); !ok) return std::unexpected(ok.error());
  const Binding b{detail::kSubmissionContext, item_id, key_version_, ephemeral_public_};
  DataKey data_key;
  if (auto ok = detail::unwrap_key(wrapping_key_.span(), sealed.wrapped_key, b, data_key); !ok)
    return std::unexpected(ok.error());
  return detail::decrypt_fields(data_key, b, sealed.fields);
}

Result<SealedRecord> seal_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                 std::span<const core::Field> fields) {
  if (auto ok = detail::check_item_id(record_id); !ok) return std::unexpected(ok.error());
  const KeySet& set = keyring.current();
  DataKey data_key;
  randombytes_buf(data_key.data(), detail::kDataKeySize);
  const Binding b{detail::kRecordContext, record_id, set.version, {}};
  auto blob = detail::encrypt_fields(data_key, b, fields);
  if (!blob) return std::unexpected(blob.error());
  return SealedRecord{set.version, detail::wrap_key(set.record_wrap.span(), data_key, b), std::move(*blob)};
}

Result<std::vector<core::Field>> open_record(const KeeperKeyring& keyring, std::span<const std::uint8_t> record_id,
                                             const SealedRecord& sealed) {
  if (auto ok = detail::check_item_id(record_id); !ok) return std::unexpected(ok.error());
  const KeySet* set = keyring.version(sealed.key_version);
  if (set == nullptr)
    return fail(Errc::not_found, "no record wrapping key of version " + std::to_string(sealed.key_version));
  const Binding b{detail::kRecordContext, record_id, sealed.key_version, {}};
  DataKey data_key;
  if (auto ok = detail::unwrap_key(set->record_wrap.span(), sealed.wrapped_key, b, data_key); !ok)
    return std::unexpected(ok.error());
  return detail::decrypt_fields(data_key, b, sealed.fields);
}

}  // namespace rempart::crypto
