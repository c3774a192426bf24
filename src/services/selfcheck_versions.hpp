#pragma once
// The self-check's library versions: the versions rempart runs with, the
// list of known-vulnerable upstream ranges shipped with it
// (src/services/vulnerable-versions.toml, embedded at build time, dated),
// and Debian's own fixes, which keep the upstream version number: a
// Debian 12 library carries the fix from a package version on
// (`debian_fixed`), read from /var/lib/dpkg/status.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "services/selfcheck.hpp"

namespace rempart::services::selfcheck {

// Debian's version order (Debian policy §5.6.12): epoch, then upstream
// version, then revision, each compared by verrevcmp (non-digits by
// character with '~' before everything and letters before other signs,
// then digit runs by value). <0, 0, >0 as strcmp.
int compare_debian_versions(std::string_view a, std::string_view b);

// "<op> version[, <op> version…]" with op one of < <= > >= =, upstream
// versions compared as Debian compares them. Refused: an empty or unknown
// operator, an empty version.
struct VersionRange {
  struct Bound {
    std::string op;
    std::string version;
  };
  std::vector<Bound> bounds;
  static Result<VersionRange> parse(std::string_view text);
  bool contains(std::string_view version) const;
};

struct Vulnerability {
  std::string library;  // "sqlite", "openssl", "libsodium", "curl", "libpq", "boost"
  VersionRange affected;
  std::string affected_text;
  std::vector<std::string> cves;
  std::string severity;      // "low", "medium", "high", "critical"
  std::string what;          // one line
  std::string debian_fixed;  // the Debian 12 package version that carries the fix; "" when none is known
  std::string source;
};

struct VulnerableList {
  std::string checked;  // "YYYY-MM-DD": when the list was last compared with the advisories
  std::int64_t checked_at = 0;  // unix seconds of that day
  std::vector<Vulnerability> entries;
};

// Parses the list (TOML). Errors name the entry and key, never more.
Result<VulnerableList> parse_vulnerable_list(std::string_view toml_text);
// The list shipped in this binary.
std::span<const std::uint8_t> embedded_vulnerable_list() noexcept;

// One linked library as this process runs it.
struct LinkedLibrary {
  std::string library;         // as the list names it
  std::string name;            // for people: "SQLite"
  std::string version;         // upstream, e.g. "3.40.1"
  std::string debian_package;  // the Debian 12 package that provides it; "" when none
  bool compile_time = false;   // Boost: headers, the version rempart was built with
};
std::vector<LinkedLibrary> linked_libraries();

// Installed package versions from a dpkg status file, for `packages`
// ("install ok installed" only). Missing file: empty map.
std::map<std::string, std::string> installed_packages(const std::filesystem::path& status_file,
                                                      const std::vector<std::string>& packages);

// Findings of group "libs": one per library, and the list's age
// (libs.list_age: a warning past `max_age_days`).
void check_libraries(const VulnerableList& list, const std::vector<LinkedLibrary>& libs,
                     const std::map<std::string, std::string>& installed, std::vector<Finding>& out,
                     std::int64_t now, std::int64_t max_age_days = 90);

}  // namespace rempart::services::selfcheck
