#include "services/selfcheck_versions.hpp"

#include <boost/version.hpp>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

#include <toml++/toml.h>

#include "i18n/i18n.hpp"

namespace rempart::services::selfcheck {

// ---- Debian versions ---------------------------------------------------------

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// dpkg's order of one character of a non-digit part ('\0': its end).
int order(char c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  if (c != '\0') return static_cast<unsigned char>(c) + 256;
  return 0;
}

// dpkg's verrevcmp (lib/dpkg/version.c), over string_views.
int verrevcmp(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  const auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      const int ac = order(at(a, i)), bc = order(at(b, j));
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    while (is_digit(at(a, i)) && is_digit(at(b, j))) {
      if (first_diff == 0) first_diff = at(a, i) - at(b, j);
      ++i;
      ++j;
    }
    if (is_digit(at(a, i))) return 1;
    if (is_digit(at(b, j))) return -1;
    if (first_diff != 0) return first_diff;
  }
  return 0;
}

struct DebianVersion {
  long epoch = 0;
  std::string_view upstream, revision;
};

DebianVersion split(std::string_view v) {
  DebianVersion d;
  if (const auto colon = v.find(':'); colon != std::string_view::npos) {
    long e = 0;
    for (const char c : v.substr(0, colon)) {
      if (is_digit(c)) e = e * 10 + (c - '0');
    }
    d.epoch = e;
    v = v.substr(colon + 1);
  }
  if (const auto dash = v.rfind('-'); dash != std::string_view::npos) {
    d.revision = v.substr(dash + 1);
    v = v.substr(0, dash);
  }
  d.upstream = v;
  return d;
}

}  // namespace

int compare_debian_versions(std::string_view a, std::string_view b) {
  const auto x = split(a), y = split(b);
  if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
  if (const int c = verrevcmp(x.upstream, y.upstream); c != 0) return c;
  return verrevcmp(x.revision, y.revision);
}

Result<VersionRange> VersionRange::parse(std::string_view text) {
  VersionRange r;
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.back() == ',') return fail(Errc::invalid_input, "a version range ends with a bound");
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    std::size_t op_len = 0;
    while (op_len < part.size() && (part[op_len] == '<' || part[op_len] == '>' || part[op_len] == '=')) ++op_len;
    Bound b{std::string(part.substr(0, op_len)), std::string(part.substr(op_len))};
    while (!b.version.empty() && b.version.front() == ' ') b.version.erase(0, 1);
    if ((b.op != "<" && b.op != "<=" && b.op != ">" && b.op != ">=" && b.op != "=") || b.version.empty() ||
        b.version.find(' ') != std::string::npos) {
      return fail(Errc::invalid_input, "a version range is \"<op> version\" joined by commas, op one of < <= > >= =");
    }
    r.bounds.push_back(std::move(b));
  }
  if (r.bounds.empty()) return fail(Errc::invalid_input, "a version range needs at least one bound");
  return r;
}

bool VersionRange::contains(std::string_view version) const {
  for (const auto& b : bounds) {
    const int c = verrevcmp(version, b.version);
    const bool ok = b.op == "<" ? c < 0 : b.op == "<=" ? c <= 0 : b.op == ">" ? c > 0 : b.op == ">=" ? c >= 0 : c == 0;
    if (!ok) return false;
  }
  return true;
}

// ---- the list ----------------------------------------------------------------

namespace {

// Unix seconds of a "YYYY-MM-DD" day (UTC); nullopt when not one.
std::optional<std::int64_t> day_of(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    if (i == 4 || i == 7) continue;
    if (!is_digit(s[i])) return std::nullopt;
  }
  y = std::stoi(std::string(s.substr(0, 4)));
  m = std::stoi(std::string(s.substr(5, 2)));
  d = std::stoi(std::string(s.substr(8, 2)));
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count() * 86400LL;
}

const std::set<std::string, std::less<>> kLibraries = {"sqlite", "openssl", "libsodium", "curl", "libpq", "boost"};
const std::set<std::string, std::less<>> kSeverities = {"low", "medium", "high", "critical"};

}  // namespace

