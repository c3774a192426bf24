#include "store/postgres/postgres_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/statements.hpp"
#include "store/tag_list.hpp"

namespace rempart::store {

namespace {

using postgres::Connection;
using postgres::in_transaction;
using postgres::Query;
namespace sql = postgres::sql;

using EngineSql = postgres::Sql;
constexpr std::string_view kEngine = "postgresql";
constexpr const EngineSql& kBeginSnapshot = sql::kBeginReadOnlySnapshot;

#include "store/keeper_ports.inc"

class PgKeeperTx final : public KeeperWrites {
 public:
  explicit PgKeeperTx(Connection& conn) : KeeperWrites(conn) {}

  // The inbox is a table of this database: a fold claims its items here.
  bool claims_inbox() const override { return true; }
  Result<std::vector<InboxRow>> claim_inbox(std::size_t limit, KeyVersions versions) override {
    auto q = conn_.query(sql::kClaimInbox);
    if (!q) return propagate(q);
    q->bind_int(1, sql_limit(limit)).bind_int(2, versions.first).bind_int(3, versions.last);
    return read_inbox_rows(*q);
  }
  Result<std::optional<BatchRow>> inbox_batch(const Bytes& uid) override { return select_batch(conn_, uid); }
  Result<std::int64_t> delete_inbox(std::span<const std::int64_t> ids, std::span<const Bytes> batches) override {
    return delete_inbox_items(conn_, ids, batches);
  }

  // Keepers do not queue behind one write lock here: each transaction locks
  // the rows it writes, and the audit chain's tail (audit_head).
  bool yield_requested() const override { return false; }

  // The chain's tail is read to append after it: the transaction takes the
  // chain's lock first (held to its end), so appends by several keepers
  // queue and each sees the head the one before committed (READ COMMITTED
  // reads the latest committed rows at each statement).
  Result<std::optional<AuditHead>> audit_head() override {
    if (auto l = lock_writers(); !l) return std::unexpected(std::move(l.error()));
    return KeeperWrites::audit_head();
  }

  // Takes the writers' lock once (held to the transaction's end).
  Result<void> lock_writers() {
    if (chain_locked_) return {};
    if (auto l = conn_.exec(sql::kAuditAppendLock); !l) return l;
    chain_locked_ = true;
    return {};
  }

 private:
  bool chain_locked_ = false;
};

// ---- Intake --------------------------------------------------------------------

std::optional<std::string> as_text(std::span<const std::uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class PgIntakeStore final : public IntakeStore {
 public:
  explicit PgIntakeStore(Connection conn) : conn_(std::move(conn)) {}

  // One round trip: every insert pipelined, committed by the sync. A retry
  // after a lost commit inserts nothing twice (ON CONFLICT DO NOTHING on the
  // batch's and the item's uid: the intake may not read to find out).
  Result<void> append(std::span<const BatchRow> batches, std::span<const InboxRow> items) override {
    if (batches.empty() && items.empty()) return {};
    std::vector<Connection::Piped> piped;
    piped.reserve(batches.size() + items.size());
    for (const BatchRow& b : batches) {
      piped.push_back(Connection::Piped{&sql::kInsertBatch,
                                        {as_text(b.uid), std::to_string(b.key_version), as_text(b.ephemeral_public),
                                         std::to_string(b.created_at)},
                                        {true, false, true, false}});
    }
    for (const InboxRow& item : items) {
      piped.push_back(Connection::Piped{&sql::kInsertInboxItem,
                                        {as_text(item.batch_uid), as_text(item.item_uid), as_text(item.wrapped_key),
                                         as_text(item.fields), std::to_string(item.received_at)},
                                        {true, true, true, true, false}});
    }
    auto r = conn_.pipeline_transaction(piped);
    // A batch sent again with more of its items may meet the keeper
    // deleting it (every item of it folded) between the two inserts: its
    // items then lack their batch. Once more, the batch goes in again.
    if (!r && r.error().internal.find("SQLSTATE 23503") != std::string::npos) r = conn_.pipeline_transaction(piped);
    return r;
  }

  PGconn* raw() const noexcept { return conn_.handle(); }

 private:
  Connection conn_;
};

class PgSignupLimiter final : public SignupLimiter {
 public:
  explicit PgSignupLimiter(Connection conn) : conn_(std::move(conn)) {}

  // Outside any transaction (the bucket's row is locked for the statement
  // only); the server's clock, which every intake node shares.
  Result<double> take(std::string_view key, double rate, double burst) override {
    if (auto ok = conn_.ensure_open(); !ok) return propagate(ok);
    auto q = conn_.query(sql::kTakeSignupToken);
    if (!q) return propagate(q);
    q->bind_text(1, key).bind_double(2, rate).bind_double(3, burst).bind_null(4);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row) return fail(Errc::storage, "postgresql kTakeSignupToken returned no row");
    return q->float64(0);
  }

 private:
  Connection conn_;
};

// ---- Keeper --------------------------------------------------------------------

struct KeeperConnection {
  explicit KeeperConnection(Connection c) : db_(std::move(c)) {}
  Connection db_;
};

class PgKeeperStore final : private KeeperConnection, public StoreReads<KeeperStore> {
 public:
  explicit PgKeeperStore(Connection c) : KeeperConnection(std::move(c)), StoreReads<KeeperStore>(db_) {}

