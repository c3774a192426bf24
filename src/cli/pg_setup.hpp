#pragma once
// `rempart init --backend postgresql`: the database side of a new instance,
// and `rempart migrate` (docs/postgresql.md, "Setting up", "Upgrades").
#include <filesystem>
#include <string>

#include "cli/config.hpp"
#include "core/error.hpp"

namespace rempart::cli {

struct PgSetupArgs {
  std::string admin_user;                    // empty: libpq's default (the system user, by peer)
  std::filesystem::path admin_password_file; // empty: none
};

// Connects as the administrator, generates a password for the keeper's and
// the intake's database users (kept in c's password files, mode 0600, made
// if missing; an existing one is kept), creates the roles and the schema
// and migrates it (store/postgres/migrations.hpp). Returns the schema
// version reached. Never prints or logs a password.
Result<int> setup_postgres(const Config& c, const PgSetupArgs& a);

struct PgMigration {
  int before = 0;  // the schema's version found
  int after = 0;   // the version reached (this binary's)
};

// `rempart migrate` on PostgreSQL: connects as the administrator and, in
// one transaction under the setup's lock, applies the migrations this
// binary has and the database lacks, then the grants. The login users'
// passwords are left as they are (a migration run from another host, without
// the password files, must not lock the nodes out).
Result<PgMigration> migrate_postgres(const Config& c, const PgSetupArgs& a);

// The SQL setup_postgres runs, for an administrator to read or run with
// psql (no password in it).
std::string postgres_setup_sql(const Config& c);

}  // namespace rempart::cli
