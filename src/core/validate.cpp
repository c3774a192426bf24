// Field validators and validate_submission. Every error is a fixed code:
// nothing here copies input into an error, a log or an exception.
#include <idn2.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uloc.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/text.hpp"
#include "core/validate.hpp"

namespace rempart::core {

namespace {

using Checked = std::expected<std::string, std::string>;

std::unexpected<std::string> bad(const char* code) { return std::unexpected<std::string>(code); }

constexpr std::size_t kMaxEmailOctets = 254;   // RFC 5321 path limit minus <>
constexpr std::size_t kMaxLocalOctets = 64;
constexpr std::size_t kMaxDomainOctets = 253;
constexpr std::size_t kMaxLabelOctets = 63;
// Raw input bounds, applied before any costly work (IDNA, ICU, libphonenumber).
constexpr std::size_t kMaxEmailInput = 1024;
constexpr std::size_t kMaxPhoneInput = 32;
constexpr std::size_t kMaxNameCodePoints = 100;
constexpr std::size_t kMaxNameInput = 4 * kMaxNameCodePoints;
constexpr std::size_t kMaxPostalCode = 16;
constexpr std::size_t kMaxPostalInput = 64;
constexpr std::size_t kMaxTagCodePoints = 64;
// Room for 64 code points of four bytes plus spaces to collapse and
// decomposed accents to compose.
constexpr std::size_t kMaxTagInput = 1024;
constexpr std::size_t kMaxCountryInput = 128;
// More raw tags than this is refused before normalising any of them.
constexpr std::size_t kMaxRawTags = 256;

bool is_atext(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
    case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool is_dot_atom(std::string_view s) noexcept {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (const char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

bool is_ldh_label(std::string_view l) noexcept {
  if (l.empty() || l.size() > kMaxLabelOctets) return false;
  if (l.front() == '-' || l.back() == '-') return false;
  return std::all_of(l.begin(), l.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// True when IDNA processing hands a lower-case domain back unchanged: at
// most 253 octets of labels of 1..63 of [a-z0-9-], none starting or ending
// with '-', none with "--" in its third and fourth places (the A-label
// prefix "xn--" and the other labels IDNA2008 reserves). Nearly every
// address is like this; the rest (U-labels, A-labels, anything odd) goes
// through libidn2. detail::domain_to_a_labels' test holds the two equal.
bool idna_leaves_unchanged(std::string_view d) noexcept {
  if (d.empty() || d.size() > kMaxDomainOctets) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = d.find('.', start);
    const std::string_view l = d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_ldh_label(l)) return false;
    if (l.size() >= 4 && l[2] == '-' && l[3] == '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Converts a domain to lower-case A-labels with IDNA2008/TR46
// non-transitional processing. ASCII domains IDNA would leave as they are
// skip libidn2 (a tenth of a lookup's time by e-mail); every other domain,
// "xn--" labels included, goes through it, so a bogus A-label is refused.
std::expected<std::string, std::string> to_a_labels(std::string_view domain, bool shortcut = true) {
  std::string in = text::ascii_lower(domain);
  if (shortcut && idna_leaves_unchanged(in)) return in;
  char* out = nullptr;
  const int rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  const std::unique_ptr<char, void (*)(void*)> guard(out, idn2_free);
  if (rc != IDN2_OK || out == nullptr) {
    if (rc == IDN2_TOO_BIG_DOMAIN || rc == IDN2_TOO_BIG_LABEL) return bad("too_long");
    return bad("invalid_email");
  }
  return text::ascii_lower(out);
}

bool phone_chars_ok(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') continue;
    if (c == ' ' || c == '.' || c == '-' || c == '(' || c == ')') continue;
    if (c == '+' && i == 0) continue;
    return false;
  }
  return true;
}

const std::set<std::string>& supported_regions() {
  // Built once; thread-safe initialisation of a function-local static.
  static const std::set<std::string> regions = [] {
    std::set<std::string> r;
    i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&r);
    return r;
  }();
  return regions;
}

// A line break inside a tag is refused rather than collapsed: a tag is one
// line, and '\n' separates tags in a record's stored joined form.
bool is_line_break(UChar32 c) noexcept {
  return (c >= 0x0A && c <= 0x0D) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

bool tag_char_refused(UChar32 c) noexcept {
  // Tags travel as ',' ';' or '|' separated lists in CSV files.
  if (c == ',' || c == ';' || c == '|') return true;
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:        // Cc
    case U_FORMAT_CHAR:         // Cf: bidi controls, zero-width joiners, tag characters
    case U_UNASSIGNED:          // Cn, noncharacters included
    case U_PRIVATE_USE_CHAR:    // Co
    case U_SURROGATE:           // Cs
    case U_LINE_SEPARATOR:      // Zl
    case U_PARAGRAPH_SEPARATOR: // Zp
      return true;
    default:
      return false;
  }
}

// ---- country names --------------------------------------------------------------

// Names that exports carry and CLDR's French and English names miss. Each
// goes through country_key like the CLDR names, so it is written as people
// write it.
constexpr std::array<std::pair<const char*, const char*>, 19> kCountryAliases{{
    {"USA", "US"},
    {"U.S.A.", "US"},
    {"United States of America", "US"},
    {"États-Unis d'Amérique", "US"},
    {"UK", "GB"},
    {"U.K.", "GB"},
    {"Great Britain", "GB"},
    {"Grande-Bretagne", "GB"},
    // The nations of the United Kingdom share its numbering plan (+44).
    {"England", "GB"},
    {"Angleterre", "GB"},
    {"Scotland", "GB"},
    {"Écosse", "GB"},
    {"Wales", "GB"},
    {"Pays de Galles", "GB"},
    {"Northern Ireland", "GB"},
    {"Irlande du Nord", "GB"},
    // The département's own name; CLDR's French name is "Guyane française".
    {"Guyane", "GF"},
    // The names CLDR gave before "Czechia" and "Tchéquie".
    {"Czech Republic", "CZ"},
    {"République tchèque", "CZ"},
}};

// The lookup key of a country name: NFKC case folding, accents dropped
// (marks removed after NFD), every run of anything but letters and digits
// made one space, no space at either end, and one leading article removed.
// "La Réunion", "REUNION" and "réunion." share the key "reunion".
std::optional<std::string> country_key(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status) || fold == nullptr || nfd == nullptr) return std::nullopt;
  const icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  const icu::UnicodeString decomposed = nfd->normalize(fold->normalize(in, status), status);
  if (U_FAILURE(status)) return std::nullopt;
  icu::UnicodeString key;
  bool gap = false;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if ((U_GET_GC_MASK(c) & U_GC_M_MASK) != 0) continue;
    if (!u_isalnum(c)) {
      gap = true;
      continue;
    }
    if (gap && !key.isEmpty()) key.append(static_cast<UChar>(u' '));
    gap = false;
    key.append(c);
  }
  std::string out;
  key.toUTF8String(out);
  for (const std::string_view article : {"la ", "le ", "les ", "l ", "the "}) {
    if (out.size() > article.size() && out.starts_with(article)) {
      out.erase(0, article.size());
      break;
    }
  }
  return out;
}

using CountryNames = std::unordered_map<std::string, std::string>;

// Every region the phone library supports, by the keys of its French and
// English CLDR names and of kCountryAliases. A key two regions share maps
// to "" and matches nothing (NormalizeCountry.EveryCldrNameRoundTrips checks
// that no CLDR name is lost so).
CountryNames build_country_names() {
  CountryNames names;
  const auto add = [&](std::string_view name, const std::string& code) {
    auto key = country_key(name);
    if (!key || key->empty()) return;
    auto [it, fresh] = names.try_emplace(std::move(*key), code);
    if (!fresh && it->second != code) it->second.clear();
  };
  for (const char* const* c = uloc_getISOCountries(); *c != nullptr; ++c) {
    const std::string code = *c;
    if (!supported_regions().contains(code)) continue;
    // "und_XX": a locale whose only part is the region, named in `lang`.
    const std::string locale = "und_" + code;
    for (const char* lang : {"fr", "en"}) {
      std::array<UChar, 128> buf{};
      UErrorCode status = U_ZERO_ERROR;
      const int32_t len =
          uloc_getDisplayCountry(locale.c_str(), lang, buf.data(), static_cast<int32_t>(buf.size()), &status);
      // ICU warns (U_USING_DEFAULT_WARNING) when it falls back to the code itself.
      if (U_FAILURE(status) || status == U_USING_DEFAULT_WARNING || len <= 0) continue;
      std::string utf8;
      icu::UnicodeString(buf.data(), len).toUTF8String(utf8);
      add(utf8, code);
    }
  }
  for (const auto& [alias, code] : kCountryAliases) {
    if (supported_regions().contains(code)) add(alias, code);
  }
  return names;
}

const CountryNames& country_names() {
  // Built once; thread-safe initialisation of a function-local static.
  static const CountryNames names = build_country_names();
  return names;
}

bool blank(std::string_view s) noexcept { return text::trim_ascii(s).empty(); }

}  // namespace

std::expected<std::string, std::string> normalize_email(std::string_view in) {
  if (in.size() > kMaxEmailInput) return bad("too_long");
  const std::string_view s = text::trim_ascii(in);
  if (s.empty()) return bad("required");
  if (!text::is_valid_utf8(s)) return bad("invalid_utf8");
  const auto at = s.find('@');
  if (at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) {
    return bad("invalid_email");
  }
  const std::string_view local = s.substr(0, at);
  const std::string_view domain = s.substr(at + 1);
  if (local.size() > kMaxLocalOctets) return bad("too_long");
  // Only ASCII dot-atoms: SMTPUTF8 local parts are not deliverable everywhere
  // and quoted local parts are a known source of parser confusion.
  if (!is_dot_atom(local)) return bad("invalid_email");
  if (domain.empty() || domain.size() > kMaxEmailInput) return bad("invalid_email");
  // Refuse characters IDNA might map away (e.g. full-width dots) only after
  // IDNA; but ASCII controls and spaces never belong to a domain.
  for (const char c : domain) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return bad("invalid_email");
  }
  auto ascii = to_a_labels(domain);
  if (!ascii) return std::unexpected(ascii.error());
  const std::string& d = *ascii;
  if (d.size() > kMaxDomainOctets) return bad("too_long");
  std::size_t labels = 0;
  std::string_view last;
  std::string_view rest = d;
  while (true) {
    const auto dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (!is_ldh_label(label)) return bad("invalid_email");
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2) return bad("invalid_email");
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad("invalid_email");
  }
  std::string out = text::ascii_lower(local);
  out += '@';
  out += d;
  if (out.size() > kMaxEmailOctets) return bad("too_long");
  return out;
}

