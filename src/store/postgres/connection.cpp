#include "store/postgres/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rempart::store::postgres {

namespace {

// Type OIDs of the result columns the readers understand (pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

bool starts_with(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }

// The generic meaning of an SQLSTATE, by its code or class: never the
// server's own message.
std::string_view describe_state(std::string_view state) noexcept {
  if (state == "23505") return "unique violation";
  if (state == "23503") return "foreign key violation";
  if (state == "23514") return "check violation";
  if (state == "23502") return "not-null violation";
  if (state == "40001") return "serialization failure";
  if (state == "40P01") return "deadlock detected";
  if (state == "42501") return "insufficient privilege";
  if (state == "25006") return "read-only transaction";
  if (state == "57014") return "statement cancelled";
  if (state == "55P03") return "lock not available";
  if (starts_with(state, "23")) return "integrity constraint violation";
  if (starts_with(state, "22")) return "data exception";
  if (starts_with(state, "08")) return "connection exception";
  if (starts_with(state, "57")) return "operator intervention";
  if (starts_with(state, "53")) return "insufficient resources";
  if (starts_with(state, "42")) return "syntax error or access rule violation";
  if (starts_with(state, "28")) return "invalid authorization";
  if (starts_with(state, "3D")) return "invalid catalog name";
  if (starts_with(state, "25")) return "invalid transaction state";
  if (state.empty()) return "no server response";
  return "server error";
}

Errc code_of(std::string_view state, bool connection_lost) noexcept {
  if (connection_lost) return Errc::busy;
  if (state == "23505") return Errc::conflict;
  if (starts_with(state, "23") || starts_with(state, "22")) return Errc::invalid_input;
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014" || state == "25006" ||
      starts_with(state, "08") || starts_with(state, "57P") || starts_with(state, "53")) {
    return Errc::busy;
  }
  if (state == "42501" || starts_with(state, "28")) return Errc::permission;
  return Errc::storage;
}

std::uint64_t be_bytes(const char* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

bool Connection::wait_input(std::chrono::steady_clock::time_point deadline) {
  PGconn* c = conn_.get();
  while (PQisBusy(c) != 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      // A server that holds the socket open and says nothing (hung, or
      // stopped): this session is given up; the next transaction opens
      // another, on whichever server is writable then.
      broken_ = true;
      return false;
    }
    pollfd pfd{PQsocket(c), POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) {
      broken_ = true;
      return false;
    }
    if (PQconsumeInput(c) == 0) return true;  // the connection failed: PQgetResult reports it
  }
  return true;
}

Result<ResultPtr> Connection::await(std::string_view what, std::string_view name) {
  PGconn* c = conn_.get();
  const auto deadline = std::chrono::steady_clock::now() + options_.answer_within;
  ResultPtr first;
  for (;;) {
    if (!wait_input(deadline)) {
      return fail(Errc::busy, "postgresql " + std::string(what) + " " + std::string(name) + ": no answer within " +
                                  std::to_string(options_.answer_within.count()) + " ms");
    }
    PGresult* r = PQgetResult(c);
    if (r == nullptr) break;
    if (!first) {
      first.reset(r);
    } else {
      PQclear(r);  // a command sends one result; anything after it is dropped
    }
    if (PQstatus(c) != CONNECTION_OK) break;
  }
  if (!first) {
    broken_ = broken_ || PQstatus(c) != CONNECTION_OK;
    return std::unexpected(pg_error(nullptr, c, what, name));
  }
  return first;
}

std::string_view sqlstate(const PGresult* res) noexcept {
  if (res == nullptr) return {};
  const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return s != nullptr ? std::string_view(s) : std::string_view{};
}

Error pg_error(const PGresult* res, const PGconn* conn, std::string_view what, std::string_view name) {
  const std::string_view state = sqlstate(res);
  const bool lost = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
  std::string msg = "postgresql ";
  msg.append(what);
  msg.append(" ");
  msg.append(name);
  msg.append(": ");
  msg.append(lost && state.empty() ? std::string_view("connection lost") : describe_state(state));
  if (!state.empty()) {
    msg.append(" (SQLSTATE ");
    msg.append(state);
    msg.append(")");
  }
  return Error{code_of(state, lost && state.empty()), std::move(msg)};
}

