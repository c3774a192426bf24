#include "crypto/export_box.hpp"

#include <sodium.h>

#include <algorithm>
#include <vector>

namespace rempart::crypto {
namespace {

constexpr std::size_t kSealedKeySize = crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES;
static_assert(kExportSealPrefixSize == kSealedKeySize + crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kExportPublicKeySize == crypto_box_PUBLICKEYBYTES);
constexpr std::size_t kChunkPlain = 64 * 1024;
constexpr std::size_t kMaxChunkCipher = kChunkPlain + crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr int kBase64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

using FileKey = std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES>;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Result<ExportKeyPair> generate_export_key_pair() {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  auto secret = SecretBytes::allocate(crypto_box_SECRETKEYBYTES);
  if (!secret) return std::unexpected(secret.error());
  ExportKeyPair kp;
  kp.public_key.assign(crypto_box_PUBLICKEYBYTES, 0);
  crypto_box_keypair(kp.public_key.data(), secret->data());
  // sodium_bin2base64 writes a terminating NUL, which the text leaves out.
  const std::size_t encoded = sodium_base64_ENCODED_LEN(crypto_box_SECRETKEYBYTES, kBase64);
  auto b64 = SecretBytes::allocate(encoded);
  if (!b64) return std::unexpected(b64.error());
  sodium_bin2base64(reinterpret_cast<char*>(b64->data()), b64->size(), secret->data(), secret->size(), kBase64);
  auto text = SecretBytes::allocate(kExportSecretKeyPrefix.size() + encoded - 1);
  if (!text) return std::unexpected(text.error());
  std::copy(kExportSecretKeyPrefix.begin(), kExportSecretKeyPrefix.end(), text->data());
  std::copy_n(b64->data(), encoded - 1, text->data() + kExportSecretKeyPrefix.size());
  kp.secret_key_text = std::move(*text);
  return kp;
}

Result<void> seal_export(std::string& out, std::string_view plain, std::span<const std::uint8_t> public_key,
                         std::span<const std::uint8_t> associated) {
  if (public_key.size() != crypto_box_PUBLICKEYBYTES) return fail(Errc::crypto, "export public key has the wrong size");
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  FileKey key{};
  crypto_secretstream_xchacha20poly1305_keygen(key.data());
  std::array<std::uint8_t, kSealedKeySize> sealed{};
  const int sr = crypto_box_seal(sealed.data(), key.data(), key.size(), public_key.data());
  if (sr != 0) {
    sodium_memzero(key.data(), key.size());
    return fail(Errc::crypto, "sealing the export file key failed");
  }
  out.append(reinterpret_cast<const char*>(sealed.data()), sealed.size());

  crypto_secretstream_xchacha20poly1305_state st;
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> ss_header{};
  crypto_secretstream_xchacha20poly1305_init_push(&st, ss_header.data(), key.data());
  sodium_memzero(key.data(), key.size());
  out.append(reinterpret_cast<const char*>(ss_header.data()), ss_header.size());

  std::vector<std::uint8_t> chunk(kMaxChunkCipher);
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min(kChunkPlain, plain.size() - pos);
    const bool last = pos + n == plain.size();
    unsigned long long clen = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &st, chunk.data(), &clen, reinterpret_cast<const unsigned char*>(plain.data()) + pos, n, associated.data(),
        associated.size(),
        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    put_u32(out, static_cast<std::uint32_t>(clen));
    out.append(reinterpret_cast<const char*>(chunk.data()), static_cast<std::size_t>(clen));
    pos += n;
  } while (pos < plain.size());
  sodium_memzero(&st, sizeof st);
  return {};
}

Result<ExportOpener> ExportOpener::from_text(std::string_view text) {
  if (auto ok = init(); !ok) return std::unexpected(ok.error());
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  if (!text.starts_with(kExportSecretKeyPrefix)) return fail(Errc::invalid_input, "not an export secret key (rmpx1_…)");
  const std::string_view b64 = text.substr(kExportSecretKeyPrefix.size());
  auto sk = SecretBytes::allocate(crypto_box_SECRETKEYBYTES);
  if (!sk) return std::unexpected(sk.error());
  std::size_t len = 0;
  if (sodium_base642bin(sk->data(), sk->size(), b64.data(), b64.size(), nullptr, &len, nullptr, kBase64) != 0 ||
      len != sk->size()) {
    return fail(Errc::invalid_input, "not an export secret key (rmpx1_…)");
  }
  std::array<std::uint8_t, crypto_box_PUBLICKEYBYTES> pk{};
  crypto_scalarmult_base(pk.data(), sk->data());
  return ExportOpener(std::move(*sk), pk);
}

Result<std::string> ExportOpener::open(std::span<const std::uint8_t> body,
                                       std::span<const std::uint8_t> associated) const {
  if (body.size() < kExportSealPrefixSize) return fail(Errc::invalid_input, "not an export file");
  FileKey key{};
  const int opened = crypto_box_seal_open(key.data(), body.data(), kSealedKeySize, public_key_.data(), secret_.data());
  if (opened != 0) return fail(Errc::crypto, "the export file does not open with this key");

  crypto_secretstream_xchacha20poly1305_state st;
  const int init = crypto_secretstream_xchacha20poly1305_init_pull(&st, body.data() + kSealedKeySize, key.data());
  sodium_memzero(key.data(), key.size());
  if (init != 0) return fail(Errc::crypto, "the export file header is damaged");

  std::string out;
  std::vector<std::uint8_t> chunk(kChunkPlain);
  std::size_t pos = kExportSealPrefixSize;
  bool final_seen = false;
  const auto altered = [&]() -> Result<std::string> {
    wipe(out);
    sodium_memzero(chunk.data(), chunk.size());
    sodium_memzero(&st, sizeof st);
    return fail(Errc::crypto, "the export file has been altered");
  };
  while (pos < body.size()) {
    if (final_seen || body.size() - pos < 4) return altered();
    std::uint32_t clen = 0;
    for (int i = 0; i < 4; ++i) clen |= static_cast<std::uint32_t>(body[pos + static_cast<std::size_t>(i)]) << (8 * i);
    pos += 4;
    if (clen < crypto_secretstream_xchacha20poly1305_ABYTES || clen > kMaxChunkCipher || body.size() - pos < clen) {
      return altered();
    }
    unsigned long long mlen = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&st, chunk.data(), &mlen, &tag, body.data() + pos, clen,
                                                   associated.data(), associated.size()) != 0) {
      return altered();
    }
    out.append(reinterpret_cast<const char*>(chunk.data()), static_cast<std::size_t>(mlen));
    pos += clen;
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) final_seen = true;
  }
  sodium_memzero(chunk.data(), chunk.size());
  sodium_memzero(&st, sizeof st);
  if (!final_seen) {
    wipe(out);
    return fail(Errc::crypto, "the export file is truncated");
  }
  return out;
}

}  // namespace rempart::crypto
