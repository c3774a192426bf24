#include "store/postgres/migrations.hpp"

#include <limits>
#include <string>

namespace rempart::store::postgres {

namespace {

std::string_view grants_text() noexcept {
  const auto bytes = embedded_grants();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The roles and the schema, created if missing. Its values come from the
// transaction's settings (kSetupSettings): identifiers are quoted by the
// server (format %I, %L), never spliced in by rempart.
constexpr std::string_view kSetupRoles = R"sql(
DO $setup$
DECLARE
  k text := current_setting('rempart.keeper_user');
  i text := current_setting('rempart.intake_user');
  kv text := current_setting('rempart.keeper_verifier');
  iv text := current_setting('rempart.intake_verifier');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rempart_owner') THEN
    CREATE ROLE rempart_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rempart_keeper') THEN
    CREATE ROLE rempart_keeper NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rempart_intake') THEN
    CREATE ROLE rempart_intake NOLOGIN;
  END IF;
  IF k = 'rempart_keeper' THEN
    ALTER ROLE rempart_keeper LOGIN;
  ELSE
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = k) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', k);
    END IF;
    EXECUTE format('GRANT rempart_keeper TO %I', k);
  END IF;
  IF i = 'rempart_intake' THEN
    ALTER ROLE rempart_intake LOGIN;
  ELSE
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = i) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', i);
    END IF;
    EXECUTE format('GRANT rempart_intake TO %I', i);
  END IF;
  IF kv <> '' THEN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', k, kv);
  END IF;
  IF iv <> '' THEN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', i, iv);
  END IF;
  IF NOT pg_has_role(current_user, 'rempart_owner', 'MEMBER') THEN
    EXECUTE format('GRANT rempart_owner TO %I', current_user);
  END IF;
  -- The database is rempart's: nobody else connects or makes temporary
  -- tables in it by default (PUBLIC's CONNECT and TEMPORARY), the two roles
  -- connect and nothing more.
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO rempart_keeper, rempart_intake', current_database());
END
$setup$;
CREATE SCHEMA IF NOT EXISTS rempart AUTHORIZATION rempart_owner;
SET LOCAL ROLE rempart_owner;
SET LOCAL search_path = rempart;
)sql";

}  // namespace

Result<int> schema_version(Connection& conn) {
  auto exists = conn.query(sql::kSchemaMigrationsExists);
  if (!exists) return propagate(exists);
  auto row = exists->step();
  if (!row) return propagate(row);
  if (!*row || exists->int64(0) == 0) return 0;
  auto q = conn.query(sql::kSelectSchemaVersion);
  if (!q) return propagate(q);
  auto got = q->step();
  if (!got) return propagate(got);
  if (!*got) return fail(Errc::storage, "postgresql kSelectSchemaVersion returned no row");
  const std::int64_t v = q->int64(0);
  if (v < 0 || v > std::numeric_limits<int>::max()) {
    return fail(Errc::storage, "schema_migrations holds an impossible version");
  }
  return static_cast<int>(v);
}

Result<void> check_schema_version(Connection& conn) {
  auto v = schema_version(conn);
  if (!v) return propagate(v);
  const int known = static_cast<int>(embedded_migrations().size());
  if (*v == known) return {};
  if (*v > known) {
    return fail(Errc::config, "the database's schema version " + std::to_string(*v) +
                                  " is newer than this binary knows (" + std::to_string(known) + ")");
  }
  if (*v == 0) {
    return fail(Errc::config, "the database holds no rempart schema: run `rempart init --backend postgresql` to "
                              "create it");
  }
  return fail(Errc::config, "the database's schema is at version " + std::to_string(*v) + " of " +
                                std::to_string(known) +
                                ": run `rempart migrate --config CONFIG --admin-user ADMIN` to migrate it");
}

Result<int> setup_database(Connection& admin, const SetupOptions& o, std::int64_t now) {
  const auto migrations = embedded_migrations();
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return fail(Errc::internal, "migrations are not numbered 1, 2, 3 without gaps");
    }
  }
  int reached = 0;
  auto r = in_transaction(admin, [&]() -> Result<void> {
    // One setup at a time, whoever else runs it.
    if (auto l = admin.exec(sql::kMigrationLock); !l) return l;
    {
      auto q = admin.query(sql::kSetupSettings);
      if (!q) return propagate(q);
      q->bind_text(1, o.keeper_user).bind_text(2, o.intake_user).bind_text(3, o.keeper_verifier).bind_text(4, o.intake_verifier);
      if (auto s = q->run(); !s) return s;
    }
    if (auto s = admin.exec_script("roles and schema", kSetupRoles); !s) return s;
    if (auto c = admin.exec_script("schema_migrations", sql::kCreateSchemaMigrations.text); !c) return c;
    auto current = schema_version(admin);
    if (!current) return propagate(current);
    const int known = static_cast<int>(migrations.size());
    if (*current > known) {
      return fail(Errc::config, "the database's schema version " + std::to_string(*current) +
                                    " is newer than this binary knows (" + std::to_string(known) + ")");
    }
    for (const auto& m : migrations.subspan(static_cast<std::size_t>(*current))) {
      if (auto e = admin.exec_script(m.name, m.sql); !e) return e;
      auto q = admin.query(sql::kInsertSchemaMigration);
      if (!q) return propagate(q);
      q->bind_int(1, m.version).bind_text(2, m.name).bind_int(3, now);
      if (auto e = q->run(); !e) return e;
    }
    reached = known;
    return admin.exec_script("grants.sql", grants_text());
  });
  if (!r) return propagate(r);
  return reached;
}

std::string setup_script(const SetupOptions& o) {
  // Every statement here is a constant: the values travel as psql
  // variables, which psql quotes (:'name'), set by the \set lines (the user
  // names are identifiers the configuration checked; the migrations' names
  // and numbers are the binary's own). For a new database: run it with
  // `psql -v ON_ERROR_STOP=1 -f`.
  std::string out = "-- rempart: the PostgreSQL roles, schema and grants of a new database (run as a superuser, in the database)\n";
  out += "\\set keeper_user " + o.keeper_user + "\n";
  out += "\\set intake_user " + o.intake_user + "\n";
  out += "BEGIN;\n";
  out += "SELECT set_config('rempart.keeper_user', :'keeper_user', true),\n"
         "       set_config('rempart.intake_user', :'intake_user', true),\n"
         "       set_config('rempart.keeper_verifier', '', true),\n"
         "       set_config('rempart.intake_verifier', '', true);\n";
  out += kSetupRoles;
  out += sql::kCreateSchemaMigrations.text;
  out += ";\n";
  for (const auto& m : embedded_migrations()) {
    out += "-- " + std::string(m.name) + "\n";
    out += m.sql;
    out += "\n\\set migration_version " + std::to_string(m.version) + "\n";
    out += "\\set migration_name " + std::string(m.name) + "\n";
    out += "INSERT INTO schema_migrations (version, name, applied_at)"
           " VALUES (:'migration_version'::bigint, :'migration_name', extract(epoch FROM now())::bigint);\n";
  }
  out += "-- grants.sql\n";
  out += grants_text();
  out += "\nCOMMIT;\n";
  return out;
}

}  // namespace rempart::store::postgres