namespace detail {
std::expected<std::string, std::string> domain_to_a_labels(std::string_view domain, bool shortcut) {
  return to_a_labels(domain, shortcut);
}
}  // namespace detail

std::expected<std::string, std::string> normalize_phone(std::string_view in,
                                                         std::string_view default_region) {
  const std::string_view s = text::trim_ascii(in);
  if (s.empty()) return bad("required");
  if (s.size() > kMaxPhoneInput) return bad("too_long");
  if (!phone_chars_ok(s)) return bad("invalid_phone");
  std::string number(s);
  // "00" is the international prefix in most of the world; libphonenumber
  // only understands it for regions that use it, so make it explicit.
  if (number.starts_with("00")) number.replace(0, 2, "+");
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util->Parse(number, text::ascii_upper(default_region), &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return bad("invalid_phone");
  }
  if (!util->IsValidNumber(parsed)) return bad("invalid_phone");
  std::string out;
  util->Format(parsed, PhoneNumberUtil::E164, &out);
  return out;
}

std::string phone_for_display(std::string_view e164) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util->Parse(std::string(e164), "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return std::string(e164);
  std::string out;
  util->Format(parsed, PhoneNumberUtil::INTERNATIONAL, &out);
  return out;
}

std::expected<std::string, std::string> normalize_name(std::string_view in) {
  if (in.size() > kMaxNameInput) return bad("too_long");
  if (!text::is_valid_utf8(in)) return bad("invalid_utf8");
  const std::string_view s = text::trim_unicode(in);
  if (s.empty()) return bad("required");
  std::size_t i = 0;
  while (i < s.size()) {
    const auto cp = text::decode_one(s, i);
    if (!cp) return bad("invalid_utf8");  // unreachable: checked above
    if (text::is_control(*cp) || text::is_bidi_control(*cp)) return bad("forbidden_characters");
  }
  auto nfc = text::to_nfc(s);
  if (!nfc) return bad("invalid_utf8");
  // NFC never adds white space at the ends, but trim again so that the
  // result is a fixed point of this function whatever ICU does.
  std::string out(text::trim_unicode(*nfc));
  if (text::count_code_points(out) > kMaxNameCodePoints) return bad("too_long");
  return out;
}

