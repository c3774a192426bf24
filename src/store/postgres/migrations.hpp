#pragma once
// The PostgreSQL schema: the numbered files of src/store/migrations/postgres/
// embedded at build time (migrations/embed_migrations.cmake), applied in
// order by the owner role and recorded in schema_migrations; then the
// grants of grants.sql, which give the keeper and the intake roles what
// they may do and nothing more. Only `rempart init --backend postgresql`
// and `rempart migrate` run them (as a role that may create roles); the
// keeper and the intake
// connect as roles without DDL and check the version they find.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "store/postgres/connection.hpp"

namespace rempart::store::postgres {

struct Migration {
  int version;            // 1, 2, 3 … without gaps
  std::string_view name;  // file name, recorded and used in error messages
  std::string_view sql;   // the file's contents
};

// The embedded migrations, in version order.
std::span<const Migration> embedded_migrations() noexcept;
// The grants (migrations/postgres/grants.sql), idempotent.
std::span<const std::uint8_t> embedded_grants() noexcept;

// The database roles. The owner role owns schema `rempart` and everything
// in it and never logs in; the keeper and intake login users are members of
// the keeper and intake roles (by default they are these roles themselves).
inline constexpr std::string_view kOwnerRole = "rempart_owner";
inline constexpr std::string_view kKeeperRole = "rempart_keeper";
inline constexpr std::string_view kIntakeRole = "rempart_intake";

// The highest applied migration version; 0 when the schema holds none (or
// does not exist yet).
Result<int> schema_version(Connection& conn);

// Checks, on a keeper's or intake's connection, that the schema is exactly
// at the version this binary knows: Errc::config naming the command that
// migrates it when older, or when newer (a newer binary migrated it).
Result<void> check_schema_version(Connection& conn);

struct SetupOptions {
  std::string keeper_user = std::string(kKeeperRole);
  std::string intake_user = std::string(kIntakeRole);
  // SCRAM verifiers (PQencryptPasswordConn) to set for the login users, so
  // no password travels to the server in clear; empty: left as it is.
  std::string keeper_verifier;
  std::string intake_verifier;
};

// On a connection of an administrator (a superuser, or a role with
// CREATEROLE that may create schemas in the database): creates the roles
// and schema `rempart` if missing, then as the owner role applies the
// pending migrations and the grants, all in one transaction. Idempotent.
// `now` is recorded as applied_at. Returns the schema version reached.
Result<int> setup_database(Connection& admin, const SetupOptions& o, std::int64_t now);

// The statements setup_database runs, for `rempart init --print`: the roles,
// the schema, every migration and the grants, as one SQL script.
std::string setup_script(const SetupOptions& o);

}  // namespace rempart::store::postgres
