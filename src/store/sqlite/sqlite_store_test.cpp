#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/connection.hpp"
#include "store/store_contract.hpp"
#include "store/test_support.hpp"

namespace rempart::store::test_support {
namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The sqlite backend on a directory of its own, removed with it.
class SqliteDatabase final : public Backend {
 public:
  SqliteDatabase() : backend_(std::move(open_sqlite_backend(dir_.path()).value())) {}
  Result<std::unique_ptr<IntakeStore>> open_intake() override { return backend_->open_intake(); }
  Result<std::unique_ptr<InboxStore>> open_inbox() override { return backend_->open_inbox(); }
  Result<std::unique_ptr<KeeperStore>> open_keeper(KeeperUse use, std::size_t* upgraded) override {
    return backend_->open_keeper(use, upgraded);
  }

 private:
  TempDir dir_;
  std::unique_ptr<Backend> backend_;
};

const BackendCase kSqlite{"Sqlite", [] { return std::make_unique<SqliteDatabase>(); }};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(kSqlite), backend_name);

namespace {

// Prepares `text` on `db` and returns SQLite's result code. The statements
// tests feed it are what an attacker would try to inject.
int try_prepare(sqlite3* db, const char* text) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db, text, -1, &stmt, nullptr);
  sqlite3_finalize(stmt);
  return rc;
}

// The single text value of a one-row query, run with the authorizer lifted.
std::string query_text(sqlite3* db, const char* text,
                       int (*restore)(void*, int, const char*, const char*, const char*, const char*) noexcept) {
  sqlite3_set_authorizer(db, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(db, text, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_set_authorizer(db, restore, nullptr);
  return out;
}

// Moves every WAL frame into the database file and truncates the WAL, so the
// database file shows what a copy of it would hold.
void checkpoint(const std::filesystem::path& db) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(raw, 5000);
  // A connection opens the WAL lazily, on its first read; before that it
  // would report success without checkpointing anything.
  ASSERT_EQ(sqlite3_exec(raw, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr), SQLITE_OK);
  int log = -1;
  int done = -1;
  EXPECT_EQ(sqlite3_wal_checkpoint_v2(raw, "main", SQLITE_CHECKPOINT_TRUNCATE, &log, &done), SQLITE_OK);
  EXPECT_GE(log, 0);  // -1 would mean the WAL was not seen
  EXPECT_EQ(log, done);
  sqlite3_close(raw);
}

class SqliteStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto in = open_sqlite_intake(inbox_file_);
    ASSERT_TRUE(in.has_value()) << in.error().internal;
    intake_ = std::move(*in);
    auto ib = open_sqlite_inbox(inbox_file_);
    ASSERT_TRUE(ib.has_value()) << ib.error().internal;
    inbox_ = std::move(*ib);
    auto kp = open_sqlite_keeper(file_);
    ASSERT_TRUE(kp.has_value()) << kp.error().internal;
    keeper_ = std::move(*kp);
  }

  void add_supporter(const std::string& id, const std::string& email_index) {
    SupporterRow s;
    s.id = bytes(id);
    s.wrapped_key = bytes("wk");
    s.fields = bytes("fields");
    s.email_index = bytes(email_index);
    ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_supporter(s); }).has_value());
  }

  TempDir dir_;
  std::filesystem::path file_ = dir_.file("rempart.db");
  std::filesystem::path inbox_file_ = dir_.file("inbox.db");
  std::unique_ptr<IntakeStore> intake_;
  std::unique_ptr<InboxStore> inbox_;
  std::unique_ptr<KeeperStore> keeper_;
};

