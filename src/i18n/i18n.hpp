#pragma once
// The languages of every page and mail: English (the messages as written in
// the code) and French (po/fr/*.po, compiled into the binary at build time).
//
// A message shown to a person is written in the code as tr("...") (or
// trf/trn below); xgettext extracts them, and tests/i18n/check_catalogue
// fails the build's tests when one lacks a French translation. A request
// sets its language once, with a Scope on the thread that handles it; every
// tr() below it follows. Dates, numbers and country names come from ICU
// (CLDR) in that language. Thread-safe: the catalogues are read-only after
// the first use, the language is per thread.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rempart::i18n {

enum class Lang { en, fr };

inline constexpr Lang kLanguages[] = {Lang::en, Lang::fr};

// "en", "fr": the BCP 47 tag, for <html lang> and ?lang=.
std::string_view code(Lang l) noexcept;
// The language's own name, for the switch: "English", "Français".
std::string_view own_name(Lang l) noexcept;
// "fr", "FR", "fr-CA", "fr_FR" → fr; anything else → nullopt.
std::optional<Lang> parse(std::string_view tag) noexcept;
// The best of ours for an Accept-Language header (RFC 9110 12.5.4: q
// values, the first of equal weight wins); `fallback` when none matches or
// the header cannot be read.
Lang negotiate(std::string_view accept_language, Lang fallback) noexcept;

// The language of the calling thread: the innermost Scope, else the
// process default (set_default; English until set).
Lang current() noexcept;
void set_default(Lang l) noexcept;
Lang default_language() noexcept;

class Scope {
 public:
  explicit Scope(Lang l) noexcept;
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  int previous_;
};

// The translation of `msgid` in the current language; `msgid` itself in
// English or when the catalogue lacks it. The pointer lives as long as the
// process.
const char* tr(const char* msgid) noexcept;
// The same for a message chosen elsewhere and marked there with N_().
inline const char* tr(std::string_view msgid) = delete;  // only literals reach the catalogue
// Singular or plural by `n`, by the language's rule (French: 0 and 1 are
// singular).
const char* trn(const char* singular, const char* plural, std::int64_t n) noexcept;

// The translation used as a fmt format string: trf("{} supporters", n). A
// translation whose placeholders do not fit falls back to the English.
template <typename... Args>
std::string trf(const char* msgid, Args&&... args) {
  try {
    return fmt::vformat(tr(msgid), fmt::make_format_args(args...));
  } catch (const fmt::format_error&) {
  }
  try {
    return fmt::vformat(msgid, fmt::make_format_args(args...));
  } catch (const fmt::format_error&) {
    return msgid;  // our own bug, caught by tests; never a crash in a page
  }
}
template <typename... Args>
std::string trnf(const char* singular, const char* plural, std::int64_t n, Args&&... args) {
  try {
    return fmt::vformat(trn(singular, plural, n), fmt::make_format_args(args...));
  } catch (const fmt::format_error&) {
  }
  try {
    return fmt::vformat(n == 1 ? singular : plural, fmt::make_format_args(args...));
  } catch (const fmt::format_error&) {
    return n == 1 ? singular : plural;
  }
}

// Marks a literal for extraction where it is chosen, to be translated with
// tr() where it is shown.
#define N_(s) s

// "6 Dec 2026, 13:20 UTC" / "6 déc. 2026, 13:20 UTC" (CLDR medium date,
// 24-hour time, always UTC: staff in several places read the same log).
std::string date_time(std::int64_t unix_seconds);
// "6 Dec 2026" / "6 déc. 2026".
std::string date(std::int64_t unix_seconds);
// "120,000" / "120 000".
std::string number(std::int64_t n);
// The country's name in the current language ("FR" → "France"; "DE" →
// "Germany" / "Allemagne"); the code itself when ICU has no name for it.
std::string country_name(std::string_view iso2);
// Every ISO 3166 country as (code, name in the current language), sorted
// by name with the language's collation.
const std::vector<std::pair<std::string, std::string>>& countries();

}  // namespace rempart::i18n
