#include "store/sqlite/migrations.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"
#include "store/test_support.hpp"

namespace rempart::store::sqlite {
namespace {

using test_support::TempDir;

constexpr Sql kCountMigrations{"kCountMigrations", "SELECT count(*) FROM schema_migrations"};
constexpr Sql kCountTables{
    "kCountTables",
    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
    " ('intake_batches', 'inbox', 'supporters', 'supporter_tags', 'schema_migrations')"};
constexpr Sql kHasTableA{"kHasTableA", "SELECT count(*) FROM sqlite_schema WHERE name = 'a'"};
constexpr Sql kFutureVersion{
    "kFutureVersion", "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future.sql', 0)"};

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(file_).close();
    std::filesystem::permissions(file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto c = Connection::open(file_);
    ASSERT_TRUE(c.has_value()) << c.error().internal;
    conn_.emplace(std::move(*c));
    ASSERT_TRUE(configure(*conn_).has_value());
  }

  std::int64_t scalar(const Sql& s) {
    auto q = conn_->query(s);
    EXPECT_TRUE(q.has_value());
    if (!q) return -1;
    auto row = q->step();
    EXPECT_TRUE(row.has_value() && *row);
    return q->int64(0);
  }

  TempDir dir_;
  std::filesystem::path file_ = dir_.file("m.db");
  std::optional<Connection> conn_;
};

TEST(EmbeddedMigrations, AreNumberedFromOne) {
  const auto all = embedded_migrations();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(all[i].sql.empty());
  }
  EXPECT_EQ(all[0].name, "0001_init.sql");
}

TEST_F(MigrationsTest, FreshDatabaseGetsEveryMigration) {
  EXPECT_EQ(*schema_version(*conn_), 0);
  ASSERT_TRUE(apply_migrations(*conn_, embedded_migrations(), 42).has_value());
  const auto n = static_cast<int>(embedded_migrations().size());
  EXPECT_EQ(*schema_version(*conn_), n);
  EXPECT_EQ(scalar(kCountMigrations), n);
  EXPECT_EQ(scalar(kCountTables), 5);
}

TEST_F(MigrationsTest, ApplyingAgainChangesNothing) {
  ASSERT_TRUE(apply_migrations(*conn_, embedded_migrations(), 1).has_value());
  ASSERT_TRUE(apply_migrations(*conn_, embedded_migrations(), 2).has_value());
  EXPECT_EQ(scalar(kCountMigrations), static_cast<std::int64_t>(embedded_migrations().size()));
  // Stores opened on it migrate nothing more and work.
  conn_.reset();
  for (int i = 0; i < 2; ++i) {
    auto k = open_sqlite_keeper(file_);
    ASSERT_TRUE(k.has_value()) << k.error().internal;
  }
}

// The inbox file has a schema of its own: only what the intake writes.
TEST_F(MigrationsTest, TheInboxFileGetsItsOwnMigrations) {
  const auto inbox = file_.parent_path() / "inbox.db";
  {
    auto in = open_sqlite_intake(inbox);
    ASSERT_TRUE(in.has_value()) << in.error().internal;
  }
  auto conn = Connection::open(inbox);
  ASSERT_TRUE(conn.has_value());
  EXPECT_EQ(*schema_version(*conn), static_cast<int>(embedded_inbox_migrations().size()));
  auto first = open_sqlite_inbox(inbox);
  ASSERT_TRUE(first.has_value()) << first.error().internal;
  first->reset();
  auto again = open_sqlite_inbox(inbox);  // migrates nothing more
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*schema_version(*conn), static_cast<int>(embedded_inbox_migrations().size()));
}

TEST_F(MigrationsTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(apply_migrations(*conn_, embedded_migrations(), 1).has_value());
  {
    auto q = conn_->query(kFutureVersion);
    ASSERT_TRUE(q.has_value());
    q->bind_int(1, static_cast<std::int64_t>(embedded_migrations().size()) + 1);
    ASSERT_TRUE(q->run().has_value());
  }
  auto r = apply_migrations(*conn_, embedded_migrations(), 3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::config);
  EXPECT_FALSE(conn_->in_transaction());
  auto k = open_sqlite_keeper(file_);
  ASSERT_FALSE(k.has_value());
  EXPECT_EQ(k.error().code, Errc::config);
}

