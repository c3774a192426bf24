#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "core/mutex.hpp"
#include "store/sqlite/checkpointer.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/functions.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/statements.hpp"

namespace rempart::store {

namespace sqlite {

namespace {

bool equals(const char* a, std::string_view b) noexcept { return a != nullptr && std::string_view(a) == b; }

// Only the tables of the main database; "temp" or an attached one is refused.
bool in_main(const char* db_name) noexcept { return equals(db_name, "main"); }

// Tables only the migration connection (which has no authorizer) may write.
bool internal_table(const char* table) noexcept {
  if (table == nullptr) return true;
  const std::string_view t(table);
  return t.starts_with("sqlite_") || t == "schema_migrations";
}

// Append-only tables: the keeper adds to them and never changes or removes
// a row, so neither may its connection (an edit would break the chain
// anyway; refusing it here stops a bug or an injected statement early).
bool append_only_table(const char* table) noexcept {
  return equals(table, "audit_entries") || equals(table, "audit_checkpoints");
}

// Tables whose rows are written once and never changed: a honeytoken mark
// is only ever added or, with its record, erased. (DELETE cannot be refused
// here: an erasure's ON DELETE CASCADE reaches the authorizer exactly like
// a DELETE statement would.)
bool write_once_table(const char* table) noexcept { return equals(table, "honeytokens"); }

// Tables whose rows are never deleted: the breach register keeps every
// breach documented (GDPR article 33(5)); an entry is brought up to date,
// never taken out. (No foreign key reaches it, so no cascade deletes here.)
bool kept_table(const char* table) noexcept { return equals(table, "breach_register"); }

}  // namespace

int intake_authorizer(void*, int action, const char* arg1, const char* arg2, const char* db_name,
                      const char* trigger) noexcept {
  switch (action) {
    case SQLITE_TRANSACTION:  // BEGIN, COMMIT, ROLLBACK
      return SQLITE_OK;
    case SQLITE_READ:
      // The batch insert's ON CONFLICT (uid) and the inbox's foreign key
      // check read this one column. Batch uids are random and no SELECT can
      // be prepared here anyway (SQLITE_SELECT is refused below, sub-selects
      // included), so this opens no way to read anything back.
      if (in_main(db_name) && trigger == nullptr && equals(arg1, "intake_batches") && equals(arg2, "uid")) {
        return SQLITE_OK;
      }
      return SQLITE_DENY;
    case SQLITE_INSERT:
      if (in_main(db_name) && trigger == nullptr &&
          (equals(arg1, "inbox") || equals(arg1, "intake_batches"))) {
        return SQLITE_OK;
      }
      return SQLITE_DENY;
    default:
      // Every read (SELECT, READ of any column, functions), every UPDATE,
      // DELETE, schema change, PRAGMA, ATTACH: refused at prepare time.
      return SQLITE_DENY;
  }
}

int keeper_authorizer(void*, int action, const char* arg1, const char*, const char* db_name,
                      const char*) noexcept {
  switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    // A recursive common table expression (kInsertSearchTokens counts the
    // tokens with one) reads only what the READ rule below lets it.
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_READ:
      // count(*) reads no column and names no database.
      return db_name == nullptr || in_main(db_name) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_INSERT:
      return in_main(db_name) && !internal_table(arg1) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_UPDATE:
      return in_main(db_name) && !internal_table(arg1) && !append_only_table(arg1) && !write_once_table(arg1)
                 ? SQLITE_OK
                 : SQLITE_DENY;
    case SQLITE_DELETE:
      return in_main(db_name) && !internal_table(arg1) && !append_only_table(arg1) && !kept_table(arg1)
                 ? SQLITE_OK
                 : SQLITE_DENY;
    default:
      // Schema changes, PRAGMA, ATTACH/DETACH, savepoints, virtual tables.
      return SQLITE_DENY;
  }
}

int inbox_keeper_authorizer(void*, int action, const char* arg1, const char*, const char* db_name,
                            const char* trigger) noexcept {
  switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
      return SQLITE_OK;
    case SQLITE_READ:
      return db_name == nullptr || in_main(db_name) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_DELETE:
      return in_main(db_name) && trigger == nullptr && (equals(arg1, "inbox") || equals(arg1, "intake_batches"))
                 ? SQLITE_OK
                 : SQLITE_DENY;
    default:
      // No INSERT or UPDATE (only the intake adds items), no schema change,
      // PRAGMA, ATTACH.
      return SQLITE_DENY;
  }
}

}  // namespace sqlite

