#pragma once
// Test-only helpers shared by the audit tests: a real keyring, a real SQLite
// file in a temp dir, and a second raw connection (no authorizer) that plays
// the intruder with full database access.
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "audit/chain.hpp"
#include "crypto/keyring.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/test_support.hpp"

namespace rempart::audit::test {

// Test-only: runs a fixed literal (one or more statements) on a raw handle,
// as an intruder with the file would; returns the first failing code.
inline int run_statements(sqlite3* h, const char* sql) {
  while (sql != nullptr && *sql != '\0') {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(h, sql, -1, &stmt, &tail);
    if (rc != SQLITE_OK) return rc;
    if (stmt != nullptr) {
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
      sqlite3_finalize(stmt);
      if (rc != SQLITE_DONE) return rc;
    }
    sql = tail;
  }
  return SQLITE_OK;
}

class AuditFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = crypto::KeeperKeyring::generate();
    ASSERT_TRUE(k.has_value());
    keys_.emplace(std::move(*k));
    auto s = store::open_sqlite_keeper(db());
    ASSERT_TRUE(s.has_value()) << s.error().internal;
    store_ = std::move(*s);
  }

  std::filesystem::path db() const { return dir_.file("rempart.db"); }

  // Appends `n` entries of `actor` in one transaction; returns the last seq.
  std::int64_t append(int n, const std::string& act = "supporter.create", const std::string& actor = "keeper",
                      std::int64_t at = 1'700'000'000'000'000) {
    std::int64_t last = 0;
    auto r = store_->transact([&](store::KeeperTx& tx) -> Result<void> {
      auto a = Appender::begin(tx, *keys_);
      if (!a) return std::unexpected(a.error());
      for (int i = 0; i < n; ++i) {
        Event e{actor, act, "0011223344556677", {{"n", i}, {"via", "test"}}, ""};
        auto s = a->append(e, at + i);
        if (!s) return std::unexpected(s.error());
        last = *s;
      }
      return {};
    });
    EXPECT_TRUE(r.has_value()) << r.error().internal;
    return last;
  }

  // Runs fixed statements as an intruder would: straight on the file.
  void tamper(const char* sql) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
    const int rc = run_statements(h, sql);
    const std::string msg = sqlite3_errmsg(h);
    sqlite3_close(h);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }

  store::test_support::TempDir dir_;
  std::optional<crypto::KeeperKeyring> keys_;
  std::unique_ptr<store::KeeperStore> store_;
};

}  // namespace rempart::audit::test
