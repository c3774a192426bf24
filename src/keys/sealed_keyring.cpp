#include "keys/sealed_keyring.hpp"

#include <algorithm>
#include <vector>

namespace rempart::keys {
namespace {

constexpr std::uint32_t kFormat = 1;
// Plain bytes a chunk: below the token layer's 1,008-byte bound.
constexpr std::size_t kChunk = 960;
constexpr std::size_t kMaxChunks = 4096;
constexpr std::string_view kAdLabel = "rempart/keyring/v1";

void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes chunk_ad(std::uint32_t index, std::uint32_t count) {
  Bytes ad(kAdLabel.begin(), kAdLabel.end());
  put_u32(ad, index);
  put_u32(ad, count);
  return ad;
}

// Reads a u32 at `at`, moving it on; false past the end.
bool take_u32(std::span<const std::uint8_t> in, std::size_t& at, std::uint32_t& out) {
  if (in.size() - at < 4) return false;
  out = 0;
  for (int i = 0; i < 4; ++i) out |= std::uint32_t{in[at + static_cast<std::size_t>(i)]} << (8 * i);
  at += 4;
  return true;
}

}  // namespace

crypto::KeyringSeal token_keyring_seal(Token& token, Token::Handle key) {
  crypto::KeyringSeal s;
  s.seal = [&token, key](std::span<const std::uint8_t> plain) -> Result<Bytes> {
    const std::size_t n = (plain.size() + kChunk - 1) / kChunk;
    if (n == 0 || n > kMaxChunks) return fail(Errc::invalid_input, "a keyring of this size cannot be sealed");
    const auto count = static_cast<std::uint32_t>(n);
    Bytes out(crypto::kSealedKeeperMagic.begin(), crypto::kSealedKeeperMagic.end());
    put_u32(out, kFormat);
    put_u32(out, count);
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto part = plain.subspan(i * kChunk, std::min(kChunk, plain.size() - i * kChunk));
      auto sealed = token.seal(key, part, chunk_ad(i, count));
      if (!sealed) return std::unexpected(sealed.error());
      put_u32(out, static_cast<std::uint32_t>(sealed->size()));
      out.insert(out.end(), sealed->begin(), sealed->end());
    }
    return out;
  };
  s.open = [&token, key](std::span<const std::uint8_t> file) -> Result<SecretBytes> {
    const auto bad = [] { return fail(Errc::invalid_input, "the sealed keyring is truncated or of an unknown format"); };
    const auto& magic = crypto::kSealedKeeperMagic;
    if (file.size() < magic.size() || !std::equal(magic.begin(), magic.end(), file.begin())) return bad();
    std::size_t at = magic.size();
    std::uint32_t format = 0, count = 0;
    if (!take_u32(file, at, format) || format != kFormat || !take_u32(file, at, count) || count == 0 ||
        count > kMaxChunks)
      return bad();
    std::vector<SecretBytes> parts;
    std::size_t total = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t len = 0;
      if (!take_u32(file, at, len) || file.size() - at < len) return bad();
      auto part = token.open(key, file.subspan(at, len), chunk_ad(i, count));
      if (!part) return std::unexpected(part.error());
      at += len;
      total += part->size();
      parts.push_back(std::move(*part));
    }
    if (at != file.size()) return bad();
    auto out = SecretBytes::allocate(total);
    if (!out) return out;
    std::size_t pos = 0;
    for (const auto& p : parts) {
      std::copy(p.span().begin(), p.span().end(), out->data() + pos);
      pos += p.size();
    }
    return out;
  };
  return s;
}

}  // namespace rempart::keys
