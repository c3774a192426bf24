#include "audit/checkpoint.hpp"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "audit/test_support.hpp"

namespace rempart::audit {
namespace {

using test::AuditFixture;

TEST_F(AuditFixture, CheckpointLineRoundTripsAndVerifies) {
  const store::Bytes head(32, 0xab);
  auto signer = crypto::AuditSigner::current(*keys_);
  ASSERT_TRUE(signer.has_value());
  auto c = sign_checkpoint(*signer, 42, head, 1'700'000'000'123'456);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(checkpoint_valid(*keys_, *c));
  const auto line = format_checkpoint(*c);
  auto back = parse_checkpoint(line);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *c);
  for (auto edit : {+[](Checkpoint& x) { x.seq += 1; }, +[](Checkpoint& x) { x.head_hash[5] ^= 1; },
                    +[](Checkpoint& x) { x.at += 1; }}) {
    Checkpoint bad = *c;
    edit(bad);
    EXPECT_FALSE(checkpoint_valid(*keys_, bad));
  }
  Checkpoint other_version = *c;
  other_version.key_version = 9;
  EXPECT_FALSE(checkpoint_valid(*keys_, other_version));
  // Another keyring's signing key does not verify.
  auto stranger = crypto::KeeperKeyring::generate();
  ASSERT_TRUE(stranger.has_value());
  EXPECT_FALSE(checkpoint_valid(*stranger, *c));
}

TEST(CheckpointLine, RefusesMalformedLines) {
  for (const char* line : {"", "rempart-audit-checkpoint v1", "rempart-audit-checkpoint v1 seq=1 head=00 at=1 key=1 sig=00",
                           "rempart-audit-checkpoint v2 seq=1", "garbage"}) {
    EXPECT_FALSE(parse_checkpoint(line).has_value()) << line;
  }
}

TEST_F(AuditFixture, CheckpointerSignsEveryNEntriesAndPublishesToTheFile) {
  const auto file = dir_.file("outside.checkpoints");
  std::vector<std::unique_ptr<CheckpointSink>> sinks;
  sinks.push_back(std::make_unique<FileCheckpointSink>(file));
  Checkpointer cp(*keys_, *store_, CheckpointPolicy{10, 3600}, std::move(sinks));
  const std::int64_t t0 = 1'700'000'000'000'000;
  // Nothing logged yet: nothing to sign.
  auto none = cp.maybe(t0);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  append(3);
  auto first = cp.maybe(t0);  // the first checkpoint is always due
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->seq, 3);
  append(5);
  auto early = cp.maybe(t0 + 1);
  ASSERT_TRUE(early);
  EXPECT_FALSE(early->has_value()) << "5 < 10 entries and less than an hour";
  append(5);
  auto due = cp.maybe(t0 + 2);
  ASSERT_TRUE(due && *due);
  EXPECT_EQ((*due)->seq, 13);
  append(1);
  auto later = cp.maybe(t0 + 3601LL * 1'000'000);
  ASSERT_TRUE(later && *later) << "an hour later one uncovered entry is enough";
  EXPECT_EQ((*later)->seq, 14);
  auto forced = cp.force(t0 + 3602LL * 1'000'000);
  ASSERT_TRUE(forced);
  EXPECT_FALSE(forced->has_value()) << "nothing uncovered";

  auto in_file = read_checkpoint_file(file);
  ASSERT_TRUE(in_file.has_value());
  ASSERT_EQ(in_file->size(), 3u);
  EXPECT_EQ((*in_file)[2].seq, 14);
  auto in_db = store_->audit_checkpoints();
  ASSERT_TRUE(in_db.has_value());
  EXPECT_EQ(*in_db, *in_file);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST_F(AuditFixture, UnpublishedCheckpointIsRetried) {
  const auto dir = dir_.file("sub");
  const auto file = dir / "outside.checkpoints";  // its directory is missing at first
  std::vector<std::unique_ptr<CheckpointSink>> sinks;
  sinks.push_back(std::make_unique<FileCheckpointSink>(file));
  Checkpointer cp(*keys_, *store_, CheckpointPolicy{}, std::move(sinks));
  append(2);
  auto r = cp.force(1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_EQ(cp.unpublished(), 1u);
  std::filesystem::create_directory(dir);
  ASSERT_TRUE(cp.maybe(2).has_value());
  EXPECT_EQ(cp.unpublished(), 0u);
  auto in_file = read_checkpoint_file(file);
  ASSERT_TRUE(in_file.has_value());
  ASSERT_EQ(in_file->size(), 1u);
  EXPECT_EQ((*in_file)[0].seq, 2);
}

TEST(CheckpointFile, NamesTheMalformedLine) {
  store::test_support::TempDir dir;
  const auto file = dir.file("c");
  {
    std::ofstream out(file);
    out << "\nnot a checkpoint\n";
  }
  auto r = read_checkpoint_file(file);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().internal.find("line 2"), std::string::npos) << r.error().internal;
  EXPECT_EQ(read_checkpoint_file(dir.file("missing")).error().code, Errc::not_found);
}

}  // namespace
}  // namespace rempart::audit
