#include "auth/totp.hpp"

#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>

namespace rempart::auth {
namespace {

bool oath_ready() {
  static const bool ok = oath_init() == OATH_OK;
  return ok;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string base32(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<crypto::SecretBytes> otpauth_uri(std::string_view account_name, std::span<const std::uint8_t> secret) {
  const std::string head = "otpauth://totp/rempart:" + percent_encode(account_name) + "?secret=";
  const std::string tail = "&issuer=rempart&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
                           "&period=" + std::to_string(kTotpStepSeconds);
  std::string b32 = base32(secret);  // wiped below
  auto out = crypto::SecretBytes::allocate(head.size() + b32.size() + tail.size());
  if (out) {
    auto* p = reinterpret_cast<char*>(out->data());
    p = std::copy(head.begin(), head.end(), p);
    p = std::copy(b32.begin(), b32.end(), p);
    std::copy(tail.begin(), tail.end(), p);
  }
  sodium_memzero(b32.data(), b32.size());
  return out;
}

std::string totp_code(std::span<const std::uint8_t> secret, std::int64_t now) {
  if (!oath_ready()) return {};
  std::array<char, kTotpDigits + 1> out{};
  if (oath_totp_generate(reinterpret_cast<const char*>(secret.data()), secret.size(), static_cast<time_t>(now),
                         kTotpStepSeconds, 0, kTotpDigits, out.data()) != OATH_OK) {
    return {};
  }
  return std::string(out.data(), kTotpDigits);
}

TotpVerdict totp_verify(std::span<const std::uint8_t> secret, std::string_view code, std::int64_t now,
                        std::int64_t last_step) {
  TotpVerdict v;
  if (code.size() != kTotpDigits || now < 0) return v;
  for (char c : code) {
    if (c < '0' || c > '9') return v;
  }
  const std::int64_t step = now / kTotpStepSeconds;
  bool old_match = false;
  // Every candidate is computed and compared, so timing does not tell which
  // step (if any) matched.
  for (std::int64_t d = -kTotpWindow; d <= kTotpWindow; ++d) {
    const std::int64_t s = step + d;
    if (s < 0) continue;
    const std::string expected = totp_code(secret, s * kTotpStepSeconds);
    if (expected.size() != kTotpDigits) return TotpVerdict{};
    const bool same = sodium_memcmp(expected.data(), code.data(), kTotpDigits) == 0;
    if (same && s > last_step && !v.step) v.step = s;
    if (same && s <= last_step) old_match = true;
  }
  v.replayed = !v.step && old_match;
  return v;
}

std::optional<std::int64_t> totp_check(std::span<const std::uint8_t> secret, std::string_view code,
                                       std::int64_t now, std::int64_t last_step) {
  return totp_verify(secret, code, now, last_step).step;
}

std::string qr_terminal(std::string_view text, QrInk ink) {
  const std::string s(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString(s.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                    &QRcode_free);
  if (!qr) return {};
  const int quiet = 2;
  const int w = qr->width;
  const int size = w + 2 * quiet;
  auto dark = [&](int x, int y) {
    x -= quiet;
    y -= quiet;
    const bool on = x >= 0 && y >= 0 && x < w && y < w && (qr->data[y * w + x] & 1) != 0;
    return ink == QrInk::light ? on : !on;  // what is not drawn
  };
  std::string out;
  for (int y = 0; y < size; y += 2) {
    for (int x = 0; x < size; ++x) {
      const bool top_light = !dark(x, y);
      const bool bottom_light = y + 1 < size ? !dark(x, y + 1) : false;
      if (top_light && bottom_light) out += "\u2588";
      else if (top_light) out += "\u2580";
      else if (bottom_light) out += "\u2584";
      else out += " ";
    }
    out += "\n";
  }
  return out;
}

}  // namespace rempart::auth
