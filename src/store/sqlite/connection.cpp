#include "store/sqlite/connection.hpp"

#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace rempart::store::sqlite {

namespace {

std::string describe(int rc, std::string_view what, std::string_view name) {
  std::string msg = "sqlite ";
  msg.append(what);
  msg.append(" ");
  msg.append(name);
  msg.append(": ");
  // sqlite3_errstr gives the generic text of a code, unlike sqlite3_errmsg
  // which may quote identifiers or parts of the statement.
  msg.append(sqlite3_errstr(rc));
  msg.append(" (");
  msg.append(std::to_string(rc));
  msg.append(")");
  return msg;
}

}  // namespace

Error sqlite_error(int rc, std::string_view what, std::string_view name) {
  Errc code = Errc::storage;
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      code = Errc::conflict;
      break;
    case SQLITE_TOOBIG:
      code = Errc::invalid_input;
      break;
    case SQLITE_AUTH:
      code = Errc::permission;
      break;
    default:
      switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
          code = Errc::invalid_input;
          break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
          code = Errc::busy;
          break;
        default:
          break;
      }
  }
  return Error{code, describe(rc, what, name)};
}

// ---- Query ----------------------------------------------------------------

Query::Query(sqlite3_stmt* stmt, bool* in_use, const Sql* sql) noexcept
    : stmt_(stmt), in_use_(in_use), sql_(sql) {
  *in_use_ = true;
}

Query::Query(Query&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      sql_(other.sql_),
      bind_rc_(other.bind_rc_) {}

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void Query::note_bind(int rc) noexcept {
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Query& Query::bind_blob(int index, std::span<const std::uint8_t> value) {
  // A null data pointer would bind NULL; an empty vector has one.
  if (value.empty()) {
    note_bind(sqlite3_bind_zeroblob(stmt_, index, 0));
  } else {
    note_bind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT));
  }
  return *this;
}

Query& Query::bind_int(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Query& Query::bind_text(int index, std::string_view value) {
  note_bind(sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(),
                                SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Query& Query::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Query& Query::bind_optional_blob(int index, const std::optional<std::vector<std::uint8_t>>& value) {
  return value ? bind_blob(index, *value) : bind_null(index);
}

Query& Query::bind_optional_int(int index, const std::optional<std::int64_t>& value) {
  return value ? bind_int(index, *value) : bind_null(index);
}

Query& Query::bind_optional_text(int index, const std::optional<std::string>& value) {
  return value ? bind_text(index, *value) : bind_null(index);
}

Result<bool> Query::step() {
  if (bind_rc_ != SQLITE_OK) return std::unexpected(sqlite_error(bind_rc_, "bind", sql_->name));
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(sqlite_error(rc, "step", sql_->name));
}

Result<void> Query::run() {
  for (;;) {
    auto more = step();
    if (!more) return std::unexpected(std::move(more.error()));
    if (!*more) return {};
  }
}

std::int64_t Query::changes() const noexcept {
  return sqlite3_changes64(sqlite3_db_handle(stmt_));
}

bool Query::is_null(int col) const noexcept {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::vector<std::uint8_t> Query::blob(int col) const {
  // Fetch the pointer before the size, as SQLite documents.
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr || size <= 0) return {};
  return {data, data + size};
}

std::span<const std::uint8_t> Query::blob_view(int col) const noexcept {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr || size <= 0) return {};
  return {data, static_cast<std::size_t>(size)};
}

std::string_view Query::text_view(int col) const noexcept {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr || size <= 0) return {};
  return {data, static_cast<std::size_t>(size)};
}

std::int64_t Query::int64(int col) const noexcept { return sqlite3_column_int64(stmt_, col); }

std::string Query::text(int col) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr || size <= 0) return {};
  return {data, static_cast<std::size_t>(size)};
}

std::optional<std::vector<std::uint8_t>> Query::optional_blob(int col) const {
  if (is_null(col)) return std::nullopt;
  return blob(col);
}

