#include "mail/message.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "core/text.hpp"

namespace rempart::mail {

namespace {

constexpr std::size_t kMaxWord = 75;       // RFC 2047, section 2
constexpr std::size_t kMaxEncodedLine = 76;  // RFC 2047, section 2
constexpr std::size_t kFoldAt = 78;        // RFC 5322, section 2.1.1 (SHOULD)
constexpr std::size_t kMaxLine = 998;      // RFC 5322, section 2.1.1 (MUST)
constexpr std::string_view kWordOpen = "=?UTF-8?B?";
constexpr std::string_view kWordClose = "?=";
constexpr std::string_view kFold = "\r\n ";

constexpr std::size_t kMaxSubject = 1000;
constexpr std::size_t kMaxFromName = 200;
constexpr std::size_t kMaxMessageId = 250;
constexpr std::size_t kMaxFilename = 100;
constexpr std::size_t kMaxContentType = 200;

bool printable_ascii(std::string_view s) noexcept {
  return std::ranges::all_of(s, [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Well-formed UTF-8 with no control character (C0, DEL, C1) at all.
bool one_line_utf8(std::string_view s) {
  if (!core::text::is_valid_utf8(s)) return false;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = core::text::decode_one(s, i);
    if (!c || core::text::is_control(*c)) return false;
  }
  return true;
}

bool body_utf8(std::string_view s) {
  return core::text::is_valid_utf8(s) && s.find('\0') == std::string_view::npos;
}

// Headers the message (or libcurl, for Content-*) writes itself; an extra
// header by one of these names would duplicate or contradict it (a Bcc
// would even disclose recipients).
bool reserved_header(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kReserved = {
      "date", "from", "to", "cc", "bcc", "subject", "message-id", "mime-version", "sender", "return-path"};
  const std::string n = lower(name);
  return n.starts_with("content-") || std::ranges::find(kReserved, n) != kReserved.end();
}

bool field_name(std::string_view n) noexcept {
  return !n.empty() && n.size() <= 76 &&
         std::ranges::all_of(n, [](unsigned char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

bool header_value(std::string_view v) noexcept {
  return std::ranges::all_of(v, [](unsigned char c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; });
}

bool message_id(std::string_view id) noexcept {
  const auto at = id.find('@');
  return !id.empty() && id.size() <= kMaxMessageId && at != 0 && at != std::string_view::npos &&
         at + 1 < id.size() &&
         std::ranges::all_of(id, [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '<' && c != '>'; });
}

bool filename(std::string_view f) noexcept {
  return !f.empty() && f.size() <= kMaxFilename && printable_ascii(f) &&
         f.find_first_of("\"\\/") == std::string_view::npos && f.front() != ' ' && f.back() != ' ';
}

bool content_type(std::string_view t) noexcept {
  const auto slash = t.find('/');
  return !t.empty() && t.size() <= kMaxContentType && printable_ascii(t) && slash != 0 &&
         slash != std::string_view::npos && slash + 1 < t.size() && t.front() != ' ';
}

// RFC 5322 atext, and the space between words of a display name.
bool atext_or_space(unsigned char c) noexcept {
  return std::isalnum(c) != 0 || c == ' ' || std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
                                                  std::string_view::npos;
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the NUL sodium writes
  return out;
}

// Characters of the line after its last fold.
std::size_t last_line_length(std::string_view s) noexcept {
  const auto nl = s.rfind('\n');
  return nl == std::string_view::npos ? s.size() : s.size() - nl - 1;
}

Result<void> invalid(std::string msg) { return fail(Errc::invalid_input, "mail message: " + std::move(msg)); }

}  // namespace

bool is_plain_address(std::string_view a) noexcept {
  if (a.size() < 3 || a.size() > 254) return false;
  const auto at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == a.size() || a.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::ranges::all_of(a, [](unsigned char c) {
    return c > 0x20 && c < 0x7f && std::string_view("<>,;:\"()[]\\").find(static_cast<char>(c)) == std::string_view::npos;
  });
}

Result<void> check(const Message& m) {
  if (!is_plain_address(m.return_path)) return invalid("return_path is not a plain address");
  if (!is_plain_address(m.from_address)) return invalid("from_address is not a plain address");
  if (!is_plain_address(m.to)) return invalid("to is not a plain address");
  for (const auto& a : m.also_to) {
    if (!is_plain_address(a)) return invalid("an also_to recipient is not a plain address");
  }
  if (m.from_name.size() > kMaxFromName) return invalid("from_name is longer than 200 bytes");
  if (!one_line_utf8(m.from_name)) return invalid("from_name is not one line of well-formed UTF-8");
  if (m.subject.size() > kMaxSubject) return invalid("subject is longer than 1000 bytes");
  if (!one_line_utf8(m.subject)) return invalid("subject is not one line of well-formed UTF-8");
  if (!message_id(m.message_id)) return invalid("message_id is not left@right in printable ASCII");
  if (m.text.empty()) return invalid("text is empty");
  if (!body_utf8(m.text)) return invalid("text is not well-formed UTF-8 without NUL");
  if (!body_utf8(m.html)) return invalid("html is not well-formed UTF-8 without NUL");
  for (std::size_t i = 0; i < m.headers.size(); ++i) {
    const auto& [name, value] = m.headers[i];
    if (!field_name(name)) {
      return invalid("extra header #" + std::to_string(i + 1) + " has no valid field name");
    }
    if (reserved_header(name)) return invalid("extra header " + name + " is one the message writes itself");
    if (!header_value(value)) {
      return invalid("extra header " + name + " has a value with CR, LF, NUL or another control or non-ASCII byte");
    }
    if (name.size() + 2 + value.size() > kMaxLine) return invalid("extra header " + name + " is over 998 octets");
  }
  for (std::size_t i = 0; i < m.attachments.size(); ++i) {
    const auto& a = m.attachments[i];
    const std::string which = "attachment #" + std::to_string(i + 1);
    if (!filename(a.filename)) return invalid(which + " has a filename that is not 1..100 plain ASCII characters");
    if (!content_type(a.content_type)) return invalid(which + " has no valid content type");
  }
  return {};
}

std::string encode_header_word(std::string_view utf8, std::size_t lead) {
  const std::size_t overhead = kWordOpen.size() + kWordClose.size();
  // Base64 turns 3 bytes into 4 characters: the longest payload that keeps a
  // word within `room` characters.
  auto bytes_for = [&](std::size_t room) {
    const std::size_t chars = room > overhead + 4 ? room - overhead : 4;
    return chars / 4 * 3;
  };
  const std::size_t first_room = lead + kMaxWord <= kMaxEncodedLine ? kMaxWord
                                 : lead < kMaxEncodedLine             ? kMaxEncodedLine - lead
                                                                      : 0;
  std::string out;
  std::size_t budget = bytes_for(first_room);
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = i;
    while (end < utf8.size()) {
      std::size_t next = end;
      if (!core::text::decode_one(utf8, next)) next = end + 1;  // not UTF-8 (check() refuses it): byte by byte
      if (next - i > budget) {
        if (end == i) end = next;  // one character wider than the budget: alone in its word
        break;
      }
      end = next;
    }
    if (!out.empty()) out.append(kFold);
    out.append(kWordOpen);
    out.append(base64(utf8.substr(i, end - i)));
    out.append(kWordClose);
    i = end;
    budget = bytes_for(kMaxWord);
  }
  return out;
}

std::string encode_unstructured(std::string_view utf8, std::size_t lead) {
  if (printable_ascii(utf8) && utf8.find("=?") == std::string_view::npos && lead + utf8.size() <= kFoldAt) {
    return std::string(utf8);
  }
  return encode_header_word(utf8, lead);
}

std::string format_mailbox(std::string_view name, std::string_view address, std::size_t lead) {
  if (name.empty()) return std::string(address);
  std::string out;
  if (printable_ascii(name) && name.find("=?") == std::string_view::npos) {
    if (std::ranges::all_of(name, atext_or_space) && name.front() != ' ' && name.back() != ' ') {
      out = name;
    } else {
      out = "\"";
      for (char c : name) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
    }
    return out + " <" + std::string(address) + ">";
  }
  out = encode_header_word(name, lead);
  const std::size_t tail = 2 + address.size() + 1;  // " <addr>"
  const std::size_t line = (out.find('\n') == std::string::npos ? lead : 0) + last_line_length(out);
  if (line + tail > kMaxEncodedLine) {
    out.append(kFold);
    out.push_back('<');
  } else {
    out.append(" <");
  }
  out.append(address);
  out.push_back('>');
  return out;
}

std::string format_date(std::chrono::system_clock::time_point t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays.at(static_cast<std::size_t>(tm.tm_wday)),
                tm.tm_mday, kMonths.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::vector<std::string> top_headers(const Message& m, std::chrono::system_clock::time_point now) {
  std::vector<std::string> h;
  h.push_back("Date: " + format_date(now));
  h.push_back("From: " + format_mailbox(m.from_name, m.from_address, 6));
  std::string to = "To: " + m.to;
  for (const auto& a : m.also_to) {
    if (last_line_length(to) + 2 + a.size() > kFoldAt) {
      to += ",\r\n " + a;
    } else {
      to += ", " + a;
    }
  }
  h.push_back(std::move(to));
  h.push_back("Subject: " + encode_unstructured(m.subject, 9));
  h.push_back("Message-ID: <" + m.message_id + ">");
  h.push_back("MIME-Version: 1.0");
  for (const auto& [name, value] : m.headers) h.push_back(name + ": " + value);
  return h;
}

}  // namespace rempart::mail
