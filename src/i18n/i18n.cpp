#include "i18n/i18n.hpp"

#include <unicode/coll.h>
#include <unicode/dtfmtsym.h>
#include <unicode/dtptngen.h>
#include <unicode/locid.h>
#include <unicode/numfmt.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/locale/gnu_gettext.hpp>
#include <boost/locale/message.hpp>
#include <cctype>
#include <locale>
#include <memory>
#include <mutex>

#include "i18n/catalogue_data.hpp"

namespace rempart::i18n {
namespace {

constexpr int kNone = -1;
thread_local int t_lang = kNone;
std::atomic<int> g_default{static_cast<int>(Lang::en)};

// The French catalogue, read from the bytes compiled into the binary (the
// .mo that msgfmt made of po/fr/*.po): no file to install, none to lose.
struct Catalogue {
  std::locale locale;
  const boost::locale::message_format<char>* facet = nullptr;
  int domain = 0;
};

const Catalogue& french() {
  static const Catalogue c = [] {
    boost::locale::gnu_gettext::messages_info info;
    // Whole strings moved in (not assigned from literals over the defaults):
    // GCC 12 at -O2 warns falsely of the replaced short string otherwise.
    info.language = std::string("fr");
    info.encoding = std::string("UTF-8");
    info.paths = {"/embedded"};
    info.domains = {boost::locale::gnu_gettext::messages_info::domain("rempart")};
    info.callback = [](const std::string& file, const std::string&) -> std::vector<char> {
      if (file != "/embedded/fr/LC_MESSAGES/rempart.mo") return {};
      const auto bytes = catalogue_fr();
      return {reinterpret_cast<const char*>(bytes.data()), reinterpret_cast<const char*>(bytes.data()) + bytes.size()};
    };
    Catalogue out;
    out.locale = std::locale(std::locale::classic(), boost::locale::gnu_gettext::create_messages_facet<char>(info));
    out.facet = &std::use_facet<boost::locale::message_format<char>>(out.locale);
    out.domain = out.facet->domain("rempart");
    return out;
  }();
  return c;
}

icu::Locale icu_locale(Lang l) { return l == Lang::fr ? icu::Locale("fr", "FR") : icu::Locale("en", "GB"); }

std::string utf8(const icu::UnicodeString& u) {
  std::string s;
  u.toUTF8String(s);
  return s;
}

// One formatter per language and pattern, built once: ICU's formatters are
// costly to make and safe to share for format() only when not modified, so
// each call clones (cheap) under no lock.
struct Formats {
  std::unique_ptr<icu::SimpleDateFormat> date_time;
  std::unique_ptr<icu::SimpleDateFormat> date;
  std::unique_ptr<icu::NumberFormat> number;
};

std::unique_ptr<icu::SimpleDateFormat> date_format(const icu::Locale& loc, const char* skeleton) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::DateTimePatternGenerator> gen(icu::DateTimePatternGenerator::createInstance(loc, status));
  if (U_FAILURE(status)) return nullptr;
  const icu::UnicodeString pattern = gen->getBestPattern(icu::UnicodeString::fromUTF8(skeleton), status);
  if (U_FAILURE(status)) return nullptr;
  auto f = std::make_unique<icu::SimpleDateFormat>(pattern, loc, status);
  if (U_FAILURE(status)) return nullptr;
  f->adoptTimeZone(icu::TimeZone::createTimeZone("UTC"));
  return f;
}

const Formats& formats(Lang l) {
  static const std::array<Formats, 2> all = [] {
    std::array<Formats, 2> out;
    for (const Lang lang : kLanguages) {
      auto& f = out[static_cast<std::size_t>(lang)];
      const icu::Locale loc = icu_locale(lang);
      f.date_time = date_format(loc, "yMMMdHHmm");
      f.date = date_format(loc, "yMMMd");
      UErrorCode status = U_ZERO_ERROR;
      f.number.reset(icu::NumberFormat::createInstance(loc, status));
      if (U_FAILURE(status)) f.number.reset();
    }
    return out;
  }();
  return all[static_cast<std::size_t>(l)];
}

std::string format_date(const icu::SimpleDateFormat* f, std::int64_t unix_seconds) {
  if (!f) return std::to_string(unix_seconds);
  std::unique_ptr<icu::SimpleDateFormat> copy(f->clone());
  icu::UnicodeString out;
  copy->format(static_cast<UDate>(unix_seconds) * 1000.0, out);
  return utf8(out);
}

}  // namespace

std::string_view code(Lang l) noexcept { return l == Lang::fr ? "fr" : "en"; }
std::string_view own_name(Lang l) noexcept { return l == Lang::fr ? "Français" : "English"; }

std::optional<Lang> parse(std::string_view tag) noexcept {
  if (tag.size() < 2) return std::nullopt;
  if (tag.size() > 2 && tag[2] != '-' && tag[2] != '_') return std::nullopt;
  const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(tag[0])));
  const char b = static_cast<char>(std::tolower(static_cast<unsigned char>(tag[1])));
  if (a == 'f' && b == 'r') return Lang::fr;
  if (a == 'e' && b == 'n') return Lang::en;
  return std::nullopt;
}

