#pragma once
// A small RAII layer over libpq, the same shape as sqlite/connection.hpp so
// that the PostgreSQL store reads like the SQLite one: one connection, its
// statements prepared on the server once and cached by the Sql constant they
// come from, and bind/step/column helpers that turn libpq results into
// rempart::Error. Error messages name the statement constant and the
// SQLSTATE's class; they never carry SQL text, bound values or the server's
// message (which may quote a value: "Key (x)=(...) already exists").
//
// Values travel in libpq's extended protocol, never in the statement text:
// integers as decimal text (so any integer type the server infers accepts
// them), blobs and text in binary. Results come back in binary.
//
// Thread-safety: a Connection and the Query objects it hands out must be used
// by one thread at a time.
#include <libpq-fe.h>
#include <string.h>

#include <atomic>
#include <chrono>
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
#include "store/postgres/statements.hpp"

namespace rempart::store::postgres {

// Where and as whom to connect. `dsn` names the server(s) and the database
// (keywords or a URI, as libpq takes them); `user` and `password` are passed
// beside it, never spliced into it.
struct ConnectOptions {
  std::string dsn;
  std::string user;      // empty: libpq's default
  std::string password;  // empty: none (peer, certificate or .pgpass); wiped on destruction
  std::string application_name = "rempart";
  // How long a statement, a prepare or a pipelined commit may wait for the
  // server's answer: past it the session is given up as hung (its server
  // stopped, or cut off without a word) and the next transaction opens
  // another, on whichever server is writable then.
  std::chrono::milliseconds answer_within{15'000};
  ~ConnectOptions() { ::explicit_bzero(password.data(), password.size()); }
};

// Reads a password file: its first line, without the line end. Errc::permission
// if the file is readable by group or others, Errc::io if it cannot be read,
// Errc::config if it is empty.
Result<std::string> read_password_file(const std::filesystem::path& file);

// Maps a failed result to an Error naming `what` and `name`: unique
// violations -> Errc::conflict; other integrity violations and data errors
// -> Errc::invalid_input; serialization failures, deadlocks, lock timeouts,
// cancels and a lost connection -> Errc::busy; insufficient privilege ->
// Errc::permission; anything else -> Errc::storage.
Error pg_error(const PGresult* res, const PGconn* conn, std::string_view what, std::string_view name);
// The SQLSTATE of a failed result ("" if none).
std::string_view sqlstate(const PGresult* res) noexcept;

class Connection;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// One execution of a prepared statement. Binders are 1-based like `$N`;
// parameters left unbound are sent as NULL. The statement runs at the first
// step() (or run()) and its whole result is kept by the Query; rows are then
// read one step at a time. Several Queries of one connection may be alive at
// once. Must not outlive its Connection.
class Query {
 public:
  Query(Query&&) noexcept = default;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() = default;

  Query& bind_blob(int index, std::span<const std::uint8_t> value);
  Query& bind_int(int index, std::int64_t value);
  Query& bind_double(int index, double value);
  Query& bind_text(int index, std::string_view value);
  Query& bind_null(int index);
  Query& bind_optional_blob(int index, const std::optional<std::vector<std::uint8_t>>& value);
  Query& bind_optional_int(int index, const std::optional<std::int64_t>& value);
  Query& bind_optional_text(int index, const std::optional<std::string>& value);

  // Runs the statement if it has not run, then advances one row: true when
  // a row is available, false when done.
  Result<bool> step();
  // Runs the statement (if it has not run) and discards any rows.
  Result<void> run();
  // Rows changed by this statement (INSERT/UPDATE/DELETE), after it ran.
  std::int64_t changes() const noexcept;

  // Column readers, 0-based, valid after step() returned true. A NULL reads
  // as an empty blob / 0 / empty string; use is_null or the optional forms.
  // Integer readers accept bigint, integer, smallint and boolean columns.
  bool is_null(int col) const noexcept;
  std::vector<std::uint8_t> blob(int col) const;
  std::int64_t int64(int col) const noexcept;
  double float64(int col) const noexcept;
  std::string text(int col) const;
  std::optional<std::vector<std::uint8_t>> optional_blob(int col) const;
  std::span<const std::uint8_t> blob_view(int col) const noexcept;
  std::string_view text_view(int col) const noexcept;
  std::optional<std::int64_t> optional_int(int col) const noexcept;
  std::optional<std::string> optional_text(int col) const;