std::optional<std::int64_t> Query::optional_int(int col) const noexcept {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<std::string> Query::optional_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

// ---- Connection -----------------------------------------------------------

namespace {

// Busy handler: the intake writer and the keeper take turns on the one write
// lock many times a second. SQLite's own busy_timeout sleeps in growing steps
// of up to 100 ms, which turns each turn into tens of milliseconds of idle
// latency; polling every 200 µs at first (then every 2 ms) hands the lock
// over as soon as it is free. Gives up after kBusyTimeoutMs.
int wait_for_lock(void*, int attempts) noexcept {
  constexpr int kFastAttempts = 100;
  constexpr auto kFast = std::chrono::microseconds(200);
  constexpr auto kSlow = std::chrono::milliseconds(2);
  const auto waited = attempts < kFastAttempts
                          ? std::chrono::duration_cast<std::chrono::milliseconds>(kFast * attempts)
                          : std::chrono::duration_cast<std::chrono::milliseconds>(kFast * kFastAttempts) +
                                kSlow * (attempts - kFastAttempts);
  if (waited.count() >= kBusyTimeoutMs) return 0;
  std::this_thread::sleep_for(attempts < kFastAttempts ? std::chrono::duration_cast<std::chrono::microseconds>(kFast)
                                                       : std::chrono::duration_cast<std::chrono::microseconds>(kSlow));
  return 1;
}

}  // namespace

void configure_library() noexcept {
  // SQLite counts the memory it holds under one process-wide mutex, taken on
  // every allocation and free of every connection; nothing here reads the
  // counts. Refused (SQLITE_MISUSE) once the library is initialised, in
  // which case they stay on: slower, not wrong.
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
}

namespace {

// The writers-starting counter of `file`, shared by every connection of
// this process to it (keyed by the file's absolute, normalised path; a
// counter lives as long as a connection uses it).
std::shared_ptr<std::atomic<int>> writers_starting_for(const std::filesystem::path& file) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<std::atomic<int>>> counters;
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(file, ec);
  if (ec) key = std::filesystem::absolute(file, ec).lexically_normal();
  std::lock_guard lock(mu);
  for (auto it = counters.begin(); it != counters.end();) {
    it = it->second.expired() ? counters.erase(it) : std::next(it);
  }
  auto& slot = counters[key.string()];
  auto counter = slot.lock();
  if (!counter) {
    counter = std::make_shared<std::atomic<int>>(0);
    slot = counter;
  }
  return counter;
}

}  // namespace

Result<Connection> Connection::open(const std::filesystem::path& file) {
  // No SQLITE_OPEN_CREATE: the caller creates the file with mode 0600.
  // NOMUTEX: a connection is used by one thread at a time by contract.
  return open_with(file, file.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE);
}

Result<Connection> Connection::open_copy(const std::filesystem::path& file) {
  // `immutable` is a URI parameter only: the path goes into a file: URI,
  // with the characters a URI gives a meaning escaped.
  std::string uri = "file:";
  for (const char c : std::filesystem::absolute(file).string()) {
    if (c == '%' || c == '?' || c == '#') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      uri += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      uri += c;
    }
  }
  uri += "?immutable=1";
  return open_with(file, uri,
                   SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE);
}

