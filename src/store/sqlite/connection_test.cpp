#include "store/sqlite/connection.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "store/test_support.hpp"

namespace rempart::store::sqlite {
namespace {

using test_support::TempDir;

// Test-only statements on a scratch table.
constexpr std::string_view kScratchSchema =
    "CREATE TABLE scratch (k BLOB NOT NULL UNIQUE, v BLOB NOT NULL, n INTEGER, t TEXT) STRICT;";
constexpr Sql kInsertScratch{"kInsertScratch", "INSERT INTO scratch (k, v, n, t) VALUES (?1, ?2, ?3, ?4)"};
constexpr Sql kSelectScratch{"kSelectScratch", "SELECT k, v, n, t FROM scratch ORDER BY k"};
constexpr Sql kBroken{"kBroken", "SELEC nothing"};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(file_).close();
    auto c = Connection::open(file_);
    ASSERT_TRUE(c.has_value()) << c.error().internal;
    conn_.emplace(std::move(*c));
    ASSERT_TRUE(configure(*conn_).has_value());
    ASSERT_TRUE(conn_->exec_script("scratch", kScratchSchema).has_value());
  }

  TempDir dir_;
  std::filesystem::path file_ = dir_.file("c.db");
  std::optional<Connection> conn_;
};

TEST_F(ConnectionTest, BindsAndReadsBack) {
  const std::vector<std::uint8_t> k{0, 1, 2, 0, 255};
  {
    auto q = conn_->query(kInsertScratch);
    ASSERT_TRUE(q.has_value());
    q->bind_blob(1, k).bind_blob(2, std::vector<std::uint8_t>{}).bind_optional_int(3, std::nullopt).bind_text(4, "tag");
    ASSERT_TRUE(q->run().has_value());
    EXPECT_EQ(q->changes(), 1);
  }
  auto q = conn_->query(kSelectScratch);
  ASSERT_TRUE(q.has_value());
  auto row = q->step();
  ASSERT_TRUE(row.has_value());
  ASSERT_TRUE(*row);
  EXPECT_EQ(q->blob(0), k);
  // An empty blob is stored as a zero-length blob, which NOT NULL accepts.
  EXPECT_FALSE(q->is_null(1));
  EXPECT_TRUE(q->blob(1).empty());
  EXPECT_EQ(q->optional_int(2), std::nullopt);
  EXPECT_EQ(q->optional_blob(2), std::nullopt);
  EXPECT_EQ(q->text(3), "tag");
  EXPECT_FALSE(*q->step());
}

TEST_F(ConnectionTest, ConstraintErrorsAreMappedWithoutValues) {
  const std::vector<std::uint8_t> k{'s', 'e', 'c', 'r', 'e', 't'};
  for (int i = 0; i < 2; ++i) {
    auto q = conn_->query(kInsertScratch);
    ASSERT_TRUE(q.has_value());
    q->bind_blob(1, k).bind_blob(2, k).bind_int(3, 1).bind_text(4, "secret");
    auto r = q->run();
    if (i == 0) {
      ASSERT_TRUE(r.has_value());
    } else {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().code, Errc::conflict);
      EXPECT_NE(r.error().internal.find("kInsertScratch"), std::string::npos);
      EXPECT_EQ(r.error().internal.find("secret"), std::string::npos);
      EXPECT_EQ(r.error().internal.find("scratch.k"), std::string::npos);
    }
  }
  auto q = conn_->query(kInsertScratch);
  ASSERT_TRUE(q.has_value());
  q->bind_blob(1, std::vector<std::uint8_t>{9}).bind_null(2);
  auto r = q->run();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_input);  // NOT NULL
}

TEST_F(ConnectionTest, PrepareErrorNamesTheConstantNotTheText) {
  auto q = conn_->query(kBroken);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().code, Errc::storage);
  EXPECT_NE(q.error().internal.find("kBroken"), std::string::npos);
  EXPECT_EQ(q.error().internal.find("SELEC"), std::string::npos);
}

TEST_F(ConnectionTest, AStatementIsBorrowedOnceAtATime) {
  auto first = conn_->query(kSelectScratch);
  ASSERT_TRUE(first.has_value());
  auto second = conn_->query(kSelectScratch);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, Errc::internal);
  first = std::unexpected(Error{});  // returns the statement
  EXPECT_TRUE(conn_->query(kSelectScratch).has_value());
}

TEST_F(ConnectionTest, ConfigureSetsThePragmas) {
  constexpr Sql kJournal{"kJournal", "PRAGMA journal_mode"};
  constexpr Sql kSecureDelete{"kSecureDelete", "PRAGMA secure_delete"};
  constexpr Sql kCacheSize{"kCacheSize", "PRAGMA cache_size"};
  constexpr Sql kAutocheckpoint{"kAutocheckpoint", "PRAGMA wal_autocheckpoint"};
  for (auto [sql, want] : {std::pair{&kJournal, "wal"}, std::pair{&kSecureDelete, "1"},
                           std::pair{&kCacheSize, "-16384"}, std::pair{&kAutocheckpoint, "8000"}}) {
    auto q = conn_->query(*sql);
    ASSERT_TRUE(q.has_value());
    ASSERT_TRUE(*q->step());
    EXPECT_EQ(q->text(0), want);
  }
}

TEST_F(ConnectionTest, AttachIsImpossible) {
  auto r = conn_->exec_script("attach", "ATTACH DATABASE ':memory:' AS other;");
  ASSERT_FALSE(r.has_value());
}

TEST_F(ConnectionTest, RollbackIfOpenEndsTheTransaction) {
  ASSERT_TRUE(conn_->exec(sql::kBeginImmediate).has_value());
  EXPECT_TRUE(conn_->in_transaction());
  conn_->rollback_if_open();
  EXPECT_FALSE(conn_->in_transaction());
  conn_->rollback_if_open();  // harmless when none is open
}

TEST(ConnectionOpen, NeverCreatesTheFile) {
  TempDir dir;
  const auto file = dir.file("absent.db");
  auto c = Connection::open(file);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::storage);
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(SqliteError, MapsCodes) {
  EXPECT_EQ(sqlite_error(SQLITE_CONSTRAINT_UNIQUE, "step", "k").code, Errc::conflict);
  EXPECT_EQ(sqlite_error(SQLITE_CONSTRAINT_PRIMARYKEY, "step", "k").code, Errc::conflict);
  EXPECT_EQ(sqlite_error(SQLITE_CONSTRAINT_FOREIGNKEY, "step", "k").code, Errc::invalid_input);
  EXPECT_EQ(sqlite_error(SQLITE_CONSTRAINT_NOTNULL, "step", "k").code, Errc::invalid_input);
  EXPECT_EQ(sqlite_error(SQLITE_BUSY, "step", "k").code, Errc::busy);
  EXPECT_EQ(sqlite_error(SQLITE_BUSY_SNAPSHOT, "step", "k").code, Errc::busy);
  EXPECT_EQ(sqlite_error(SQLITE_AUTH, "prepare", "k").code, Errc::permission);
  EXPECT_EQ(sqlite_error(SQLITE_IOERR_FSYNC, "step", "k").code, Errc::storage);
  EXPECT_EQ(sqlite_error(SQLITE_FULL, "step", "kName").internal.find("kName") != std::string::npos, true);
}

}  // namespace
}  // namespace rempart::store::sqlite