Result<VulnerableList> parse_vulnerable_list(std::string_view toml_text) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return fail(Errc::invalid_input,
                "the vulnerable-versions list is not valid TOML (line " + std::to_string(e.source().begin.line) + ")");
  }
  VulnerableList list;
  const auto checked = root["checked"].value<std::string>();
  const auto day = checked ? day_of(*checked) : std::nullopt;
  if (!day) return fail(Errc::invalid_input, "the vulnerable-versions list needs checked = \"YYYY-MM-DD\"");
  list.checked = *checked;
  list.checked_at = *day;
  for (const auto& [k, v] : root) {
    (void)v;
    if (k.str() != "checked" && k.str() != "vulnerability") {
      return fail(Errc::invalid_input, "unknown key '" + std::string(k.str()) + "' in the vulnerable-versions list");
    }
  }
  const toml::array* entries = root["vulnerability"].as_array();
  if (entries == nullptr) return list;
  std::size_t n = 0;
  for (const auto& node : *entries) {
    ++n;
    const std::string where = "vulnerability #" + std::to_string(n);
    const toml::table* t = node.as_table();
    if (t == nullptr) return fail(Errc::invalid_input, where + " is not a table");
    for (const auto& [k, v] : *t) {
      (void)v;
      static const std::set<std::string, std::less<>> keys = {"library", "affected", "cves",        "severity",
                                                             "what",    "debian_fixed", "source"};
      if (!keys.contains(k.str())) return fail(Errc::invalid_input, where + ": unknown key '" + std::string(k.str()) + "'");
    }
    Vulnerability e;
    e.library = (*t)["library"].value_or(std::string());
    e.affected_text = (*t)["affected"].value_or(std::string());
    e.severity = (*t)["severity"].value_or(std::string());
    e.what = (*t)["what"].value_or(std::string());
    e.debian_fixed = (*t)["debian_fixed"].value_or(std::string());
    e.source = (*t)["source"].value_or(std::string());
    if (!kLibraries.contains(e.library)) return fail(Errc::invalid_input, where + ": unknown library");
    auto range = VersionRange::parse(e.affected_text);
    if (!range) return fail(Errc::invalid_input, where + ": affected: " + range.error().internal);
    e.affected = std::move(*range);
    if (!kSeverities.contains(e.severity)) {
      return fail(Errc::invalid_input, where + ": severity must be low, medium, high or critical");
    }
    if (e.what.empty() || e.what.find('\n') != std::string::npos) {
      return fail(Errc::invalid_input, where + ": what must be one line");
    }
    if (const toml::array* cves = (*t)["cves"].as_array()) {
      for (const auto& c : *cves) {
        auto id = c.value<std::string>();
        if (!id || !id->starts_with("CVE-")) return fail(Errc::invalid_input, where + ": cves must be CVE ids");
        e.cves.push_back(*id);
      }
    }
    if (e.cves.empty()) return fail(Errc::invalid_input, where + ": cves must name at least one CVE");
    list.entries.push_back(std::move(e));
  }
  return list;
}

// ---- what this process runs with ---------------------------------------------

namespace {

// "OpenSSL 3.0.19 27 Jan 2026" -> "3.0.19".
std::string second_word(const char* text) {
  std::string s = text != nullptr ? text : "";
  const auto sp = s.find(' ');
  if (sp == std::string::npos) return s;
  const auto end = s.find(' ', sp + 1);
  return s.substr(sp + 1, end == std::string::npos ? std::string::npos : end - sp - 1);
}

}  // namespace

std::vector<LinkedLibrary> linked_libraries() {
  std::vector<LinkedLibrary> out;
  out.push_back({"sqlite", "SQLite", sqlite3_libversion(), "libsqlite3-0", false});
  out.push_back({"openssl", "OpenSSL", second_word(OpenSSL_version(OPENSSL_VERSION)), "libssl3", false});
  out.push_back({"libsodium", "libsodium", sodium_version_string(), "libsodium23", false});
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  out.push_back({"curl", "libcurl", curl != nullptr ? curl->version : "", "libcurl4", false});
  const int pq = PQlibVersion();  // 150018 for 15.18
  out.push_back({"libpq", "libpq", std::to_string(pq / 10000) + "." + std::to_string(pq % 100), "libpq5", false});
  std::string boost = BOOST_LIB_VERSION;  // "1_74"
  std::replace(boost.begin(), boost.end(), '_', '.');
  out.push_back({"boost", "Boost", boost + "." + std::to_string(BOOST_VERSION % 100), "", true});
  return out;
}

std::map<std::string, std::string> installed_packages(const std::filesystem::path& status_file,
                                                      const std::vector<std::string>& packages) {
  std::map<std::string, std::string> out;
  std::ifstream in(status_file);
  if (!in) return out;
  const std::set<std::string, std::less<>> wanted(packages.begin(), packages.end());
  std::string line, package, version, status;
  const auto flush = [&] {
    if (!package.empty() && wanted.contains(package) && status == "install ok installed" && !version.empty()) {
      out[package] = version;
    }
    package.clear();
    version.clear();
    status.clear();
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
    } else if (line.starts_with("Package: ")) {
      package = line.substr(9);
    } else if (line.starts_with("Version: ")) {
      version = line.substr(9);
    } else if (line.starts_with("Status: ")) {
      status = line.substr(8);
    }
  }
  flush();
  return out;
}

