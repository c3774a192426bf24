#pragma once
// Every SQL statement the SQLite store runs, each a named constant. Values are
// always bound to `?N` parameters; no statement is ever assembled from strings
// or formatted with values. The schema itself lives in the numbered files of
// src/store/migrations/sqlite/.
//
// Errors name the constant (Sql::name), never the SQL text nor a bound value.
#include <string_view>

namespace rempart::store::sqlite {

struct Sql {
  std::string_view name;  // the constant's name, for error messages
  std::string_view text;
};

namespace sql {

// ---- Connection setup (run before any authorizer is installed) -----------

// Returns one row: the journal mode now in force ("wal").
inline constexpr Sql kPragmaJournalModeWal{"kPragmaJournalModeWal", "PRAGMA journal_mode=WAL"};
// A commit is on stable storage when it returns, WAL included.
inline constexpr Sql kPragmaSynchronousFull{"kPragmaSynchronousFull", "PRAGMA synchronous=FULL"};
// Returns one row: 1. Deleted content is overwritten with zeros.
inline constexpr Sql kPragmaSecureDeleteOn{"kPragmaSecureDeleteOn", "PRAGMA secure_delete=ON"};
inline constexpr Sql kPragmaForeignKeysOn{"kPragmaForeignKeysOn", "PRAGMA foreign_keys=ON"};
inline constexpr Sql kPragmaTrustedSchemaOff{"kPragmaTrustedSchemaOff", "PRAGMA trusted_schema=OFF"};

// Read back to check the settings took effect (they can fail silently).
inline constexpr Sql kPragmaSynchronous{"kPragmaSynchronous", "PRAGMA synchronous"};
inline constexpr Sql kPragmaForeignKeys{"kPragmaForeignKeys", "PRAGMA foreign_keys"};
inline constexpr Sql kPragmaTrustedSchema{"kPragmaTrustedSchema", "PRAGMA trusted_schema"};

// ---- Transaction control -------------------------------------------------

// IMMEDIATE takes the write lock at once, so a transaction never fails half
// way through for want of it (it waits up to the busy timeout instead).
inline constexpr Sql kBeginImmediate{"kBeginImmediate", "BEGIN IMMEDIATE"};
inline constexpr Sql kCommit{"kCommit", "COMMIT"};
inline constexpr Sql kRollback{"kRollback", "ROLLBACK"};

// ---- Migrations ------------------------------------------------------------

inline constexpr Sql kCreateSchemaMigrations{
    "kCreateSchemaMigrations",
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL"
    ") STRICT"};
inline constexpr Sql kSelectSchemaVersion{
    "kSelectSchemaVersion", "SELECT coalesce(max(version), 0) FROM schema_migrations"};
inline constexpr Sql kInsertSchemaMigration{
    "kInsertSchemaMigration",
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)"};

// ---- Intake (the only statements the intake connection may prepare) ---------

inline constexpr Sql kInsertBatch{
    "kInsertBatch",
    "INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (uid) DO NOTHING"};
inline constexpr Sql kInsertInboxItem{
    "kInsertInboxItem",
    "INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)"};

// ---- Keeper: inbox -------------------------------------------------------------

inline constexpr Sql kPeekInbox{
    "kPeekInbox",
    "SELECT id, batch_uid, item_uid, wrapped_key, fields, received_at"
    " FROM inbox ORDER BY id LIMIT ?1"};
inline constexpr Sql kCountInbox{"kCountInbox", "SELECT count(*) FROM inbox"};
inline constexpr Sql kDeleteInboxItem{"kDeleteInboxItem", "DELETE FROM inbox WHERE id = ?1"};
inline constexpr Sql kSelectBatch{
    "kSelectBatch",
    "SELECT uid, key_version, ephemeral_public, created_at"
    " FROM intake_batches WHERE uid = ?1"};
inline constexpr Sql kDeleteUnreferencedBatches{
    "kDeleteUnreferencedBatches",
    "DELETE FROM intake_batches"
    " WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.batch_uid = intake_batches.uid)"};

// ---- Keeper: supporters ------------------------------------------------------
// The three lookups return columns in the order read by the store's
// read_supporter(): keep them identical.

inline constexpr Sql kSelectSupporterById{
    "kSelectSupporterById",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at"
    " FROM supporters WHERE id = ?1"};
inline constexpr Sql kSelectSupporterByEmailIndex{
    "kSelectSupporterByEmailIndex",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at"
    " FROM supporters WHERE email_index = ?1"};
inline constexpr Sql kSelectSupporterByPhoneIndex{
    "kSelectSupporterByPhoneIndex",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at"
    " FROM supporters WHERE phone_index = ?1"};
inline constexpr Sql kInsertSupporter{
    "kInsertSupporter",
    "INSERT INTO supporters (id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"};
inline constexpr Sql kUpdateSupporter{
    "kUpdateSupporter",
    "UPDATE supporters SET key_version = ?2, wrapped_key = ?3, fields = ?4,"
    " email_index = ?5, phone_index = ?6, consent_email_at = ?7, consent_sms_at = ?8,"
    " updated_at = ?9 WHERE id = ?1"};
inline constexpr Sql kCountSupporters{"kCountSupporters", "SELECT count(*) FROM supporters"};

// ---- Keeper: tags ----------------------------------------------------------------

inline constexpr Sql kInsertTag{
    "kInsertTag",
    "INSERT INTO supporter_tags (supporter_id, tag, added_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (supporter_id, tag) DO NOTHING"};
inline constexpr Sql kSelectTags{
    "kSelectTags", "SELECT tag FROM supporter_tags WHERE supporter_id = ?1 ORDER BY tag"};

}  // namespace sql
}  // namespace rempart::store::sqlite
