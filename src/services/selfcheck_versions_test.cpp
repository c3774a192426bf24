#include "services/selfcheck_versions.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "store/test_support.hpp"

namespace rempart::services::selfcheck {
namespace {

using store::test_support::TempDir;

int sign(int v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

// Debian policy §5.6.12 and dpkg's own test vectors (lib/dpkg/t/t-version.c).
TEST(DebianVersions, CompareAsDpkgDoes) {
  struct Case {
    const char* a;
    const char* b;
    int want;
  };
  const Case cases[] = {
      {"1.0", "1.0", 0},
      {"1.0", "1.1", -1},
      {"1.10", "1.9", 1},
      {"1.0~rc1", "1.0", -1},        // tilde sorts before the end
      {"1.0~rc1", "1.0~rc2", -1},
      {"1.0~~", "1.0~", -1},
      {"1.0a", "1.0", 1},            // a letter after the end
      {"1.0a", "1.0+", -1},          // letters before other signs
      {"1:0.9", "2.0", 1},           // epoch first
      {"0:1.0", "1.0", 0},           // no epoch is epoch 0
      {"1.0-1", "1.0-2", -1},
      {"1.0-10", "1.0-9", 1},
      {"1.0", "1.0-0", 0},           // no revision compares as 0
      {"001.0", "1.0", 0},           // leading zeros of a number
      {"7.88.1-10+deb12u4", "7.88.1-10+deb12u15", -1},
      {"7.88.1-10+deb12u5", "7.88.1-10", 1},
      {"3.0.14-1~deb12u2", "3.0.15-1~deb12u1", -1},
      {"3.40.1-2+deb12u2", "3.40.1-2+deb12u1", 1},
      {"1.0.18-1", "1.0.18-1+deb12u1", -1},
      {"2.30-1", "2.3-1", 1},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(sign(compare_debian_versions(c.a, c.b)), c.want) << c.a << " vs " << c.b;
    EXPECT_EQ(sign(compare_debian_versions(c.b, c.a)), -c.want) << c.b << " vs " << c.a;
  }
}

TEST(VersionRanges, ParseAndContain) {
  auto r = VersionRange::parse(">= 7.69.0, < 8.4.0");
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_TRUE(r->contains("7.88.1"));
  EXPECT_TRUE(r->contains("7.69.0"));
  EXPECT_FALSE(r->contains("8.4.0"));
  EXPECT_FALSE(r->contains("7.68.9"));
  auto le = VersionRange::parse("<= 1.0.20");
  ASSERT_TRUE(le);
  EXPECT_TRUE(le->contains("1.0.18"));
  EXPECT_FALSE(le->contains("1.0.21"));
  for (const char* bad : {"", "7.0", "=> 1", "< ", "<1 2", ">= 1,"}) {
    EXPECT_FALSE(VersionRange::parse(bad)) << bad;
  }
}

constexpr const char* kList = R"(checked = "2026-12-01"
[[vulnerability]]
library = "curl"
affected = ">= 7.69.0, < 8.4.0"
cves = ["CVE-2023-38545"]
severity = "high"
what = "SOCKS5 heap overflow"
debian_fixed = "7.88.1-10+deb12u4"
source = "test"

[[vulnerability]]
library = "sqlite"
affected = "< 3.50.2"
cves = ["CVE-2025-6965"]
severity = "high"
what = "aggregate terms"
debian_fixed = ""
source = "test"
)";

TEST(VulnerableList, ParsesEntriesAndDate) {
  auto l = parse_vulnerable_list(kList);
  ASSERT_TRUE(l) << l.error().internal;
  EXPECT_EQ(l->checked, "2026-12-01");
  EXPECT_EQ(l->checked_at, 1796083200);  // 2026-12-01T00:00:00Z
  ASSERT_EQ(l->entries.size(), 2u);
  EXPECT_EQ(l->entries[0].cves, std::vector<std::string>{"CVE-2023-38545"});
  EXPECT_EQ(l->entries[0].debian_fixed, "7.88.1-10+deb12u4");
}

TEST(VulnerableList, RefusesWhatIsNotAList) {
  EXPECT_FALSE(parse_vulnerable_list("checked = \"2026-13-01\"\n"));
  EXPECT_FALSE(parse_vulnerable_list("[[vulnerability]]\nlibrary = \"curl\"\n"));  // no date
  EXPECT_FALSE(parse_vulnerable_list("checked = \"2026-12-01\"\nsurprise = 1\n"));
  const std::string base = "checked = \"2026-12-01\"\n[[vulnerability]]\n";
  EXPECT_FALSE(parse_vulnerable_list(base + "library = \"zlib\"\naffected = \"< 1\"\ncves = [\"CVE-1\"]\n"
                                            "severity = \"high\"\nwhat = \"x\"\n"));
  EXPECT_FALSE(parse_vulnerable_list(base + "library = \"curl\"\naffected = \"< 1\"\ncves = [\"CVE-1\"]\n"
                                            "severity = \"urgent\"\nwhat = \"x\"\n"));
  EXPECT_FALSE(parse_vulnerable_list(base + "library = \"curl\"\naffected = \"1\"\ncves = [\"CVE-1\"]\n"
                                            "severity = \"high\"\nwhat = \"x\"\n"));
  EXPECT_FALSE(parse_vulnerable_list(base + "library = \"curl\"\naffected = \"< 1\"\ncves = []\n"
                                            "severity = \"high\"\nwhat = \"x\"\n"));
  EXPECT_FALSE(parse_vulnerable_list("checked = \"2026-12-01\"\n[[vulnerability\n"));
}

// The list shipped in the binary parses, is dated, and every entry that
// names a Debian fix names a version of the package's upstream release.
TEST(VulnerableList, TheShippedOneIsValid) {
  const auto bytes = embedded_vulnerable_list();
  auto l = parse_vulnerable_list(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(l) << l.error().internal;
  EXPECT_GT(l->checked_at, 1767225600);  // after 2026-01-01
  EXPECT_GE(l->entries.size(), 8u);
  for (const auto& e : l->entries) EXPECT_FALSE(e.source.empty()) << e.cves[0];
}

TEST(DpkgStatus, ReadsInstalledVersionsOnly) {
  TempDir dir;
  const auto file = dir.file("status");
  std::ofstream(file) << "Package: libcurl4\nStatus: install ok installed\nArchitecture: amd64\n"
                         "Version: 7.88.1-10+deb12u15\nDescription: x\n continued\n\n"
                         "Package: libsodium23\nStatus: deinstall ok config-files\nVersion: 1.0.18-1\n\n"
                         "Package: libpq5\nStatus: install ok installed\nVersion: 15.18-0+deb12u1\n";
  const auto got = installed_packages(file, {"libcurl4", "libsodium23", "libpq5", "libssl3"});
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at("libcurl4"), "7.88.1-10+deb12u15");
  EXPECT_EQ(got.at("libpq5"), "15.18-0+deb12u1");
  EXPECT_TRUE(installed_packages(dir.file("none"), {"libpq5"}).empty());
}

const Finding* find(const std::vector<Finding>& v, std::string_view id) {
  for (const auto& f : v) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

TEST(Libraries, DebianBackportsCountAsFixedAndOldOnesFail) {
  auto l = parse_vulnerable_list(kList);
  ASSERT_TRUE(l);
  const std::int64_t now = l->checked_at + 10 * 86400;
  const std::vector<LinkedLibrary> libs = {{"curl", "libcurl", "7.88.1", "libcurl4", false},
                                           {"sqlite", "SQLite", "3.40.1", "libsqlite3-0", false}};
  {
    std::vector<Finding> out;
    check_libraries(*l, libs, {{"libcurl4", "7.88.1-10+deb12u15"}, {"libsqlite3-0", "3.40.1-2+deb12u2"}}, out, now);
    ASSERT_NE(find(out, "libs.curl"), nullptr);
    EXPECT_EQ(find(out, "libs.curl")->level, Level::ok) << find(out, "libs.curl")->finding.english();
    EXPECT_NE(find(out, "libs.curl")->finding.english().find("fixed by Debian"), std::string::npos);
    // In the upstream range, no Debian fix named: a warning, not a failure.
    EXPECT_EQ(find(out, "libs.sqlite")->level, Level::warn);
    EXPECT_EQ(find(out, "libs.list_age")->level, Level::ok);
  }
  {
    std::vector<Finding> out;
    check_libraries(*l, libs, {{"libcurl4", "7.88.1-10+deb12u3"}}, out, now);
    const auto* curl = find(out, "libs.curl");
    EXPECT_EQ(curl->level, Level::fail);
    EXPECT_NE(curl->finding.english().find("CVE-2023-38545"), std::string::npos);
    EXPECT_NE(curl->fix.english().find("apt upgrade libcurl4 (fixed in 7.88.1-10+deb12u4)"), std::string::npos);
    // Not Debian's: the upstream range alone decides.
    EXPECT_EQ(find(out, "libs.sqlite")->level, Level::fail);
  }
  {
    // The package was upgraded under the running process.
    std::vector<Finding> out;
    check_libraries(*l, {{"curl", "libcurl", "8.5.0", "libcurl4", false}}, {{"libcurl4", "7.88.1-10+deb12u15"}}, out,
                    now);
    EXPECT_EQ(find(out, "libs.curl_running")->level, Level::warn);
    EXPECT_EQ(find(out, "libs.curl")->level, Level::ok);
  }
  {
    std::vector<Finding> out;
    check_libraries(*l, {}, {}, out, l->checked_at + 91 * 86400);
    EXPECT_EQ(find(out, "libs.list_age")->level, Level::warn);
    EXPECT_NE(find(out, "libs.list_age")->finding.english().find("2026-12-01 (91 days ago)"), std::string::npos);
  }
}

TEST(Libraries, TheRunningVersionsAreRead) {
  const auto libs = linked_libraries();
  ASSERT_EQ(libs.size(), 6u);
  for (const auto& l : libs) {
    EXPECT_FALSE(l.version.empty()) << l.name;
    EXPECT_TRUE(l.version[0] >= '0' && l.version[0] <= '9') << l.name << " " << l.version;
  }
}

}  // namespace
}  // namespace rempart::services::selfcheck