TEST_F(MigrationsTest, AFailingMigrationLeavesNothing) {
  const Migration broken[] = {
      {1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"},
      {2, "0002_b.sql", "CREATE TABLE b (x INTEGER); THIS IS NOT SQL;"},
  };
  auto r = apply_migrations(*conn_, broken, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().internal.find("0002_b.sql"), std::string::npos);
  EXPECT_EQ(r.error().internal.find("NOT SQL"), std::string::npos);
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(scalar(kHasTableA), 0);
  EXPECT_EQ(*schema_version(*conn_), 0);
}

TEST_F(MigrationsTest, GapsInNumberingAreRefused) {
  const Migration gap[] = {{1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"}, {3, "0003_c.sql", "SELECT 1;"}};
  auto r = apply_migrations(*conn_, gap, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::internal);
  EXPECT_EQ(scalar(kHasTableA), 0);
}

TEST_F(MigrationsTest, LaterMigrationsApplyOnTopOfEarlierOnes) {
  const Migration v1[] = {{1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"}};
  const Migration v2[] = {{1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"},
                          {2, "0002_b.sql", "ALTER TABLE a ADD COLUMN y INTEGER;"}};
  ASSERT_TRUE(apply_migrations(*conn_, v1, 1).has_value());
  EXPECT_EQ(*schema_version(*conn_), 1);
  ASSERT_TRUE(apply_migrations(*conn_, v2, 2).has_value());  // would fail if 0001 ran twice
  EXPECT_EQ(*schema_version(*conn_), 2);
}


// 0007 rebuilds the inbox without the unique index on item_uid: the rows
// waiting to be folded survive it, and the AUTOINCREMENT high-water mark is
// kept, so an id handed out before the upgrade is never handed out again.
constexpr Sql kSeedInbox{
    "kSeedInbox",
    "INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at) VALUES (x'b1', 1, x'e1', 1);"
    "INSERT INTO inbox (id, batch_uid, item_uid, wrapped_key, fields, received_at)"
    " VALUES (40, x'b1', x'0101', x'aa', x'bb', 7), (41, x'b1', x'0202', x'cc', x'dd', 8);"
    "UPDATE sqlite_sequence SET seq = 90 WHERE name = 'inbox';"};
constexpr Sql kInboxDigest{"kInboxDigest",
                           "SELECT group_concat(id || ':' || hex(item_uid) || ':' || hex(fields) || ':' || received_at, ',')"
                           " FROM (SELECT * FROM inbox ORDER BY id)"};
constexpr Sql kInboxSeq{"kInboxSeq", "SELECT seq FROM sqlite_sequence WHERE name = 'inbox'"};
constexpr Sql kInboxUniqueIndexes{
    "kInboxUniqueIndexes",
    "SELECT count(*) FROM pragma_index_list('inbox') WHERE \"unique\" = 1"};
constexpr Sql kRepeatUid{
    "kRepeatUid",
    "INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at) VALUES (x'b1', x'0101', x'', x'', 9)"};
constexpr Sql kLastId{"kLastId", "SELECT max(id) FROM inbox"};

TEST_F(MigrationsTest, InboxRebuildKeepsItemsAndTheIdHighWaterMark) {
  const auto all = embedded_migrations();
  ASSERT_GE(all.size(), 7u);
  ASSERT_EQ(all[6].name, "0007_inbox_item_uid.sql");
  ASSERT_TRUE(apply_migrations(*conn_, all.first(6), 1).has_value());
  ASSERT_TRUE(conn_->exec_script(kSeedInbox.name, kSeedInbox.text).has_value());
  EXPECT_EQ(scalar(kInboxUniqueIndexes), 1);
  EXPECT_EQ(scalar(kInboxSeq), 90);

  ASSERT_TRUE(apply_migrations(*conn_, all, 2).has_value());
  EXPECT_EQ(*schema_version(*conn_), static_cast<std::int64_t>(all.size()));
  {
    auto q = conn_->query(kInboxDigest);
    ASSERT_TRUE(q.has_value());
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->text(0), "40:0101:BB:7,41:0202:DD:8");
  }
  EXPECT_EQ(scalar(kInboxSeq), 90);
  EXPECT_EQ(scalar(kInboxUniqueIndexes), 0);
  ASSERT_TRUE(conn_->exec(kRepeatUid).has_value());
  EXPECT_EQ(scalar(kLastId), 91);  // after the old high-water mark, not after 41
}

}  // namespace
}  // namespace rempart::store::sqlite
