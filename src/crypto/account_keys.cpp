#include "crypto/account_keys.hpp"

#include <sodium.h>

#include <string>
#include <utility>

#include "crypto/key_access.hpp"

namespace rempart::crypto {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "rmpauth1";
constexpr std::uint64_t kSubkeyTotpSeal = 1;
constexpr std::uint64_t kSubkeyRecoveryHash = 2;

constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kHeaderSize = 4 + kNonceSize;
static_assert(TotpSealer::kOverhead == kHeaderSize + crypto_aead_xchacha20poly1305_ietf_ABYTES);

Result<SecretBytes> derive(const KeySet& ks, std::uint64_t subkey_id) {
  const SecretBytes& master = detail::KeyAccess::record_wrap(ks);
  if (master.size() != crypto_kdf_KEYBYTES) return fail(Errc::crypto, "record_wrap key has the wrong size");
  auto out = SecretBytes::allocate(32);
  if (!out) return out;
  if (crypto_kdf_derive_from_key(out->data(), out->size(), subkey_id, kKdfContext, master.data()) != 0) {
    return fail(Errc::crypto, "key derivation failed");
  }
  return out;
}

}  // namespace

Result<TotpSealer> TotpSealer::current(const KeeperKeyring& keyring) {
  return of(keyring, keyring.current().version);
}

Result<TotpSealer> TotpSealer::of(const KeeperKeyring& keyring, std::uint32_t version) {
  const KeySet* ks = keyring.version(version);
  if (ks == nullptr || ks->retired)
    return fail(Errc::not_found, "no TOTP sealing key of version " + std::to_string(version));
  auto key = derive(*ks, kSubkeyTotpSeal);
  if (!key) return std::unexpected(key.error());
  return TotpSealer(std::move(*key), version);
}

std::uint32_t TotpSealer::version_of(std::span<const std::uint8_t> sealed) noexcept {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4 && i < sealed.size(); ++i) v |= static_cast<std::uint32_t>(sealed[i]) << (8 * i);
  return v;
}

Bytes TotpSealer::seal(std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> associated) const {
  Bytes out(kOverhead + plaintext.size());
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(version_ >> (8 * i));
  randombytes_buf(out.data() + 4, kNonceSize);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kHeaderSize, &len, plaintext.data(), plaintext.size(),
                                             associated.data(), associated.size(), nullptr, out.data() + 4,
                                             key_.data());
  return out;
}

Result<SecretBytes> TotpSealer::open(std::span<const std::uint8_t> sealed,
                                     std::span<const std::uint8_t> associated) const {
  if (sealed.size() < kOverhead) return fail(Errc::invalid_input, "sealed value is too short");
  if (version_of(sealed) != version_) return fail(Errc::crypto, "sealed value names another key version");
  auto out = SecretBytes::allocate(sealed.size() - kOverhead);
  if (!out) return out;
  std::uint8_t none = 0;  // where an empty plaintext goes
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->empty() ? &none : out->data(), &len, nullptr,
                                                 sealed.data() + kHeaderSize, sealed.size() - kHeaderSize,
                                                 associated.data(), associated.size(), sealed.data() + 4,
                                                 key_.data()) != 0) {
    return fail(Errc::crypto, "sealed value does not authenticate");
  }
  return out;
}

Result<RecoveryCodeHasher> RecoveryCodeHasher::of(const KeeperKeyring& keyring, std::uint32_t version) {
  const KeySet* ks = keyring.version(version);
  if (ks == nullptr || ks->retired)
    return fail(Errc::not_found, "no recovery code key of version " + std::to_string(version));
  auto key = derive(*ks, kSubkeyRecoveryHash);
  if (!key) return std::unexpected(key.error());
  return RecoveryCodeHasher(std::move(*key), version);
}

Bytes RecoveryCodeHasher::hash(std::span<const std::uint8_t> account_id, std::string_view code) const {
  Bytes out(kHashSize);
  crypto_generichash_state st;
  crypto_generichash_init(&st, key_.data(), key_.size(), out.size());
  crypto_generichash_update(&st, account_id.data(), account_id.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(code.data()), code.size());
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(&st, sizeof st);
  return out;
}

}  // namespace rempart::crypto
