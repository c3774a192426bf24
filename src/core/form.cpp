// application/x-www-form-urlencoded sign-up bodies (the project's own form).
// Errors name only our own field names or "body": a name we do not know is
// never echoed back, since it is attacker-chosen text.
#include <algorithm>
#include <array>
#include <optional>

#include "core/text.hpp"
#include "core/urlencoded.hpp"
#include "core/validate.hpp"

namespace rempart::core {

namespace {

constexpr std::size_t kMaxPairs = 64;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool checkbox_on(std::string_view v) {
  const std::string s = text::ascii_lower(text::trim_ascii(v));
  return s == "on" || s == "1" || s == "true" || s == "yes";
}

}  // namespace

std::optional<std::string> form_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (in.size() - i < 3) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string form_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_urlencoded(std::string_view body,
                                                                                 std::size_t max_pairs) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = body;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    if (out.size() >= max_pairs) return std::nullopt;
    const auto eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::expected<RawSubmission, FieldErrors> parse_signup_form(std::string_view body) {
  RawSubmission raw;
  FieldErrors errors;
  const auto add_error = [&](std::string f, const char* code) {
    FieldError e{std::move(f), code};
    if (std::find(errors.begin(), errors.end(), e) == errors.end()) errors.push_back(std::move(e));
  };

  struct Single {
    const char* name;
    std::string* dest;
    bool seen = false;
  };
  std::array<Single, 8> singles{{
      {field::given_name, &raw.given_name},
      {field::family_name, &raw.family_name},
      {field::email, &raw.email},
      {field::phone, &raw.phone},
      {field::street, &raw.street},
      {field::postal_code, &raw.postal_code},
      {field::locality, &raw.locality},
      {field::country, &raw.country},
  }};
  bool seen_consent_email = false;
  bool seen_consent_sms = false;

  std::size_t pairs = 0;
  std::string_view rest = body;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    if (++pairs > kMaxPairs) {
      add_error("body", "too_many");
      break;
    }
    const auto eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) {
      return std::unexpected(FieldErrors{FieldError{"body", "malformed"}});
    }
    bool known = false;
    for (auto& s : singles) {
      if (*name == s.name) {
        known = true;
        if (s.seen) {
          add_error(s.name, "duplicate_key");
        } else {
          s.seen = true;
          *s.dest = std::move(*value);
        }
        break;
      }
    }
    if (known) continue;
    if (*name == field::consent_email || *name == field::consent_sms) {
      const bool is_email = *name == field::consent_email;
      bool& seen = is_email ? seen_consent_email : seen_consent_sms;
      if (seen) {
        add_error(is_email ? field::consent_email : field::consent_sms, "duplicate_key");
      } else {
        seen = true;
        (is_email ? raw.consent.email : raw.consent.sms) = checkbox_on(*value);
      }
    } else if (*name == "tag") {
      raw.tags.push_back(std::move(*value));
    } else {
      raw.extra.emplace_back(std::move(*name), std::move(*value));
    }
  }
  if (!errors.empty()) return std::unexpected(std::move(errors));
  return raw;
}

}  // namespace rempart::core