Result<std::string> read_password_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(Errc::io, "cannot open the database password file " + file.string());
  struct stat st {};
  std::string text;
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const bool shared = ok && (st.st_mode & 077) != 0;
  if (ok && !shared) {
    std::array<char, 512> buf{};
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ok = false;
        break;
      }
      if (n == 0) break;
      text.append(buf.data(), static_cast<std::size_t>(n));
      if (text.size() > 4096) {
        ok = false;
        break;
      }
    }
    ::explicit_bzero(buf.data(), buf.size());
  }
  ::close(fd);
  if (shared) {
    return fail(Errc::permission, "the database password file " + file.string() +
                                      " is readable by group or others; make it mode 0600");
  }
  if (!ok) return fail(Errc::io, "cannot read the database password file " + file.string());
  const auto eol = text.find_first_of("\r\n");
  if (eol != std::string::npos) {
    ::explicit_bzero(text.data() + eol, text.size() - eol);
    text.resize(eol);
  }
  if (text.empty()) return fail(Errc::config, "the database password file " + file.string() + " is empty");
  return text;
}

// ---- Query ----------------------------------------------------------------

Query::Param& Query::slot(int index) {
  static Param sink;
  if (index < 1 || index > 1000) {
    bad_index_ = true;
    sink = Param{};
    return sink;
  }
  if (params_.size() < static_cast<std::size_t>(index)) params_.resize(static_cast<std::size_t>(index));
  return params_[static_cast<std::size_t>(index - 1)];
}

Query& Query::bind_blob(int index, std::span<const std::uint8_t> value) {
  Param& p = slot(index);
  p.value.assign(reinterpret_cast<const char*>(value.data()), value.size());
  p.null = false;
  p.binary = true;
  return *this;
}

Query& Query::bind_int(int index, std::int64_t value) {
  Param& p = slot(index);
  p.value = std::to_string(value);
  p.null = false;
  p.binary = false;
  return *this;
}