std::expected<std::string, std::string> normalize_street(std::string_view in) {
  constexpr std::size_t kMaxStreetLines = 3;
  if (in.size() > kMaxStreetLines * (kMaxNameInput + 2)) return bad("too_long");
  std::string out;
  std::size_t lines = 0;
  std::string_view rest = in;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (text::trim_unicode(line).empty()) continue;
    auto n = normalize_name(line);
    if (!n) return n;
    if (++lines > kMaxStreetLines) return bad("too_long");
    if (!out.empty()) out += '\n';
    out += *n;
  }
  if (out.empty()) return bad("required");
  return out;
}

std::expected<std::string, std::string> normalize_postal_code(std::string_view in) {
  if (in.size() > kMaxPostalInput) return bad("too_long");
  const std::string_view s = text::trim_ascii(in);
  if (s.empty()) return bad("required");
  std::string out;
  bool pending_space = false;
  bool has_alnum = false;
  for (const char c : s) {
    if (c == ' ' || c == '\t') {
      pending_space = true;
      continue;
    }
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && c != '-') return bad("invalid_postal_code");
    has_alnum = has_alnum || alnum;
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  if (!has_alnum) return bad("invalid_postal_code");
  if (out.size() > kMaxPostalCode) return bad("too_long");
  return text::ascii_upper(out);
}

