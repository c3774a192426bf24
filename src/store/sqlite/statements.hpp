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

// ---- Copies of a database (store/sqlite/backup.hpp) -----------------------

// Rows "ok", or one row per problem found (they name tables, indexes and
// pages, never a value; only their count is reported).
inline constexpr Sql kPragmaQuickCheck{"kPragmaQuickCheck", "PRAGMA quick_check"};

// ---- Transaction control -------------------------------------------------

// IMMEDIATE takes the write lock at once, so a transaction never fails half
// way through for want of it (it waits up to the busy timeout instead).
inline constexpr Sql kBeginImmediate{"kBeginImmediate", "BEGIN IMMEDIATE"};
// A read transaction: the snapshot is taken by its first read and held to
// COMMIT, so several reads of one call see the same database state.
inline constexpr Sql kBeginDeferred{"kBeginDeferred", "BEGIN DEFERRED"};
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

// ---- Keeper: the inbox file (its own connection) ------------------------------

inline constexpr Sql kPeekInboxAfter{
    "kPeekInboxAfter",
    "SELECT id, batch_uid, item_uid, wrapped_key, fields, received_at"
    " FROM inbox WHERE id > ?2 ORDER BY id LIMIT ?1"};
inline constexpr Sql kCountInbox{"kCountInbox", "SELECT count(*) FROM inbox"};
inline constexpr Sql kDeleteInboxItem{"kDeleteInboxItem", "DELETE FROM inbox WHERE id = ?1"};
// A scan: the inbox has no index on item_uid (migration 0007 of the
// records' file); run only at start-up, on what a stop left.
inline constexpr Sql kDeleteInboxItemByUid{"kDeleteInboxItemByUid", "DELETE FROM inbox WHERE item_uid = ?1"};
inline constexpr Sql kSelectBatch{
    "kSelectBatch",
    "SELECT uid, key_version, ephemeral_public, created_at"
    " FROM intake_batches WHERE uid = ?1"};
inline constexpr Sql kDeleteUnreferencedBatches{
    "kDeleteUnreferencedBatches",
    "DELETE FROM intake_batches"
    " WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.batch_uid = intake_batches.uid)"};
inline constexpr Sql kDeleteBatchIfUnreferenced{
    "kDeleteBatchIfUnreferenced",
    "DELETE FROM intake_batches"
    " WHERE uid = ?1 AND NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.batch_uid = ?1)"};
inline constexpr Sql kInboxIsEmpty{"kInboxIsEmpty", "SELECT NOT EXISTS (SELECT 1 FROM inbox)"};

// ---- Keeper: the fold ledger (records' file) ------------------------------------

inline constexpr Sql kInsertFoldedItem{
    "kInsertFoldedItem",
    "INSERT INTO folded_items (item_uid, folded_at) VALUES (?1, ?2) ON CONFLICT (item_uid) DO NOTHING"};
inline constexpr Sql kDeleteFoldedItem{"kDeleteFoldedItem", "DELETE FROM folded_items WHERE item_uid = ?1"};
inline constexpr Sql kSelectFoldedItems{
    "kSelectFoldedItems", "SELECT item_uid FROM folded_items ORDER BY folded_at, item_uid LIMIT ?1"};

// ---- Upgrade of files an older version left (sqlite_store.cpp) -----------------
// The records' file once held the inbox (peeked and emptied into the inbox
// file), and fold marks (the highest inbox id folded, per inbox file).

inline constexpr Sql kPeekLegacyInbox{
    "kPeekLegacyInbox",
    "SELECT id, batch_uid, item_uid, wrapped_key, fields, received_at"
    " FROM inbox ORDER BY id LIMIT ?1"};
inline constexpr Sql kCountLegacyInbox{"kCountLegacyInbox", "SELECT count(*) FROM inbox"};
inline constexpr Sql kSelectInboxFileUid{"kSelectInboxFileUid", "SELECT uid FROM inbox_file WHERE only_row = 1"};
inline constexpr Sql kSelectFoldMark{"kSelectFoldMark", "SELECT last_id FROM fold_marks WHERE inbox_uid = ?1"};
inline constexpr Sql kCountFoldMarks{"kCountFoldMarks", "SELECT count(*) FROM fold_marks"};
inline constexpr Sql kDeleteFoldMarks{"kDeleteFoldMarks", "DELETE FROM fold_marks"};
inline constexpr Sql kDeleteInboxThrough{"kDeleteInboxThrough", "DELETE FROM inbox WHERE id <= ?1"};

// ---- Keeper: supporters ------------------------------------------------------
// The three lookups return columns in the order read by the store's
// read_supporter(): keep them identical.

inline constexpr Sql kSelectSupporterById{
    "kSelectSupporterById",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at,"
    " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin"
    " FROM supporters WHERE id = ?1"};
inline constexpr Sql kSelectSupporterByEmailIndex{
    "kSelectSupporterByEmailIndex",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at,"
    " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin"
    " FROM supporters WHERE email_index = ?1"};
inline constexpr Sql kSelectSupporterByPhoneIndex{
    "kSelectSupporterByPhoneIndex",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at,"
    " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin"
    " FROM supporters WHERE phone_index = ?1"};
inline constexpr Sql kInsertSupporter{
    "kInsertSupporter",
    "INSERT INTO supporters (id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at,"
    " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"};
inline constexpr Sql kUpdateSupporter{
    "kUpdateSupporter",
    "UPDATE supporters SET key_version = ?2, wrapped_key = ?3, fields = ?4,"
    " email_index = ?5, phone_index = ?6, consent_email_at = ?7, consent_sms_at = ?8,"
    " updated_at = ?9, consent_email_refused_at = ?10, consent_sms_refused_at = ?11, joined_at = ?12,"
    " source_index = ?13 WHERE id = ?1"};
inline constexpr Sql kCountSupporters{"kCountSupporters", "SELECT count(*) FROM supporters"};
inline constexpr Sql kSelectSupporterBySourceIndex{
    "kSelectSupporterBySourceIndex",
    "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at,"
    " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin"
    " FROM supporters WHERE source_index = ?1"};