Query& Query::bind_double(int index, double value) {
  Param& p = slot(index);
  std::array<char, 64> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%.17g", value);
  p.value.assign(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
  p.null = false;
  p.binary = false;
  return *this;
}

Query& Query::bind_text(int index, std::string_view value) {
  Param& p = slot(index);
  p.value.assign(value);
  p.null = false;
  p.binary = true;  // text's binary form is its bytes
  return *this;
}

Query& Query::bind_null(int index) {
  Param& p = slot(index);
  p.value.clear();
  p.null = true;
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

Result<void> Query::execute() {
  if (bad_index_) return fail(Errc::internal, "postgresql bind " + std::string(sql_->name) + ": parameter out of range");
  auto prep = conn_->prepared(*sql_);
  if (!prep) return propagate(prep);
  const int n = (*prep)->params;
  if (params_.size() > static_cast<std::size_t>(n)) {
    return fail(Errc::internal, "postgresql bind " + std::string(sql_->name) + ": more parameters than the statement has");
  }
  params_.resize(static_cast<std::size_t>(n));
  std::vector<const char*> values(static_cast<std::size_t>(n));
  std::vector<int> lengths(static_cast<std::size_t>(n));
  std::vector<int> formats(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    values[i] = p.null ? nullptr : p.value.data();
    lengths[i] = static_cast<int>(p.value.size());
    formats[i] = p.binary ? 1 : 0;
  }
  const std::string name(sql_->name);
  if (PQsendQueryPrepared(conn_->handle(), name.c_str(), n, values.data(), lengths.data(), formats.data(), 1) != 1) {
    conn_->broken_ = PQstatus(conn_->handle()) != CONNECTION_OK;
    return std::unexpected(pg_error(nullptr, conn_->handle(), "step", sql_->name));
  }
  auto got = conn_->await("step", sql_->name);
  if (!got) return propagate(got);
  result_ = std::move(*got);
  const ExecStatusType st = result_ ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    Error e = pg_error(result_.get(), conn_->handle(), "step", sql_->name);
    result_.reset();
    return std::unexpected(std::move(e));
  }
  // Values sent are no longer needed: drop them (they may be personal data).
  for (Param& p : params_) {
    std::fill(p.value.begin(), p.value.end(), '\0');
    p.value.clear();
  }
  row_ = -1;
  return {};
}

Result<bool> Query::step() {
  if (!result_) {
    if (auto r = execute(); !r) return std::unexpected(r.error());
  }
  const int rows = PQntuples(result_.get());
  if (row_ + 1 >= rows) {
    row_ = rows;
    return false;
  }
  ++row_;
  return true;
}

Result<void> Query::run() {
  if (!result_) return execute();
  row_ = PQntuples(result_.get());
  return {};
}

std::int64_t Query::changes() const noexcept {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  if (n == nullptr || *n == '\0') return 0;
  return std::strtoll(n, nullptr, 10);
}

bool Query::is_null(int col) const noexcept { return PQgetisnull(result_.get(), row_, col) != 0; }

std::span<const std::uint8_t> Query::blob_view(int col) const noexcept {
  if (is_null(col)) return {};
  return {reinterpret_cast<const std::uint8_t*>(PQgetvalue(result_.get(), row_, col)),
          static_cast<std::size_t>(PQgetlength(result_.get(), row_, col))};
}

std::string_view Query::text_view(int col) const noexcept {
  if (is_null(col)) return {};
  return {PQgetvalue(result_.get(), row_, col), static_cast<std::size_t>(PQgetlength(result_.get(), row_, col))};
}

std::vector<std::uint8_t> Query::blob(int col) const {
  const auto v = blob_view(col);
  return {v.begin(), v.end()};
}

std::string Query::text(int col) const { return std::string(text_view(col)); }

std::int64_t Query::int64(int col) const noexcept {
  if (is_null(col)) return 0;
  const char* p = PQgetvalue(result_.get(), row_, col);
  const int len = PQgetlength(result_.get(), row_, col);
  switch (PQftype(result_.get(), col)) {
    case kInt8Oid:
      return len == 8 ? static_cast<std::int64_t>(be_bytes(p, 8)) : 0;
    case kInt4Oid:
      return len == 4 ? static_cast<std::int32_t>(static_cast<std::uint32_t>(be_bytes(p, 4))) : 0;
    case kInt2Oid:
      return len == 2 ? static_cast<std::int16_t>(static_cast<std::uint16_t>(be_bytes(p, 2))) : 0;
    case kBoolOid:
      return len == 1 && p[0] != 0 ? 1 : 0;
    case kFloat8Oid:
    case kFloat4Oid:
      return static_cast<std::int64_t>(float64(col));
    default:
      return 0;  // a statement must cast what it returns as an integer
  }
}

double Query::float64(int col) const noexcept {
  if (is_null(col)) return 0;
  const char* p = PQgetvalue(result_.get(), row_, col);
  const int len = PQgetlength(result_.get(), row_, col);
  switch (PQftype(result_.get(), col)) {
    case kFloat8Oid:
      return len == 8 ? std::bit_cast<double>(be_bytes(p, 8)) : 0;
    case kFloat4Oid:
      return len == 4 ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(be_bytes(p, 4)))) : 0;
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kBoolOid:
      return static_cast<double>(int64(col));
    default:
      return 0;
  }
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

// ---- Connection -------------------------------------------------------------

// Every session: rempart's schema first; literals as the standard says; a
// commit that returns is durable (a server or database default of `off`
// would let a sign-up be acknowledged that a crash then loses: each session
// sets `on`, which still waits for a synchronous standby where one is
// configured); a session left idle inside a transaction (a hung process
// holding claimed items or the writers' lock) is ended after a minute.
constexpr const char* kSessionOptions =
    "-c search_path=rempart -c standard_conforming_strings=on -c synchronous_commit=on"
    " -c idle_in_transaction_session_timeout=60000";