TEST_F(SqliteStore, FilesAreCreatedPrivate) {
  for (const auto& file : {file_, inbox_file_}) {
    SCOPED_TRACE(file.filename().string());
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  // The WAL exists while stores are open and inherits the mode.
  const std::vector<BatchRow> b{BatchRow{bytes("b"), 1, bytes("k"), 1}};
  ASSERT_TRUE(intake_->append(b, {}).has_value());
  const auto wal = std::filesystem::path(inbox_file_.string() + "-wal");
  struct stat st {};
  ASSERT_EQ(::stat(wal.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// The intake's file holds the inbox and nothing of the records; the
// records' file is never touched by it.
TEST_F(SqliteStore, TheIntakesFileHoldsOnlyTheInbox) {
  sqlite3* in = sqlite::test_hooks::raw_handle(*intake_);
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(query_text(in,
                       "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table'"
                       " AND name NOT LIKE 'sqlite_%' ORDER BY name)",
                       &sqlite::intake_authorizer),
            "inbox,inbox_file,intake_batches,schema_migrations");
  // The keeper's inbox connection reads and deletes, and writes nothing else.
  sqlite3* ib = sqlite::test_hooks::raw_handle(*inbox_);
  ASSERT_NE(ib, nullptr);
  EXPECT_EQ(try_prepare(ib, "SELECT count(*) FROM inbox"), SQLITE_OK);
  EXPECT_EQ(try_prepare(ib, "DELETE FROM inbox WHERE id = 1"), SQLITE_OK);
  for (const char* sql : {"INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at)"
                          " VALUES (x'00', x'00', x'00', x'00', 1)",
                          "UPDATE inbox SET fields = x'00'", "UPDATE inbox_file SET uid = randomblob(16)",
                          "DELETE FROM inbox_file", "DROP TABLE inbox", "PRAGMA writable_schema = 1",
                          "ATTACH 'x.db' AS x", "DELETE FROM schema_migrations"}) {
    EXPECT_EQ(try_prepare(ib, sql), SQLITE_AUTH) << sql;
  }
}

TEST(SqliteStoreOpen, RefusesAFileOthersCanRead) {
  using std::filesystem::perms;
  TempDir dir;
  const auto file = dir.file("shared.db");
  std::ofstream(file).close();
  std::filesystem::permissions(file, perms::owner_read | perms::owner_write | perms::others_read);
  auto intake = open_sqlite_intake(file);
  ASSERT_FALSE(intake.has_value());
  EXPECT_EQ(intake.error().code, Errc::permission);
  auto keeper = open_sqlite_keeper(file);
  ASSERT_FALSE(keeper.has_value());
  EXPECT_EQ(keeper.error().code, Errc::permission);
  auto inbox = open_sqlite_inbox(file);
  ASSERT_FALSE(inbox.has_value());
  EXPECT_EQ(inbox.error().code, Errc::permission);
}

// The intake and the keeper may run as two users sharing the inbox file
// through a group (the Debian package); the records' file stays its
// owner's only, and group execute on the inbox is refused too.
TEST(SqliteStoreOpen, OnlyTheInboxMayBeSharedWithItsGroup) {
  using std::filesystem::perms;
  TempDir dir;
  const auto shared = perms::owner_read | perms::owner_write | perms::group_read | perms::group_write;
  const auto records = dir.file("records.db");
  std::ofstream(records).close();
  std::filesystem::permissions(records, shared);
  auto keeper = open_sqlite_keeper(records);
  ASSERT_FALSE(keeper.has_value());
  EXPECT_EQ(keeper.error().code, Errc::permission);

  const auto inbox_file = dir.file("inbox.db");
  std::ofstream(inbox_file).close();
  std::filesystem::permissions(inbox_file, shared);
  auto intake = open_sqlite_intake(inbox_file);
  ASSERT_TRUE(intake.has_value()) << intake.error().internal;
  auto inbox = open_sqlite_inbox(inbox_file);
  ASSERT_TRUE(inbox.has_value()) << inbox.error().internal;
  const std::vector<BatchRow> b{BatchRow{bytes("b"), 1, bytes("k"), 1}};
  const std::vector<InboxRow> items{InboxRow{0, bytes("b"), bytes("i"), bytes("w"), bytes("f"), 1}};
  ASSERT_TRUE((*intake)->append(b, items).has_value());
  EXPECT_EQ(*(*inbox)->count(), 1);

  const auto odd = dir.file("odd.db");
  std::ofstream(odd).close();
  std::filesystem::permissions(odd, shared | perms::group_exec);
  auto refused = open_sqlite_intake(odd);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Errc::permission);
}

// The intake writer and the keeper may start at the same moment on an inbox
// file that does not exist yet: both create, migrate and switch it to WAL.
TEST(SqliteStoreOpen, BothRolesOpeningAFreshFileAtOnce) {
  for (int round = 0; round < 3; ++round) {
    TempDir dir;
    const auto file = dir.file("fresh.db");
    Result<std::unique_ptr<IntakeStore>> intake = fail(Errc::internal, "not run");
    std::thread t([&] { intake = open_sqlite_intake(file); });
    auto keeper = open_sqlite_inbox(file);
    t.join();
    ASSERT_TRUE(intake.has_value()) << intake.error().internal;
    ASSERT_TRUE(keeper.has_value()) << keeper.error().internal;
    const std::vector<BatchRow> b{BatchRow{bytes("b"), 1, bytes("k"), 1}};
    const std::vector<InboxRow> items{InboxRow{0, bytes("b"), bytes("i"), bytes("w"), bytes("f"), 1}};
    ASSERT_TRUE((*intake)->append(b, items).has_value());
    EXPECT_EQ(*(*keeper)->count(), 1);
  }
}

TEST(SqliteStoreOpen, MissingDirectoryIsAnIoError) {
  TempDir dir;
  auto intake = open_sqlite_intake(dir.path() / "absent" / "rempart.db");
  ASSERT_FALSE(intake.has_value());
  EXPECT_EQ(intake.error().code, Errc::io);
}

TEST_F(SqliteStore, PragmasAreInForceOnEveryConnection) {
  using sqlite::intake_authorizer;
  using sqlite::keeper_authorizer;
  sqlite3* in = sqlite::test_hooks::raw_handle(*intake_);
  sqlite3* kp = sqlite::test_hooks::raw_handle(*keeper_);
  sqlite3* ib = sqlite::test_hooks::raw_handle(*inbox_);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(kp, nullptr);
  ASSERT_NE(ib, nullptr);
  for (auto [db, auth] : {std::pair{in, &intake_authorizer}, std::pair{kp, &keeper_authorizer},
                          std::pair{ib, &sqlite::inbox_keeper_authorizer}}) {
    EXPECT_EQ(query_text(db, "PRAGMA journal_mode", auth), "wal");
    EXPECT_EQ(query_text(db, "PRAGMA synchronous", auth), "2");  // FULL
    EXPECT_EQ(query_text(db, "PRAGMA secure_delete", auth), "1");
    EXPECT_EQ(query_text(db, "PRAGMA foreign_keys", auth), "1");
    EXPECT_EQ(query_text(db, "PRAGMA trusted_schema", auth), "0");
  }
  EXPECT_EQ(query_text(kp, "PRAGMA cache_size", &keeper_authorizer), "-16384");
  EXPECT_EQ(query_text(ib, "PRAGMA cache_size", &sqlite::inbox_keeper_authorizer), "-2048");
  // Both files have SQLite's 4 KiB pages (16 KiB inbox pages wrote more
  // per sign-up for no clear gain: prepare_database).
  EXPECT_EQ(query_text(in, "PRAGMA page_size", &intake_authorizer), "4096");
  EXPECT_EQ(query_text(ib, "PRAGMA page_size", &sqlite::inbox_keeper_authorizer), "4096");
  EXPECT_EQ(query_text(kp, "PRAGMA page_size", &keeper_authorizer), "4096");
}

// After about 300 pages were committed to `file` (first `initial` bytes
// long) by a store whose checkpoints run on its own thread past
// `threshold` WAL pages: with a threshold of 16 that thread has copied them
// into the file; with a huge one nothing was asked or copied.
template <class Store>
void expect_background_checkpoints(Store& store, const std::filesystem::path& file,
                                   std::uintmax_t initial, int threshold) {
  if (threshold == 16) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (sqlite::test_hooks::checkpoints(store).completed == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto stats = sqlite::test_hooks::checkpoints(store);
    EXPECT_GE(stats.requested, 1u);
    EXPECT_GE(stats.completed, 1u);
    EXPECT_GT(std::filesystem::file_size(file), initial + 100 * 4096);  // the pages reached the file
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto stats = sqlite::test_hooks::checkpoints(store);
    EXPECT_EQ(stats.requested, 0u);
    EXPECT_EQ(stats.completed, 0u);
    EXPECT_EQ(std::filesystem::file_size(file), initial);  // everything is still in the WAL
  }
}

// The intake's group commits never checkpoint the WAL themselves (a
// checkpoint inside a commit stalled every sign-up of the group): past the
// threshold, the store's own thread copies the WAL into the database file.
TEST(SqliteIntakeCheckpoints, RunOnTheStoresOwnThreadPastTheThreshold) {
  for (const int threshold : {16, 1 << 30}) {
    SCOPED_TRACE(threshold);
    TempDir dir;
    const auto file = dir.file("rempart.db");
    auto in = open_sqlite_intake(file, threshold);
    ASSERT_TRUE(in.has_value()) << in.error().internal;
    const auto initial = std::filesystem::file_size(file);
    // About 300 pages of 4 KiB in 30 group commits.
    const Bytes fields(4000, 0x5a);
    for (int g = 0; g < 30; ++g) {
      const std::string b = "batch-" + std::to_string(g);
      const std::vector<BatchRow> batches{BatchRow{bytes(b), 1, bytes("k"), 1}};
      std::vector<InboxRow> items;
      for (int i = 0; i < 10; ++i) {
        items.push_back(InboxRow{0, bytes(b), bytes(b + "-" + std::to_string(i)), bytes("w"), fields, 1});
      }
      ASSERT_TRUE((*in)->append(batches, items).has_value());
    }
    expect_background_checkpoints(**in, file, initial, threshold);
    in->reset();  // closes the connection, then stops the thread
  }
}

// An import's store (open_sqlite_keeper_writer) hands its checkpoints to a
// thread of its own too; a plain keeper store checkpoints inside its own
// commits, as SQLite does.
TEST(SqliteKeeperWriterCheckpoints, RunOnTheStoresOwnThreadPastTheThreshold) {
  for (const int threshold : {16, 1 << 30}) {
    SCOPED_TRACE(threshold);
    TempDir dir;
    const auto file = dir.file("rempart.db");
    auto keeper = open_sqlite_keeper_writer(file, threshold);
    ASSERT_TRUE(keeper.has_value()) << keeper.error().internal;
    const auto initial = std::filesystem::file_size(file);
    // About 300 pages of 4 KiB in 30 commits.
    for (int c = 0; c < 30; ++c) {
      auto r = (*keeper)->transact([&](KeeperTx& tx) -> Result<void> {
        for (int i = 0; i < 10; ++i) {
          SupporterRow row;
          row.id = bytes("s-" + std::to_string(c) + "-" + std::to_string(i));
          row.wrapped_key = bytes("wk");
          row.fields = Bytes(4000, 0x5a);
          if (auto e = tx.insert_supporter(row); !e) return e;
        }
        return {};
      });
      ASSERT_TRUE(r.has_value()) << r.error().internal;
    }
    expect_background_checkpoints(**keeper, file, initial, threshold);
    keeper->reset();  // closes the connection, then stops the thread
  }
  TempDir dir;
  auto plain = open_sqlite_keeper(dir.file("rempart.db"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(sqlite::test_hooks::checkpoints(**plain).requested, 0u) << "no thread of its own";
}

TEST_F(SqliteStore, AWriterWaitsForTheLockInsteadOfFailing) {
  // The keeper deletes folded items from the inbox (here: another
  // connection holds the inbox file's write lock for a while); the intake's
  // append waits for it (busy handler) and then succeeds.
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open_v2(inbox_file_.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    holding = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  });
  while (!holding) std::this_thread::yield();
  const std::vector<BatchRow> b{BatchRow{bytes("wb"), 1, bytes("k"), 1}};
  const std::vector<InboxRow> items{InboxRow{0, bytes("wb"), bytes("wi"), bytes("w"), bytes("f"), 1}};
  auto appended = intake_->append(b, items);
  holder.join();
  ASSERT_TRUE(appended.has_value()) << appended.error().internal;
  EXPECT_EQ(*inbox_->count(), 1);
}

// A fold's transaction on the records' file takes no lock the intake needs:
// an append commits while the keeper holds the records' write lock.
TEST_F(SqliteStore, AnAppendDoesNotWaitForTheRecordsWriteLock) {
  std::atomic<bool> holding{false};
  std::atomic<bool> appended{false};
  bool released_by_append = false;
  std::thread holder([&] {
    auto r = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
      if (auto m = tx.forget_folded(std::vector<Bytes>{bytes("u")}); !m) return m;  // BEGIN IMMEDIATE took the write lock
      holding = true;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!appended && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      released_by_append = appended;
      return {};
    });
    EXPECT_TRUE(r.has_value());
  });
  while (!holding) std::this_thread::yield();
  const std::vector<BatchRow> b{BatchRow{bytes("wb"), 1, bytes("k"), 1}};
  const std::vector<InboxRow> items{InboxRow{0, bytes("wb"), bytes("wi"), bytes("w"), bytes("f"), 1}};
  auto r = intake_->append(b, items);
  appended = true;
  holder.join();
  ASSERT_TRUE(r.has_value()) << r.error().internal;
  EXPECT_TRUE(released_by_append) << "the append waited for the records' transaction";
  EXPECT_EQ(*inbox_->count(), 1);
}

// Inside a write transaction of the records' file, the keeper sees whether
// another connection of the process waits to write that file; a writer
// waiting for the inbox file's lock is not counted.
TEST_F(SqliteStore, AWriterSeesOthersWaitingForItsLock) {
  auto other = open_sqlite_keeper(file_);
  ASSERT_TRUE(other.has_value()) << other.error().internal;
  // The inbox file's write lock, held by a connection of its own.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(inbox_file_.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  bool alone_at_first = false;
  bool saw_the_records_writer = false;
  std::thread records_writer;
  std::thread inbox_writer;
  std::atomic<bool> appending{false};
  std::atomic<bool> appended{false};
  bool append_was_waiting = false;
  auto r = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    if (auto m = tx.forget_folded(std::vector<Bytes>{bytes("u")}); !m) return m;
    // An append waits for the inbox file's lock: not a writer of this file.
    inbox_writer = std::thread([&] {
      appending = true;
      const std::vector<BatchRow> b{BatchRow{bytes("wb"), 1, bytes("k"), 1}};
      const std::vector<InboxRow> items{InboxRow{0, bytes("wb"), bytes("wi"), bytes("w"), bytes("f"), 1}};
      EXPECT_TRUE(intake_->append(b, items).has_value());
      appended = true;
    });
    while (!appending) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // Still inside the append: its BEGIN IMMEDIATE waits for the inbox lock.
    append_was_waiting = !appended;
    alone_at_first = !tx.yield_requested();
    records_writer = std::thread([&] {
      auto w = (*other)->transact([](KeeperTx& t) -> Result<void> {
        auto n = t.add_to_counter("other", "writes", 0, 2);
        if (!n) return std::unexpected(n.error());
        return {};
      });
      EXPECT_TRUE(w.has_value());
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!tx.yield_requested() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    saw_the_records_writer = tx.yield_requested();
    return {};
  });
  ASSERT_TRUE(r.has_value()) << r.error().internal;
  records_writer.join();
  EXPECT_EQ(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  inbox_writer.join();
  EXPECT_TRUE(append_was_waiting);
  EXPECT_TRUE(alone_at_first) << "a writer of the inbox file was counted";
  EXPECT_TRUE(saw_the_records_writer);
  EXPECT_EQ(*keeper_->counter("other", "writes", 0), 2);  // the other writer went in after the commit
  auto idle = keeper_->transact([&](KeeperTx& tx) -> Result<void> {
    EXPECT_FALSE(tx.yield_requested());
    return {};
  });
  EXPECT_TRUE(idle.has_value());
}

TEST_F(SqliteStore, IntakeConnectionCannotReadOrChangeAnything) {
  add_supporter("s1", "e1");
  sqlite3* in = sqlite::test_hooks::raw_handle(*intake_);
  ASSERT_NE(in, nullptr);
  // On the inbox file's own tables: refused by the authorizer.
  const char* injected[] = {
      "SELECT fields FROM inbox",
      "SELECT * FROM intake_batches",
      "SELECT uid FROM inbox_file",
      "SELECT name FROM sqlite_schema",
      "SELECT 1",
      "SELECT uid FROM intake_batches",
      "INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at)"
      " VALUES ((SELECT uid FROM intake_batches LIMIT 1), x'01', x'00', x'00', 0)",
      // Exfiltration through an allowed INSERT: the sub-select is refused.
      "INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at)"
      " SELECT batch_uid, item_uid, wrapped_key, fields, 0 FROM inbox",
      "INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at)"
      " VALUES ((SELECT uid FROM inbox_file LIMIT 1), 1, x'00', 0)",
      "UPDATE inbox SET fields = x'00'",
      "UPDATE inbox_file SET uid = x'00'",
      "DELETE FROM inbox",
      "DELETE FROM intake_batches",
      "DROP TABLE inbox",
      "CREATE TABLE leak (x BLOB)",
      "CREATE TEMP TABLE leak (x BLOB)",
      "PRAGMA secure_delete=OFF",
      "PRAGMA table_info(inbox)",
      "ATTACH DATABASE ':memory:' AS other",
      "SAVEPOINT s",
  };
  for (const char* text : injected) EXPECT_EQ(try_prepare(in, text), SQLITE_AUTH) << text;
  // The records are in another file, which this connection cannot attach:
  // none of their tables is there to name.
  const char* records[] = {
      "SELECT * FROM supporters",
      "SELECT email_index FROM supporters",
      "SELECT tag FROM supporter_tags",
      "SELECT supporter_id FROM honeytokens",
      "SELECT count FROM guard_counters",
      "INSERT INTO honeytokens (supporter_id, planted_at, planted_by) VALUES (x'01', 0, 'x')",
      "DELETE FROM guard_counters",
      "INSERT INTO supporters (id, key_version, wrapped_key, fields, created_at, updated_at)"
      " VALUES (x'01', 1, x'00', x'00', 0, 0)",
      "UPDATE supporters SET fields = x'00'",
      "DELETE FROM supporters",
      "ATTACH DATABASE 'rempart.db' AS records",
  };
  for (const char* text : records) EXPECT_NE(try_prepare(in, text), SQLITE_OK) << text;

  // The first statements are not refused for lack of a table: the keeper's
  // inbox connection, which may read, prepares the reads.
  sqlite3* ib = sqlite::test_hooks::raw_handle(*inbox_);
  EXPECT_EQ(try_prepare(ib, "SELECT * FROM intake_batches"), SQLITE_OK);
  EXPECT_EQ(try_prepare(ib, "SELECT fields FROM inbox"), SQLITE_OK);

  // And the intake store still does its one job.
  const std::vector<BatchRow> b{BatchRow{bytes("b"), 1, bytes("k"), 1}};
  const std::vector<InboxRow> items{InboxRow{0, bytes("b"), bytes("i"), bytes("w"), bytes("f"), 1}};
  EXPECT_TRUE(intake_->append(b, items).has_value());
}

TEST_F(SqliteStore, KeeperConnectionCannotChangeSchemaOrSettings) {
  sqlite3* kp = sqlite::test_hooks::raw_handle(*keeper_);
  ASSERT_NE(kp, nullptr);
  const char* refused[] = {
      "DROP TABLE supporters",
      "CREATE TABLE leak (x BLOB)",
      "ALTER TABLE supporters ADD COLUMN leak BLOB",
      "PRAGMA secure_delete=OFF",
      "PRAGMA writable_schema=ON",
      "ATTACH DATABASE ':memory:' AS other",
      "DELETE FROM schema_migrations",
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'x', 0)",
      // A honeytoken mark is never moved to another record nor edited.
      "UPDATE honeytokens SET supporter_id = x'01'",
      "UPDATE honeytokens SET planted_by = 'x'",
      // The breach register is never shortened (GDPR article 33(5)).
      "DELETE FROM breach_register",
      "DELETE FROM breach_register WHERE id = 1",
  };
  for (const char* text : refused) EXPECT_EQ(try_prepare(kp, text), SQLITE_AUTH) << text;
  // It is brought up to date, though.
  EXPECT_EQ(try_prepare(kp, "UPDATE breach_register SET closed_at = 1 WHERE id = 1"), SQLITE_OK);
}

// The guard's statements pass the keeper's authorizer, and erasing a
// record (cascading to its honeytoken mark) is still possible.
TEST_F(SqliteStore, KeeperConnectionMayUseTheGuardTables) {
  sqlite3* kp = sqlite::test_hooks::raw_handle(*keeper_);
  ASSERT_NE(kp, nullptr);
  namespace sql = sqlite::sql;
  for (const sqlite::Sql* s : {&sql::kInsertHoneytoken, &sql::kSelectIsHoneytoken, &sql::kCountHoneytokens,
                               &sql::kAddToGuardCounter, &sql::kSelectGuardCounter, &sql::kDeleteGuardCountersBefore,
                               &sql::kCountVisibleSupporters}) {
    EXPECT_EQ(try_prepare(kp, std::string(s->text).c_str()), SQLITE_OK) << s->name;
  }
  add_supporter("s1", "e1");
  ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_honeytoken(bytes("s1"), 1, "operator:t"); })
                  .has_value());
  EXPECT_EQ(sqlite3_exec(kp, "DELETE FROM supporters WHERE id = CAST('s1' AS BLOB)", nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(kp);
  EXPECT_EQ(*keeper_->count_honeytokens(), 0);
  EXPECT_EQ(*keeper_->count_supporters(), 0);
}

TEST(SqliteAuthorizer, KeeperPolicyForTheGuardTables) {
  using sqlite::keeper_authorizer;
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_INSERT, "honeytokens", nullptr, "main", nullptr), SQLITE_OK);
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_UPDATE, "honeytokens", "planted_by", "main", nullptr), SQLITE_DENY);
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_DELETE, "honeytokens", nullptr, "main", nullptr), SQLITE_OK);
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_INSERT, "guard_counters", nullptr, "main", nullptr), SQLITE_OK);
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_UPDATE, "guard_counters", "count", "main", nullptr), SQLITE_OK);
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_DELETE, "guard_counters", nullptr, "main", nullptr), SQLITE_OK);
  EXPECT_EQ(keeper_authorizer(nullptr, SQLITE_INSERT, "honeytokens", nullptr, "temp", nullptr), SQLITE_DENY);
}