namespace {

using sqlite::Connection;
using sqlite::Query;
namespace sql = sqlite::sql;

// Creates the database file with mode 0600 if missing and refuses one that
// group or others may access: the file holds ciphertext only, but its
// metadata (how many supporters, when they signed up) is still sensitive.
// SQLite gives its -wal and -shm files the database file's mode.
//
// An existing file is only stat()ed, never opened: closing any descriptor of
// the database file drops every POSIX lock this process holds on it, which
// would let another process delete a WAL that a connection here still writes
// to (the keeper's and the intake's connections live in one process).
//
// The records' file is its owner's only (mode 0600). The inbox file may
// also be shared with its group (0660): where the intake and the keeper run
// as two users (the Debian package's units), a group of their own lets both
// open the inbox while only the keeper can open the records' file
// (docs/operations.md, "The Debian package"). Others: never.
Result<void> ensure_private_file(const std::filesystem::path& db, bool group_may_share) {
  struct stat st {};
  if (::stat(db.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return fail(Errc::io, std::string("cannot stat the database file: ") + std::strerror(errno));
    }
    // O_EXCL: if the file is new, no connection can have it open yet.
    const int fd = ::open(db.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      return fail(Errc::io, std::string("cannot create the database file: ") + std::strerror(errno));
    }
    if (::stat(db.c_str(), &st) != 0) {
      return fail(Errc::io, std::string("cannot stat the database file: ") + std::strerror(errno));
    }
  }
  if (!S_ISREG(st.st_mode)) return fail(Errc::io, "the database path is not a regular file");
  const mode_t refused = group_may_share ? (S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO);
  if ((st.st_mode & refused) != 0) {
    return fail(Errc::permission, group_may_share
                                      ? "the inbox file is accessible to others (want mode 0600, or 0660 shared with its group)"
                                      : "the database file is accessible to group or others (want mode 0600)");
  }
  return {};
}

// Creates and migrates on a connection of its own, closed before the store's
// connection opens, so the store's connection never carries DDL rights.
// Both files keep SQLite's 4 KiB pages: 16 KiB pages for the inbox wrote
// twice the bytes per sign-up at a steady 780 a second and 26-30 % more at
// saturation, for no clear gain in rate or p99 with the fold running
// (docs/benchmarks.md, "Inbox pages are 4 KiB"). A file made with other pages keeps
// them (SQLite ignores the setting once a file has pages).
Result<void> prepare_database(const std::filesystem::path& db, std::span<const sqlite::Migration> migrations,
                              bool group_may_share) {
  if (auto r = ensure_private_file(db, group_may_share); !r) return r;
  auto conn = Connection::open(db);
  if (!conn) return propagate(conn);
  if (auto r = sqlite::configure(*conn); !r) return r;
  return sqlite::apply_migrations(*conn, migrations, unix_now());
}

// Which file a connection is for: the records' file or the inbox file.
enum class FileKind { records, inbox };

// The keeper's inbox connection reads one fold pass of items at a time
// (`[keeper] fold_batch`, 1,000 by default: a few hundred KiB) and deletes
// them: a small page cache is enough.
constexpr sqlite::Sql kPragmaInboxReaderCache{"kPragmaInboxReaderCache", "PRAGMA cache_size=-2048"};

Result<Connection> open_store_connection(const std::filesystem::path& db, FileKind kind,
                                         int (*authorizer)(void*, int, const char*, const char*,
                                                           const char*, const char*) noexcept,
                                         std::initializer_list<const sqlite::Sql*> warm,
                                         const sqlite::Sql* setting = nullptr) {
  const auto migrations =
      kind == FileKind::inbox ? sqlite::embedded_inbox_migrations() : sqlite::embedded_migrations();
  if (auto r = prepare_database(db, migrations, kind == FileKind::inbox); !r) return propagate(r);
  auto conn = Connection::open(db);
  if (!conn) return conn;
  if (auto r = sqlite::configure(*conn); !r) return propagate(r);
  if (setting != nullptr) {
    if (auto r = conn->exec(*setting); !r) return propagate(r);
  }
  conn->forget_statements();
  if (kind == FileKind::records) {
    if (auto r = sqlite::register_functions(conn->handle()); !r) return propagate(r);
  }
  if (int rc = sqlite3_set_authorizer(conn->handle(), authorizer, nullptr); rc != SQLITE_OK) {
    return std::unexpected(sqlite::sqlite_error(rc, "configure", "authorizer"));
  }
  // Prepare the statements now so a schema or authorizer mismatch shows at
  // start-up rather than on the first request.
  for (const sqlite::Sql* s : warm) {
    auto q = conn->query(*s);
    if (!q) return propagate(q);
  }
  return conn;
}

// Runs `body` between BEGIN IMMEDIATE and COMMIT on `conn`, rolling back if
// it fails or throws.
template <typename Body>
Result<void> in_transaction(Connection& conn, Body&& body) {
  if (conn.in_transaction()) return fail(Errc::internal, "transaction requested inside a transaction");
  {
    // Counted while waiting for the write lock, so that the connection
    // holding it can see that others wait (KeeperTx::others_wait_to_write).
    conn.writers_starting().fetch_add(1, std::memory_order_relaxed);
    auto begun = conn.exec(sql::kBeginImmediate);
    conn.writers_starting().fetch_sub(1, std::memory_order_relaxed);
    if (!begun) return begun;
  }
  Result<void> result;
  try {
    result = std::forward<Body>(body)();
  } catch (...) {
    conn.rollback_if_open();
    throw;
  }
  if (result) result = conn.exec(sql::kCommit);
  if (!result) conn.rollback_if_open();
  return result;
}

using EngineSql = sqlite::Sql;
constexpr std::string_view kEngine = "sqlite";
constexpr const EngineSql& kBeginSnapshot = sql::kBeginDeferred;

#include "store/keeper_ports.inc"

// ---- Intake ------------------------------------------------------------------

class SqliteIntakeStore final : public IntakeStore {
 public:
  // Checkpoints of what this connection commits run on `checkpointer`'s
  // thread, never inside the intake's group commits.
  SqliteIntakeStore(Connection conn, std::unique_ptr<sqlite::Checkpointer> checkpointer)
      : checkpointer_(std::move(checkpointer)), conn_(std::move(conn)) {
    checkpointer_->attach(conn_.handle());
  }