Result<Connection> Connection::open_with(const std::filesystem::path& file, const std::string& name, int flags) {
  configure_library();
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  Connection conn(db, writers_starting_for(file));  // closes db on every return path, even on open failure
  if (rc != SQLITE_OK) return std::unexpected(sqlite_error(rc, "open", "database"));

  sqlite3_extended_result_codes(db, 1);
  if (int r = sqlite3_busy_handler(db, &wait_for_lock, nullptr); r != SQLITE_OK) {
    return std::unexpected(sqlite_error(r, "configure", "busy_handler"));
  }
  struct Setting {
    int op;
    int value;
    const char* name;
  };
  // Defensive mode refuses writable_schema and other ways to corrupt the
  // file through SQL; double-quoted strings would let a misspelt identifier
  // pass as a string literal; the schema is never trusted to call functions.
  const Setting settings[] = {
      {SQLITE_DBCONFIG_DEFENSIVE, 1, "defensive"},
      {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "trusted_schema"},
      {SQLITE_DBCONFIG_DQS_DML, 0, "dqs_dml"},
      {SQLITE_DBCONFIG_DQS_DDL, 0, "dqs_ddl"},
      {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "load_extension"},
  };
  for (const auto& s : settings) {
    int now = -1;
    const int r = sqlite3_db_config(db, s.op, s.value, &now);
    if (r != SQLITE_OK || now != s.value) {
      return std::unexpected(sqlite_error(r == SQLITE_OK ? SQLITE_ERROR : r, "configure", s.name));
    }
  }
  // No statement of ours attaches another database; an injected one cannot.
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  return conn;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      cache_(std::move(other.cache_)),
      writers_starting_(other.writers_starting_) {  // copied: a moved-from connection keeps a counter
  other.cache_.clear();
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
    other.cache_.clear();
    writers_starting_ = other.writers_starting_;
  }
  return *this;
}

Connection::~Connection() { close(); }

void Connection::forget_statements() noexcept {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  cache_.clear();
}

void Connection::close() noexcept {
  forget_statements();
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Result<Query> Connection::query(const Sql& sql) {
  auto it = cache_.find(&sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sql.text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      return fail(Errc::internal, "sqlite prepare " + std::string(sql.name) + ": too long");
    }
    const int rc = sqlite3_prepare_v3(db_, sql.text.data(), static_cast<int>(sql.text.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return std::unexpected(sqlite_error(rc, "prepare", sql.name));
    }
    if (stmt == nullptr) return fail(Errc::internal, "sqlite prepare " + std::string(sql.name) + ": empty");
    it = cache_.emplace(&sql, Cached{stmt, false}).first;
  }
  if (it->second.in_use) {
    return fail(Errc::internal, "sqlite statement " + std::string(sql.name) + " already in use");
  }
  return Query(it->second.stmt, &it->second.in_use, &sql);
}

Result<void> Connection::exec(const Sql& sql) {
  auto q = query(sql);
  if (!q) return std::unexpected(std::move(q.error()));
  return q->run();
}

Result<void> Connection::exec_script(std::string_view name, std::string_view script) {
  const char* pos = script.data();
  const char* const end = script.data() + script.size();
  while (pos < end) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, pos, static_cast<int>(end - pos), &stmt, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return std::unexpected(sqlite_error(rc, "prepare", name));
    }
    if (stmt == nullptr) break;  // only whitespace or comments left
    int step_rc = SQLITE_ROW;
    while (step_rc == SQLITE_ROW) step_rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (step_rc != SQLITE_DONE) return std::unexpected(sqlite_error(step_rc, "step", name));
    pos = tail;
  }
  return {};
}

bool Connection::in_transaction() const noexcept {
  return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
}

void Connection::rollback_if_open() noexcept {
  if (!in_transaction()) return;
  // Cached statements are not used here: a failing path may be holding one.
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql::kRollback.text.data(), static_cast<int>(sql::kRollback.text.size()),
                         &stmt, nullptr) == SQLITE_OK) {
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
}

// ---- configure ------------------------------------------------------------