  const Sql& sql() const noexcept { return *sql_; }

 private:
  friend class Connection;
  Query(Connection* conn, const Sql* sql) noexcept : conn_(conn), sql_(sql) {}
  struct Param {
    std::string value;
    bool null = true;
    bool binary = false;
  };
  Param& slot(int index);
  Result<void> execute();

  Connection* conn_;
  const Sql* sql_;
  std::vector<Param> params_;
  bool bad_index_ = false;
  ResultPtr result_;
  int row_ = -1;
};

class Connection {
 public:
  // Connects and checks the session: UTF8 client encoding, search_path
  // `rempart`, standard_conforming_strings. Errc::busy if the server cannot
  // be reached (try again later), Errc::permission if it refuses the role,
  // Errc::storage otherwise.
  static Result<Connection> open(const ConnectOptions& options);

  Connection(Connection&& other) noexcept = default;
  Connection& operator=(Connection&& other) noexcept = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // A Query for `sql`, prepared on the server on first use. `sql` must have
  // static storage duration (the constants in statements.hpp): the cache is
  // keyed by its address.
  Result<Query> query(const Sql& sql);
  // query(sql).run(): for statements without parameters.
  Result<void> exec(const Sql& sql);
  // Runs every statement of `script` (simple protocol, uncached). For the
  // embedded migration files only; `name` labels errors.
  Result<void> exec_script(std::string_view name, std::string_view script);

  // Prepares `statements` now (so a later failure of the server to know
  // them cannot come mid-transaction).
  Result<void> prepare_all(std::span<const Sql* const> statements);

  // Runs the prepared `statements` with their `binds` in one round trip
  // (libpq's pipeline mode), between BEGIN and COMMIT: either every one
  // committed, or the call fails and nothing did (or, when the connection
  // broke during COMMIT, the outcome is unknown and the call fails).
  struct Piped {
    const Sql* sql;
    std::vector<std::optional<std::string>> text_params;  // nullopt = NULL
    std::vector<bool> binary;                             // per parameter
  };
  Result<void> pipeline_transaction(std::span<const Piped> statements);

  // True while a transaction is open on this connection.
  bool in_transaction() const noexcept;
  // Rolls back the open transaction, if any; reports nothing.
  void rollback_if_open() noexcept;

  // Whether the connection is usable; if not, tries once to connect again
  // (at most every `backoff`, which doubles up to 5 s while attempts fail).
  // Errc::busy while the server stays unreachable.
  Result<void> ensure_open();

  PGconn* handle() const noexcept { return conn_.get(); }
  // Counts the sessions this connection opened: what a session holds (an
  // advisory lock) is gone once this changes.
  std::uint64_t session() const noexcept { return session_; }

 private:
  friend class Query;
  struct ConnDeleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
  };
  struct Prepared {
    int params = 0;
  };
  Connection(std::unique_ptr<PGconn, ConnDeleter> c, ConnectOptions o) : conn_(std::move(c)), options_(std::move(o)) {}
  Result<const Prepared*> prepared(const Sql& sql);
  // Waits, until `deadline`, for the server's answer to be readable: false
  // (the session marked broken) if it did not come.
  bool wait_input(std::chrono::steady_clock::time_point deadline);
  // The result of the command just sent, read within answer_within.
  Result<ResultPtr> await(std::string_view what, std::string_view name);

  struct Notices {
    std::atomic<std::uint64_t> warnings{0};
  };
  std::unique_ptr<PGconn, ConnDeleter> conn_;
  ConnectOptions options_;
  std::unordered_map<const Sql*, Prepared> cache_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{100};
  std::uint64_t session_ = 1;
  bool broken_ = false;  // given up (no answer in time): reconnect before any use
  std::unique_ptr<Notices> notices_;  // where the notice receiver counts (stable across moves)
};

// Runs `body` between BEGIN and COMMIT on `conn`, rolling back if it fails
// or throws. Errc::internal if a transaction is open already.
template <typename Body>
Result<void> in_transaction(Connection& conn, Body&& body) {
  if (conn.in_transaction()) return fail(Errc::internal, "transaction requested inside a transaction");
  if (auto ok = conn.ensure_open(); !ok) return ok;
  if (auto begun = conn.exec(sql::kBegin); !begun) return begun;
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

}  // namespace rempart::store::postgres