std::expected<std::string, std::string> normalize_country(std::string_view in) {
  if (in.size() > kMaxCountryInput) return bad("too_long");
  if (!text::is_valid_utf8(in)) return bad("invalid_utf8");
  const std::string_view s = text::trim_unicode(in);
  if (s.empty()) return bad("required");
  if (s.size() == 2) {
    const std::string up = text::ascii_upper(s);
    const bool letters = up[0] >= 'A' && up[0] <= 'Z' && up[1] >= 'A' && up[1] <= 'Z';
    if (letters && supported_regions().contains(up)) return up;
    // Not a code the phone library knows; it may still be a name ("UK").
  }
  const auto key = country_key(s);
  if (!key) return bad("invalid_country");
  const CountryNames& names = country_names();
  const auto it = names.find(*key);
  if (it == names.end() || it->second.empty()) return bad("invalid_country");
  return it->second;
}

std::expected<std::string, std::string> normalize_tag(std::string_view in) {
  if (in.size() > kMaxTagInput) return bad("invalid_tag");
  if (!text::is_valid_utf8(in)) return bad("invalid_tag");
  const std::string_view s = text::trim_unicode(in);
  if (s.empty()) return bad("invalid_tag");
  // Printable ASCII, most tags: the same rules without ICU (lower-cased,
  // runs of spaces made one; no control or line break can occur here).
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7E; })) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
      if (c == ',' || c == ';' || c == '|') return bad("invalid_tag");
      if (c == ' ') {
        if (out.back() != ' ') out.push_back(' ');  // s is trimmed: out is not empty here
        continue;
      }
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    if (out.size() > kMaxTagCodePoints) return bad("invalid_tag");
    return out;
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || nfc == nullptr) return bad("invalid_tag");
  icu::UnicodeString u = nfc->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size()))), status);
  if (U_FAILURE(status)) return bad("invalid_tag");
  // Root-locale lower-casing, the same whatever the server's locale. Its
  // result is not always NFC (e.g. U+0130 gives i + U+0307), hence NFC again.
  u.toLower(icu::Locale::getRoot());
  u = nfc->normalize(u, status);
  if (U_FAILURE(status)) return bad("invalid_tag");

  icu::UnicodeString out;
  std::size_t code_points = 0;
  bool pending_space = false;
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (u_isUWhiteSpace(c)) {
      if (is_line_break(c)) return bad("invalid_tag");
      pending_space = true;
      continue;
    }
    if (tag_char_refused(c)) return bad("invalid_tag");
    if (pending_space && !out.isEmpty()) {
      out.append(static_cast<UChar>(u' '));
      ++code_points;
    }
    pending_space = false;
    out.append(c);
    if (++code_points > kMaxTagCodePoints) return bad("invalid_tag");
  }
  if (out.isEmpty()) return bad("invalid_tag");
  std::string result;
  out.toUTF8String(result);
  return result;
}