inline constexpr Sql kInsertConsentEvent{
    "kInsertConsentEvent",
    "INSERT INTO consent_events (supporter_id, channel, choice, at, source, wording) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
inline constexpr Sql kSelectConsentEvents{
    "kSelectConsentEvents",
    "SELECT channel, choice, at, source, wording FROM consent_events WHERE supporter_id = ?1 ORDER BY id"};
inline constexpr Sql kInsertConsentWording{
    "kInsertConsentWording",
    "INSERT INTO consent_wordings (hash, text, first_seen) VALUES (?1, ?2, ?3) ON CONFLICT (hash) DO NOTHING"};
inline constexpr Sql kSelectConsentWording{"kSelectConsentWording",
                                           "SELECT text FROM consent_wordings WHERE hash = ?1"};

// ---- Keeper: search tokens (migration 0013) -----------------------------------

// A record's tokens in one statement: ?1 is the tokens end to end, each ?3
// bytes long.
inline constexpr Sql kInsertSearchTokens{
    "kInsertSearchTokens",
    "WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE (n + 2) * ?3 <= length(?1))"
    " INSERT INTO supporter_search_tokens (token, supporter_id)"
    " SELECT substr(?1, n * ?3 + 1, ?3), ?2 FROM i WHERE ?3 > 0 AND length(?1) >= ?3"
    " ON CONFLICT (token, supporter_id) DO NOTHING"};
inline constexpr Sql kDeleteSearchTokensOf{
    "kDeleteSearchTokensOf", "DELETE FROM supporter_search_tokens WHERE supporter_id = ?1"};
// Served by the primary key: the ids holding one token, in id order.
inline constexpr Sql kSelectIdsBySearchToken{
    "kSelectIdsBySearchToken", "SELECT supporter_id FROM supporter_search_tokens WHERE token = ?1"};
// One page of a token's holders, highest id first: a range of the primary
// key (token, supporter_id) walked backwards, never a sort.
inline constexpr Sql kSelectSearchTokenPage{
    "kSelectSearchTokenPage",
    "SELECT supporter_id FROM supporter_search_tokens WHERE token = ?1 ORDER BY supporter_id DESC LIMIT ?2"};
inline constexpr Sql kSelectSearchTokenPageBefore{
    "kSelectSearchTokenPageBefore",
    "SELECT supporter_id FROM supporter_search_tokens WHERE token = ?1 AND supporter_id < ?2"
    " ORDER BY supporter_id DESC LIMIT ?3"};
// A token's holders counted up to ?2: the walk stops there.
inline constexpr Sql kCountSearchTokenCapped{
    "kCountSearchTokenCapped",
    "SELECT count(*) FROM (SELECT 1 FROM supporter_search_tokens WHERE token = ?1 LIMIT ?2)"};
// ---- Keeper: the dashboard's aggregates -----------------------------------------

// Read from the day counts (migration 0019), honeytokens left out, by whole
// UTC days: ?1 (unix seconds) counts from the start of its day.
// Supporters added per UTC day since ?1.
inline constexpr Sql kSelectAddedPerDay{
    "kSelectAddedPerDay",
    "SELECT day, sum(n) FROM supporter_day_counts WHERE day >= ?1 / 86400"
    " GROUP BY day HAVING sum(n) > 0 ORDER BY day"};
// The ?2 tags most carried by the supporters added since ?1, most first.
inline constexpr Sql kSelectTagCountsSince{
    "kSelectTagCountsSince",
    "SELECT tag, sum(n) FROM tag_day_counts WHERE day >= ?1 / 86400"
    " GROUP BY tag HAVING sum(n) > 0 ORDER BY 2 DESC, 1 LIMIT ?2"};
// The supporters added since ?1 by origin (NULL read as 'unknown'), most
// first.
inline constexpr Sql kSelectAddedByOrigin{
    "kSelectAddedByOrigin",
    "SELECT origin, sum(n) FROM supporter_day_counts WHERE day >= ?1 / 86400"
    " GROUP BY origin HAVING sum(n) > 0 ORDER BY 2 DESC, 1"};

inline constexpr Sql kSelectHoneytokenIds{
    "kSelectHoneytokenIds", "SELECT supporter_id FROM honeytokens ORDER BY supporter_id"};
inline constexpr Sql kSelectSearchBacklog{
    "kSelectSearchBacklog", "SELECT supporter_id FROM search_token_backlog ORDER BY supporter_id LIMIT ?1"};
inline constexpr Sql kDeleteFromSearchBacklog{
    "kDeleteFromSearchBacklog", "DELETE FROM search_token_backlog WHERE supporter_id = ?1"};
inline constexpr Sql kInsertIntoSearchBacklog{
    "kInsertIntoSearchBacklog",
    "INSERT INTO search_token_backlog (supporter_id) SELECT id FROM supporters WHERE true"
    " ON CONFLICT (supporter_id) DO NOTHING"};

// Keyset pages of the directory, newest first by (created_at, id). Columns:
// those of kSelectSupporterById, then the supporter's tags as comma-joined
// hex (hex() output never holds a comma, so any tag text splits back
// exactly; NULL when none; column 15), read through the supporter_tags primary key.
// The (created_at, id) order is served by supporters_created_id (migration
// 0004), scanned backwards: a page costs its own rows, however deep it is.
// ?1 limit; the *After forms take the position ?2 created_at, ?3 id (rows
// strictly after it); the *Tagged forms take the tag as ?4.
#define REMPART_PAGE_COLUMNS                                                  \
  "SELECT s.id, s.key_version, s.wrapped_key, s.fields, s.email_index, s.phone_index," \
  " s.consent_email_at, s.consent_sms_at, s.created_at, s.updated_at,"      \
  " s.consent_email_refused_at, s.consent_sms_refused_at, s.joined_at, s.source_index, s.origin," \
  " (SELECT group_concat(hex(t.tag), ',') FROM supporter_tags t WHERE t.supporter_id = s.id)" \
  " FROM supporters s"
inline constexpr Sql kSelectSupporterPage{
    "kSelectSupporterPage",
    REMPART_PAGE_COLUMNS " ORDER BY s.created_at DESC, s.id DESC LIMIT ?1"};
inline constexpr Sql kSelectSupporterPageAfter{
    "kSelectSupporterPageAfter",
    REMPART_PAGE_COLUMNS " WHERE (s.created_at, s.id) < (?2, ?3) ORDER BY s.created_at DESC, s.id DESC LIMIT ?1"};
// With a tag: walks the same index and probes supporter_tags per row, so a
// page of a common tag stops after its last row; a rare tag reads further.
inline constexpr Sql kSelectSupporterPageTagged{
    "kSelectSupporterPageTagged",
    REMPART_PAGE_COLUMNS
    " WHERE EXISTS (SELECT 1 FROM supporter_tags w WHERE w.supporter_id = s.id AND w.tag = ?4)"
    " ORDER BY s.created_at DESC, s.id DESC LIMIT ?1"};
inline constexpr Sql kSelectSupporterPageTaggedAfter{
    "kSelectSupporterPageTaggedAfter",
    REMPART_PAGE_COLUMNS
    " WHERE (s.created_at, s.id) < (?2, ?3)"
    " AND EXISTS (SELECT 1 FROM supporter_tags w WHERE w.supporter_id = s.id AND w.tag = ?4)"
    " ORDER BY s.created_at DESC, s.id DESC LIMIT ?1"};
// One supporter and its tags, by blind index or id, in one statement (one
// snapshot, no transaction around it): what the console's search and record
// views read. Columns as the pages'.
inline constexpr Sql kSelectListingByEmailIndex{"kSelectListingByEmailIndex",
                                                REMPART_PAGE_COLUMNS " WHERE s.email_index = ?1"};
inline constexpr Sql kSelectListingByPhoneIndex{"kSelectListingByPhoneIndex",
                                                REMPART_PAGE_COLUMNS " WHERE s.phone_index = ?1"};
inline constexpr Sql kSelectListingById{"kSelectListingById", REMPART_PAGE_COLUMNS " WHERE s.id = ?1"};
// Segments (migration 0015). One WHERE for every segment, each part
// switched off by its own parameters, so no statement is ever assembled:
//   ?4 e-mail consent, ?5 SMS consent: '' any, 'given', 'refused', 'unknown';
//   ?6, ?7 sign-up date from (inclusive), before (exclusive), NULL: open
//   (the sign-up date is the earlier of created_at and joined_at, written
//   as comparisons with each: no function call per record);
//   ?8, ?9 the same for updated_at;
//   ?10 origin: '' any, 'unknown', 'import' (any tool), or one exactly;
//   ?14 how many place tokens (0: that part is off; kCountSegmentPlaced
//   is run with 0, its seed holding the place already);
//   ?20, ?21, ?22 the all-of, any-of and none-of tags, each as a tag list
//   ('|a|b|', '' where that part is off), matched against the record's
//   own tag list (migration 0019) by rempart_tags_match (functions.hpp):
//   one call per record, no probe of supporter_tags; ?23 is 0 when all
//   three are '' (then no call at all);
//   ?50..?53 the place's search tokens (migration 0013; the supporter holds
//   one of them), NULL where unused.
// The IN list of bound values is built once per run. (Not json_each: its
// first use on a connection asks to update sqlite_master, which the keeper's
// authorizer refuses.)
#define REMPART_SEGMENT_PLACE "(?50, ?51, ?52, ?53)"
#define REMPART_SEGMENT_WHERE                                                                          \
  " (?23 = 0 OR rempart_tags_match(s.tag_list, ?20, ?21, ?22))"                                       \
  " AND (?4 = '' OR (?4 = 'given' AND s.consent_email_at IS NOT NULL)"                                \
  " OR (?4 = 'refused' AND s.consent_email_at IS NULL AND s.consent_email_refused_at IS NOT NULL)"    \
  " OR (?4 = 'unknown' AND s.consent_email_at IS NULL AND s.consent_email_refused_at IS NULL))"       \
  " AND (?5 = '' OR (?5 = 'given' AND s.consent_sms_at IS NOT NULL)"                                  \
  " OR (?5 = 'refused' AND s.consent_sms_at IS NULL AND s.consent_sms_refused_at IS NOT NULL)"        \
  " OR (?5 = 'unknown' AND s.consent_sms_at IS NULL AND s.consent_sms_refused_at IS NULL))"           \
  " AND (?6 IS NULL OR (s.created_at >= ?6 AND (s.joined_at IS NULL OR s.joined_at >= ?6)))"          \
  " AND (?7 IS NULL OR s.created_at < ?7 OR coalesce(s.joined_at < ?7, 0))"                            \
  " AND (?8 IS NULL OR s.updated_at >= ?8) AND (?9 IS NULL OR s.updated_at < ?9)"                     \
  " AND (?10 = '' OR coalesce(s.origin, 'unknown') = ?10"                                              \
  " OR (?10 = 'import' AND s.origin >= 'import:' AND s.origin < 'import;'))"                        \
  " AND (?14 = 0 OR EXISTS (SELECT 1 FROM supporter_search_tokens p WHERE p.supporter_id = s.id"       \
  " AND p.token IN " REMPART_SEGMENT_PLACE "))"
// Counts leave honeytokens out: the matching honeytokens (a few hundred
// records at most, each sought by id) are subtracted, so the walk itself
// asks nothing of each record beyond the filter. Both forms read
// supporters_segment_facts only (it holds every column the WHERE reads, the
// tag list included; INDEXED BY, so no plan reads the table): the plain
// count walks all of it, one record after the other; the *Placed form, for
// a segment with a place, seeks it by id for the holders of the place's
// tokens, read through the supporter_search_tokens primary key.
inline constexpr Sql kCountSegment{
    "kCountSegment",
    "SELECT (SELECT count(*) FROM supporters s INDEXED BY supporters_segment_facts WHERE" REMPART_SEGMENT_WHERE ")"
    " - (SELECT count(*) FROM honeytokens h CROSS JOIN supporters s INDEXED BY supporters_segment_facts"
    " ON s.id = h.supporter_id WHERE" REMPART_SEGMENT_WHERE ")"};
inline constexpr Sql kCountSegmentPlaced{
    "kCountSegmentPlaced",
    "SELECT count(*) FROM supporters s INDEXED BY supporters_segment_facts"
    " WHERE s.id IN (SELECT w.supporter_id FROM supporter_search_tokens w WHERE w.token IN " REMPART_SEGMENT_PLACE ")"
    " AND s.id NOT IN (SELECT supporter_id FROM honeytokens) AND" REMPART_SEGMENT_WHERE};
// Pages as kSelectSupporterPage*: ?13 limit; the *After form takes the
// position ?11 created_at, ?12 id.
inline constexpr Sql kSelectSegmentPage{
    "kSelectSegmentPage",
    REMPART_PAGE_COLUMNS " WHERE" REMPART_SEGMENT_WHERE " ORDER BY s.created_at DESC, s.id DESC LIMIT ?13"};
inline constexpr Sql kSelectSegmentPageAfter{
    "kSelectSegmentPageAfter",
    REMPART_PAGE_COLUMNS " WHERE (s.created_at, s.id) < (?11, ?12) AND" REMPART_SEGMENT_WHERE
    " ORDER BY s.created_at DESC, s.id DESC LIMIT ?13"};
#undef REMPART_SEGMENT_WHERE
#undef REMPART_SEGMENT_PLACE
#undef REMPART_PAGE_COLUMNS
// Honeytokens (migration 0005) are left out of every count people see: they
// are in the pages' rows, never in a total (docs/honeytokens.md). Totals
// are sums of the day counts (migration 0019), which leave them out: a few
// rows a day, however many records.
inline constexpr Sql kCountSupportersWithTag{
    "kCountSupportersWithTag", "SELECT coalesce(sum(n), 0) FROM tag_day_counts WHERE tag = ?1"};
inline constexpr Sql kCountVisibleSupporters{
    "kCountVisibleSupporters", "SELECT coalesce(sum(n), 0) FROM supporter_day_counts"};

// ---- Keeper: tags ----------------------------------------------------------------

// Only while the record holds fewer than ?4 tags (store::kMaxTagsPerRecord).
inline constexpr Sql kInsertTag{
    "kInsertTag",
    "INSERT INTO supporter_tags (supporter_id, tag, added_at) SELECT ?1, ?2, ?3"
    " WHERE (SELECT count(*) FROM supporter_tags WHERE supporter_id = ?1) < ?4"
    " ON CONFLICT (supporter_id, tag) DO NOTHING"};
inline constexpr Sql kSelectTags{
    "kSelectTags", "SELECT tag FROM supporter_tags WHERE supporter_id = ?1 ORDER BY tag"};
inline constexpr Sql kDeleteTag{
    "kDeleteTag", "DELETE FROM supporter_tags WHERE supporter_id = ?1 AND tag = ?2"};
// Honeytokens left out, as in kCountSupportersWithTag; a tag only
// honeytokens carry is not listed.
inline constexpr Sql kSelectTagCounts{
    "kSelectTagCounts", "SELECT tag, sum(n) FROM tag_day_counts GROUP BY tag HAVING sum(n) > 0 ORDER BY tag"};
// A record's tag list (migration 0019) made again from its tags.
inline constexpr Sql kRefreshTagList{
    "kRefreshTagList",
    "UPDATE supporters SET tag_list = coalesce((SELECT '|' || group_concat(t.tag, '|') || '|'"
    " FROM supporter_tags t WHERE t.supporter_id = ?1), '') WHERE id = ?1"};
// The same for every holder of tag ?1.
inline constexpr Sql kRefreshTagListsOfTag{
    "kRefreshTagListsOfTag",
    "UPDATE supporters SET tag_list = coalesce((SELECT '|' || group_concat(t.tag, '|') || '|'"
    " FROM supporter_tags t WHERE t.supporter_id = supporters.id), '')"
    " WHERE id IN (SELECT w.supporter_id FROM supporter_tags w WHERE w.tag = ?1)"};

// ---- Keeper: exfiltration guard (migration 0005) ---------------------------------

inline constexpr Sql kInsertHoneytoken{
    "kInsertHoneytoken",
    "INSERT INTO honeytokens (supporter_id, planted_at, planted_by) VALUES (?1, ?2, ?3)"};
inline constexpr Sql kSelectIsHoneytoken{
    "kSelectIsHoneytoken", "SELECT EXISTS (SELECT 1 FROM honeytokens WHERE supporter_id = ?1)"};
inline constexpr Sql kCountHoneytokens{"kCountHoneytokens", "SELECT count(*) FROM honeytokens"};
// One statement for "create at delta or add delta", so two keepers adding
// at once never lose an increment; returns the count after the change.
inline constexpr Sql kAddToGuardCounter{
    "kAddToGuardCounter",
    "INSERT INTO guard_counters (actor, kind, window_start, count) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (actor, kind, window_start) DO UPDATE SET count = guard_counters.count + excluded.count"
    " RETURNING count"};
inline constexpr Sql kSelectGuardCounter{
    "kSelectGuardCounter",
    "SELECT count FROM guard_counters WHERE actor = ?1 AND kind = ?2 AND window_start = ?3"};
inline constexpr Sql kDeleteGuardCountersBefore{
    "kDeleteGuardCountersBefore", "DELETE FROM guard_counters WHERE window_start < ?1"};
inline constexpr Sql kDeleteGuardCountersOf{"kDeleteGuardCountersOf", "DELETE FROM guard_counters WHERE actor = ?1"};

// ---- Keeper: audit log -------------------------------------------------------------
// Entry selects return columns in the order read by the store's
// read_audit_entry(): keep them identical.

#define REMPART_AUDIT_COLUMNS \
  "seq, at, actor, action, client, subject, details, key_version, prev_hash, hash, mac"

inline constexpr Sql kSelectAuditHead{
    "kSelectAuditHead", "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"};
inline constexpr Sql kInsertAuditEntry{
    "kInsertAuditEntry",
    "INSERT INTO audit_entries (" REMPART_AUDIT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"};
inline constexpr Sql kSelectLastAuditCheckpoint{
    "kSelectLastAuditCheckpoint",
    "SELECT seq, head_hash, at, key_version, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"};
inline constexpr Sql kSelectAuditCheckpoints{
    "kSelectAuditCheckpoints",
    "SELECT seq, head_hash, at, key_version, signature FROM audit_checkpoints ORDER BY seq"};
inline constexpr Sql kInsertAuditCheckpoint{
    "kInsertAuditCheckpoint",
    "INSERT INTO audit_checkpoints (seq, head_hash, at, key_version, signature) VALUES (?1, ?2, ?3, ?4, ?5)"};
inline constexpr Sql kScanAudit{
    "kScanAudit", "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries WHERE seq >= ?1 ORDER BY seq"};
// Filters: ?1 actor, ?2 action, ?3 subject ('' = any), ?4 since, ?5 until.
// One statement per index that can lead, so the planner always has one.
inline constexpr Sql kScanAuditByActor{
    "kScanAuditByActor",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE actor = ?1 AND at >= ?4 AND at < ?5 AND (?2 = '' OR action = ?2) AND (?3 = '' OR subject = ?3)"
    " ORDER BY at, seq"};
inline constexpr Sql kScanAuditBySubject{
    "kScanAuditBySubject",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE subject = ?3 AND subject <> '' AND at >= ?4 AND at < ?5 AND (?1 = '' OR actor = ?1)"
    " AND (?2 = '' OR action = ?2) ORDER BY seq"};
inline constexpr Sql kScanAuditByAction{
    "kScanAuditByAction",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE action = ?2 AND at >= ?4 AND at < ?5 AND (?1 = '' OR actor = ?1) AND (?3 = '' OR subject = ?3)"
    " ORDER BY at, seq"};
inline constexpr Sql kScanAuditByTime{
    "kScanAuditByTime",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE at >= ?4 AND at < ?5 AND (?1 = '' OR actor = ?1) AND (?2 = '' OR action = ?2)"
    " AND (?3 = '' OR subject = ?3) ORDER BY seq"};
// The newest `?6` of the same, in the reverse order (scan_audit_newest).
inline constexpr Sql kNewestAuditByActor{
    "kNewestAuditByActor",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE actor = ?1 AND at >= ?4 AND at < ?5 AND (?2 = '' OR action = ?2) AND (?3 = '' OR subject = ?3)"
    " ORDER BY at DESC, seq DESC LIMIT ?6"};
inline constexpr Sql kNewestAuditBySubject{
    "kNewestAuditBySubject",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE subject = ?3 AND subject <> '' AND at >= ?4 AND at < ?5 AND (?1 = '' OR actor = ?1)"
    " AND (?2 = '' OR action = ?2) ORDER BY seq DESC LIMIT ?6"};
inline constexpr Sql kNewestAuditByAction{
    "kNewestAuditByAction",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE action = ?2 AND at >= ?4 AND at < ?5 AND (?1 = '' OR actor = ?1) AND (?3 = '' OR subject = ?3)"
    " ORDER BY at DESC, seq DESC LIMIT ?6"};
inline constexpr Sql kNewestAuditByTime{
    "kNewestAuditByTime",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE at >= ?4 AND at < ?5 AND (?1 = '' OR actor = ?1) AND (?2 = '' OR action = ?2)"
    " AND (?3 = '' OR subject = ?3) ORDER BY seq DESC LIMIT ?6"};

#undef REMPART_AUDIT_COLUMNS

// ---- Keeper: accounts, sessions, API tokens (migration 0003) -------------------
// Account selects return columns in the order read by the store's
// read_account(): keep them identical.

#define REMPART_ACCOUNT_COLUMNS                                                              \
  "id, name, role, password_hash, totp_sealed, totp_last_step, disabled, locked, lock_reason," \
  " failures, last_failure_at, created_at, updated_at, state, created_by, admin_since, enrol_hash, enrol_expires_at," \
  " locked_at, lock_detail"

inline constexpr Sql kInsertAccount{
    "kInsertAccount",
    "INSERT INTO accounts (" REMPART_ACCOUNT_COLUMNS ")"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"};
inline constexpr Sql kSelectAccountById{
    "kSelectAccountById", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts WHERE id = ?1"};
inline constexpr Sql kSelectAccountByName{
    "kSelectAccountByName", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts WHERE name = ?1"};
inline constexpr Sql kSelectAccounts{
    "kSelectAccounts", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts ORDER BY name"};
inline constexpr Sql kUpdateAccount{
    "kUpdateAccount",
    "UPDATE accounts SET role = ?3, password_hash = ?4, totp_sealed = ?5, totp_last_step = ?6,"
    " disabled = ?7, locked = ?8, lock_reason = ?9, failures = ?10, last_failure_at = ?11, updated_at = ?13,"
    " state = ?14, created_by = ?15, admin_since = ?16, enrol_hash = ?17, enrol_expires_at = ?18,"
    " locked_at = ?19, lock_detail = ?20"
    " WHERE id = ?1 AND name = ?2 AND created_at = ?12"};
inline constexpr Sql kSelectAccountByEnrolHash{
    "kSelectAccountByEnrolHash", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts WHERE enrol_hash = ?1"};

#undef REMPART_ACCOUNT_COLUMNS

inline constexpr Sql kInsertRecoveryCode{
    "kInsertRecoveryCode",
    "INSERT INTO account_recovery_codes (account_id, code_hash, used_at) VALUES (?1, ?2, NULL)"};
inline constexpr Sql kDeleteRecoveryCodes{
    "kDeleteRecoveryCodes", "DELETE FROM account_recovery_codes WHERE account_id = ?1"};
inline constexpr Sql kUseRecoveryCode{
    "kUseRecoveryCode",
    "UPDATE account_recovery_codes SET used_at = ?3"
    " WHERE account_id = ?1 AND code_hash = ?2 AND used_at IS NULL"};
inline constexpr Sql kCountUnusedRecoveryCodes{
    "kCountUnusedRecoveryCodes",
    "SELECT count(*) FROM account_recovery_codes WHERE account_id = ?1 AND used_at IS NULL"};

inline constexpr Sql kInsertSession{
    "kInsertSession",
    "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, client) VALUES (?1, ?2, ?3, ?4, ?5)"};
inline constexpr Sql kSelectSession{
    "kSelectSession",
    "SELECT token_hash, account_id, created_at, last_seen_at, client FROM sessions WHERE token_hash = ?1"};
inline constexpr Sql kSelectSessionsOfAccount{
    "kSelectSessionsOfAccount",
    "SELECT token_hash, account_id, created_at, last_seen_at, client FROM sessions WHERE account_id = ?1"
    " ORDER BY last_seen_at DESC"};
inline constexpr Sql kTouchSession{
    "kTouchSession", "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1"};
inline constexpr Sql kDeleteSession{"kDeleteSession", "DELETE FROM sessions WHERE token_hash = ?1"};
inline constexpr Sql kDeleteSessionsOfAccount{
    "kDeleteSessionsOfAccount", "DELETE FROM sessions WHERE account_id = ?1"};

inline constexpr Sql kInsertApiToken{
    "kInsertApiToken",
    "INSERT INTO api_tokens (label, scope, prefix, token_hash, created_by, created_at, expires_at, revoked_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL) RETURNING id"};
#define REMPART_TOKEN_COLUMNS "id, label, scope, prefix, token_hash, created_by, created_at, expires_at, revoked_at"
inline constexpr Sql kSelectApiTokenByHash{
    "kSelectApiTokenByHash", "SELECT " REMPART_TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = ?1"};
inline constexpr Sql kSelectApiTokens{
    "kSelectApiTokens", "SELECT " REMPART_TOKEN_COLUMNS " FROM api_tokens ORDER BY id"};
#undef REMPART_TOKEN_COLUMNS
inline constexpr Sql kRevokeApiToken{
    "kRevokeApiToken", "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL"};
inline constexpr Sql kRevokeApiTokensOf{
    "kRevokeApiTokensOf", "UPDATE api_tokens SET revoked_at = ?2 WHERE created_by = ?1 AND revoked_at IS NULL"};

inline constexpr Sql kSelectLoginThrottle{
    "kSelectLoginThrottle", "SELECT failures, last_failure_at FROM login_throttle WHERE client = ?1"};
inline constexpr Sql kUpsertLoginThrottle{
    "kUpsertLoginThrottle",
    "INSERT INTO login_throttle (client, failures, last_failure_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (client) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at"};
inline constexpr Sql kDeleteLoginThrottle{"kDeleteLoginThrottle", "DELETE FROM login_throttle WHERE client = ?1"};

// ---- Keeper: privilege requests, sponsors, raised budgets (migration 0009) ------

inline constexpr Sql kInsertSponsor{
    "kInsertSponsor",
    "INSERT INTO account_sponsors (account_id, sponsor_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"};
inline constexpr Sql kSelectSponsor{
    "kSelectSponsor", "SELECT 1 FROM account_sponsors WHERE account_id = ?1 AND sponsor_id = ?2"};
#define REMPART_PRIVILEGE_COLUMNS \
  "id, kind, requester_id, target, params, secret_hash, status, created_at, expires_at, decided_by, decided_at"
inline constexpr Sql kInsertPrivilegeRequest{
    "kInsertPrivilegeRequest",
    "INSERT INTO privilege_requests (kind, requester_id, target, params, secret_hash, status, created_at,"
    " expires_at, decided_by, decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id"};
inline constexpr Sql kSelectPrivilegeRequest{
    "kSelectPrivilegeRequest", "SELECT " REMPART_PRIVILEGE_COLUMNS " FROM privilege_requests WHERE id = ?1"};
inline constexpr Sql kSelectPrivilegeRequests{
    "kSelectPrivilegeRequests",
    "SELECT " REMPART_PRIVILEGE_COLUMNS " FROM privilege_requests ORDER BY id DESC LIMIT ?1"};
#undef REMPART_PRIVILEGE_COLUMNS
inline constexpr Sql kUpdatePrivilegeRequest{
    "kUpdatePrivilegeRequest",
    "UPDATE privilege_requests SET status = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1"};
inline constexpr Sql kUpsertAccountBudget{
    "kUpsertAccountBudget",
    "INSERT INTO account_budgets (account_id, counted, per_minute, per_hour, per_day, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (account_id, counted) DO UPDATE SET"
    " per_minute = excluded.per_minute, per_hour = excluded.per_hour, per_day = excluded.per_day,"
    " expires_at = excluded.expires_at"};
inline constexpr Sql kSelectAccountBudget{
    "kSelectAccountBudget",
    "SELECT account_id, counted, per_minute, per_hour, per_day, expires_at FROM account_budgets"
    " WHERE account_id = ?1 AND counted = ?2"};

// ---- Keeper: exports (migration 0006) -----------------------------------------

inline constexpr Sql kUpdateAccountExportKey{
    "kUpdateAccountExportKey", "UPDATE accounts SET export_public_key = ?2 WHERE id = ?1"};
inline constexpr Sql kSelectAccountExportKey{
    "kSelectAccountExportKey", "SELECT export_public_key FROM accounts WHERE id = ?1"};
// The segment (migration 0018) is NULL unless a request names one: '' in
// and out of the store.
#define REMPART_EXPORT_COLUMNS                                                                     \
  "id, requester_id, tag, fields, reason, status, created_at, expires_at, approver_id, approved_at, rows," \
  " coalesce(segment, '')"
inline constexpr Sql kInsertExport{
    "kInsertExport",
    "INSERT INTO exports (requester_id, tag, fields, reason, status, created_at, expires_at, approver_id,"
    " approved_at, rows, segment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, nullif(?11, '')) RETURNING id"};
inline constexpr Sql kSelectExport{
    "kSelectExport", "SELECT " REMPART_EXPORT_COLUMNS " FROM exports WHERE id = ?1"};
inline constexpr Sql kSelectExports{
    "kSelectExports", "SELECT " REMPART_EXPORT_COLUMNS " FROM exports ORDER BY id DESC"};
inline constexpr Sql kSelectExportsOf{
    "kSelectExportsOf", "SELECT " REMPART_EXPORT_COLUMNS " FROM exports WHERE requester_id = ?1 ORDER BY id DESC"};
#undef REMPART_EXPORT_COLUMNS
inline constexpr Sql kUpdateExport{
    "kUpdateExport",
    "UPDATE exports SET status = ?2, approver_id = ?3, approved_at = ?4, rows = ?5 WHERE id = ?1"};
// Columns of kSelectSupporterById; ?1 tag ('' = every supporter).
inline constexpr Sql kScanRealSupporters{
    "kScanRealSupporters",
    "SELECT s.id, s.key_version, s.wrapped_key, s.fields, s.email_index, s.phone_index,"
    " s.consent_email_at, s.consent_sms_at, s.created_at, s.updated_at,"
    " s.consent_email_refused_at, s.consent_sms_refused_at, s.joined_at, s.source_index, s.origin"
    " FROM supporters s"
    " WHERE NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id)"
    " AND (?1 = '' OR EXISTS (SELECT 1 FROM supporter_tags w WHERE w.supporter_id = s.id AND w.tag = ?1))"
    " ORDER BY s.created_at, s.id"};
inline constexpr Sql kInsertCanary{
    "kInsertCanary",
    "INSERT INTO export_canaries (blind_index, key_version, kind, export_id) VALUES (?1, ?2, ?3, ?4)"};
inline constexpr Sql kSelectCanary{
    "kSelectCanary", "SELECT blind_index, key_version, kind, export_id FROM export_canaries WHERE blind_index = ?1"};


// ---- Keeper: notes and erasure (migration 0014) ------------------------------

inline constexpr Sql kInsertNote{
    "kInsertNote",
    "INSERT INTO supporter_notes (id, supporter_id, kind, sealed, author, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
// Newest first; served by supporter_notes_supporter.
inline constexpr Sql kSelectNotes{
    "kSelectNotes",
    "SELECT id, supporter_id, kind, sealed, author, created_at FROM supporter_notes"
    " WHERE supporter_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2"};
// An erasure deletes what refers to the record first, each by name, then
// the record; what it does not name (a table added later with ON DELETE
// CASCADE) goes with the record.
inline constexpr Sql kDeleteNotesOf{"kDeleteNotesOf", "DELETE FROM supporter_notes WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteConsentEventsOf{"kDeleteConsentEventsOf",
                                            "DELETE FROM consent_events WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteTagsOf{"kDeleteTagsOf", "DELETE FROM supporter_tags WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteHoneytokenOf{"kDeleteHoneytokenOf", "DELETE FROM honeytokens WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteSupporter{"kDeleteSupporter", "DELETE FROM supporters WHERE id = ?1"};

// ---- Keeper: supporter mail (migration 0020) -----------------------------------

#define REMPART_OUTBOX_COLUMNS "id, supporter_id, kind, state, attempts, created_at, next_at, done_at, last_reply, lang"
inline constexpr Sql kInsertOutbox{
    "kInsertOutbox",
    "INSERT INTO outbox (supporter_id, kind, state, attempts, created_at, next_at, last_reply, lang)"
    " VALUES (?1, ?2, 'queued', 0, ?3, ?3, 0, ?4) RETURNING id"};
// Served by outbox_supporter.
inline constexpr Sql kCountOutboxSince{
    "kCountOutboxSince",
    "SELECT count(*) FROM outbox WHERE supporter_id = ?1 AND kind = ?2 AND created_at >= ?3"};
// Served by outbox_due (a partial index: only what is still to send).
inline constexpr Sql kSelectDueOutbox{
    "kSelectDueOutbox",
    "SELECT " REMPART_OUTBOX_COLUMNS " FROM outbox"
    " WHERE state IN ('queued', 'sending') AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2"};
inline constexpr Sql kSelectOutboxById{"kSelectOutboxById",
                                       "SELECT " REMPART_OUTBOX_COLUMNS " FROM outbox WHERE id = ?1"};
inline constexpr Sql kUpdateOutbox{
    "kUpdateOutbox",
    "UPDATE outbox SET state = ?2, attempts = ?3, next_at = ?4, done_at = ?5, last_reply = ?6 WHERE id = ?1"};
// Served by outbox_due (its WHERE is the partial index's): what is still to send.
inline constexpr Sql kCountOutboxPending{"kCountOutboxPending",
                                         "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')"};
inline constexpr Sql kCountOutboxByState{"kCountOutboxByState",
                                         "SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state"};
#undef REMPART_OUTBOX_COLUMNS
inline constexpr Sql kInsertLinkToken{
    "kInsertLinkToken",
    "INSERT INTO link_tokens (hash, supporter_id, purpose, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)"};
inline constexpr Sql kSelectLinkToken{
    "kSelectLinkToken",
    "SELECT hash, supporter_id, purpose, created_at, expires_at, used_at FROM link_tokens WHERE hash = ?1"};
inline constexpr Sql kUseLinkToken{"kUseLinkToken",
                                   "UPDATE link_tokens SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL"};
// Served by link_tokens_expiry.
inline constexpr Sql kDeleteExpiredLinkTokens{"kDeleteExpiredLinkTokens",
                                              "DELETE FROM link_tokens WHERE expires_at <= ?1"};
// Only a consent that is given can be confirmed.
inline constexpr Sql kConfirmEmailConsent{
    "kConfirmEmailConsent",
    "UPDATE supporters SET consent_email_confirmed_at = ?2"
    " WHERE id = ?1 AND consent_email_at IS NOT NULL AND consent_email_confirmed_at IS NULL"};
inline constexpr Sql kSelectEmailConfirmed{"kSelectEmailConfirmed",
                                           "SELECT consent_email_confirmed_at FROM supporters WHERE id = ?1"};
inline constexpr Sql kInsertPhrase{
    "kInsertPhrase",
    "INSERT INTO supporter_phrases (supporter_id, phrase_id, sealed, created_at) VALUES (?1, ?2, ?3, ?4)"};
inline constexpr Sql kSelectPhrase{
    "kSelectPhrase",
    "SELECT supporter_id, phrase_id, sealed, created_at FROM supporter_phrases WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteOutboxOf{"kDeleteOutboxOf", "DELETE FROM outbox WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteLinkTokensOf{"kDeleteLinkTokensOf", "DELETE FROM link_tokens WHERE supporter_id = ?1"};
inline constexpr Sql kDeletePhraseOf{"kDeletePhraseOf", "DELETE FROM supporter_phrases WHERE supporter_id = ?1"};

// ---- Keeper: mailings (migration 0024) ------------------------------------------

#define REMPART_MAILING_COLUMNS                                                                  \
  "SELECT id, name, subject, body, segment, state, recipients, created_by, created_at, updated_at," \
  " drawn_at, approved_by, approved_at, started_at, finished_at, audience, lang FROM mailings"
inline constexpr Sql kInsertMailing{
    "kInsertMailing",
    "INSERT INTO mailings (name, subject, body, segment, state, recipients, created_by, created_at, updated_at,"
    " drawn_at, approved_by, approved_at, started_at, finished_at, audience, lang)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) RETURNING id"};
inline constexpr Sql kSelectMailing{"kSelectMailing", REMPART_MAILING_COLUMNS " WHERE id = ?1"};
inline constexpr Sql kSelectMailings{"kSelectMailings", REMPART_MAILING_COLUMNS " ORDER BY id DESC LIMIT ?1"};
inline constexpr Sql kSelectOldestSendingMailing{
    "kSelectOldestSendingMailing", REMPART_MAILING_COLUMNS " WHERE state = 'sending' ORDER BY id LIMIT 1"};
#undef REMPART_MAILING_COLUMNS
inline constexpr Sql kUpdateMailing{
    "kUpdateMailing",
    "UPDATE mailings SET name = ?2, subject = ?3, body = ?4, segment = ?5, state = ?6, recipients = ?7,"
    " updated_at = ?8, drawn_at = ?9, approved_by = ?10, approved_at = ?11, started_at = ?12, finished_at = ?13,"
    " audience = ?14, lang = ?15 WHERE id = ?1"};
// Mailable: an address, the e-mail consent given and (unless the audience,
// ?A, is 'given') confirmed by double opt-in, the address not bouncing, not
// a honeytoken. A notice (audience 'notice') asks for no consent.
#define REMPART_MAILABLE(A)                                                                             \
  " s.email_index IS NOT NULL AND (" A " = 'notice' OR (s.consent_email_at IS NOT NULL"                \
  " AND (" A " = 'given' OR s.consent_email_confirmed_at IS NOT NULL)))"                                \
  " AND s.email_bouncing_at IS NULL AND NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id)"
inline constexpr Sql kInsertMailingRecipient{
    "kInsertMailingRecipient",
    "INSERT INTO mailing_recipients (mailing_id, supporter_id, state) SELECT ?1, s.id, 'queued'"
    " FROM supporters s WHERE s.id = ?2 AND" REMPART_MAILABLE("?3")
    " ON CONFLICT (mailing_id, supporter_id) DO NOTHING"};
inline constexpr Sql kSelectMailable{"kSelectMailable",
                                     "SELECT 1 FROM supporters s WHERE s.id = ?1 AND" REMPART_MAILABLE("?2")};
#undef REMPART_MAILABLE
inline constexpr Sql kSelectMailingRecipients{
    "kSelectMailingRecipients",
    "SELECT supporter_id FROM mailing_recipients WHERE mailing_id = ?1 AND state = ?2 ORDER BY supporter_id"
    " LIMIT ?3"};
inline constexpr Sql kUpdateMailingRecipient{
    "kUpdateMailingRecipient",
    "UPDATE mailing_recipients SET state = ?3, batch = ?4, done_at = ?5, last_reply = ?6"
    " WHERE mailing_id = ?1 AND supporter_id = ?2"};
inline constexpr Sql kDeleteMailingRecipients{"kDeleteMailingRecipients",
                                              "DELETE FROM mailing_recipients WHERE mailing_id = ?1"};
inline constexpr Sql kMoveMailingRecipients{
    "kMoveMailingRecipients",
    "UPDATE mailing_recipients SET state = ?3 WHERE mailing_id = ?1 AND state = ?2"};
inline constexpr Sql kCountMailingRecipients{
    "kCountMailingRecipients",
    "SELECT state, count(*) FROM mailing_recipients WHERE mailing_id = ?1 GROUP BY state ORDER BY state"};
inline constexpr Sql kMarkEmailBouncing{
    "kMarkEmailBouncing",
    "UPDATE supporters SET email_bouncing_at = ?2 WHERE id = ?1 AND email_bouncing_at IS NULL"};

inline constexpr Sql kSelectAccountTestAddress{"kSelectAccountTestAddress",
                                               "SELECT test_address_sealed FROM accounts WHERE id = ?1"};
inline constexpr Sql kUpdateAccountTestAddress{"kUpdateAccountTestAddress",
                                               "UPDATE accounts SET test_address_sealed = ?2 WHERE id = ?1"};

// ---- Keeper: bounces and complaints (migration 0025) ------------------------------

inline constexpr Sql kInsertMailEvent{
    "kInsertMailEvent",
    "INSERT INTO mail_events (supporter_id, kind, at, mailing_id, report) VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT (report) DO NOTHING"};
inline constexpr Sql kCountMailEvents{
    "kCountMailEvents", "SELECT count(*) FROM mail_events WHERE supporter_id = ?1 AND kind = ?2 AND at >= ?3"};
inline constexpr Sql kDeleteMailEventsOf{"kDeleteMailEventsOf", "DELETE FROM mail_events WHERE supporter_id = ?1"};
inline constexpr Sql kDeleteMailingRecipientsOf{"kDeleteMailingRecipientsOf",
                                                "DELETE FROM mailing_recipients WHERE supporter_id = ?1"};
// What became of a sent message: the named mailing's (?2), or when it is
// NULL the one last sent to the record. Once per recipient.
#define REMPART_MAILING_OUTCOME(COLUMN)                                                                   \
  "UPDATE mailing_recipients SET " COLUMN " = ?3 WHERE supporter_id = ?1 AND state = 'sent' AND " COLUMN \
  " IS NULL AND mailing_id = coalesce(?2, (SELECT r.mailing_id FROM mailing_recipients r"                \
  " WHERE r.supporter_id = ?1 AND r.state = 'sent' ORDER BY r.done_at DESC, r.mailing_id DESC LIMIT 1))" \
  " RETURNING mailing_id"
inline constexpr Sql kMailingBounced{"kMailingBounced", REMPART_MAILING_OUTCOME("bounced_at")};
inline constexpr Sql kMailingComplained{"kMailingComplained", REMPART_MAILING_OUTCOME("complained_at")};
inline constexpr Sql kMailingUnsubscribed{"kMailingUnsubscribed", REMPART_MAILING_OUTCOME("unsubscribed_at")};
#undef REMPART_MAILING_OUTCOME
inline constexpr Sql kCountMailingOutcomes{
    "kCountMailingOutcomes",
    "SELECT count(bounced_at), count(complained_at), count(unsubscribed_at) FROM mailing_recipients"
    " WHERE mailing_id = ?1"};

// ---- Keeper: suppressions after erasure (migration 0021) -----------------------

inline constexpr Sql kInsertSuppression{
    "kInsertSuppression",
    "INSERT INTO suppressions (blind_index, key_version, erased_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (blind_index) DO UPDATE SET key_version = excluded.key_version, erased_at = excluded.erased_at"};
inline constexpr Sql kSelectSuppressed{"kSelectSuppressed", "SELECT 1 FROM suppressions WHERE blind_index = ?1"};
inline constexpr Sql kDeleteSuppression{"kDeleteSuppression", "DELETE FROM suppressions WHERE blind_index = ?1"};
inline constexpr Sql kCountSuppressions{"kCountSuppressions", "SELECT count(*) FROM suppressions"};

// ---- Keeper: retention (docs/retention.md) ------------------------------------
// A record's last activity: its last change (updated_at) or the last
// statement of consent in its log, whichever is later. Honeytokens are
// left out: they are the guard's, not people. Each takes its candidates by
// id, after ?2, up to ?3 at a time.
#define REMPART_LAST_ACTIVITY \
  "max(s.updated_at, coalesce((SELECT max(c.at) FROM consent_events c WHERE c.supporter_id = s.id), 0))"
#define REMPART_NOT_HONEYTOKEN " AND NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id)"
inline constexpr Sql kRetentionInactive{
    "kRetentionInactive",
    "SELECT s.id FROM supporters s WHERE s.id > ?2 AND " REMPART_LAST_ACTIVITY " < ?1" REMPART_NOT_HONEYTOKEN
    " ORDER BY s.id LIMIT ?3"};
inline constexpr Sql kRetentionPhone{
    "kRetentionPhone",
    "SELECT s.id FROM supporters s WHERE s.id > ?2 AND s.phone_index IS NOT NULL AND " REMPART_LAST_ACTIVITY
    " < ?1" REMPART_NOT_HONEYTOKEN " ORDER BY s.id LIMIT ?3"};
// A sign-up whose e-mail consent was never confirmed though a confirmation
// mail went out (the relay took it), that gave no other consent and changed
// nothing since it came. Records from before double opt-in, never asked,
// are not reached.
inline constexpr Sql kRetentionUnconfirmed{
    "kRetentionUnconfirmed",
    "SELECT s.id FROM supporters s WHERE s.id > ?2 AND s.origin = 'intake' AND s.consent_email_at IS NOT NULL"
    " AND s.consent_email_confirmed_at IS NULL AND s.consent_sms_at IS NULL AND s.created_at < ?1"
    " AND s.updated_at <= s.created_at"
    " AND EXISTS (SELECT 1 FROM outbox o WHERE o.supporter_id = s.id AND o.kind = 'confirm' AND o.state = 'sent')"
    REMPART_NOT_HONEYTOKEN " ORDER BY s.id LIMIT ?3"};
#undef REMPART_LAST_ACTIVITY
#undef REMPART_NOT_HONEYTOKEN

// ---- Keeper: saved segments, tags across records (migration 0015) ---------------

#define REMPART_SEGMENT_COLUMNS "id, name, definition, created_by, created_at, updated_at"
inline constexpr Sql kInsertSegment{
    "kInsertSegment",
    "INSERT INTO segments (name, definition, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
    " RETURNING id"};
inline constexpr Sql kSelectSegmentByName{
    "kSelectSegmentByName", "SELECT " REMPART_SEGMENT_COLUMNS " FROM segments WHERE name = ?1"};
inline constexpr Sql kSelectSegments{"kSelectSegments", "SELECT " REMPART_SEGMENT_COLUMNS " FROM segments ORDER BY name"};
#undef REMPART_SEGMENT_COLUMNS
inline constexpr Sql kUpdateSegment{
    "kUpdateSegment", "UPDATE segments SET definition = ?2, updated_at = ?3 WHERE name = ?1"};
inline constexpr Sql kDeleteSegment{"kDeleteSegment", "DELETE FROM segments WHERE name = ?1"};
// A tag moved across records: `to` added where `from` is (kept where it
// already is), then `from` deleted; the delete's count is the supporters
// that held it. Both served by supporter_tags_tag.
inline constexpr Sql kCopyTag{
    "kCopyTag",
    "INSERT INTO supporter_tags (supporter_id, tag, added_at)"
    " SELECT supporter_id, ?2, ?3 FROM supporter_tags WHERE tag = ?1"
    " ON CONFLICT (supporter_id, tag) DO NOTHING"};
inline constexpr Sql kDeleteTagEverywhere{"kDeleteTagEverywhere", "DELETE FROM supporter_tags WHERE tag = ?1"};


// ---- Keeper: call lists (migration 0016) -------------------------------------------

#define REMPART_CALL_LIST_COLUMNS "id, name, segment, script, created_by, created_at, starts_at, ends_at, closed_at"
#define REMPART_CALL_ENTRY_COLUMNS "list_id, position, supporter_id, caller, opened_at, outcome, done_at"
inline constexpr Sql kInsertCallList{
    "kInsertCallList",
    "INSERT INTO call_lists (name, segment, script, created_by, created_at, starts_at, ends_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id"};
inline constexpr Sql kInsertCallEntry{
    "kInsertCallEntry",
    "INSERT INTO call_list_entries (list_id, position, supporter_id, caller) VALUES (?1, ?2, ?3, ?4)"};
inline constexpr Sql kSelectCallListByName{
    "kSelectCallListByName", "SELECT " REMPART_CALL_LIST_COLUMNS " FROM call_lists WHERE name = ?1"};
inline constexpr Sql kSelectCallLists{
    "kSelectCallLists", "SELECT " REMPART_CALL_LIST_COLUMNS " FROM call_lists ORDER BY created_at DESC, id DESC"};
// Shares per caller: of one list (?1 > 0, its primary key) or of all.
inline constexpr Sql kSelectCallShares{
    "kSelectCallShares",
    "SELECT list_id, caller, count(*), count(opened_at), count(done_at) FROM call_list_entries"
    " WHERE ?1 = 0 OR list_id = ?1 GROUP BY list_id, caller ORDER BY list_id, caller"};
// Served by call_list_entries_caller.
inline constexpr Sql kSelectCallSharesOf{
    "kSelectCallSharesOf",
    "SELECT list_id, caller, count(*), count(opened_at), count(done_at) FROM call_list_entries"
    " WHERE caller = ?1 GROUP BY list_id ORDER BY list_id"};
inline constexpr Sql kSelectCallOutcomes{
    "kSelectCallOutcomes",
    "SELECT outcome, count(*) FROM call_list_entries WHERE list_id = ?1 AND outcome IS NOT NULL"
    " GROUP BY outcome ORDER BY outcome"};
// The entry opened and not done first, then the first not opened; served
// by call_list_entries_caller (done_at IS NULL).
inline constexpr Sql kSelectNextCallEntry{
    "kSelectNextCallEntry",
    "SELECT " REMPART_CALL_ENTRY_COLUMNS " FROM call_list_entries"
    " WHERE caller = ?2 AND list_id = ?1 AND done_at IS NULL ORDER BY opened_at IS NULL, position LIMIT 1"};
inline constexpr Sql kSelectCallEntry{
    "kSelectCallEntry",
    "SELECT " REMPART_CALL_ENTRY_COLUMNS " FROM call_list_entries WHERE list_id = ?1 AND position = ?2"};
#undef REMPART_CALL_LIST_COLUMNS
#undef REMPART_CALL_ENTRY_COLUMNS
inline constexpr Sql kOpenCallEntry{
    "kOpenCallEntry",
    "UPDATE call_list_entries SET opened_at = ?3 WHERE list_id = ?1 AND position = ?2 AND opened_at IS NULL"};
inline constexpr Sql kFinishCallEntry{
    "kFinishCallEntry",
    "UPDATE call_list_entries SET outcome = ?3, done_at = ?4"
    " WHERE list_id = ?1 AND position = ?2 AND opened_at IS NOT NULL AND done_at IS NULL"};
inline constexpr Sql kCloseCallList{
    "kCloseCallList", "UPDATE call_lists SET closed_at = ?2 WHERE id = ?1 AND closed_at IS NULL"};
inline constexpr Sql kDeleteCallEntriesOf{
    "kDeleteCallEntriesOf", "DELETE FROM call_list_entries WHERE supporter_id = ?1"};

// ---- Key versions (store.hpp, KeyVersionPort) ----
inline constexpr Sql kSelectRecordsToRewrap{
    "kSelectRecordsToRewrap",
    "SELECT id, key_version, wrapped_key FROM supporters WHERE id > ?1 AND key_version < ?2"
    " ORDER BY id LIMIT ?3"};
inline constexpr Sql kRewrapRecord{
    "kRewrapRecord",
    "UPDATE supporters SET key_version = ?4, wrapped_key = ?5"
    " WHERE id = ?1 AND key_version = ?2 AND wrapped_key = ?3"};
inline constexpr Sql kCountRecordsByKeyVersion{
    "kCountRecordsByKeyVersion", "SELECT key_version, count(*) FROM supporters GROUP BY key_version ORDER BY 1"};
inline constexpr Sql kCountAuditEntriesByKeyVersion{
    "kCountAuditEntriesByKeyVersion", "SELECT key_version, count(*) FROM audit_entries GROUP BY key_version ORDER BY 1"};
inline constexpr Sql kCountCheckpointsByKeyVersion{
    "kCountCheckpointsByKeyVersion",
    "SELECT key_version, count(*) FROM audit_checkpoints GROUP BY key_version ORDER BY 1"};
inline constexpr Sql kCountCanariesByKeyVersion{
    "kCountCanariesByKeyVersion", "SELECT key_version, count(*) FROM export_canaries GROUP BY key_version ORDER BY 1"};
inline constexpr Sql kCountSuppressionsByKeyVersion{
    "kCountSuppressionsByKeyVersion", "SELECT key_version, count(*) FROM suppressions GROUP BY key_version ORDER BY 1"};
// A sealed TOTP secret starts with its key version (u32, little-endian;
// crypto/account_keys.hpp): grouped by those four bytes, read by the store.
inline constexpr Sql kCountAccountsByTotpVersion{
    "kCountAccountsByTotpVersion", "SELECT substr(totp_sealed, 1, 4), count(*) FROM accounts GROUP BY 1 ORDER BY 1"};
inline constexpr Sql kCountInboxByKeyVersion{
    "kCountInboxByKeyVersion",
    "SELECT b.key_version, count(*) FROM inbox i JOIN intake_batches b ON b.uid = i.batch_uid"
    " GROUP BY b.key_version ORDER BY 1"};

// ---- The breach register (migration 0029) ---------------------------------------
#define REMPART_BREACH_COLUMNS                                                                        \
  "SELECT id, recorded_at, recorded_by, updated_at, since_at, until_at, actor, aware_at, nature, people," \
  " people_masked, records, values_revealed, categories, consequences, measures, measures_note, contact," \
  " not_notified_reason, authority_notified_at, people_notified_at, closed_at, close_reason, state"      \
  " FROM breach_register"
inline constexpr Sql kInsertBreach{
    "kInsertBreach",
    "INSERT INTO breach_register (recorded_at, recorded_by, updated_at, since_at, until_at, actor, aware_at, nature,"
    " people, people_masked, records, values_revealed, categories, consequences, measures, measures_note, contact,"
    " not_notified_reason, authority_notified_at, people_notified_at, closed_at, close_reason, state)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) RETURNING id"};
inline constexpr Sql kSelectBreach{"kSelectBreach", REMPART_BREACH_COLUMNS " WHERE id = ?1"};
inline constexpr Sql kSelectBreaches{"kSelectBreaches", REMPART_BREACH_COLUMNS " ORDER BY id DESC LIMIT ?1"};
#undef REMPART_BREACH_COLUMNS
// Only what happened after the breach was recorded: the facts stay.
inline constexpr Sql kUpdateBreach{
    "kUpdateBreach",
    "UPDATE breach_register SET updated_at = ?2, not_notified_reason = ?3, authority_notified_at = ?4,"
    " people_notified_at = ?5, closed_at = ?6, close_reason = ?7, state = ?8 WHERE id = ?1"};

}  // namespace sql
}  // namespace rempart::store::sqlite
