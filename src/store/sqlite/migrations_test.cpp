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
    auto in = open_sqlite_intake(file_);
    ASSERT_TRUE(in.has_value()) << in.error().internal;
  }
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

}  // namespace
}  // namespace rempart::store::sqlite
