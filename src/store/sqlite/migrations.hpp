#pragma once
// Schema migrations for the SQLite store. The numbered files of
// src/store/migrations/sqlite/ are embedded into the binary at build time
// (see migrations/embed_migrations.cmake) and applied in order, each recorded
// in the schema_migrations table, so applying them again does nothing.
#include <span>
#include <string_view>

#include "core/error.hpp"
#include "store/sqlite/connection.hpp"

namespace rempart::store::sqlite {

struct Migration {
  int version;            // 1, 2, 3 … without gaps
  std::string_view name;  // file name, recorded and used in error messages
  std::string_view sql;   // the file's contents
};

// The embedded migrations, in version order: those of the records' file
// (migrations/sqlite/, generated embedded_migrations.cpp) and those of the
// inbox file (migrations/sqlite_inbox/, embedded_inbox_migrations.cpp).
std::span<const Migration> embedded_migrations() noexcept;
std::span<const Migration> embedded_inbox_migrations() noexcept;

// Applies, inside one BEGIN IMMEDIATE transaction, every migration of
// `migrations` whose version is above the recorded schema version; on any
// failure nothing of this call remains. `now` is recorded as applied_at.
// Errc::config if the database records a version newer than the last of
// `migrations` (a newer binary migrated it); Errc::internal if `migrations`
// is not numbered 1, 2, 3 …; Errc::busy / Errc::storage from SQLite.
// `conn` must not be in a transaction. Safe against concurrent callers on the
// same file: the write lock serialises them and the loser finds nothing to do.
Result<void> apply_migrations(Connection& conn, std::span<const Migration> migrations, std::int64_t now);

// The highest applied migration version, 0 for a fresh database.
Result<int> schema_version(Connection& conn);

}  // namespace rempart::store::sqlite