Result<Connection> Connection::open(const ConnectOptions& o) {
  // Defaults first, which the dsn may change (a later keyword wins); then
  // the dsn; then what rempart does not leave to it.
  std::vector<const char*> keys{"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "tcp_user_timeout",
                                "dbname", "client_encoding", "options", "application_name"};
  std::vector<const char*> values{"10", "1", "10", "5", "3", "20000",
                                  o.dsn.c_str(), "UTF8", kSessionOptions, o.application_name.c_str()};
  if (!o.user.empty()) {
    keys.push_back("user");
    values.push_back(o.user.c_str());
  }
  if (!o.password.empty()) {
    keys.push_back("password");
    values.push_back(o.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectdbParams(keys.data(), values.data(), 1));
  if (!conn) return fail(Errc::storage, "postgresql connect: out of memory");
  // The server's notices (NOTICE, WARNING) would go to stderr as they come:
  // their text is the server's, and may quote anything. Not shown; the
  // warnings are counted (pipeline_transaction does not acknowledge a
  // commit the server warned about).
  auto notices = std::make_unique<Notices>();
  PQsetNoticeReceiver(
      conn.get(),
      [](void* arg, const PGresult* res) {
        const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (severity != nullptr && std::string_view(severity) == "WARNING") {
          static_cast<Notices*>(arg)->warnings.fetch_add(1);
        }
      },
      notices.get());
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // libpq's message may name the host and the user, never a password;
    // it is not passed on all the same: only what kind of failure it was.
    const std::string_view msg = PQerrorMessage(conn.get());
    const bool auth = msg.find("authentication") != std::string_view::npos ||
                      msg.find("password") != std::string_view::npos ||
                      msg.find("role") != std::string_view::npos ||
                      msg.find("permission denied") != std::string_view::npos;
    if (auth) return fail(Errc::permission, "postgresql connect: the server refused the role or its credentials");
    const bool missing_db = msg.find("does not exist") != std::string_view::npos;
    if (missing_db) return fail(Errc::config, "postgresql connect: the database does not exist");
    return fail(Errc::busy, "postgresql connect: the server cannot be reached");
  }
  Connection out(std::move(conn), o);
  out.notices_ = std::move(notices);
  // libpq keeps its own copy for reconnecting; this one is not needed.
  ::explicit_bzero(out.options_.password.data(), out.options_.password.size());
  out.options_.password.clear();
  return out;
}

Result<const Connection::Prepared*> Connection::prepared(const Sql& sql) {
  if (auto it = cache_.find(&sql); it != cache_.end()) return &it->second;
  const std::string name(sql.name);
  const std::string text(sql.text);
  if (PQsendPrepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr) != 1) {
    broken_ = PQstatus(conn_.get()) != CONNECTION_OK;
    return std::unexpected(pg_error(nullptr, conn_.get(), "prepare", sql.name));
  }
  auto r = await("prepare", sql.name);
  if (!r) return propagate(r);
  if (PQresultStatus(r->get()) != PGRES_COMMAND_OK) {
    // A statement of that name prepared by an earlier Connection object on
    // this very session (after a move) is fine: describe it instead.
    if (sqlstate(r->get()) != "42P05") return std::unexpected(pg_error(r->get(), conn_.get(), "prepare", sql.name));
  }
  if (PQsendDescribePrepared(conn_.get(), name.c_str()) != 1) {
    broken_ = PQstatus(conn_.get()) != CONNECTION_OK;
    return std::unexpected(pg_error(nullptr, conn_.get(), "describe", sql.name));
  }
  auto d = await("describe", sql.name);
  if (!d) return propagate(d);
  if (PQresultStatus(d->get()) != PGRES_COMMAND_OK) {
    return std::unexpected(pg_error(d->get(), conn_.get(), "describe", sql.name));
  }
  auto [it, _] = cache_.emplace(&sql, Prepared{PQnparams(d->get())});
  return &it->second;
}

Result<Query> Connection::query(const Sql& sql) {
  if (!conn_) return fail(Errc::internal, "postgresql: query on a closed connection");
  // Outside a transaction, a read reconnects as a transaction does (inside
  // one, a lost session fails the transaction).
  if (!in_transaction()) {
    if (auto ok = ensure_open(); !ok) return propagate(ok);
  }
  return Query(this, &sql);
}

Result<void> Connection::exec(const Sql& sql) {
  auto q = query(sql);
  if (!q) return propagate(q);
  return q->run();
}

Result<void> Connection::exec_script(std::string_view name, std::string_view script) {
  const std::string text(script);
  ResultPtr r(PQexec(conn_.get(), text.c_str()));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    return std::unexpected(pg_error(r.get(), conn_.get(), "script", name));
  }
  return {};
}

Result<void> Connection::prepare_all(std::span<const Sql* const> statements) {
  for (const Sql* s : statements) {
    if (auto p = prepared(*s); !p) return propagate(p);
  }
  return {};
}

