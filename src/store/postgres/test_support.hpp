#pragma once
// Test-only: a fresh rempart schema on the test cluster that scripts/test
// starts (tests/support/pg_cluster.sh), found through REMPART_TEST_PG (an
// administrator's connection string) and REMPART_TEST_PG_PASSWORD_FILE.
// Tests that use it share that one database: their ctest entries carry the
// RESOURCE_LOCK "postgresql", so they run one at a time.
#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/hex.hpp"
#include "store/backend.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/test_support.hpp"

namespace rempart::store::postgres::test_support {

// Runs `text` on `conn` (a test's attack string, never production SQL) and
// returns its SQLSTATE, "" when it succeeded.
inline std::string exec_as(PGconn* conn, const char* text) {
  PGresult* r = PQexec(conn, text);
  const ExecStatusType st = PQresultStatus(r);
  std::string state;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    state = s != nullptr ? s : "?";
  }
  PQclear(r);
  return state;
}

inline std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: run the tests through scripts/test, which starts a PostgreSQL cluster");
  }
  return v;
}

// A new random password, as hex.
inline std::string random_password() {
  std::random_device rd;
  std::vector<std::uint8_t> raw(20);
  for (auto& b : raw) b = static_cast<std::uint8_t>(rd());
  return core::to_hex(raw);
}

class TestDatabase {
 public:
  TestDatabase() : dsn_(required_env("REMPART_TEST_PG")) {
    auto pw = read_password_file(required_env("REMPART_TEST_PG_PASSWORD_FILE"));
    if (!pw) throw std::runtime_error("REMPART_TEST_PG_PASSWORD_FILE: " + pw.error().internal);
    ConnectOptions admin{dsn_, "", *pw, "rempart-test-admin"};
    auto c = Connection::open(admin);
    if (!c) throw std::runtime_error("the test cluster: " + c.error().internal);
    admin_ = std::make_unique<Connection>(std::move(*c));
    if (auto d = admin_->exec_script("reset", "DROP SCHEMA IF EXISTS rempart CASCADE"); !d) {
      throw std::runtime_error("reset: " + d.error().internal);
    }
    keeper_password_ = random_password();
    intake_password_ = random_password();
    write_secret(dir_.file("keeper.pass"), keeper_password_);
    write_secret(dir_.file("intake.pass"), intake_password_);
    auto v = setup_again();
    if (!v) throw std::runtime_error("setup: " + v.error().internal);
  }

  // Runs the setup again on the same schema (it is idempotent).
  Result<int> setup_again() {
    SetupOptions o;
    o.keeper_verifier = verifier(std::string(kKeeperRole), keeper_password_);
    o.intake_verifier = verifier(std::string(kIntakeRole), intake_password_);
    return setup_database(*admin_, o, 1'000);
  }

  // What the postgresql backend opens for this database.
  StorageOptions options() const {
    StorageOptions o;
    o.backend = "postgresql";
    o.dsn = dsn_;
    o.intake_password_file = dir_.file("intake.pass");
    o.keeper_password_file = dir_.file("keeper.pass");
    return o;
  }

  ConnectOptions connect_options(bool keeper) const {
    return ConnectOptions{dsn_, std::string(keeper ? kKeeperRole : kIntakeRole),
                          keeper ? keeper_password_ : intake_password_, "rempart-test"};
  }

  PGconn* admin() const { return admin_->handle(); }
  const std::string& dsn() const { return dsn_; }

 private:
  std::string verifier(const std::string& user, const std::string& password) {
    char* v = PQencryptPasswordConn(admin_->handle(), password.c_str(), user.c_str(), "scram-sha-256");
    if (v == nullptr) throw std::runtime_error("PQencryptPasswordConn failed");
    std::string out(v);
    PQfreemem(v);
    return out;
  }
  static void write_secret(const std::filesystem::path& p, const std::string& text) {
    {
      std::ofstream out(p);
      out << text << "\n";
    }
    std::filesystem::permissions(p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  store::test_support::TempDir dir_;
  std::string dsn_;
  std::string keeper_password_;
  std::string intake_password_;
  std::unique_ptr<Connection> admin_;
};

inline TestDatabase fresh_database() { return TestDatabase(); }

}  // namespace rempart::store::postgres::test_support
