#include "crypto/key_shares.hpp"

#include <liboath/oath.h>
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "crypto/byte_io.hpp"

// libgfshare's header declares C functions without a C++ guard.
extern "C" {
#include <libgfshare.h>
}

namespace rempart::crypto {
namespace {

using detail::ByteReader;
using detail::FixedWriter;

constexpr std::array<std::uint8_t, 4> kMagic{'R', 'K', 'S', '1'};
constexpr std::uint8_t kFormat = 1;
constexpr std::size_t kHeaderSize = 4 + 1 + 1 + 1 + 1 + 8 + 2;
constexpr std::size_t kChecksumSize = 16;
constexpr std::size_t kMaxShareSize = 0xffff;
constexpr std::size_t kCharsPerGroup = 4;
constexpr std::size_t kGroupsPerLine = 8;
constexpr const char* kMistyped = "a character was mistyped or the text is damaged";

// libgfshare draws its polynomials' coefficients, and overwrites its buffers
// when a context is freed, with whatever gfshare_fill_rand points to; its
// own fallback is random(), which is not a secure generator.
void fill_from_libsodium(unsigned char* buffer, unsigned int count) { randombytes_buf(buffer, count); }

Result<void> gfshare_ready() {
  if (auto ok = init(); !ok) return ok;
  static std::once_flag once;
  std::call_once(once, [] { gfshare_fill_rand = fill_from_libsodium; });
  return {};
}

bool oath_ready() {
  static const bool ok = oath_init() == OATH_OK;
  return ok;
}

struct GfshareFree {
  void operator()(gfshare_ctx* ctx) const noexcept { gfshare_ctx_free(ctx); }
};
using GfshareCtx = std::unique_ptr<gfshare_ctx, GfshareFree>;

// Memory liboath allocated for a result (malloc), wiped before it is freed.
struct OathFree {
  std::size_t size = 0;
  void operator()(char* p) const noexcept {
    sodium_memzero(p, size);
    std::free(p);
  }
};

KeyringFingerprint fingerprint_of(std::span<const std::uint8_t> serialised) {
  std::array<std::uint8_t, 32> hash{};
  crypto_generichash(hash.data(), hash.size(), serialised.data(), serialised.size(), nullptr, 0);
  KeyringFingerprint f{};
  std::copy_n(hash.begin(), f.size(), f.begin());
  return f;
}

void checksum(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  crypto_generichash(out.data(), out.size(), in.data(), in.size(), nullptr, 0);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The lines between BEGIN and END when `text` holds a block, else `text`.
Result<std::string_view> share_body(std::string_view text) {
  const auto begin = text.find(kShareBeginLine);
  if (begin == std::string_view::npos) return text;
  const std::size_t from = begin + kShareBeginLine.size();
  const auto end = text.find(kShareEndLine, from);
  if (end == std::string_view::npos) return fail(Errc::crypto, kMistyped);
  return text.substr(from, end - from);
}

}  // namespace

std::string fingerprint_hex(const KeyringFingerprint& fingerprint) {
  std::array<char, 2 * std::tuple_size_v<KeyringFingerprint> + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), fingerprint.data(), fingerprint.size());
  return std::string(hex.data(), hex.size() - 1);
}

Result<KeyringFingerprint> keyring_fingerprint(const KeeperKeyring& keyring) {
  auto bytes = serialise_keeper_keyring(keyring);
  if (!bytes) return propagate(bytes);
  return fingerprint_of(bytes->span());
}

Result<std::vector<KeyShare>> split_keeper_keyring(const KeeperKeyring& keyring, unsigned count,
                                                   unsigned threshold) {
  if (threshold < kMinShareThreshold || threshold >= count || count > kMaxShareCount)
    return fail(Errc::invalid_input, "shares: the threshold must be at least " + std::to_string(kMinShareThreshold) +
                                         " and below the number of shares, which is at most " +
                                         std::to_string(kMaxShareCount));
  if (auto ok = gfshare_ready(); !ok) return std::unexpected(ok.error());
  auto secret = serialise_keeper_keyring(keyring);
  if (!secret) return propagate(secret);
  if (secret->size() > kMaxShareSize)
    return fail(Errc::invalid_input, "the keeper keyring holds too many key versions to be split into shares");
  const KeyringFingerprint fingerprint = fingerprint_of(secret->span());

  std::array<unsigned char, kMaxShareCount> numbers{};
  for (unsigned i = 0; i < count; ++i) numbers[i] = static_cast<unsigned char>(i + 1);
  GfshareCtx ctx(gfshare_ctx_init_enc(numbers.data(), count, static_cast<unsigned char>(threshold),
                                      static_cast<unsigned int>(secret->size())));
  if (!ctx) return fail(Errc::internal, "libgfshare could not prepare the split");
  gfshare_ctx_enc_setsecret(ctx.get(), secret->data());

  std::vector<KeyShare> shares;
  shares.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    auto bytes = SecretBytes::allocate(secret->size());
    if (!bytes) return propagate(bytes);
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), bytes->data());
    KeyShare s;
    s.threshold = static_cast<std::uint8_t>(threshold);
    s.count = static_cast<std::uint8_t>(count);
    s.number = numbers[i];
    s.fingerprint = fingerprint;
    s.bytes = std::move(*bytes);
    shares.push_back(std::move(s));
  }
  return shares;
}

