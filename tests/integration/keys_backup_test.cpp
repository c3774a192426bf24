// End-to-end tests of `rempart keys backup` and `rempart keys restore`: the
// keeper keyring of a real instance split into share files, and rebuilt
// from some of them into a new key directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "integration/process.hpp"

namespace rempart::test {
namespace {

constexpr const char* kBegin = "-----BEGIN REMPART KEY SHARE-----";
constexpr const char* kEnd = "-----END REMPART KEY SHARE-----";

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// The lines between a file's BEGIN and END lines.
std::vector<std::string> share_lines(const std::string& text) {
  std::vector<std::string> lines;
  const auto begin = text.find(kBegin);
  const auto end = text.find(kEnd);
  if (begin == std::string::npos || end == std::string::npos) return lines;
  std::size_t pos = text.find('\n', begin) + 1;
  while (pos < end) {
    const auto eol = text.find('\n', pos);
    lines.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return lines;
}

class KeysBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = run_rempart({"keys", "backup", "--keys", in.keys.string(), "--shares", "5", "--threshold", "3", "--out",
                          out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    backup_out = r.out;
    keyring = read_file(in.keys / "keeper.keyring");
    ASSERT_GT(keyring.size(), 100u);
  }

  fs::path share(int i) const { return out / ("share-" + std::to_string(i) + "-of-5.txt"); }

  RunResult restore(const std::vector<fs::path>& files) const {
    std::vector<std::string> args = {"keys", "restore", "--keys", restored.string()};
    for (const auto& f : files) args.push_back(f.string());
    return run_rempart(args);
  }

  Instance in;
  fs::path out = in.dir.path() / "shares";
  fs::path restored = in.dir.path() / "restored-keys";
  std::string backup_out;
  std::string keyring;
};

TEST_F(KeysBackup, WritesOnePrivateFilePerTrusteeAndNoKeyOnTheScreen) {
  EXPECT_EQ(mode_of(out), 0700u);
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 5);
  std::string fingerprint;
  for (int i = 1; i <= 5; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(fs::exists(share(i)));
    EXPECT_EQ(mode_of(share(i)), 0600u);
    const std::string text = read_file(share(i));
    EXPECT_NE(text.find("rempart key share " + std::to_string(i) + " of 5 \u2014 any 3 of the 5 rebuild"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Key versions:        1 (version 1)"), std::string::npos);
    EXPECT_NE(text.find("apart from the 4 others, and offline"), std::string::npos);
    const auto fp_at = text.find("Keyring fingerprint: ");
    ASSERT_NE(fp_at, std::string::npos);
    const std::string fp = text.substr(fp_at + 21, 16);
    if (fingerprint.empty()) fingerprint = fp;
    EXPECT_EQ(fp, fingerprint);
    // The share as text, then as a QR code.
    const auto lines = share_lines(text);
    ASSERT_GT(lines.size(), 10u);
    EXPECT_EQ(lines.front().size(), 8u * 4 + 7);
    EXPECT_NE(text.find("\u2588", text.find(kEnd)), std::string::npos);

    // No 16 bytes of the keyring past its fixed header, in any file.
    for (std::size_t at = 16; at + 16 <= keyring.size(); at += 8)
      ASSERT_EQ(text.find(keyring.substr(at, 16)), std::string::npos) << at;
    // Nothing of a share on the screen.
    EXPECT_EQ(backup_out.find(lines[3]), std::string::npos);
  }
  EXPECT_EQ(backup_out.find(kBegin), std::string::npos);
  EXPECT_NE(backup_out.find(share(5).string()), std::string::npos) << backup_out;
  EXPECT_NE(backup_out.find("fingerprint " + fingerprint), std::string::npos) << backup_out;
  EXPECT_NE(backup_out.find("shred -u"), std::string::npos) << backup_out;
  EXPECT_NE(backup_out.find("rempart keys restore"), std::string::npos) << backup_out;
}

TEST_F(KeysBackup, AnyThreeSharesRebuildTheSameKeyringFiles) {
  auto r = restore({share(1), share(3), share(5)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rebuilt from 3 shares"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 (version 1)"), std::string::npos) << r.out;
  const std::string header = read_file(share(1));
  const auto fp_at = header.find("Keyring fingerprint: ");
  ASSERT_NE(fp_at, std::string::npos);
  EXPECT_NE(r.out.find("fingerprint " + header.substr(fp_at + 21, 16)), std::string::npos) << r.out;
  EXPECT_EQ(read_file(restored / "keeper.keyring"), keyring);
  EXPECT_EQ(read_file(restored / "intake.keyring"), read_file(in.keys / "intake.keyring"));
  EXPECT_EQ(mode_of(restored), 0700u);
  EXPECT_EQ(mode_of(restored / "keeper.keyring"), 0600u);
  EXPECT_EQ(mode_of(restored / "intake.keyring"), 0600u);

  // A restored key directory is never restored into again.
  auto again = restore({share(2), share(3), share(4)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_file(restored / "keeper.keyring"), keyring);
}

TEST_F(KeysBackup, SharesPastedOnStandardInputRebuildItToo) {
  const std::string pasted = "from the safe:\n" + read_file(share(2)) + "\n" + read_file(share(4)) +
                             read_file(share(5));
  auto r = run_rempart_input({"keys", "restore", "--keys", restored.string()}, pasted);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(restored / "keeper.keyring"), keyring);
}

TEST_F(KeysBackup, TwoSharesAreRefusedAndNothingIsWritten) {
  auto r = restore({share(2), share(4)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("3 shares needed, 2 given"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(restored));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(KeysBackup, ASameShareGivenTwiceIsRefused) {
  auto r = restore({share(1), share(2), share(1)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("share 1 of the backup is given twice"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(restored));
}

TEST_F(KeysBackup, AMistypedShareIsRefusedByItsFileName) {
  std::string text = read_file(share(3));
  const auto lines = share_lines(text);
  ASSERT_GT(lines.size(), 6u);
  const auto at = text.find(lines[5]) + 10;
  ASSERT_NE(text[at], ' ');
  text[at] = text[at] == 'Q' ? 'R' : 'Q';
  const fs::path typed = in.dir.path() / "typed-back.txt";
  {
    std::ofstream f(typed, std::ios::binary);
    f << text;
  }
  auto r = restore({share(1), typed, share(5)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("share in " + typed.string() +
                       " does not check out: a character was mistyped or the text is damaged"),
            std::string::npos)
      << r.err;
  for (const auto& line : lines) EXPECT_EQ(r.err.find(line.substr(0, 9)), std::string::npos);
  EXPECT_FALSE(fs::exists(restored));
}

TEST_F(KeysBackup, NumbersOutOfRangeAndAUsedDirectoryAreRefused) {
  const fs::path other = in.dir.path() / "other-shares";
  for (const auto& [n, k] : std::vector<std::pair<std::string, std::string>>{
           {"5", "5"}, {"5", "1"}, {"17", "3"}, {"2", "1"}, {"4", "6"}}) {
    auto r = run_rempart({"keys", "backup", "--keys", in.keys.string(), "--shares", n, "--threshold", k, "--out",
                          other.string()});
    EXPECT_EQ(r.exit_code, 2) << n << "/" << k << ": " << r.err;
    EXPECT_NE(r.err.find("nothing written"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(other));
  }
  // The directory of an earlier backup: its files are never overwritten.
  const std::string before = read_file(share(1));
  auto r = run_rempart({"keys", "backup", "--keys", in.keys.string(), "--shares", "5", "--threshold", "3", "--out",
                        out.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not empty"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(share(1)), before);
  // An empty directory is used as it is.
  fs::create_directory(other);
  auto ok = run_rempart({"keys", "backup", "--keys", in.keys.string(), "--shares", "3", "--threshold", "2", "--out",
                         other.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(other / "share-3-of-3.txt"));
}

}  // namespace
}  // namespace rempart::test