  Result<void> append(std::span<const BatchRow> batches, std::span<const InboxRow> items) override {
    if (batches.empty() && items.empty()) return {};
    return in_transaction(conn_, [&]() -> Result<void> {
      for (const BatchRow& b : batches) {
        auto q = conn_.query(sql::kInsertBatch);
        if (!q) return propagate(q);
        q->bind_blob(1, b.uid).bind_int(2, b.key_version).bind_blob(3, b.ephemeral_public).bind_int(4, b.created_at);
        if (auto r = q->run(); !r) return r;
      }
      for (const InboxRow& item : items) {
        auto q = conn_.query(sql::kInsertInboxItem);
        if (!q) return propagate(q);
        q->bind_blob(1, item.batch_uid)
            .bind_blob(2, item.item_uid)
            .bind_blob(3, item.wrapped_key)
            .bind_blob(4, item.fields)
            .bind_int(5, item.received_at);
        if (auto r = q->run(); !r) return r;
      }
      return {};
    });
  }

  sqlite3* raw() const noexcept { return conn_.handle(); }
  sqlite::CheckpointStats checkpoints() const { return checkpointer_->stats(); }

 private:
  // Declared before the connection, so the connection (whose WAL hook points
  // at it) is closed first.
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  Connection conn_;
};

class SqliteKeeperTx final : public KeeperWrites {
 public:
  explicit SqliteKeeperTx(Connection& conn) : KeeperWrites(conn) {}