Lang negotiate(std::string_view header, Lang fallback) noexcept {
  // "fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5": each range, its weight; the
  // heaviest of ours wins, the earlier among equals. Ranges we do not
  // speak, "*" and malformed parts are skipped.
  std::optional<Lang> best;
  int best_q = 0;
  std::size_t count = 0;
  while (!header.empty() && count++ < 32) {
    const auto comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto semi = part.find(';');
    std::string_view range = part.substr(0, semi);
    while (!range.empty() && (range.front() == ' ' || range.front() == '\t')) range.remove_prefix(1);
    while (!range.empty() && (range.back() == ' ' || range.back() == '\t')) range.remove_suffix(1);
    int q = 1000;
    if (semi != std::string_view::npos) {
      std::string_view p = part.substr(semi + 1);
      while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
      if (p.size() < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
      p.remove_prefix(2);
      while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) p.remove_suffix(1);
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
      if (p.empty() || (p[0] != '0' && p[0] != '1')) continue;
      int value = (p[0] - '0') * 1000;
      if (p.size() > 1) {
        if (p[1] != '.' || p.size() > 5) continue;
        int scale = 100;
        bool ok = true;
        for (std::size_t i = 2; i < p.size(); ++i, scale /= 10) {
          if (p[i] < '0' || p[i] > '9') ok = false;
          else value += (p[i] - '0') * scale;
        }
        if (!ok || value > 1000) continue;
      }
      q = value;
    }
    const auto lang = parse(range);
    if (!lang || q <= 0) continue;
    if (!best || q > best_q) {
      best = lang;
      best_q = q;
    }
  }
  return best.value_or(fallback);
}

Lang current() noexcept {
  return t_lang == kNone ? static_cast<Lang>(g_default.load(std::memory_order_relaxed)) : static_cast<Lang>(t_lang);
}
void set_default(Lang l) noexcept { g_default.store(static_cast<int>(l), std::memory_order_relaxed); }
Lang default_language() noexcept { return static_cast<Lang>(g_default.load(std::memory_order_relaxed)); }

Scope::Scope(Lang l) noexcept : previous_(t_lang) { t_lang = static_cast<int>(l); }
Scope::~Scope() { t_lang = previous_; }

const char* tr(const char* msgid) noexcept {
  if (current() == Lang::en || msgid == nullptr || *msgid == '\0') return msgid;
  const Catalogue& c = french();
  const char* s = c.facet->get(c.domain, nullptr, msgid);
  return s && *s ? s : msgid;
}

const char* trn(const char* singular, const char* plural, std::int64_t n) noexcept {
  if (current() == Lang::en) return n == 1 ? singular : plural;
  const Catalogue& c = french();
  const int small = static_cast<int>(std::clamp<std::int64_t>(n, -1000000, 1000000));
  const char* s = c.facet->get(c.domain, nullptr, singular, small);
  if (s && *s) return s;
  return n <= 1 ? singular : plural;  // French: 0 and 1 are singular
}

std::string date_time(std::int64_t unix_seconds) {
  return format_date(formats(current()).date_time.get(), unix_seconds) + " UTC";
}

std::string date(std::int64_t unix_seconds) { return format_date(formats(current()).date.get(), unix_seconds); }

std::string number(std::int64_t n) {
  const auto& f = formats(current()).number;
  if (!f) return std::to_string(n);
  icu::UnicodeString out;
  f->format(static_cast<int64_t>(n), out);
  return utf8(out);
}

std::string country_name(std::string_view iso2) {
  if (iso2.size() != 2) return std::string(iso2);
  for (const auto& [code_, name] : countries()) {
    if (code_ == iso2) return name;
  }
  return std::string(iso2);
}

const std::vector<std::pair<std::string, std::string>>& countries() {
  static const std::array<std::vector<std::pair<std::string, std::string>>, 2> all = [] {
    std::array<std::vector<std::pair<std::string, std::string>>, 2> out;
    for (const Lang lang : kLanguages) {
      const icu::Locale display = icu_locale(lang);
      auto& list = out[static_cast<std::size_t>(lang)];
      for (const char* const* c = icu::Locale::getISOCountries(); *c; ++c) {
        icu::UnicodeString name;
        icu::Locale("", *c).getDisplayCountry(display, name);
        std::string n = utf8(name);
        if (n.empty() || n == *c) continue;  // no name in CLDR: not offered
        list.emplace_back(*c, std::move(n));
      }
      UErrorCode status = U_ZERO_ERROR;
      std::unique_ptr<icu::Collator> coll(icu::Collator::createInstance(display, status));
      if (U_SUCCESS(status)) {
        std::stable_sort(list.begin(), list.end(), [&](const auto& a, const auto& b) {
          UErrorCode s = U_ZERO_ERROR;
          return coll->compareUTF8(a.second, b.second, s) == UCOL_LESS;
        });
      }
    }
    return out;
  }();
  return all[static_cast<std::size_t>(current())];
}

}  // namespace rempart::i18n
