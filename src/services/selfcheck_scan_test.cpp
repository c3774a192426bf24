#include "services/selfcheck_scan.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "store/test_support.hpp"

namespace rempart::services::selfcheck {
namespace {

using store::test_support::TempDir;

PlaintextCounter counted(std::string_view text, std::size_t chunk = 1 << 20,
                         const std::unordered_set<std::string>* allowed = nullptr) {
  PlaintextCounter c(allowed);
  const auto* b = reinterpret_cast<const std::uint8_t*>(text.data());
  for (std::size_t i = 0; i < text.size(); i += chunk) {
    c.feed(std::span<const std::uint8_t>(b + i, std::min(chunk, text.size() - i)));
  }
  c.finish();
  return c;
}

TEST(PlaintextValues, FindsAddressesAndNumbers) {
  EXPECT_EQ(plaintext_values("write to Jean.Dupont@Example.ORG today"),
            std::vector<std::string>{"jean.dupont@example.org"});
  EXPECT_EQ(plaintext_values("+33612345678"), std::vector<std::string>{"+33612345678"});
  EXPECT_EQ(plaintext_values("call 06 12 34 56 78."), std::vector<std::string>{"0612345678"});
  EXPECT_EQ(plaintext_values("06.12.34.56.78"), std::vector<std::string>{"0612345678"});
  // Not shaped so: too short, no top-level label, timestamps, ids, versions.
  for (const char* none : {"a@b", "x@localhost", "ab@c.d", "Ne@9.Td", "abc@9.Td", "ab@example.org", "@example.org", "1765123456", "a1b2c3d40612345678ef",
                           "v3.0.19", "at 12:00", "+1234567", "1.0612345678", "ab@exa mple.org"}) {
    EXPECT_TRUE(plaintext_values(none).empty()) << none;
  }
}

TEST(PlaintextCounter, CountsAcrossChunkBoundariesOnce) {
  std::string text(5000, '\x01');
  text.replace(1000, 20, "someone@example.org ");
  text.replace(4093, 12, "+33612345678");  // straddles 4096 with small chunks
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
    const auto c = counted(text, chunk);
    EXPECT_EQ(c.emails, 1) << chunk;
    EXPECT_EQ(c.phones, 1) << chunk;
    EXPECT_EQ(c.bytes, text.size());
  }
}

TEST(PlaintextCounter, RandomBytesLookLikeNothing) {
  std::mt19937_64 rng(42);
  std::string text(8 << 20, '\0');
  for (auto& ch : text) ch = static_cast<char>(rng());
  const auto c = counted(text);
  EXPECT_EQ(c.phones, 0);
  EXPECT_LE(c.emails, 1);  // ~2 per GiB by chance
}

TEST(PlaintextCounter, AllowedValuesAreCountedApart) {
  const std::unordered_set<std::string> allowed = {"dpo@movement.example"};
  const auto c = counted("DPO@movement.example and leak@victim.example", 1 << 20, &allowed);
  EXPECT_EQ(c.allowed_emails, 1);
  EXPECT_EQ(c.emails, 1);
}

// A database laid out as rempart's: a staff-written table that may hold an
// address (allowed), and one where an address in clear is a leak.
void make_db(const std::filesystem::path& file, bool leak) {
  std::filesystem::remove(file);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> closer(db, &sqlite3_close);
  const char* sql =
      "CREATE TABLE consent_wordings (hash BLOB, text TEXT NOT NULL);"
      "INSERT INTO consent_wordings VALUES (x'01', 'Write to dpo@movement.example to withdraw');"
      "CREATE TABLE supporter_tags (id BLOB, tag TEXT);"
      "INSERT INTO supporter_tags VALUES (x'02', 'volunteers');";
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  if (leak) {
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO supporter_tags VALUES (x'03', 'from marie.curie@example.fr');", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
  }
}

Settings settings_in(const TempDir& dir) {
  Settings s;
  s.data_dir = dir.file("data");
  s.exports_dir = s.data_dir / "exports";
  std::filesystem::create_directories(s.exports_dir);
  return s;
}

const Finding* find(const std::vector<Finding>& v, std::string_view id) {
  for (const auto& f : v) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

TEST(ScanDataFiles, StaffTextIsAllowedAndAPlantedAddressFails) {
  TempDir dir;
  auto s = settings_in(dir);
  make_db(s.data_dir / "rempart.db", false);
  {
    const auto r = scan_data_files(s);
    const auto* f = find(r.findings, "plaintext.rempart_db");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->level, Level::ok) << f->finding.english();
    EXPECT_EQ(f->finding.args.back(), "1");  // the consent wording's address
    EXPECT_GT(r.bytes, 0u);
  }
  make_db(s.data_dir / "rempart.db", true);
  std::ofstream(s.exports_dir / "export-1.rex", std::ios::binary) << "sealed\x01\x02+447700900123\x03";
  const auto r = scan_data_files(s);
  const auto* f = find(r.findings, "plaintext.rempart_db");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->level, Level::fail);
  EXPECT_EQ(f->finding.args.at(1), "1");
  const auto* x = find(r.findings, "plaintext.exports");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, Level::fail);
  // Counts and names only: the value is nowhere in what is reported.
  for (const auto& g : r.findings) {
    EXPECT_EQ(g.finding.english().find("marie"), std::string::npos);
    EXPECT_EQ(g.fix.english().find("marie"), std::string::npos);
    EXPECT_EQ(g.finding.english().find("7700900123"), std::string::npos);
  }
}

TEST(ScanDataFiles, AnUnreadableFileFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TempDir dir;
  auto s = settings_in(dir);
  make_db(s.data_dir / "rempart.db", false);
  std::ofstream(s.data_dir / "inbox.db") << "x";
  ::chmod((s.data_dir / "inbox.db").c_str(), 0);
  const auto r = scan_data_files(s);
  const auto* f = find(r.findings, "plaintext.inbox_db");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->level, Level::fail);
}

}  // namespace
}  // namespace rempart::services::selfcheck