TEST(SqliteAuthorizer, IntakePolicy) {
  using sqlite::intake_authorizer;
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_INSERT, "inbox", nullptr, "main", nullptr), SQLITE_OK);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_INSERT, "intake_batches", nullptr, "main", nullptr), SQLITE_OK);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_TRANSACTION, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_INSERT, "inbox", nullptr, "temp", nullptr), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_INSERT, "inbox", nullptr, "main", "trg"), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_INSERT, "supporters", nullptr, "main", nullptr), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_READ, "intake_batches", "uid", "main", nullptr), SQLITE_OK);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_READ, "intake_batches", "ephemeral_public", "main", nullptr),
            SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_READ, "inbox", "fields", "main", nullptr), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_READ, "supporters", "email_index", "main", nullptr), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_UPDATE, "inbox", "fields", "main", nullptr), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_PRAGMA, "secure_delete", "0", nullptr, nullptr), SQLITE_DENY);
  EXPECT_EQ(intake_authorizer(nullptr, SQLITE_SELECT, nullptr, nullptr, nullptr, nullptr), SQLITE_DENY);
}

TEST_F(SqliteStore, DeletedContentIsZeroedInTheFile) {
  // Recognisable markers, one small enough to sit in a page, one spilling
  // onto overflow pages.
  Bytes small_marker = bytes("REMPART-SECURE-DELETE-MARKER-SMALL");
  Bytes big_marker;
  while (big_marker.size() < 9000) {
    const std::string chunk = "REMPART-SECURE-DELETE-MARKER-BIG-" + std::to_string(big_marker.size());
    big_marker.insert(big_marker.end(), chunk.begin(), chunk.end());
  }
  const std::vector<BatchRow> b{BatchRow{bytes("b"), 1, bytes("k"), 1}};
  const std::vector<InboxRow> items{InboxRow{0, bytes("b"), bytes("i1"), small_marker, big_marker, 1}};
  ASSERT_TRUE(intake_->append(b, items).has_value());

  checkpoint(inbox_file_);
  const std::vector<unsigned char> small(small_marker.begin(), small_marker.end());
  const std::vector<unsigned char> big_head(big_marker.begin(), big_marker.begin() + 40);
  const std::vector<unsigned char> big_tail(big_marker.end() - 40, big_marker.end());
  // The markers are in the file now: the check below can fail.
  auto before = read_file(inbox_file_);
  ASSERT_TRUE(contains(before, small));
  ASSERT_TRUE(contains(before, big_head));
  ASSERT_TRUE(contains(before, big_tail));

  const std::int64_t id = (*inbox_->peek(1, 0))[0].id;
  ASSERT_EQ(*inbox_->remove(std::span(&id, 1), {}), 1);
  checkpoint(inbox_file_);

  auto after = read_file(inbox_file_);
  EXPECT_FALSE(contains(after, small));
  EXPECT_FALSE(contains(after, big_head));
  EXPECT_FALSE(contains(after, big_tail));
  auto wal = read_file(inbox_file_.string() + "-wal");
  EXPECT_FALSE(contains(wal, small));
  EXPECT_FALSE(contains(wal, big_head));
}