  // Every write transaction takes the writers' lock (the audit chain's) at
  // its start, as SQLite's one writer at a time: the day counts and the
  // chain's tail are rows every writer touches, and taken in any order they
  // would deadlock. Reads (snapshot) take none.
  Result<void> transact(const std::function<Result<void>(KeeperTx&)>& fn) override {
    return in_transaction(db_, [&]() -> Result<void> {
      PgKeeperTx tx(db_);
      if (auto l = tx.lock_writers(); !l) return l;
      return fn(tx);
    });
  }

  // A fold's transaction claims and opens its items before it writes: the
  // lock is taken at its first audit_head (write_items), so several
  // keepers claim and open in parallel and queue for the writes only.
  Result<void> transact_fold(const std::function<Result<void>(KeeperTx&)>& fn) override {
    return in_transaction(db_, [&]() -> Result<void> {
      PgKeeperTx tx(db_);
      return fn(tx);
    });
  }

  // Writers do not queue behind one lock: nothing to wait for.
  void make_way() override {}

  Result<void> snapshot(const std::function<Result<void>()>& fn) override {
    if (!db_.in_transaction()) {
      if (auto ok = db_.ensure_open(); !ok) return ok;
    }
    return in_read_snapshot(db_, fn);
  }

  // PostgreSQL keeps a deleted row's old version in the table until VACUUM
  // (autovacuum, soon after) reuses its space, and in the WAL until its
  // segments are recycled, and in archives, standbys and backups for as
  // long as they are kept: the keeper's role can force none of this (it
  // owns no table). Says so: false (docs/postgresql.md, "Erasure").
  Result<bool> flush_deleted() override { return false; }

  bool claims_inbox() const override { return true; }

  // A session-level advisory lock: asked once per session (a second ask
  // would stack it), kept until the session ends.
  Result<bool> lead_mail() override {
    if (auto ok = db_.ensure_open(); !ok) return propagate(ok);
    if (leading_session_ == db_.session()) return true;
    auto q = db_.query(sql::kTryLeadMail);
    if (!q) return propagate(q);
    auto row = q->step();
    if (!row) return propagate(row);
    if (!*row || q->int64(0) == 0) return false;
    leading_session_ = db_.session();
    return true;
  }

  PGconn* raw() const noexcept { return db_.handle(); }