  // Another connection of this process waits to start a write transaction
  // on the same file (it waits for this one to end).
  bool yield_requested() const override { return conn_.writers_starting().load(std::memory_order_relaxed) > 0; }
};

// Owns the store's connection, so that it is made before the read ports
// that refer to it (a base is built before the next one).
struct KeeperConnection {
  KeeperConnection(Connection c, std::unique_ptr<sqlite::Checkpointer> cp)
      : checkpointer(std::move(cp)), db_(std::move(c)) {
    if (checkpointer) checkpointer->attach(db_.handle());
  }
  std::unique_ptr<sqlite::Checkpointer> checkpointer;  // may be null; outlives db_ (declared first)
  Connection db_;
};

class SqliteKeeperStore final : private KeeperConnection, public StoreReads<KeeperStore> {
 public:
  // With a `checkpointer`, checkpoints of what this connection commits run
  // on its thread, never inside this store's commits.
  explicit SqliteKeeperStore(Connection c, std::unique_ptr<sqlite::Checkpointer> cp = nullptr)
      : KeeperConnection(std::move(c), std::move(cp)), StoreReads<KeeperStore>(db_) {}

  Result<void> transact(const std::function<Result<void>(KeeperTx&)>& fn) override {
    return in_transaction(db_, [&]() -> Result<void> {
      SqliteKeeperTx tx(db_);
      return fn(tx);
    });
  }

  // SQLite's write lock is not fair: the next BEGIN here would win it back
  // at once. Each writer that waited stops counting as waiting once its
  // BEGIN has the lock; bounded, in case one is slow to wake.
  void make_way() override {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    while (db_.writers_starting().load(std::memory_order_relaxed) > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  Result<void> snapshot(const std::function<Result<void>()>& fn) override { return in_read_snapshot(db_, fn); }

  // SQLite's TRUNCATE checkpoint: every page of the WAL copied into the
  // database file (where secure_delete has zeroed what was deleted), then
  // the WAL cut to nothing. It waits for writers (busy timeout) but not for
  // a reader that holds an older snapshot: then not all could be copied.
  // (sqlite3_wal_checkpoint_v2, not the PRAGMA, which the keeper's
  // authorizer refuses.)
  Result<bool> flush_deleted() override {
    int frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_.handle(), "main", SQLITE_CHECKPOINT_TRUNCATE, &frames, &copied);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return false;
    if (rc != SQLITE_OK) return std::unexpected(sqlite::sqlite_error(rc, "flush_deleted", "checkpoint"));
    return frames == copied;
  }

  sqlite3* raw() const noexcept { return db_.handle(); }
  sqlite::CheckpointStats checkpoints() const {
    return checkpointer ? checkpointer->stats() : sqlite::CheckpointStats{};
  }
};

}  // namespace

Result<std::unique_ptr<IntakeStore>> open_sqlite_intake(const std::filesystem::path& inbox, int checkpoint_wal_pages) {
  auto conn = open_store_connection(inbox, FileKind::inbox, sqlite::intake_authorizer,
                                    {&sql::kBeginImmediate, &sql::kCommit, &sql::kInsertBatch, &sql::kInsertInboxItem});
  if (!conn) return propagate(conn);
  return std::make_unique<SqliteIntakeStore>(std::move(*conn),
                                             std::make_unique<sqlite::Checkpointer>(inbox, checkpoint_wal_pages));
}

Result<std::unique_ptr<InboxStore>> open_sqlite_inbox(const std::filesystem::path& inbox) {
  auto conn = open_store_connection(inbox, FileKind::inbox, sqlite::inbox_keeper_authorizer,
                                    {&sql::kBeginImmediate, &sql::kCommit, &sql::kPeekInboxAfter, &sql::kSelectBatch,
                                     &sql::kDeleteInboxItem, &sql::kDeleteBatchIfUnreferenced, &sql::kInboxIsEmpty,
                                     &sql::kDeleteUnreferencedBatches, &sql::kCountInbox},
                                    &kPragmaInboxReaderCache);
  if (!conn) return propagate(conn);
  return std::make_unique<InboxOnConnection>(std::move(*conn));
}

namespace {

Result<Connection> open_keeper_connection(const std::filesystem::path& db) {
  return open_store_connection(db, FileKind::records, sqlite::keeper_authorizer,
                               {&sql::kBeginImmediate, &sql::kCommit, &sql::kInsertSupporter, &sql::kUpdateSupporter,
                                &sql::kSelectAuditHead, &sql::kInsertAuditEntry,
                                &sql::kInsertAuditCheckpoint, &sql::kInsertHoneytoken, &sql::kSelectIsHoneytoken,
                                &sql::kAddToGuardCounter, &sql::kInsertFoldedItem, &sql::kDeleteFoldedItem});
}

}  // namespace

Result<std::unique_ptr<KeeperStore>> open_sqlite_keeper(const std::filesystem::path& db) {
  auto conn = open_keeper_connection(db);
  if (!conn) return propagate(conn);
  return std::make_unique<SqliteKeeperStore>(std::move(*conn));
}

Result<std::unique_ptr<KeeperStore>> open_sqlite_keeper_writer(const std::filesystem::path& db,
                                                               int checkpoint_wal_pages) {
  auto conn = open_keeper_connection(db);
  if (!conn) return propagate(conn);
  return std::make_unique<SqliteKeeperStore>(std::move(*conn),
                                             std::make_unique<sqlite::Checkpointer>(db, checkpoint_wal_pages));
}

Result<std::unique_ptr<KeeperStore>> open_sqlite_keeper_copy(const std::filesystem::path& db) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec)) return fail(Errc::not_found, db.string() + " does not exist");
  auto conn = Connection::open_copy(db);
  if (!conn) return propagate(conn);
  auto version = sqlite::schema_version(*conn);
  if (!version) return propagate(version);
  const auto known = sqlite::embedded_migrations();
  if (*version > known.back().version) {
    return fail(Errc::config, db.string() + " was made by a newer rempart (schema " + std::to_string(*version) +
                                  ", this one knows up to " + std::to_string(known.back().version) + ")");
  }
  conn->forget_statements();
  if (auto r = sqlite::register_functions(conn->handle()); !r) return propagate(r);
  if (int rc = sqlite3_set_authorizer(conn->handle(), sqlite::keeper_authorizer, nullptr); rc != SQLITE_OK) {
    return std::unexpected(sqlite::sqlite_error(rc, "configure", "authorizer"));
  }
  return std::make_unique<SqliteKeeperStore>(std::move(*conn));
}