TEST_F(SqliteStore, ReopeningAnExistingDatabaseKeepsItsData) {
  add_supporter("s1", "e1");
  keeper_.reset();
  intake_.reset();
  auto kp = open_sqlite_keeper(file_);
  ASSERT_TRUE(kp.has_value()) << kp.error().internal;
  EXPECT_EQ(*(*kp)->count_supporters(), 1);
}

// Column `column` of every row `text` gives, each followed by `end`, read
// on a connection of its own (read-only, no authorizer there). A statement
// that does not prepare fails the test instead of reading as no rows.
std::string column_of_rows(const std::filesystem::path& db, const std::string& text, int column, char end) {
  sqlite3* raw = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(raw, text.c_str(), -1, &q, nullptr) == SQLITE_OK) {
      while (sqlite3_step(q) == SQLITE_ROW) {
        out += reinterpret_cast<const char*>(sqlite3_column_text(q, column));
        out += end;
      }
    } else {
      ADD_FAILURE() << "does not prepare: " << text;
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(raw);
  return out;
}

// The whole EXPLAIN QUERY PLAN of `stmt`, one detail per line (EXPLAIN binds nothing).
std::string query_plan(const std::filesystem::path& db, const sqlite::Sql& stmt) {
  return column_of_rows(db, "EXPLAIN QUERY PLAN " + std::string(stmt.text), 3, '\n');
}

