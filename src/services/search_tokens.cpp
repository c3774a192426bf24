#include "services/search_tokens.hpp"

#include <sodium.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <utility>

#include "core/text.hpp"
#include "crypto/blind_index.hpp"

namespace rempart::services {
namespace {

constexpr std::size_t kMaxQueryBytes = 100;
constexpr std::size_t kMaxNameWords = 5;

// Token kinds, each its own blind-index domain.
constexpr std::string_view kName = "search:name";
constexpr std::string_view kNamePair = "search:namepair";
// A record's name words paired: the first kMaxPairedWords words of its
// given and family names, every two distinct ones.
constexpr std::size_t kMaxPairedWords = 6;
constexpr std::string_view kPostcode = "search:postcode";
constexpr std::string_view kDept = "search:dept";
constexpr std::string_view kRegion = "search:region";
constexpr std::string_view kLocality = "search:locality";

store::Bytes token(const crypto::KeySet& keys, std::string_view kind, std::string_view value) {
  const auto h = crypto::blind_index(keys, kind, value);
  return store::Bytes(h.begin(), h.begin() + kSearchTokenBytes);
}

// Two name words as a pair token's value, in sorted order so that either
// order of the words gives the same token.
std::string pair_of(const std::string& a, const std::string& b) {
  return a < b ? a + " " + b : b + " " + a;
}

bool ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Departements by region (INSEE codes, regions as of 2016).
struct Region {
  std::string_view code;
  std::string_view name;  // folded, words joined by one space
  std::initializer_list<std::string_view> departements;
};
const Region kRegions[] = {
    {"84", "auvergne rhone alpes", {"01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"}},
    {"27", "bourgogne franche comte", {"21", "25", "39", "58", "70", "71", "89", "90"}},
    {"53", "bretagne", {"22", "29", "35", "56"}},
    {"24", "centre val de loire", {"18", "28", "36", "37", "41", "45"}},
    {"94", "corse", {"2A", "2B"}},
    {"44", "grand est", {"08", "10", "51", "52", "54", "55", "57", "67", "68", "88"}},
    {"32", "hauts de france", {"02", "59", "60", "62", "80"}},
    {"11", "ile de france", {"75", "77", "78", "91", "92", "93", "94", "95"}},
    {"28", "normandie", {"14", "27", "50", "61", "76"}},
    {"75", "nouvelle aquitaine", {"16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"}},
    {"76", "occitanie", {"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}},
    {"52", "pays de la loire", {"44", "49", "53", "72", "85"}},
    {"93", "provence alpes cote d azur", {"04", "05", "06", "13", "83", "84"}},
    {"01", "guadeloupe", {"971"}},
    {"02", "martinique", {"972"}},
    {"03", "guyane", {"973"}},
    {"04", "la reunion", {"974"}},
    {"06", "mayotte", {"976"}},
};

// Other names people type for a region.
constexpr std::pair<std::string_view, std::string_view> kRegionAliases[] = {
    {"paca", "93"}, {"idf", "11"}, {"reunion", "04"}, {"aura", "84"}, {"corsica", "94"},
};

std::optional<std::string_view> region_named(std::string_view folded) {
  for (const Region& r : kRegions) {
    if (r.name == folded) return r.code;
  }
  for (const auto& [alias, code] : kRegionAliases) {
    if (alias == folded) return code;
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// The postcode as compared: upper-case ASCII letters and digits only.
std::string compact_postcode(std::string_view postal_code) {
  std::string out;
  for (const char c : postal_code) {
    if (ascii_alnum(c)) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

// A département code as typed ("69", "2a", "974"), upper-cased; nullopt
// when it cannot be one.
std::optional<std::string> departement_code(std::string_view s) {
  const std::string v = core::text::ascii_upper(core::text::trim_ascii(s));
  auto digits = [](std::string_view d) { return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }); };
  if (v == "2A" || v == "2B") return v;
  if (v.size() == 2 && digits(v) && v != "20") return v;
  if (v.size() == 3 && digits(v) && (v.starts_with("97") || v.starts_with("98"))) return v;
  return std::nullopt;
}

void wipe(std::string& s) noexcept {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

void wipe(std::vector<std::string>& words) noexcept {
  for (auto& w : words) wipe(w);
  words.clear();
}

}  // namespace

std::vector<std::string> folded_words(std::string_view text) {
  std::vector<std::string> out;
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string word;
    for (const char c : text) {
      if (ascii_alnum(c)) {
        word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      } else if (!word.empty()) {
        out.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) out.push_back(std::move(word));
    return out;
  }
  if (!core::text::is_valid_utf8(text)) return out;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) return out;
  icu::UnicodeString decomposed = nfd->normalize(icu::UnicodeString::fromUTF8(text), status);
  if (U_FAILURE(status)) return out;
  icu::UnicodeString bare;
  for (std::int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) != U_NON_SPACING_MARK) bare.append(c);
  }
  bare.foldCase();
  icu::UnicodeString word;
  auto flush = [&] {
    if (word.isEmpty()) return;
    std::string w;
    word.toUTF8String(w);
    out.push_back(std::move(w));
    word.remove();
  };
  for (std::int32_t i = 0; i < bare.length();) {
    const UChar32 c = bare.char32At(i);
    i += U16_LENGTH(c);
    if (u_isalnum(c)) {
      word.append(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::optional<std::string> departement_of(std::string_view postal_code, std::string_view country) {
  if (!country.empty() && country != "FR") return std::nullopt;
  const std::string code = compact_postcode(postal_code);
  if (code.size() != 5 || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (code.starts_with("20")) return code < "20200" ? std::string("2A") : std::string("2B");
  if (code.starts_with("97") || code.starts_with("98")) return code.substr(0, 3);
  if (code.starts_with("00")) return std::nullopt;
  return code.substr(0, 2);
}

std::optional<std::string_view> region_of(std::string_view departement) noexcept {
  for (const Region& r : kRegions) {
    for (const std::string_view d : r.departements) {
      if (d == departement) return r.code;
    }
  }
  return std::nullopt;
}

std::vector<store::Bytes> search_tokens(const crypto::KeySet& keys, const core::Person& p) {
  std::vector<store::Bytes> out;
  std::vector<std::string> name_words;
  for (const std::string* name : {&p.given_name, &p.family_name}) {
    auto words = folded_words(*name);
    for (auto& w : words) {
      out.push_back(token(keys, kName, w));
      name_words.push_back(std::move(w));
    }
    wipe(words);
  }
  if (name_words.size() > kMaxPairedWords) {
    for (std::size_t i = kMaxPairedWords; i < name_words.size(); ++i) wipe(name_words[i]);
    name_words.resize(kMaxPairedWords);
  }
  for (std::size_t i = 0; i < name_words.size(); ++i) {
    for (std::size_t j = i + 1; j < name_words.size(); ++j) {
      if (name_words[i] == name_words[j]) continue;
      std::string pair = pair_of(name_words[i], name_words[j]);
      out.push_back(token(keys, kNamePair, pair));
      wipe(pair);
    }
  }
  wipe(name_words);
  if (!p.postal_code.empty()) {
    std::string code = compact_postcode(p.postal_code);
    if (!code.empty()) out.push_back(token(keys, kPostcode, code));
    wipe(code);
    if (auto dept = departement_of(p.postal_code, p.country)) {
      out.push_back(token(keys, kDept, *dept));
      if (auto region = region_of(*dept)) out.push_back(token(keys, kRegion, *region));
    }
  }
  if (!p.locality.empty()) {
    auto words = folded_words(p.locality);
    std::string place = joined(words);
    if (!place.empty()) out.push_back(token(keys, kLocality, place));
    wipe(place);
    wipe(words);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<TokenGroups> name_query(const crypto::KeySet& keys, std::string_view name) {
  if (name.size() > kMaxQueryBytes) return fail(Errc::invalid_input, "name search: longer than 100 bytes");
  auto words = folded_words(name);
  if (words.empty()) return fail(Errc::invalid_input, "name search: no letter or digit");
  if (words.size() > kMaxNameWords) {
    wipe(words);
    return fail(Errc::invalid_input, "name search: more than 5 words");
  }
  TokenGroups groups;
  std::size_t first = 0;
  if (words.size() >= 2 && words[0] != words[1]) {
    // The first two words as one pair token: "jean martin" is one lookup
    // of the records holding both, whichever is the given name.
    std::string pair = pair_of(words[0], words[1]);
    groups.push_back({token(keys, kNamePair, pair)});
    wipe(pair);
    first = 2;
  }
  for (std::size_t i = first; i < words.size(); ++i) groups.push_back({token(keys, kName, words[i])});
  wipe(words);
  return groups;
}

Result<void> check_place(std::string_view place) {
  if (place.size() > kMaxQueryBytes) return fail(Errc::invalid_input, "place search: longer than 100 bytes");
  auto words = folded_words(place);
  if (words.empty()) return fail(Errc::invalid_input, "place search: no letter or digit");
  wipe(words);
  return {};
}

Result<TokenGroups> place_query(const crypto::KeySet& keys, std::string_view place) {
  if (auto ok = check_place(place); !ok) return std::unexpected(ok.error());
  auto words = folded_words(place);
  std::vector<store::Bytes> any;
  std::string locality = joined(words);
  any.push_back(token(keys, kLocality, locality));
  if (auto region = region_named(locality)) any.push_back(token(keys, kRegion, *region));
  std::string code = compact_postcode(place);
  if (!code.empty() && code.size() <= 10) any.push_back(token(keys, kPostcode, code));
  if (auto dept = departement_code(place)) any.push_back(token(keys, kDept, *dept));
  wipe(code);
  wipe(locality);
  wipe(words);
  return TokenGroups{std::move(any)};
}

Result<std::vector<store::Bytes>> match_ids(store::SupporterReads& reads,
                                            std::span<const std::vector<store::Bytes>> groups) {
  std::vector<store::Bytes> result;
  bool first = true;
  for (const auto& group : groups) {
    std::vector<store::Bytes> ids;
    for (const auto& t : group) {
      auto found = reads.ids_by_search_token(t);
      if (!found) return std::unexpected(found.error());
      if (ids.empty()) {
        ids = std::move(*found);
      } else {
        std::vector<store::Bytes> both;
        both.reserve(ids.size() + found->size());
        std::set_union(ids.begin(), ids.end(), found->begin(), found->end(), std::back_inserter(both));
        ids = std::move(both);
      }
    }
    if (first) {
      result = std::move(ids);
      first = false;
    } else {
      std::vector<store::Bytes> both;
      std::set_intersection(result.begin(), result.end(), ids.begin(), ids.end(), std::back_inserter(both));
      result = std::move(both);
    }
    if (result.empty()) break;
  }
  std::reverse(result.begin(), result.end());
  return result;
}

Result<MatchPage> match_page(store::SupporterReads& reads, std::span<const std::vector<store::Bytes>> groups,
                             const std::optional<store::Bytes>& after, std::size_t limit) {
  MatchPage out;
  if (groups.size() == 1 && groups.front().size() == 1) {
    const store::Bytes& t = groups.front().front();
    // The first page and the count come from one walk of the token's
    // entries: as many as both need.
    const std::size_t cap = static_cast<std::size_t>(kMatchCountCap) + 1;
    const std::size_t wanted = after ? limit + 1 : std::max(limit + 1, cap);
    auto ids = reads.search_token_page(t, after, wanted);
    if (!ids) return std::unexpected(ids.error());
    std::int64_t n = static_cast<std::int64_t>(ids->size());
    if (after) {
      auto counted = reads.count_search_token(t, kMatchCountCap + 1);
      if (!counted) return std::unexpected(counted.error());
      n = *counted;
    }
    out.total_capped = n > kMatchCountCap;
    out.total = std::min(n, kMatchCountCap);
    out.more = ids->size() > limit;
    if (out.more) ids->resize(limit);
    out.ids = std::move(*ids);
    return out;
  }
  auto all = match_ids(reads, groups);
  if (!all) return std::unexpected(all.error());
  out.total_capped = static_cast<std::int64_t>(all->size()) > kMatchCountCap;
  out.total = std::min(static_cast<std::int64_t>(all->size()), kMatchCountCap);
  auto it = all->begin();
  if (after) it = std::upper_bound(all->begin(), all->end(), *after, std::greater<>());
  for (; it != all->end(); ++it) {
    if (out.ids.size() == limit) {
      out.more = true;
      break;
    }
    out.ids.push_back(std::move(*it));
  }
  return out;
}

}  // namespace rempart::services