Result<KeeperKeyring> combine_key_shares(std::span<const KeyShare> shares) {
  if (shares.empty()) return fail(Errc::crypto, "no share given");
  const KeyShare& first = shares.front();
  std::array<bool, 256> seen{};
  for (const KeyShare& s : shares) {
    if (s.fingerprint != first.fingerprint)
      return fail(Errc::crypto, "the shares are of different keyrings (fingerprints " + fingerprint_hex(first.fingerprint) +
                                    " and " + fingerprint_hex(s.fingerprint) + ")");
    if (s.threshold != first.threshold || s.count != first.count)
      return fail(Errc::crypto, "the shares are of different backups (any " + std::to_string(first.threshold) + " of " +
                                    std::to_string(first.count) + ", and any " + std::to_string(s.threshold) +
                                    " of " + std::to_string(s.count) + ")");
    if (s.bytes.size() != first.bytes.size() || s.bytes.empty())
      return fail(Errc::crypto, "the shares differ in length");
    if (s.number == 0) return fail(Errc::crypto, "share number 0 does not exist");
    if (seen[s.number]) return fail(Errc::crypto, "share " + std::to_string(s.number) + " is given twice");
    seen[s.number] = true;
  }
  if (shares.size() < first.threshold)
    return fail(Errc::crypto, std::to_string(first.threshold) + " shares needed, " + std::to_string(shares.size()) +
                                  " given");
  if (auto ok = gfshare_ready(); !ok) return std::unexpected(ok.error());

  // Distinct numbers in 1..255: at most 255 shares.
  std::vector<unsigned char> numbers;
  numbers.reserve(shares.size());
  for (const KeyShare& s : shares) numbers.push_back(s.number);
  const auto size = static_cast<unsigned int>(first.bytes.size());
  auto secret = SecretBytes::allocate(size);
  if (!secret) return propagate(secret);
  {
    GfshareCtx ctx(gfshare_ctx_init_dec(numbers.data(), static_cast<unsigned int>(numbers.size()), size));
    if (!ctx) return fail(Errc::internal, "libgfshare could not prepare the combination");
    for (std::size_t i = 0; i < shares.size(); ++i) {
      // libgfshare copies the share and does not write to it.
      gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i),
                                const_cast<unsigned char*>(shares[i].bytes.data()));
    }
    gfshare_ctx_dec_extract(ctx.get(), secret->data());
  }
  const auto different_backups = [] {
    return fail(Errc::crypto,
                "the shares do not rebuild the keyring they name: they may come from different backups of it "
                "(each backup splits it anew)");
  };
  if (fingerprint_of(secret->span()) != first.fingerprint) return different_backups();
  auto keyring = parse_keeper_keyring(secret->span());
  if (!keyring) return different_backups();
  return keyring;
}

Result<SecretBytes> encode_key_share(const KeyShare& share) {
  if (share.bytes.empty() || share.bytes.size() > kMaxShareSize || share.number == 0)
    return fail(Errc::invalid_input, "not a share that can be written");
  auto record = SecretBytes::allocate(kHeaderSize + share.bytes.size() + kChecksumSize);
  if (!record) return record;
  FixedWriter w(record->span());
  const auto length = static_cast<std::uint16_t>(share.bytes.size());
  const std::array<std::uint8_t, 4> numbers{kFormat, share.threshold, share.count, share.number};
  const std::array<std::uint8_t, 2> length_be{static_cast<std::uint8_t>(length >> 8),
                                              static_cast<std::uint8_t>(length & 0xff)};
  w.bytes(kMagic);
  w.bytes(numbers);
  w.bytes(share.fingerprint);
  w.bytes(length_be);
  w.bytes(share.bytes.span());
  if (!w.ok() || w.written() != record->size() - kChecksumSize)
    return fail(Errc::internal, "key share record size mismatch");
  checksum(record->span().first(w.written()), record->span().subspan(w.written()));

  if (!oath_ready()) return fail(Errc::internal, "liboath could not initialise");
  char* raw = nullptr;
  std::size_t raw_size = 0;
  const int rc = oath_base32_encode(reinterpret_cast<const char*>(record->data()), record->size(), &raw, &raw_size);
  std::unique_ptr<char, OathFree> b32(raw, OathFree{raw_size});
  if (rc != OATH_OK || !b32) return fail(Errc::internal, "base32 encoding failed");
  std::size_t chars = raw_size;
  while (chars > 0 && raw[chars - 1] == '=') --chars;

  const std::size_t groups = (chars + kCharsPerGroup - 1) / kCharsPerGroup;
  const std::size_t lines = (groups + kGroupsPerLine - 1) / kGroupsPerLine;
  auto text = SecretBytes::allocate(kShareBeginLine.size() + 1 + chars + (groups - lines) + lines +
                                    kShareEndLine.size() + 1);
  if (!text) return text;
  FixedWriter t(text->span());
  const std::uint8_t space = ' ';
  const std::uint8_t newline = '\n';
  t.bytes(detail::as_bytes(kShareBeginLine));
  t.bytes({&newline, 1});
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t at = g * kCharsPerGroup;
    t.bytes(detail::as_bytes(std::string_view(raw + at, std::min(kCharsPerGroup, chars - at))));
    const bool line_ends = (g + 1) % kGroupsPerLine == 0 || g + 1 == groups;
    t.bytes({line_ends ? &newline : &space, 1});
  }
  t.bytes(detail::as_bytes(kShareEndLine));
  t.bytes({&newline, 1});
  if (!t.ok() || t.written() != text->size()) return fail(Errc::internal, "key share text size mismatch");
  return text;
}