// Directory pages walk supporters_created_id from the resume point: no sort
// of the table, no full scan, whatever the depth of the page.
TEST_F(SqliteStore, DirectoryPagesUseTheKeysetIndex) {
  namespace sql = sqlite::sql;
  for (const sqlite::Sql* s : {&sql::kSelectSupporterPageAfter, &sql::kSelectSupporterPageTaggedAfter}) {
    const std::string plan = query_plan(file_, *s);
    EXPECT_NE(plan.find("SEARCH s USING INDEX supporters_created_id ((created_at,id)<(?,?))"), std::string::npos)
        << s->name << ":\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << s->name << ":\n" << plan;
  }
  for (const sqlite::Sql* s : {&sql::kSelectSupporterPage, &sql::kSelectSupporterPageTagged}) {
    const std::string plan = query_plan(file_, *s);
    EXPECT_NE(plan.find("supporters_created_id"), std::string::npos) << s->name << ":\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << s->name << ":\n" << plan;
  }
  // Totals read the day counts (migration 0019), never the records.
  for (const sqlite::Sql* s : {&sql::kCountSupportersWithTag, &sql::kSelectTagCounts}) {
    const std::string plan = query_plan(file_, *s);
    EXPECT_NE(plan.find("tag_day_counts_tag"), std::string::npos) << s->name << ":\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << s->name << ":\n" << plan;
  }
  for (const sqlite::Sql* s : {&sql::kCountVisibleSupporters, &sql::kSelectAddedPerDay}) {
    const std::string plan = query_plan(file_, *s);
    EXPECT_NE(plan.find("supporter_day_counts"), std::string::npos) << s->name << ":\n" << plan;
    EXPECT_EQ(plan.find(" supporters"), std::string::npos) << s->name << ":\n" << plan;
  }
}