// ---- the findings ------------------------------------------------------------

namespace {

std::string upstream_of(std::string_view debian_version) { return std::string(split(debian_version).upstream); }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Finding make(std::string id, Level level, Text finding, Text fix = {}) {
  Finding f;
  f.id = std::move(id);
  f.level = level;
  f.finding = std::move(finding);
  f.fix = std::move(fix);
  return f;
}

}  // namespace

void check_libraries(const VulnerableList& list, const std::vector<LinkedLibrary>& libs,
                     const std::map<std::string, std::string>& installed, std::vector<Finding>& out,
                     std::int64_t now, std::int64_t max_age_days) {
  const std::int64_t age_days = (now - list.checked_at) / 86400;
  if (age_days > max_age_days) {
    out.push_back(make("libs.list_age", Level::warn,
                       {N_("the list of vulnerable versions was last checked on {} ({} days ago)"),
                        {list.checked, std::to_string(age_days)}},
                       {N_("upgrade rempart: each release brings the list up to date"), {}}));
  } else {
    out.push_back(make("libs.list_age", Level::ok,
                       {N_("the list of vulnerable versions was checked on {} ({} entries)"),
                        {list.checked, std::to_string(list.entries.size())}}));
  }
  for (const auto& lib : libs) {
    const std::string id = "libs." + lib.library;
    const auto pkg = lib.debian_package.empty() ? installed.end() : installed.find(lib.debian_package);
    // The library in use is Debian's when the package's upstream version is
    // the one the library reports; otherwise it came from elsewhere (or the
    // package was upgraded under a running process).
    const bool debian = pkg != installed.end() && upstream_of(pkg->second) == lib.version;
    std::vector<std::string> open, unsure, fixed_by_debian;
    bool severe = false;
    std::string fixed_in;
    for (const auto& v : list.entries) {
      if (v.library != lib.library || !v.affected.contains(lib.version)) continue;
      const std::string ids = join(v.cves);
      if (debian && !v.debian_fixed.empty()) {
        if (compare_debian_versions(pkg->second, v.debian_fixed) >= 0) {
          fixed_by_debian.push_back(ids);
          continue;
        }
        if (fixed_in.empty() || compare_debian_versions(v.debian_fixed, fixed_in) > 0) fixed_in = v.debian_fixed;
        open.push_back(ids);
      } else if (debian) {
        unsure.push_back(ids);
        continue;
      } else {
        open.push_back(ids);
      }
      if (v.severity == "high" || v.severity == "critical") severe = true;
    }
    const std::string shown = lib.name + " " + lib.version +
                              (debian ? " (Debian " + pkg->second + ")" : lib.compile_time ? " (headers)" : "");
    if (pkg != installed.end() && !debian) {
      out.push_back(make(id + "_running", Level::warn,
                         {N_("{} in use is {}, but the installed package {} is {}"),
                          {lib.name, lib.version, lib.debian_package, pkg->second}},
                         {N_("restart rempart if the package was upgraded; otherwise find where the other copy "
                             "comes from"),
                          {}}));
    }
    if (!open.empty()) {
      Text fix = debian ? Text{N_("apt upgrade {} (fixed in {}) and restart rempart"), {lib.debian_package, fixed_in}}
                        : Text{N_("upgrade {} past the affected versions and restart rempart"), {lib.name}};
      out.push_back(make(id, severe ? Level::fail : Level::warn,
                         {N_("{} is affected by {}"), {shown, join(open)}}, std::move(fix)));
    } else if (!unsure.empty()) {
      out.push_back(make(id, Level::warn,
                         {N_("{} is in the upstream range of {}, and the list does not say which Debian version "
                             "fixed it"),
                          {shown, join(unsure)}},
                         {N_("look the CVE up on security-tracker.debian.org, then apt upgrade {}"),
                          {lib.debian_package}}));
    } else if (!fixed_by_debian.empty()) {
      out.push_back(make(id, Level::ok, {N_("{}: {} fixed by Debian"), {shown, join(fixed_by_debian)}}));
    } else {
      out.push_back(make(id, Level::ok, {N_("{}: no listed vulnerability"), {shown}}));
    }
  }
}

}  // namespace rempart::services::selfcheck