namespace {

// Submissions an older version kept in the records' file's own inbox move
// into the inbox file, a chunk at a time. A stop between the append and the
// delete leaves a chunk in both: it moves again and is folded twice, which
// changes no record the second time.
Result<std::size_t> move_legacy_inbox(Connection& records, IntakeStore& inbox) {
  constexpr std::size_t kChunk = 1000;
  std::size_t moved = 0;
  for (;;) {
    auto q = records.query(sql::kPeekLegacyInbox);
    if (!q) return propagate(q);
    q->bind_int(1, static_cast<std::int64_t>(kChunk));
    auto items = read_inbox_rows(*q);
    if (!items) return propagate(items);
    if (items->empty()) return moved;
    std::vector<BatchRow> batches;
    std::set<std::string> seen;  // a set of Bytes trips GCC 12's -Wstringop-overread at -O2
    for (const auto& item : *items) {
      if (!seen.emplace(item.batch_uid.begin(), item.batch_uid.end()).second) continue;
      auto b = select_batch(records, item.batch_uid);
      if (!b) return propagate(b);
      if (*b) batches.push_back(std::move(**b));
    }
    if (auto r = inbox.append(batches, *items); !r) return propagate(r);
    auto r = in_transaction(records, [&]() -> Result<void> {
      for (const auto& item : *items) {
        auto d = records.query(sql::kDeleteInboxItem);
        if (!d) return propagate(d);
        d->bind_int(1, item.id);
        if (auto e = d->run(); !e) return e;
      }
      auto d = records.query(sql::kDeleteUnreferencedBatches);
      if (!d) return propagate(d);
      return d->run();
    });
    if (!r) return propagate(r);
    moved += items->size();
  }
}

// Items at or below the records' fold mark for this inbox file are folded
// already (an older version deleted them by id range after its commit):
// they go, then every mark.
Result<void> retire_fold_marks(Connection& records, Connection& inbox) {
  auto marks = count(records, sql::kCountFoldMarks);
  if (!marks) return propagate(marks);
  if (*marks == 0) return {};
  auto u = inbox.query(sql::kSelectInboxFileUid);
  if (!u) return propagate(u);
  auto has = u->step();
  if (!has) return propagate(has);
  if (*has) {
    const Bytes uid = u->blob(0);
    auto m = records.query(sql::kSelectFoldMark);
    if (!m) return propagate(m);
    m->bind_blob(1, uid);
    auto row = m->step();
    if (!row) return propagate(row);
    const std::int64_t mark = *row ? m->int64(0) : 0;
    if (mark > 0) {
      auto r = in_transaction(inbox, [&]() -> Result<void> {
        auto d = inbox.query(sql::kDeleteInboxThrough);
        if (!d) return propagate(d);
        d->bind_int(1, mark);
        return d->run();
      });
      if (!r) return propagate(r);
    }
  }
  return in_transaction(records, [&]() -> Result<void> { return records.exec(sql::kDeleteFoldMarks); });
}

}  // namespace