namespace {

constexpr int kWalRetryMs = 10;

// Throughput settings, measured with `rempart_bench fold` (docs/benchmarks.md:
// together about +30 % fold rate). A page cache of up to 16 MiB per
// connection (negative = KiB; the default is 2 MiB) keeps the blind-index and
// supporter B-tree pages a fold or a lookup touches in memory across
// transactions; it only grows as pages are read. Not more: serve holds one
// connection per console worker besides the keeper's and the intake's, and
// its resident memory must stay well under 200 MiB on a large base. Checkpointing the WAL every
// 8,000 pages (32 MiB of 4 KiB pages) instead of every 1,000 copies each hot
// page back into the database file less often. The WAL is reused from its
// start after a checkpoint but not shrunk, so it keeps up to ~32 MiB on disk.
// Statement journals (what SQLite keeps to undo one statement of a
// transaction: an INSERT whose triggers keep the day counts, migration
// 0019, needs one) and other temporary files stay in memory: on disk they
// were a pwrite per page of every such statement, ten times the writes of
// an import. They hold the pages of one statement at a time.
constexpr Sql kPragmaTempStoreMemory{"kPragmaTempStoreMemory", "PRAGMA temp_store=MEMORY"};
constexpr Sql kPragmaTempStoreGet{"kPragmaTempStoreGet", "PRAGMA temp_store"};
constexpr Sql kPragmaCacheSize{"kPragmaCacheSize", "PRAGMA cache_size=-16384"};
constexpr Sql kPragmaCacheSizeGet{"kPragmaCacheSizeGet", "PRAGMA cache_size"};
constexpr Sql kPragmaWalAutocheckpoint{"kPragmaWalAutocheckpoint", "PRAGMA wal_autocheckpoint=8000"};
constexpr Sql kPragmaWalAutocheckpointGet{"kPragmaWalAutocheckpointGet", "PRAGMA wal_autocheckpoint"};

// Runs a pragma and returns its single result column as text, or "" if none.
Result<std::string> pragma(Connection& conn, const Sql& sql) {
  auto q = conn.query(sql);
  if (!q) return std::unexpected(std::move(q.error()));
  auto row = q->step();
  if (!row) return std::unexpected(std::move(row.error()));
  std::string value = *row ? q->text(0) : std::string{};
  if (auto rest = q->run(); !rest) return std::unexpected(std::move(rest.error()));
  return value;
}

Result<void> expect(Connection& conn, const Sql& sql, std::string_view want) {
  auto got = pragma(conn, sql);
  if (!got) return std::unexpected(std::move(got.error()));
  if (*got != want) return fail(Errc::storage, "sqlite pragma " + std::string(sql.name) + " did not take effect");
  return {};
}

}  // namespace

Result<void> configure(Connection& conn) {
  // Switching to WAL needs a moment of exclusive access and SQLite does not
  // call the busy handler for it: when another process or connection opens
  // the same fresh file at the same instant, wait and try again.
  for (int attempt = 0;; ++attempt) {
    auto r = expect(conn, sql::kPragmaJournalModeWal, "wal");
    if (r) break;
    if (r.error().code != Errc::busy || attempt * kWalRetryMs >= kBusyTimeoutMs) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(kWalRetryMs));
  }
  if (auto r = conn.exec(sql::kPragmaSynchronousFull); !r) return r;
  if (auto r = expect(conn, sql::kPragmaSecureDeleteOn, "1"); !r) return r;
  if (auto r = conn.exec(sql::kPragmaForeignKeysOn); !r) return r;
  if (auto r = conn.exec(sql::kPragmaTrustedSchemaOff); !r) return r;
  if (auto r = expect(conn, sql::kPragmaSynchronous, "2"); !r) return r;  // 2 = FULL
  if (auto r = expect(conn, sql::kPragmaForeignKeys, "1"); !r) return r;
  if (auto r = expect(conn, sql::kPragmaTrustedSchema, "0"); !r) return r;
  if (auto r = conn.exec(kPragmaTempStoreMemory); !r) return r;
  if (auto r = expect(conn, kPragmaTempStoreGet, "2"); !r) return r;  // 2 = MEMORY
  if (auto r = conn.exec(kPragmaCacheSize); !r) return r;
  if (auto r = expect(conn, kPragmaCacheSizeGet, "-16384"); !r) return r;
  if (auto r = conn.exec(kPragmaWalAutocheckpoint); !r) return r;
  if (auto r = expect(conn, kPragmaWalAutocheckpointGet, "8000"); !r) return r;
  return {};
}

}  // namespace rempart::store::sqlite