Result<void> Connection::pipeline_transaction(std::span<const Piped> statements) {
  if (statements.empty()) return {};
  if (auto ok = ensure_open(); !ok) return ok;
  for (const Piped& p : statements) {
    if (auto pr = prepared(*p.sql); !pr) return propagate(pr);
  }
  PGconn* c = conn_.get();
  if (PQenterPipelineMode(c) != 1) return fail(Errc::storage, "postgresql pipeline: cannot enter pipeline mode");
  // Every statement up to the sync runs in one implicit transaction, which
  // the sync commits, or rolls back at the first error.
  std::size_t sent = 0;
  bool send_failed = false;
  for (const Piped& p : statements) {
    const std::size_t n = p.text_params.size();
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    std::vector<int> formats(n);
    for (std::size_t i = 0; i < n; ++i) {
      values[i] = p.text_params[i] ? p.text_params[i]->data() : nullptr;
      lengths[i] = p.text_params[i] ? static_cast<int>(p.text_params[i]->size()) : 0;
      formats[i] = i < p.binary.size() && p.binary[i] ? 1 : 0;
    }
    const std::string name(p.sql->name);
    if (PQsendQueryPrepared(c, name.c_str(), static_cast<int>(n), values.data(), lengths.data(), formats.data(), 1) !=
        1) {
      send_failed = true;
      break;
    }
    ++sent;
  }
  const bool synced = PQpipelineSync(c) == 1;
  Result<void> outcome;
  std::size_t done = 0;
  const auto deadline = std::chrono::steady_clock::now() + options_.answer_within;
  const std::uint64_t warnings_before = notices_->warnings.load();
  // Read every result up to the sync (or until the connection fails, or
  // the server stops answering).
  for (bool finished = !synced && sent == 0; !finished;) {
    if (!wait_input(deadline)) {
      PQexitPipelineMode(c);
      return fail(Errc::busy, "postgresql pipeline: no answer within " +
                                  std::to_string(options_.answer_within.count()) + " ms; not acknowledged");
    }
    PGresult* raw = PQgetResult(c);
    if (raw == nullptr) {
      if (PQstatus(c) != CONNECTION_OK) break;
      continue;  // end of one statement's results
    }
    ResultPtr r(raw);
    switch (PQresultStatus(r.get())) {
      case PGRES_PIPELINE_SYNC:
        finished = true;
        break;
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
        ++done;
        break;
      case PGRES_PIPELINE_ABORTED:
        break;
      default:
        if (outcome) {
          const std::string_view name = done < statements.size() ? statements[done].sql->name : "sync";
          outcome = std::unexpected(pg_error(r.get(), c, "pipeline", name));
        }
        if (PQstatus(c) != CONNECTION_OK) finished = true;
        break;
    }
  }
  PQexitPipelineMode(c);
  if (!outcome) return outcome;
  if (send_failed || !synced || done != statements.size()) {
    broken_ = broken_ || PQstatus(c) != CONNECTION_OK;
    return fail(Errc::busy, "postgresql pipeline: the connection failed before the commit was confirmed");
  }
  // A commit the server reports with a warning may not be where it should
  // be: "committed locally, but might not have been replicated" when the
  // wait for a synchronous standby was cancelled. Not acknowledged (the
  // client sends it again; the fold merges the two).
  if (notices_->warnings.load() != warnings_before) {
    return fail(Errc::busy, "postgresql pipeline: the server warned at the commit (its replication in doubt); "
                            "not acknowledged");
  }
  return {};
}

bool Connection::in_transaction() const noexcept {
  if (!conn_ || broken_) return false;
  const PGTransactionStatusType t = PQtransactionStatus(conn_.get());
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

void Connection::rollback_if_open() noexcept {
  if (!in_transaction()) return;  // a broken session is not asked: it may not answer
  if (PQsendQuery(conn_.get(), std::string(sql::kRollback.text).c_str()) != 1) return;
  (void)await("rollback", sql::kRollback.name);
}

Result<void> Connection::ensure_open() {
  if (!conn_) return fail(Errc::internal, "postgresql: closed connection");
  if (!broken_ && PQstatus(conn_.get()) == CONNECTION_OK) return {};
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) return fail(Errc::busy, "postgresql: the server cannot be reached (waiting to retry)");
  PQreset(conn_.get());
  cache_.clear();  // a new session knows no prepared statement
  if (PQstatus(conn_.get()) == CONNECTION_OK) {
    broken_ = false;
    ++session_;
    backoff_ = std::chrono::milliseconds(100);
    next_attempt_ = {};
    return {};
  }
  next_attempt_ = now + backoff_;
  backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, std::chrono::milliseconds(5000));
  return fail(Errc::busy, "postgresql: the server cannot be reached");
}

}  // namespace rempart::store::postgres