 private:
  std::uint64_t leading_session_ = 0;
};

// The statements each role prepares at connect time: a schema or grant
// mismatch shows at start-up, not on the first request.
constexpr const postgres::Sql* kIntakeStatements[] = {&sql::kInsertBatch, &sql::kInsertInboxItem};
constexpr const postgres::Sql* kLimiterStatements[] = {&sql::kTakeSignupToken};
constexpr const postgres::Sql* kInboxStatements[] = {&sql::kPeekInboxAfter, &sql::kSelectBatch,
                                                     &sql::kDeleteInboxItem, &sql::kDeleteBatchIfUnreferenced,
                                                     &sql::kInboxIsEmpty, &sql::kDeleteUnreferencedBatches,
                                                     &sql::kCountInbox};
constexpr const postgres::Sql* kKeeperStatements[] = {&sql::kInsertSupporter, &sql::kUpdateSupporter,
                                                      &sql::kSelectAuditHead, &sql::kInsertAuditEntry,
                                                      &sql::kInsertAuditCheckpoint, &sql::kInsertHoneytoken,
                                                      &sql::kSelectIsHoneytoken, &sql::kAddToGuardCounter,
                                                      &sql::kInsertFoldedItem, &sql::kDeleteFoldedItem,
                                                      &sql::kAuditAppendLock, &sql::kClaimInbox};

Result<Connection> open_role_connection(const postgres::ConnectOptions& o, std::span<const postgres::Sql* const> warm,
                                        bool check_version) {
  auto conn = Connection::open(o);
  if (!conn) return conn;
  if (check_version) {
    if (auto v = postgres::check_schema_version(*conn); !v) return propagate(v);
  }
  if (auto p = conn->prepare_all(warm); !p) return propagate(p);
  return conn;
}

}  // namespace

Result<std::unique_ptr<IntakeStore>> open_postgres_intake(const postgres::ConnectOptions& o) {
  // The intake cannot read schema_migrations: preparing its inserts checks
  // the tables it writes exist and that it may write them.
  auto conn = open_role_connection(o, kIntakeStatements, false);
  if (!conn) return propagate(conn);
  return std::make_unique<PgIntakeStore>(std::move(*conn));
}

Result<std::unique_ptr<InboxStore>> open_postgres_inbox(const postgres::ConnectOptions& o) {
  auto conn = open_role_connection(o, kInboxStatements, true);
  if (!conn) return propagate(conn);
  return std::make_unique<InboxOnConnection>(std::move(*conn));
}

Result<std::unique_ptr<KeeperStore>> open_postgres_keeper(const postgres::ConnectOptions& o) {
  auto conn = open_role_connection(o, kKeeperStatements, true);
  if (!conn) return propagate(conn);
  return std::make_unique<PgKeeperStore>(std::move(*conn));
}

namespace {

class PgBackend final : public Backend {
 public:
  explicit PgBackend(StorageOptions o) : o_(std::move(o)) {}

  Result<std::unique_ptr<IntakeStore>> open_intake() override {
    auto c = connect(o_.intake_user, o_.intake_password_file, "rempart-intake");
    if (!c) return propagate(c);
    // Inserts wait for no lock: a commit not answered in 5 s is a server
    // gone quiet (the sign-ups get 503 and the next group reconnects).
    c->answer_within = std::chrono::milliseconds(5'000);
    return open_postgres_intake(*c);
  }
  Result<std::unique_ptr<InboxStore>> open_inbox() override {
    auto c = connect(o_.keeper_user, o_.keeper_password_file, "rempart-keeper");
    if (!c) return propagate(c);
    return open_postgres_inbox(*c);
  }
  Result<std::unique_ptr<SignupLimiter>> open_signup_limiter() override {
    auto c = connect(o_.intake_user, o_.intake_password_file, "rempart-intake");
    if (!c) return propagate(c);
    // On a sign-up's path: a server slow to answer is not waited for long
    // (the intake node's own bucket decides meanwhile).
    c->answer_within = std::chrono::milliseconds(2'000);
    auto conn = open_role_connection(*c, kLimiterStatements, false);
    if (!conn) return propagate(conn);
    return std::make_unique<PgSignupLimiter>(std::move(*conn));
  }
  Result<std::unique_ptr<KeeperStore>> open_keeper(KeeperUse, std::size_t* upgraded) override {
    if (upgraded != nullptr) *upgraded = 0;
    auto c = connect(o_.keeper_user, o_.keeper_password_file, "rempart-keeper");
    if (!c) return propagate(c);
    return open_postgres_keeper(*c);
  }

 private:
  Result<postgres::ConnectOptions> connect(const std::string& user, const std::filesystem::path& password_file,
                                           const char* application) const {
    postgres::ConnectOptions c;
    c.dsn = o_.dsn;
    c.user = user;
    c.application_name = application;
    if (!password_file.empty()) {
      auto pw = postgres::read_password_file(password_file);
      if (!pw) return propagate(pw);
      c.password = std::move(*pw);
    }
    return c;
  }

  const StorageOptions o_;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_postgres_backend(const StorageOptions& o) {
  if (o.dsn.empty()) return fail(Errc::config, "[storage].dsn is required by the postgresql backend");
  return std::make_unique<PgBackend>(o);
}

namespace postgres::test_hooks {

PGconn* raw_handle(IntakeStore& store) noexcept {
  auto* s = dynamic_cast<PgIntakeStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}
PGconn* raw_handle(InboxStore& store) noexcept {
  auto* s = dynamic_cast<InboxOnConnection*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}
PGconn* raw_handle(KeeperStore& store) noexcept {
  auto* s = dynamic_cast<PgKeeperStore*>(&store);
  return s != nullptr ? s->raw() : nullptr;
}

}  // namespace postgres::test_hooks

}  // namespace rempart::store