std::string signup_source(const RawSubmission& raw, const IntakeOptions& opts) {
  std::string out;
  for (const auto& name : opts.sources) {
    for (const auto& [k, v] : raw.extra) {
      if (k != name) continue;
      const std::string_view value = text::trim_unicode(v);
      if (!value.empty() && text::is_plain_line(value, kMaxSourceBytes)) {
        out += name;
        out += '=';
        out += value;
        out += '\n';
      }
      break;  // the first value of a name only
    }
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::expected<Person, FieldErrors> validate_submission(const RawSubmission& raw,
                                                       const IntakeOptions& opts) {
  Person p;
  FieldErrors errors;
  const auto collected = [&](const char* name) {
    return std::find(opts.collect.begin(), opts.collect.end(), name) != opts.collect.end();
  };
  // A field not collected is dropped unread; an empty one is absent.
  const auto apply = [&](const char* name, const std::string& value, std::string& dest,
                         auto&& normalise) {
    if (!collected(name) || blank(value)) return;
    auto r = normalise(value);
    if (r) {
      dest = std::move(*r);
    } else {
      errors.push_back(FieldError{name, r.error()});
    }
  };

  apply(field::given_name, raw.given_name, p.given_name, normalize_name);
  apply(field::family_name, raw.family_name, p.family_name, normalize_name);
  const bool has_email = collected(field::email) && !blank(raw.email);
  const bool has_phone = collected(field::phone) && !blank(raw.phone);
  if (!has_email && !has_phone) errors.push_back(FieldError{field::email, "required"});
  // In the form's order, so that the page's summary follows the page.
  for (const auto& [name, value] : {std::pair{field::given_name, &raw.given_name},
                                    std::pair{field::family_name, &raw.family_name},
                                    std::pair{field::email, &raw.email}, std::pair{field::phone, &raw.phone},
                                    std::pair{field::street, &raw.street},
                                    std::pair{field::postal_code, &raw.postal_code},
                                    std::pair{field::locality, &raw.locality},
                                    std::pair{field::country, &raw.country}}) {
    const bool required = std::find(opts.require.begin(), opts.require.end(), name) != opts.require.end();
    if (!required || !collected(name) || !blank(*value)) continue;
    FieldError e{name, "required"};
    if (std::find(errors.begin(), errors.end(), e) == errors.end()) errors.push_back(std::move(e));
  }
  // A number without +country is read in the row's own country when it has
  // a valid one: "0692 12 34 56" from La Réunion is +262 692..., not a bad
  // French number. One that is no number there is read in the default
  // region: people keep their mobile when they move. A country not collected
  // is not read for this either.
  std::optional<Checked> country;
  if (collected(field::country) && !blank(raw.country)) country = normalize_country(raw.country);
  const std::string region = country && country->has_value() ? **country : opts.default_region;
  const auto phone_in_region = [&](std::string_view v) {
    auto r = normalize_phone(v, region);
    if (!r && r.error() == "invalid_phone" && region != text::ascii_upper(opts.default_region)) {
      r = normalize_phone(v, opts.default_region);
    }
    return r;
  };
  apply(field::email, raw.email, p.email, normalize_email);
  apply(field::phone, raw.phone, p.phone, phone_in_region);
  apply(field::street, raw.street, p.street, normalize_street);
  apply(field::postal_code, raw.postal_code, p.postal_code, normalize_postal_code);
  apply(field::locality, raw.locality, p.locality, normalize_name);
  // Reached only when collected and not blank, that is when `country` is set.
  apply(field::country, raw.country, p.country, [&](std::string_view) { return *country; });

  // Tags are the organisation's labels (from its own form or API client),
  // not personal data, so they are kept whatever opts.collect says.
  if (raw.tags.size() > kMaxRawTags) {
    errors.push_back(FieldError{field::tags, "too_many"});
  } else {
    bool bad_tag = false;
    for (const auto& t : raw.tags) {
      auto r = normalize_tag(t);
      if (r) {
        p.tags.push_back(std::move(*r));
      } else {
        bad_tag = true;
      }
    }
    if (bad_tag) errors.push_back(FieldError{field::tags, "invalid_tag"});
    std::sort(p.tags.begin(), p.tags.end());
    p.tags.erase(std::unique(p.tags.begin(), p.tags.end()), p.tags.end());
    if (p.tags.size() > opts.max_tags) errors.push_back(FieldError{field::tags, "too_many"});
  }
  p.consent = raw.consent;

  if (!errors.empty()) return std::unexpected(std::move(errors));
  return p;
}

RawSubmission to_raw(const Person& p) {
  RawSubmission r;
  r.given_name = p.given_name;
  r.family_name = p.family_name;
  r.email = p.email;
  r.phone = p.phone;
  r.street = p.street;
  r.postal_code = p.postal_code;
  r.locality = p.locality;
  r.country = p.country;
  r.tags = p.tags;
  r.consent = p.consent;
  return r;
}

}  // namespace rempart::core