Result<KeyShare> decode_key_share(std::string_view text) {
  auto body = share_body(text);
  if (!body) return std::unexpected(body.error());
  if (auto ok = init(); !ok) return std::unexpected(ok.error());

  // Only the base32 characters, upper case: the text as typed may be split
  // and cased any way (liboath ignores spaces, not line breaks).
  auto compact = SecretBytes::allocate(std::max<std::size_t>(body->size(), 1));
  if (!compact) return propagate(compact);
  std::size_t n = 0;
  for (char c : *body) {
    if (is_space(c)) continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return fail(Errc::crypto, kMistyped);
    compact->data()[n++] = static_cast<std::uint8_t>(c);
  }
  if (n < 8) return fail(Errc::crypto, kMistyped);

  if (!oath_ready()) return fail(Errc::internal, "liboath could not initialise");
  char* raw = nullptr;
  std::size_t raw_size = 0;
  const int rc = oath_base32_decode(reinterpret_cast<const char*>(compact->data()), n, &raw, &raw_size);
  std::unique_ptr<char, OathFree> decoded(raw, OathFree{raw_size});
  if (rc != OATH_OK || !decoded) return fail(Errc::crypto, kMistyped);
  auto record = SecretBytes::copy_of({reinterpret_cast<const std::uint8_t*>(raw), raw_size});
  decoded.reset();
  if (!record) return propagate(record);

  const auto bytes = record->span();
  if (bytes.size() < kHeaderSize + 1 + kChecksumSize) return fail(Errc::crypto, kMistyped);
  std::array<std::uint8_t, kChecksumSize> sum{};
  checksum(bytes.first(bytes.size() - kChecksumSize), sum);
  if (sodium_memcmp(sum.data(), bytes.data() + bytes.size() - kChecksumSize, kChecksumSize) != 0)
    return fail(Errc::crypto, kMistyped);

  ByteReader r(bytes.first(bytes.size() - kChecksumSize));
  const auto magic = r.take(kMagic.size());
  if (!r.ok() || !std::equal(kMagic.begin(), kMagic.end(), magic.begin()))
    return fail(Errc::invalid_input, "not a rempart key share");
  if (const unsigned format = r.u8(); format != kFormat)
    return fail(Errc::invalid_input,
                "key share format " + std::to_string(format) + " is not one this version of rempart reads");
  KeyShare s;
  s.threshold = r.u8();
  s.count = r.u8();
  s.number = r.u8();
  const auto fingerprint = r.take(s.fingerprint.size());
  if (r.ok()) std::copy(fingerprint.begin(), fingerprint.end(), s.fingerprint.begin());
  const auto length_be = r.take(2);
  if (!r.ok()) return fail(Errc::invalid_input, "key share truncated");
  const std::size_t length = (std::size_t{length_be[0]} << 8) | length_be[1];
  if (length == 0 || r.remaining() != length) return fail(Errc::invalid_input, "key share length does not match");
  if (s.threshold < kMinShareThreshold || s.threshold >= s.count || s.number == 0)
    return fail(Errc::invalid_input, "key share numbers are impossible");
  auto share = SecretBytes::copy_of(r.take(length));
  if (!share) return propagate(share);
  s.bytes = std::move(*share);
  return s;
}

Result<std::vector<std::string_view>> find_key_share_blocks(std::string_view text) {
  std::vector<std::string_view> blocks;
  std::size_t from = 0;
  while (true) {
    const auto begin = text.find(kShareBeginLine, from);
    if (begin == std::string_view::npos) break;
    const auto end = text.find(kShareEndLine, begin + kShareBeginLine.size());
    if (end == std::string_view::npos)
      return fail(Errc::invalid_input, "a share's END line is missing (a BEGIN line has none after it)");
    // Another BEGIN before this END: the first block was cut short.
    const auto next_begin = text.find(kShareBeginLine, begin + kShareBeginLine.size());
    if (next_begin != std::string_view::npos && next_begin < end)
      return fail(Errc::invalid_input, "a share's END line is missing (a BEGIN line has none after it)");
    from = end + kShareEndLine.size();
    blocks.push_back(text.substr(begin, from - begin));
  }
  return blocks;
}

}  // namespace rempart::crypto
