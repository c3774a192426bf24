#include "store/postgres/postgres_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/test_support.hpp"
#include "store/store_contract.hpp"
#include "store/test_support.hpp"

namespace rempart::store::test_support {
namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The postgresql backend on a fresh schema of the test cluster's database.
class PostgresDatabase final : public Backend {
 public:
  PostgresDatabase() : db_(postgres::test_support::fresh_database()) {
    backend_ = std::move(open_postgres_backend(db_.options()).value());
  }
  Result<std::unique_ptr<IntakeStore>> open_intake() override { return backend_->open_intake(); }
  Result<std::unique_ptr<InboxStore>> open_inbox() override { return backend_->open_inbox(); }
  Result<std::unique_ptr<KeeperStore>> open_keeper(KeeperUse use, std::size_t* upgraded) override {
    return backend_->open_keeper(use, upgraded);
  }

 private:
  postgres::test_support::TestDatabase db_;
  std::unique_ptr<Backend> backend_;
};

const BackendCase kPostgres{"Postgres", [] { return std::make_unique<PostgresDatabase>(); }};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract, ::testing::Values(kPostgres), backend_name);

namespace {

using postgres::test_support::exec_as;
using postgres::test_support::fresh_database;
using postgres::test_support::TestDatabase;

TEST(PostgresRoles, TheIntakeRoleInsertsIntoTheInboxAndCanReadNothing) {
  TestDatabase db = fresh_database();
  auto backend = open_postgres_backend(db.options());
  ASSERT_TRUE(backend.has_value()) << backend.error().internal;
  auto intake = (*backend)->open_intake();
  ASSERT_TRUE(intake.has_value()) << intake.error().internal;
  const BatchRow batch{bytes("batch-uid-0000001"), 1, Bytes(32, 7), 100};
  const InboxRow item{0, batch.uid, bytes("item-uid-00000001"), Bytes(48, 1), bytes("sealed"), 101};
  ASSERT_TRUE((*intake)->append(std::vector{batch}, std::vector{item}).has_value());
  // The same items again (a retry after a lost commit): nothing twice.
  ASSERT_TRUE((*intake)->append(std::vector{batch}, std::vector{item}).has_value());
  auto inbox = (*backend)->open_inbox();
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ((*inbox)->count().value(), 1);

  // What an attacker holding the intake's connection would try.
  PGconn* raw = postgres::test_hooks::raw_handle(**intake);
  ASSERT_NE(raw, nullptr);
  for (const char* attempt : {"SELECT * FROM inbox", "SELECT count(*) FROM supporters", "SELECT * FROM audit_entries",
                              "SELECT * FROM intake_batches", "DELETE FROM inbox", "UPDATE inbox SET fields = ''",
                              "INSERT INTO supporters (id) VALUES ('\\x00')", "DROP TABLE inbox",
                              "CREATE TABLE x (a int)", "TRUNCATE inbox", "SELECT * FROM accounts",
                              "COPY inbox TO STDOUT", "SELECT * FROM schema_migrations", "ALTER TABLE inbox ADD c int",
                              "SET ROLE rempart_keeper", "SET ROLE rempart_owner",
                              "CREATE TEMP TABLE t AS SELECT 1 AS a"}) {
    EXPECT_EQ(exec_as(raw, attempt), "42501") << attempt;
  }
  EXPECT_EQ((*inbox)->count().value(), 1);
}

TEST(PostgresRoles, TheKeeperRoleCannotRewriteTheAuditLogNorChangeTheSchema) {
  TestDatabase db = fresh_database();
  auto backend = open_postgres_backend(db.options());
  ASSERT_TRUE(backend.has_value()) << backend.error().internal;
  auto keeper = (*backend)->open_keeper();
  ASSERT_TRUE(keeper.has_value()) << keeper.error().internal;
  PGconn* raw = postgres::test_hooks::raw_handle(**keeper);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(exec_as(raw, "SELECT count(*) FROM supporters"), "");
  for (const char* attempt : {"UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries",
                              "TRUNCATE audit_entries", "DELETE FROM audit_checkpoints",
                              "UPDATE honeytokens SET planted_by = 'x'", "DROP TABLE supporters",
                              "CREATE TABLE x (a int)", "ALTER TABLE supporters ADD c int",
                              "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
                              "SET ROLE rempart_owner", "DELETE FROM schema_migrations",
                              "DELETE FROM breach_register", "TRUNCATE breach_register"}) {
    EXPECT_EQ(exec_as(raw, attempt), "42501") << attempt;
  }
}

// The one value of a one-row query on `conn` ("" if it failed).
std::string value_of(PGconn* conn, const char* text) {
  PGresult* r = PQexec(conn, text);
  std::string out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) out = PQgetvalue(r, 0, 0);
  PQclear(r);
  return out;
}

