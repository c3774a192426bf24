#include "drill/plaintext.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>

namespace rempart::drill {
namespace {

bool email_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '%' || c == '+' || c == '-';
}
bool domain_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}
bool digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool alnum(unsigned char c) { return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

}  // namespace

void Needles::add_email(std::string_view email) {
  longest_ = std::max(longest_, email.size());
  emails_.insert(lower(email));
}

void Needles::add_phone(std::string_view e164) {
  longest_ = std::max(longest_, e164.size() + 2);
  phones_.insert(std::string(e164));
}

void Needles::scan(std::string_view bytes, Found& found) const {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] == '@' && !emails_.empty()) {
      std::size_t s = i;
      while (s > 0 && email_char(b[s - 1]) && i - s < 256) --s;
      std::size_t e = i + 1;
      while (e < n && domain_char(b[e]) && e - i < 256) ++e;
      if (s == i || e == i + 1) continue;
      // The longest candidate, then shorter ones: a byte before the local
      // part that happens to be a letter must not hide the address.
      const std::string domain = lower(bytes.substr(i + 1, e - i - 1));
      for (std::size_t from = s; from < i; ++from) {
        std::string cand = lower(bytes.substr(from, i - from)) + "@" + domain;
        if (emails_.contains(cand)) {
          found.emails.insert(std::move(cand));
          break;
        }
      }
    } else if (digit(b[i]) && (i == 0 || !alnum(b[i - 1])) && !phones_.empty()) {
      // A number written as text stands apart: digits inside a hex string
      // (a record id, a hash) that happen to spell one are not a leak.
      std::size_t e = i;
      while (e < n && digit(b[e]) && e - i < 20) ++e;
      const std::string_view run = bytes.substr(i, e - i);
      if (run.size() < 9 || run.size() > 15 || (e < n && alnum(b[e]))) continue;
      std::string e164 = "+" + std::string(run);
      if (!phones_.contains(e164) && run.size() == 10 && run[0] == '0') e164 = "+33" + std::string(run.substr(1));
      if (phones_.contains(e164)) found.phones.insert(std::move(e164));
    }
  }
}

std::size_t Needles::forget_found_in(std::string_view bytes) {
  Found f;
  scan(bytes, f);
  for (const auto& e : f.emails) emails_.erase(e);
  for (const auto& p : f.phones) phones_.erase(p);
  return f.records();
}

Result<void> Needles::scan_file(const std::filesystem::path& file, Found& found) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(Errc::io, "drill: cannot read " + file.filename().string());
  constexpr std::size_t kChunk = 8 << 20;
  const std::size_t overlap = std::max<std::size_t>(512, 2 * longest_);
  std::string window;
  std::string chunk(kChunk, '\0');
  for (;;) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    window.append(chunk.data(), got);
    scan(window, found);
    if (window.size() > overlap) window.erase(0, window.size() - overlap);
    if (got < chunk.size()) break;
  }
  if (in.bad()) return fail(Errc::io, "drill: cannot read " + file.filename().string());
  return {};
}

bool looks_like_internal_error(std::string_view body) {
  static constexpr std::array<std::string_view, 22> kMarks = {
      "sqlite",        "SQLITE_",      "syntax error",  "no such table", "no such column", "near \"",
      "SELECT ",       "INSERT INTO",  "UPDATE ",       "DELETE FROM",   "PostgreSQL",     "ERROR:  ",
      "SQLSTATE",      "terminate called", "what():",   "std::",         "Traceback",      "Exception",
      "stack trace",   ".cpp:",        ".hpp:",         "AddressSanitizer"};
  return std::any_of(kMarks.begin(), kMarks.end(), [&](std::string_view m) {
    return std::search(body.begin(), body.end(), m.begin(), m.end()) != body.end();
  });
}

}  // namespace rempart::drill
