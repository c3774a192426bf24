#pragma once
// A small RAII layer over the SQLite C API: one connection, its prepared
// statements cached by the Sql constant they come from, and bind/step/column
// helpers that turn SQLite result codes into rempart::Error. Error messages
// name the statement constant and SQLite's generic description of the result
// code; they never carry SQL text nor bound values.
//
// Thread-safety: a Connection and the Query objects it hands out must be used
// by one thread at a time (the connection is opened without SQLite's mutex).
#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "store/sqlite/statements.hpp"

namespace rempart::store::sqlite {

inline constexpr int kBusyTimeoutMs = 10'000;

// Maps an SQLite (extended) result code to an Error whose message names
// `what` (an operation) and `name` (a statement constant or migration file).
// UNIQUE/PRIMARY KEY violations -> Errc::conflict; other constraint failures
// and values too big -> Errc::invalid_input; BUSY/LOCKED -> Errc::busy;
// AUTH -> Errc::permission; anything else -> Errc::storage.
Error sqlite_error(int rc, std::string_view what, std::string_view name);

class Connection;

// Process-wide settings of the SQLite library, applied once, before the
// first connection opens (Connection::open calls it; a program opening
// connections of its own first should too): memory statistics off.
void configure_library() noexcept;

// One execution of a cached prepared statement, borrowed from its Connection.
// Bound values are copied into SQLite. On destruction the statement is reset
// (releasing any read snapshot it holds) and its bindings cleared (dropping
// SQLite's copy of the values). Must not outlive its Connection.
class Query {
 public:
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  // Binders are 1-based like `?N`. A failure is remembered and reported by
  // the next step()/run(). An empty blob binds a zero-length blob, not NULL.
  Query& bind_blob(int index, std::span<const std::uint8_t> value);
  Query& bind_int(int index, std::int64_t value);
  Query& bind_text(int index, std::string_view value);
  Query& bind_null(int index);
  Query& bind_optional_blob(int index, const std::optional<std::vector<std::uint8_t>>& value);
  Query& bind_optional_int(int index, const std::optional<std::int64_t>& value);
  Query& bind_optional_text(int index, const std::optional<std::string>& value);

  // Advances one row: true when a row is available, false when done.
  Result<bool> step();
  // Steps to completion, discarding any rows.
  Result<void> run();
  // Rows changed by the last completed INSERT/UPDATE/DELETE on this connection.
  std::int64_t changes() const noexcept;

  // Column readers, 0-based, valid after step() returned true. A NULL reads
  // as an empty blob / 0 / empty string; use is_null or the optional forms.
  bool is_null(int col) const noexcept;
  std::vector<std::uint8_t> blob(int col) const;
  std::int64_t int64(int col) const noexcept;
  std::string text(int col) const;
  std::optional<std::vector<std::uint8_t>> optional_blob(int col) const;
  // Views into SQLite's copy of the column, valid until the next step() or
  // the Query's destruction: for scans that must not allocate per row.
  std::span<const std::uint8_t> blob_view(int col) const noexcept;
  std::string_view text_view(int col) const noexcept;
  std::optional<std::int64_t> optional_int(int col) const noexcept;
  std::optional<std::string> optional_text(int col) const;

  const Sql& sql() const noexcept { return *sql_; }

 private:
  friend class Connection;
  Query(sqlite3_stmt* stmt, bool* in_use, const Sql* sql) noexcept;
  void note_bind(int rc) noexcept;

  sqlite3_stmt* stmt_;
  bool* in_use_;
  const Sql* sql_;
  int bind_rc_ = SQLITE_OK;
};

class Connection {
 public:
  // Opens an existing database file for reading and writing (never creates
  // one: callers create it with the right mode first), with extended result
  // codes, the busy timeout, defensive mode, no double-quoted string literals,
  // untrusted schema and ATTACH disabled. Errc::storage on failure.
  static Result<Connection> open(const std::filesystem::path& file);
  // Opens a copy of a database (a backup) to read it and nothing else:
  // read-only and immutable, so SQLite takes no lock, makes no -wal or -shm
  // file beside it and writes nothing; every write fails. The same settings
  // as open() otherwise. The file must not change while it is open.
  // Errc::storage on failure.
  static Result<Connection> open_copy(const std::filesystem::path& file);

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalizes the cached statements and closes the connection.
  ~Connection();

  // Borrows the statement for `sql`, preparing and caching it on first use.
  // `sql` must have static storage duration (the constants in statements.hpp):
  // the cache is keyed by its address. Errc::internal if that statement is
  // already borrowed by a live Query.
  Result<Query> query(const Sql& sql);
  // query(sql).run(): for statements without parameters.
  Result<void> exec(const Sql& sql);
  // Runs every statement of `script` in order, uncached. For the embedded
  // migration files only; `name` labels errors.
  Result<void> exec_script(std::string_view name, std::string_view script);

  // Finalizes every cached statement (none may be borrowed). Called once
  // the connection is configured, so statements prepared before an
  // authorizer was installed cannot be run later without passing it.
  void forget_statements() noexcept;

  // True while a transaction is open on this connection.
  bool in_transaction() const noexcept;
  // Rolls back the open transaction, if any. Used on failure paths, so it
  // reports nothing: if the rollback itself fails SQLite has already
  // abandoned the transaction.
  void rollback_if_open() noexcept;

  sqlite3* handle() const noexcept { return db_; }

  // A connection to a file stays open: always succeeds (the stores written
  // for every engine call it where a server's connection may have to be
  // opened again: store/keeper_ports.inc).
  Result<void> ensure_open() const noexcept { return {}; }

  // How many connections of this process to the same file are starting a
  // write transaction now (BEGIN IMMEDIATE sent, not yet returned). Read
  // while this connection holds the file's write lock, it counts the others
  // waiting for that lock. One counter per file, shared by its connections.
  std::atomic<int>& writers_starting() const noexcept { return *writers_starting_; }

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  Connection(sqlite3* db, std::shared_ptr<std::atomic<int>> writers_starting) noexcept
      : db_(db), writers_starting_(std::move(writers_starting)) {}
  static Result<Connection> open_with(const std::filesystem::path& file, const std::string& name, int flags);
  void close() noexcept;

  sqlite3* db_ = nullptr;
  std::unordered_map<const Sql*, Cached> cache_;
  std::shared_ptr<std::atomic<int>> writers_starting_;  // never null
};

// Sets and checks the pragmas every rempart connection runs with:
// journal_mode=WAL, synchronous=FULL, secure_delete=ON, foreign_keys=ON,
// trusted_schema=OFF. Must run outside a transaction and before any
// authorizer is installed. Errc::storage if a setting did not take effect.
Result<void> configure(Connection& conn);

}  // namespace rempart::store::sqlite