TEST(PostgresConnection, EverySessionCommitsDurablyWhateverTheServersDefault) {
  TestDatabase db = fresh_database();
  ASSERT_EQ(exec_as(db.admin(), "ALTER ROLE rempart_intake SET synchronous_commit = off"), "");
  ASSERT_EQ(exec_as(db.admin(), "ALTER ROLE rempart_keeper SET synchronous_commit = off"), "");
  auto backend = open_postgres_backend(db.options());
  ASSERT_TRUE(backend.has_value());
  auto intake = (*backend)->open_intake();
  auto keeper = (*backend)->open_keeper();
  ASSERT_TRUE(intake.has_value() && keeper.has_value());
  EXPECT_EQ(value_of(postgres::test_hooks::raw_handle(**intake), "SHOW synchronous_commit"), "on");
  EXPECT_EQ(value_of(postgres::test_hooks::raw_handle(**keeper), "SHOW synchronous_commit"), "on");
  EXPECT_EQ(value_of(postgres::test_hooks::raw_handle(**keeper), "SHOW idle_in_transaction_session_timeout"), "1min");
  EXPECT_EQ(exec_as(db.admin(), "ALTER ROLE rempart_intake RESET synchronous_commit"), "");
  EXPECT_EQ(exec_as(db.admin(), "ALTER ROLE rempart_keeper RESET synchronous_commit"), "");
}

TEST(PostgresKeepers, OneKeeperSendsTheMailAtATimeAndTheNextTakesOverWhenItGoes) {
  TestDatabase db = fresh_database();
  auto backend = open_postgres_backend(db.options());
  ASSERT_TRUE(backend.has_value());
  auto first = (*backend)->open_keeper();
  auto second = (*backend)->open_keeper();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ((*first)->lead_mail().value(), true);
  EXPECT_EQ((*first)->lead_mail().value(), true);  // still, and not stacked
  EXPECT_EQ((*second)->lead_mail().value(), false);
  first->reset();  // that keeper stops, or dies: its session ends
  bool took_over = false;
  for (int i = 0; i < 50 && !took_over; ++i) {  // the server sees the session end at once, or nearly
    took_over = (*second)->lead_mail().value();
    if (!took_over) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(took_over);
}

TEST(PostgresRoles, AStoreRefusesASchemaOlderThanItsBinary) {
  TestDatabase db = fresh_database();
  // One migration behind: `rempart migrate` brings it up.
  ASSERT_EQ(exec_as(db.admin(), "DELETE FROM rempart.schema_migrations WHERE version = "
                                "(SELECT max(version) FROM rempart.schema_migrations)"),
            "");
  auto backend = open_postgres_backend(db.options());
  ASSERT_TRUE(backend.has_value());
  auto keeper = (*backend)->open_keeper();
  ASSERT_FALSE(keeper.has_value());
  EXPECT_EQ(keeper.error().code, Errc::config);
  EXPECT_NE(keeper.error().internal.find("rempart migrate"), std::string::npos) << keeper.error().internal;
  // No schema at all: `rempart init` makes it.
  ASSERT_EQ(exec_as(db.admin(), "DELETE FROM rempart.schema_migrations"), "");
  keeper = (*backend)->open_keeper();
  ASSERT_FALSE(keeper.has_value());
  EXPECT_EQ(keeper.error().code, Errc::config);
  EXPECT_NE(keeper.error().internal.find("rempart init --backend postgresql"), std::string::npos) << keeper.error().internal;
}

TEST(PostgresRoles, SetupIsIdempotent) {
  TestDatabase db = fresh_database();
  auto again = db.setup_again();
  ASSERT_TRUE(again.has_value()) << again.error().internal;
  EXPECT_EQ(*again, static_cast<int>(postgres::embedded_migrations().size()));
}

TEST(PostgresConnection, ErrorsNameTheStatementAndNeverTheValue) {
  TestDatabase db = fresh_database();
  auto backend = open_postgres_backend(db.options());
  ASSERT_TRUE(backend.has_value());
  auto keeper = (*backend)->open_keeper();
  ASSERT_TRUE(keeper.has_value());
  SupporterRow row;
  row.id = bytes("supporter-id-0001");
  row.email_index = bytes("secret-email-index");
  row.key_version = 1;
  row.wrapped_key = Bytes(48, 1);
  row.fields = bytes("sealed");
  row.created_at = row.updated_at = 5;
  ASSERT_TRUE((*keeper)->transact([&](KeeperTx& tx) { return tx.insert_supporter(row); }).has_value());
  row.id = bytes("supporter-id-0002");
  auto dup = (*keeper)->transact([&](KeeperTx& tx) { return tx.insert_supporter(row); });
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, Errc::conflict);
  EXPECT_NE(dup.error().internal.find("kInsertSupporter"), std::string::npos) << dup.error().internal;
  EXPECT_EQ(dup.error().internal.find("secret"), std::string::npos) << dup.error().internal;
  EXPECT_EQ(dup.error().internal.find("INSERT"), std::string::npos) << dup.error().internal;
}

TEST(PostgresConnection, APasswordFileReadableByOthersIsRefused) {
  TempDir dir;
  const auto file = dir.file("pw");
  {
    std::ofstream out(file);
    out << "s3cret\n";
  }
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  auto r = postgres::read_password_file(file);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::permission);
  std::filesystem::permissions(file, std::filesystem::perms::owner_read);
  auto ok = postgres::read_password_file(file);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, "s3cret");
}

TEST(PostgresConnection, AWrongPasswordIsAPermissionErrorThatShowsNoSecret) {
  TestDatabase db = fresh_database();
  postgres::ConnectOptions o = db.connect_options(false);
  o.password = "not-the-password";
  auto c = postgres::Connection::open(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::permission);
  EXPECT_EQ(c.error().internal.find("not-the-password"), std::string::npos);
}

}  // namespace
}  // namespace rempart::store::test_support