// The day counts and the tag lists (migration 0019) are what the dashboard
// and the segment counts read instead of the records: whatever writes, they
// stay what a count of the records gives.
TEST_F(SqliteStore, DayCountsAndTagListsFollowEveryWrite) {
  const auto put = [&](const std::string& id, std::int64_t created_at, const std::string& origin) {
    SupporterRow s;
    s.id = bytes(id);
    s.wrapped_key = bytes("wk");
    s.fields = bytes("fields");
    s.created_at = s.updated_at = created_at;
    s.origin = origin;
    ASSERT_TRUE(keeper_->transact([&](KeeperTx& tx) { return tx.insert_supporter(s); }).has_value());
  };
  const auto write = [&](const std::function<Result<void>(KeeperTx&)>& fn) {
    ASSERT_TRUE(keeper_->transact(fn).has_value());
  };
  // Each kept table, and what a count of the records gives, as text.
  const auto rows = [&](const char* text) { return column_of_rows(file_, text, 0, ';'); };
  const auto check = [&](const char* step) {
    EXPECT_EQ(rows("SELECT day || ' ' || origin || ' ' || n FROM supporter_day_counts WHERE n != 0 ORDER BY 1"),
              rows("SELECT (created_at / 86400) || ' ' || coalesce(origin, 'unknown') || ' ' || count(*)"
                   " FROM supporters WHERE id NOT IN (SELECT supporter_id FROM honeytokens)"
                   " GROUP BY created_at / 86400, origin ORDER BY 1"))
        << step;
    EXPECT_EQ(rows("SELECT day || ' ' || tag || ' ' || n FROM tag_day_counts WHERE n != 0 ORDER BY 1"),
              rows("SELECT (s.created_at / 86400) || ' ' || t.tag || ' ' || count(*)"
                   " FROM supporter_tags t JOIN supporters s ON s.id = t.supporter_id"
                   " WHERE s.id NOT IN (SELECT supporter_id FROM honeytokens)"
                   " GROUP BY s.created_at / 86400, t.tag ORDER BY 1"))
        << step;
    EXPECT_EQ(rows("SELECT hex(id) || ' ' || tag_list FROM supporters ORDER BY 1"),
              rows("SELECT hex(s.id) || ' ' || coalesce((SELECT '|' || group_concat(tag, '|') || '|' FROM"
                   " (SELECT tag FROM supporter_tags t WHERE t.supporter_id = s.id ORDER BY tag)), '')"
                   " FROM supporters s ORDER BY 1"))
        << step;
  };
  put("s1", 86400 + 10, "import:csv");
  put("s2", 86400 + 20, "");
  put("s3", 2 * 86400, "intake");
  put("s4", 2 * 86400 + 5, "intake");
  check("inserts");
  EXPECT_EQ(rows("SELECT n FROM supporter_day_counts WHERE day = 2 AND origin = 'intake'"), "2;");
  write([&](KeeperTx& tx) -> Result<void> {
    if (auto r = tx.add_tags(bytes("s1"), std::vector<std::string>{"donor", "paris"}, 1); !r) return r;
    if (auto r = tx.add_tags(bytes("s2"), std::vector<std::string>{"donor"}, 1); !r) return r;
    if (auto r = tx.add_tags(bytes("s3"), std::vector<std::string>{"paris"}, 1); !r) return r;
    return tx.add_tags(bytes("s4"), std::vector<std::string>{"donor"}, 1);
  });
  check("tags");
  EXPECT_EQ(rows("SELECT tag_list FROM supporters WHERE id = CAST('s1' AS BLOB)"), "|donor|paris|;");
  write([&](KeeperTx& tx) { return tx.insert_honeytoken(bytes("s4"), 1, "test"); });
  check("a honeytoken");
  EXPECT_EQ(rows("SELECT n FROM supporter_day_counts WHERE day = 2 AND origin = 'intake'"), "1;");
  write([&](KeeperTx& tx) { return tx.remove_tags(bytes("s1"), std::vector<std::string>{"paris"}); });
  check("a tag removed");
  write([&](KeeperTx& tx) -> Result<void> {
    auto n = tx.move_tag("donor", "donateur", 2);
    if (!n) return std::unexpected(n.error());
    return {};
  });
  check("a tag moved");
  EXPECT_EQ(rows("SELECT tag_list FROM supporters WHERE id = CAST('s1' AS BLOB)"), "|donateur|;");
  for (const char* id : {"s2", "s4"}) {
    write([&](KeeperTx& tx) -> Result<void> {
      auto erased = tx.erase_supporter(bytes(id));
      if (!erased) return std::unexpected(erased.error());
      EXPECT_TRUE(*erased);
      return {};
    });
  }
  check("erasures");
  EXPECT_EQ(keeper_->supporter_page(SupporterPageQuery{.tag = "", .after = std::nullopt, .limit = 0})->total, 2);
  EXPECT_EQ(keeper_->added_per_day(0).value(),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {2, 1}}));
}

TEST_F(SqliteStore, ErrorsNameTheStatementNotTheValues) {
  add_supporter("s1", "value-that-must-not-leak");
  SupporterRow dup;
  dup.id = bytes("s2");
  dup.email_index = bytes("value-that-must-not-leak");
  auto r = keeper_->transact([&](KeeperTx& tx) { return tx.insert_supporter(dup); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_NE(r.error().internal.find("kInsertSupporter"), std::string::npos) << r.error().internal;
  EXPECT_EQ(r.error().internal.find("value-that-must-not-leak"), std::string::npos);
  EXPECT_EQ(r.error().internal.find("INSERT"), std::string::npos);
  EXPECT_EQ(r.error().internal.find("email_index"), std::string::npos);
}

}  // namespace
}  // namespace rempart::store::test_support
