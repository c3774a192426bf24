#include "store/sqlite/migrations.hpp"

#include <limits>
#include <string>

namespace rempart::store::sqlite {

Result<int> schema_version(Connection& conn) {
  if (auto r = conn.exec(sql::kCreateSchemaMigrations); !r) return std::unexpected(std::move(r.error()));
  auto q = conn.query(sql::kSelectSchemaVersion);
  if (!q) return std::unexpected(std::move(q.error()));
  auto row = q->step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (!*row) return fail(Errc::storage, "sqlite kSelectSchemaVersion returned no row");
  const std::int64_t v = q->int64(0);
  if (v < 0 || v > std::numeric_limits<int>::max()) {
    return fail(Errc::storage, "schema_migrations holds an impossible version");
  }
  return static_cast<int>(v);
}

Result<void> apply_migrations(Connection& conn, std::span<const Migration> migrations, std::int64_t now) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return fail(Errc::internal, "migrations are not numbered 1, 2, 3 without gaps");
    }
  }
  if (conn.in_transaction()) return fail(Errc::internal, "apply_migrations inside a transaction");
  if (auto r = conn.exec(sql::kBeginImmediate); !r) return r;

  auto body = [&]() -> Result<void> {
    auto current = schema_version(conn);
    if (!current) return std::unexpected(std::move(current.error()));
    const int known = static_cast<int>(migrations.size());
    if (*current > known) {
      return fail(Errc::config, "database schema version " + std::to_string(*current) +
                                    " is newer than this binary knows (" + std::to_string(known) + ")");
    }
    for (const auto& m : migrations.subspan(static_cast<std::size_t>(*current))) {
      if (auto r = conn.exec_script(m.name, m.sql); !r) return r;
      auto q = conn.query(sql::kInsertSchemaMigration);
      if (!q) return std::unexpected(std::move(q.error()));
      q->bind_int(1, m.version).bind_text(2, m.name).bind_int(3, now);
      if (auto r = q->run(); !r) return r;
    }
    return {};
  };

  Result<void> result;
  try {
    result = body();
  } catch (...) {
    conn.rollback_if_open();
    throw;
  }
  if (result) result = conn.exec(sql::kCommit);
  if (!result) conn.rollback_if_open();
  return result;
}

}  // namespace rempart::store::sqlite
