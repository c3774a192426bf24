#include "core/text.hpp"

#include <ctime>

#include <algorithm>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace rempart::core::text {

std::optional<char32_t> decode_one(std::string_view s, std::size_t& i) noexcept {
  if (i >= s.size()) return std::nullopt;
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return static_cast<char32_t>(b0);
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
    min = 0x10000;
  } else {
    return std::nullopt;  // continuation byte, C0/C1 (always overlong), F5..FF
  }
  if (s.size() - i < len) return std::nullopt;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0u) != 0x80u) return std::nullopt;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += len;
  return cp;
}

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    if (!decode_one(s, i)) return false;
  }
  return true;
}

std::size_t count_code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char ch : s) {
    if ((static_cast<unsigned char>(ch) & 0xC0u) != 0x80u) ++n;
  }
  return n;
}

bool is_control(char32_t c) noexcept { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

bool is_bidi_control(char32_t c) noexcept {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
         c == 0x200F || c == 0x061C;
}

namespace {
bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
}  // namespace

bool is_plain_line(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.empty() || s.size() > max_bytes || !is_valid_utf8(s)) return false;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = decode_one(s, i);
    if (!c || is_control(*c) || is_bidi_control(*c)) return false;
  }
  return true;
}

std::string_view trim_ascii(std::string_view s) noexcept {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim_unicode(std::string_view s) noexcept {
  // Leading: decode forward while white space.
  std::size_t begin = 0;
  while (begin < s.size()) {
    std::size_t next = begin;
    const auto cp = decode_one(s, next);
    if (!cp || !u_isUWhiteSpace(static_cast<UChar32>(*cp))) break;
    begin = next;
  }
  // Trailing: step back to each code point's first byte.
  std::size_t end = s.size();
  while (end > begin) {
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0u) == 0x80u) --start;
    std::size_t next = start;
    const auto cp = decode_one(s, next);
    if (!cp || next != end || !u_isUWhiteSpace(static_cast<UChar32>(*cp))) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::optional<std::string> to_nfc(std::string_view s) {
  // ASCII is its own NFC: most names and places need no trip through ICU.
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return std::string(s);
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || nfc == nullptr) return std::nullopt;
  const icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  const icu::UnicodeString out = nfc->normalize(in, status);
  if (U_FAILURE(status)) return std::nullopt;
  std::string result;
  out.toUTF8String(result);
  return result;
}

std::string utc_text(std::int64_t unix_seconds, const char* format) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace rempart::core::text