Result<std::size_t> sqlite::upgrade_keeper_files(const std::filesystem::path& db, const std::filesystem::path& inbox) {
  auto records = open_keeper_connection(db);
  if (!records) return propagate(records);
  auto reader = open_store_connection(inbox, FileKind::inbox, sqlite::inbox_keeper_authorizer, {});
  if (!reader) return propagate(reader);
  if (auto r = retire_fold_marks(*records, *reader); !r) return propagate(r);
  auto legacy = count(*records, sql::kCountLegacyInbox);
  if (!legacy) return propagate(legacy);
  if (*legacy == 0) return std::size_t{0};
  auto appender = open_sqlite_intake(inbox);
  if (!appender) return propagate(appender);
  return move_legacy_inbox(*records, **appender);
}

namespace {

class SqliteBackend final : public Backend {
 public:
  explicit SqliteBackend(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Result<std::unique_ptr<IntakeStore>> open_intake() override { return open_sqlite_intake(inbox()); }
  Result<std::unique_ptr<InboxStore>> open_inbox() override { return open_sqlite_inbox(inbox()); }
  Result<std::unique_ptr<KeeperStore>> open_keeper(KeeperUse use, std::size_t* upgraded) override {
    {
      MutexLock lock(mu_);
      if (!upgraded_) {
        auto moved = sqlite::upgrade_keeper_files(records(), inbox());
        if (!moved) return propagate(moved);
        upgraded_ = true;
        if (upgraded != nullptr) *upgraded = *moved;
      } else if (upgraded != nullptr) {
        *upgraded = 0;
      }
    }
    return use == KeeperUse::bulk ? open_sqlite_keeper_writer(records()) : open_sqlite_keeper(records());
  }

 private:
  std::filesystem::path records() const { return dir_ / sqlite::kRecordsFile; }
  std::filesystem::path inbox() const { return dir_ / sqlite::kInboxFile; }

  const std::filesystem::path dir_;
  Mutex mu_;
  bool upgraded_ REMPART_GUARDED_BY(mu_) = false;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_sqlite_backend(const std::filesystem::path& data_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return fail(Errc::io, "the data directory " + data_dir.string() + " does not exist");
  }
  return std::make_unique<SqliteBackend>(data_dir);
}

namespace sqlite::test_hooks {

sqlite3* raw_handle(IntakeStore& store) noexcept {
  auto* s = dynamic_cast<SqliteIntakeStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}

CheckpointStats checkpoints(IntakeStore& store) {
  auto* s = dynamic_cast<SqliteIntakeStore*>(&store);
  return s != nullptr ? s->checkpoints() : CheckpointStats{};
}

CheckpointStats checkpoints(KeeperStore& store) {
  auto* s = dynamic_cast<SqliteKeeperStore*>(&store);
  return s != nullptr ? s->checkpoints() : CheckpointStats{};
}

sqlite3* raw_handle(InboxStore& store) noexcept {
  auto* s = dynamic_cast<InboxOnConnection*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}

sqlite3* raw_handle(KeeperStore& store) noexcept {
  auto* s = dynamic_cast<SqliteKeeperStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}

}  // namespace sqlite::test_hooks

}  // namespace rempart::store
