#include "auth/mask.hpp"

#include <cctype>
#include <vector>

namespace rempart::auth {
namespace {

constexpr std::string_view kDot = "\u2022";  // •
constexpr std::string_view kMasked = "\u2022\u2022\u2022";

// The first UTF-8 code point of `s` (empty if s is empty).
std::string_view first_code_point(std::string_view s) {
  if (s.empty()) return {};
  std::size_t n = 1;
  while (n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) ++n;
  return s.substr(0, n);
}

// Country code length by the ITU E.164 assignment: zones 1 and 7 are one
// digit; these two-digit codes are whole; every other code has three digits.
std::size_t country_code_length(std::string_view digits) {
  if (digits[0] == '1' || digits[0] == '7') return 1;
  static constexpr std::string_view kTwo[] = {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
                                              "43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
                                              "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
                                              "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  for (auto c : kTwo) {
    if (digits.starts_with(c)) return 2;
  }
  return 3;
}

}  // namespace

std::string mask_email(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return std::string(kMasked);
  const std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  std::string out(first_code_point(local));
  out += kMasked;
  out += '@';
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    out += first_code_point(domain);
    out += kMasked;
    return out;
  }
  out += first_code_point(domain);
  out += kMasked;
  out += domain.substr(dot);
  return out;
}

std::string mask_phone(std::string_view e164) {
  if (e164.size() < 8 || e164.size() > 16 || e164[0] != '+') return std::string(kMasked);
  const std::string_view digits = e164.substr(1);
  for (char c : digits) {
    if (c < '0' || c > '9') return std::string(kMasked);
  }
  const std::size_t cc = country_code_length(digits);
  const std::string_view national = digits.substr(cc);
  if (national.size() < 4) return std::string(kMasked);
  // One visible digit, masks, two visible digits; grouped in pairs from the
  // right, a leftover single character joining the first group.
  std::vector<std::string> cells;
  cells.emplace_back(national.substr(0, 1));
  for (std::size_t i = 1; i + 2 < national.size(); ++i) cells.emplace_back(kDot);
  cells.emplace_back(national.substr(national.size() - 2, 1));
  cells.emplace_back(national.substr(national.size() - 1, 1));
  std::vector<std::string> groups;
  std::size_t end = cells.size();
  while (end > 0) {
    std::size_t begin = end >= 2 ? end - 2 : 0;
    if (begin == 1) begin = 0;
    std::string g;
    for (std::size_t i = begin; i < end; ++i) g += cells[i];
    groups.insert(groups.begin(), g);
    end = begin;
  }
  std::string out = "+" + std::string(digits.substr(0, cc));
  for (const auto& g : groups) out += " " + g;
  return out;
}

std::string initials(std::string_view name) {
  std::string out;
  std::size_t i = 0;
  while (i < name.size()) {
    while (i < name.size() && name[i] == ' ') ++i;
    if (i >= name.size()) break;
    std::string_view first = first_code_point(name.substr(i));
    if (!out.empty()) out += ' ';
    if (first.size() == 1) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(first[0])));
    } else {
      out += first;
    }
    out += '.';
    while (i < name.size() && name[i] != ' ') ++i;
  }
  return out;
}

}  // namespace rempart::auth
