#pragma once
// Every SQL statement the PostgreSQL store runs, each a named constant. Values
// are always sent as `$N` parameters; no statement is ever assembled from
// strings or formatted with values. The schema itself lives in
// src/store/migrations/postgres/ (the numbered files, then grants.sql).
//
// Each constant is the counterpart of the one of the same name in
// store/sqlite/statements.hpp: the same parameters by number (SQLite's ?N
// is $N here) and the same result columns in the same order, so the store
// code reads both alike. Differences:
//   - Integer results are bigint (sums cast, booleans as 0/1), text text,
//     blobs bytea, so they read alike in binary format. Every parameter's
//     type is fixed at PREPARE (a cast where the server could not infer
//     it): bigint where the store binds an integer (send it in text
//     format), bytea where it binds bytes (binary), text where it binds text
//     (either). An empty byte string is a zero-length bytea, never NULL.
//   - PostgreSQL must know the type of every parameter up to the highest
//     one: the numbers a statement's SQLite form leaves unused are named in
//     a test that is always true (num_nulls(...) >= 0, evaluated once per
//     run, not per row). The caller sends NULL for them, as SQLite reads an
//     unbound parameter.
//   - LIMIT takes no negative number (SQLite reads one as "no limit"): send
//     a limit >= 0, or NULL for none.
//   - A few statements are new (kClaimInbox, kAuditAppendLock, kTryLeadMail,
//     kTakeSignupToken, kInboxDeadTuples, kMigrationLock, kSetupSettings,
//     kSchemaMigrationsExists) and a few SQLite ones have none here: see
//     the list at the end of this file.
//
// Errors name the constant (Sql::name), never the SQL text nor a bound value.
#include <string_view>

namespace rempart::store::postgres {

struct Sql {
  std::string_view name;  // the constant's name, for error messages
  std::string_view text;
};

namespace sql {

// ---- Transaction control -------------------------------------------------

// A write transaction, READ COMMITTED. Appending to the audit log takes
// kAuditAppendLock first.
inline constexpr Sql kBegin{"kBegin", "BEGIN"};
// A read transaction: one snapshot for every read of a call, held to COMMIT.
inline constexpr Sql kBeginReadOnlySnapshot{"kBeginReadOnlySnapshot",
                                            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
inline constexpr Sql kCommit{"kCommit", "COMMIT"};
inline constexpr Sql kRollback{"kRollback", "ROLLBACK"};

// ---- Migrations (the owner role, search_path set to the schema) -------------

// Held to the end of the migration's transaction, so that two processes
// starting at once migrate one after the other. One row: 1.
inline constexpr Sql kMigrationLock{"kMigrationLock",
                                    "SELECT 1::bigint FROM pg_advisory_xact_lock(8243115022410216525)"};
// The setup's values, for the rest of its transaction only: $1 keeper
// user, $2 intake user, $3 and $4 their password verifiers ('' for none),
// read back with current_setting('rempart.keeper_user') and so on. One
// row of four texts (the values set).
inline constexpr Sql kSetupSettings{
    "kSetupSettings",
    "SELECT set_config('rempart.keeper_user', $1::text, true), set_config('rempart.intake_user', $2::text, true),"
    " set_config('rempart.keeper_verifier', $3::text, true), set_config('rempart.intake_verifier', $4::text, true)"};
// One row: 1 when schema_migrations exists (in the search_path's schema),
// else 0. Any role with USAGE on the schema may run it.
inline constexpr Sql kSchemaMigrationsExists{
    "kSchemaMigrationsExists", "SELECT (to_regclass('schema_migrations') IS NOT NULL)::integer::bigint"};
inline constexpr Sql kCreateSchemaMigrations{
    "kCreateSchemaMigrations",
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL"
    ")"};
inline constexpr Sql kSelectSchemaVersion{
    "kSelectSchemaVersion", "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations"};
inline constexpr Sql kInsertSchemaMigration{
    "kInsertSchemaMigration",
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"};

// ---- Intake (the intake role: INSERT on these two tables, nothing else) ------
// A bare ON CONFLICT DO NOTHING: naming the conflict's columns would need
// SELECT on them, which the intake role does not have. A batch conflicts
// on its uid only; an item on its item_uid only (its id comes from the
// sequence), so an append retried after a lost connection adds nothing
// twice.

inline constexpr Sql kInsertBatch{
    "kInsertBatch",
    "INSERT INTO intake_batches (uid, key_version, ephemeral_public, created_at)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"};
inline constexpr Sql kInsertInboxItem{
    "kInsertInboxItem",
    "INSERT INTO inbox (batch_uid, item_uid, wrapped_key, fields, received_at)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"};
// The shared sign-up rate limit: $1 key, $2 tokens a second, $3 burst,
// $4 now (unix seconds; NULL: the server's clock). One row: 0 when a token
// was taken, else the seconds (double precision) until one is back. Run it
// outside a transaction: the key's bucket stays locked until its end.
inline constexpr Sql kTakeSignupToken{"kTakeSignupToken",
                                      "SELECT rempart_take_token($1::text, $2::float8, $3::float8, $4::float8)"};

// ---- Keeper: the inbox ----------------------------------------------------------

inline constexpr Sql kPeekInboxAfter{
    "kPeekInboxAfter",
    "SELECT id, batch_uid, item_uid, wrapped_key, fields, received_at"
    " FROM inbox WHERE id > $2 ORDER BY id LIMIT $1"};
// The fold's dequeue, inside its transaction: up to $1 items no other
// transaction holds, locked until the fold commits (having deleted them)
// or rolls back (leaving them for the next). Columns of kPeekInboxAfter.
// Only items of batches sealed with a key version from $2 to $3 (those the
// claiming keeper holds): a batch of a version it lacks is left to a keeper
// that has it, instead of being claimed first by every pass.
inline constexpr Sql kClaimInbox{
    "kClaimInbox",
    "SELECT i.id, i.batch_uid, i.item_uid, i.wrapped_key, i.fields, i.received_at FROM inbox i"
    " WHERE EXISTS (SELECT 1 FROM intake_batches b WHERE b.uid = i.batch_uid"
    " AND b.key_version BETWEEN $2::bigint AND $3::bigint)"
    " ORDER BY i.id LIMIT $1 FOR UPDATE OF i SKIP LOCKED"};
inline constexpr Sql kCountInbox{"kCountInbox", "SELECT count(*) FROM inbox"};
inline constexpr Sql kDeleteInboxItem{"kDeleteInboxItem", "DELETE FROM inbox WHERE id = $1"};
// Served by the unique index on item_uid.
inline constexpr Sql kDeleteInboxItemByUid{"kDeleteInboxItemByUid", "DELETE FROM inbox WHERE item_uid = $1"};
inline constexpr Sql kSelectBatch{
    "kSelectBatch",
    "SELECT uid, key_version, ephemeral_public, created_at"
    " FROM intake_batches WHERE uid = $1"};
// Both batch deletes skip a batch that an intake transaction is adding an
// item to (its foreign key check holds the row): deleting it would fail
// this transaction once that item commits. The next sweep takes it.
inline constexpr Sql kDeleteUnreferencedBatches{
    "kDeleteUnreferencedBatches",
    "DELETE FROM intake_batches WHERE uid IN (SELECT b.uid FROM intake_batches b"
    " WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.batch_uid = b.uid) FOR UPDATE OF b SKIP LOCKED)"};
inline constexpr Sql kDeleteBatchIfUnreferenced{
    "kDeleteBatchIfUnreferenced",
    "DELETE FROM intake_batches"
    " WHERE uid = (SELECT b.uid FROM intake_batches b WHERE b.uid = $1::bytea FOR UPDATE SKIP LOCKED)"
    " AND NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.batch_uid = $1::bytea)"};
// One row: 1 when the inbox is empty, else 0.
inline constexpr Sql kInboxIsEmpty{"kInboxIsEmpty",
                                   "SELECT (NOT EXISTS (SELECT 1 FROM inbox))::integer::bigint"};
// One row: the inbox's dead and live row versions as the statistics
// collector last counted them (a deleted item stays a dead row until vacuum).
inline constexpr Sql kInboxDeadTuples{
    "kInboxDeadTuples",
    "SELECT n_dead_tup::bigint, n_live_tup::bigint FROM pg_stat_user_tables WHERE relid = 'inbox'::regclass"};

// ---- Keeper: the fold ledger ------------------------------------------------------

inline constexpr Sql kInsertFoldedItem{
    "kInsertFoldedItem",
    "INSERT INTO folded_items (item_uid, folded_at) VALUES ($1, $2) ON CONFLICT (item_uid) DO NOTHING"};
inline constexpr Sql kDeleteFoldedItem{"kDeleteFoldedItem", "DELETE FROM folded_items WHERE item_uid = $1"};
inline constexpr Sql kSelectFoldedItems{
    "kSelectFoldedItems", "SELECT item_uid FROM folded_items ORDER BY folded_at, item_uid LIMIT $1"};

// ---- Keeper: the audit log's order ---------------------------------------------------
// Held to the end of the transaction: transactions that append to the
// audit log run one after the other, so each extends the head the previous
// one left. One row: 1.
inline constexpr Sql kAuditAppendLock{"kAuditAppendLock",
                                      "SELECT 1::bigint FROM pg_advisory_xact_lock(8243115022410216513)"};

// Held by the session until it ends (no unlock): the keeper whose session
// holds it sends the mail (supporter mail and mailings), the others do not;
// when that keeper's session ends, the next to ask takes it. One row: 1 if
// this session holds it (now or already), else 0.
inline constexpr Sql kTryLeadMail{"kTryLeadMail",
                                  "SELECT pg_try_advisory_lock(8243115022410216514)::int::bigint"};

// ---- Keeper: supporters ------------------------------------------------------
// The lookups return columns in the order read by the store's
// read_supporter(): keep them identical.

#define REMPART_SUPPORTER_COLUMNS                                                          \
  "SELECT id, key_version, wrapped_key, fields, email_index, phone_index,"                \
  " consent_email_at, consent_sms_at, created_at, updated_at,"                            \
  " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin"    \
  " FROM supporters"
inline constexpr Sql kSelectSupporterById{"kSelectSupporterById", REMPART_SUPPORTER_COLUMNS " WHERE id = $1"};
inline constexpr Sql kSelectSupporterByEmailIndex{"kSelectSupporterByEmailIndex",
                                                  REMPART_SUPPORTER_COLUMNS " WHERE email_index = $1"};
inline constexpr Sql kSelectSupporterByPhoneIndex{"kSelectSupporterByPhoneIndex",
                                                  REMPART_SUPPORTER_COLUMNS " WHERE phone_index = $1"};
inline constexpr Sql kSelectSupporterBySourceIndex{"kSelectSupporterBySourceIndex",
                                                   REMPART_SUPPORTER_COLUMNS " WHERE source_index = $1"};
#undef REMPART_SUPPORTER_COLUMNS
inline constexpr Sql kInsertSupporter{
    "kInsertSupporter",
    "INSERT INTO supporters (id, key_version, wrapped_key, fields, email_index, phone_index,"
    " consent_email_at, consent_sms_at, created_at, updated_at,"
    " consent_email_refused_at, consent_sms_refused_at, joined_at, source_index, origin)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"};
inline constexpr Sql kUpdateSupporter{
    "kUpdateSupporter",
    "UPDATE supporters SET key_version = $2, wrapped_key = $3, fields = $4,"
    " email_index = $5, phone_index = $6, consent_email_at = $7, consent_sms_at = $8,"
    " updated_at = $9, consent_email_refused_at = $10, consent_sms_refused_at = $11, joined_at = $12,"
    " source_index = $13 WHERE id = $1"};
inline constexpr Sql kCountSupporters{"kCountSupporters", "SELECT count(*) FROM supporters"};
inline constexpr Sql kInsertConsentEvent{
    "kInsertConsentEvent",
    "INSERT INTO consent_events (supporter_id, channel, choice, at, source, wording) VALUES ($1, $2, $3, $4, $5, $6)"};
inline constexpr Sql kSelectConsentEvents{
    "kSelectConsentEvents",
    "SELECT channel, choice, at, source, wording FROM consent_events WHERE supporter_id = $1 ORDER BY id"};
inline constexpr Sql kInsertConsentWording{
    "kInsertConsentWording",
    "INSERT INTO consent_wordings (hash, text, first_seen) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING"};
inline constexpr Sql kSelectConsentWording{"kSelectConsentWording",
                                           "SELECT text FROM consent_wordings WHERE hash = $1"};

// ---- Keeper: search tokens -------------------------------------------------------

// A record's tokens in one statement: $1 is the tokens end to end, each $3
// bytes long (one round trip for the lot instead of one per token).
inline constexpr Sql kInsertSearchTokens{
    "kInsertSearchTokens",
    "INSERT INTO supporter_search_tokens (token, supporter_id)"
    " SELECT substring($1::bytea FROM i * $3::integer + 1 FOR $3::integer), $2"
    " FROM generate_series(0, length($1::bytea) / $3::integer - 1) AS i"
    " ON CONFLICT (token, supporter_id) DO NOTHING"};
inline constexpr Sql kDeleteSearchTokensOf{
    "kDeleteSearchTokensOf", "DELETE FROM supporter_search_tokens WHERE supporter_id = $1"};
inline constexpr Sql kSelectIdsBySearchToken{
    "kSelectIdsBySearchToken", "SELECT supporter_id FROM supporter_search_tokens WHERE token = $1"};
// One page of a token's holders, highest id first: the primary key
// (token, supporter_id) walked backwards.
inline constexpr Sql kSelectSearchTokenPage{
    "kSelectSearchTokenPage",
    "SELECT supporter_id FROM supporter_search_tokens WHERE token = $1 ORDER BY supporter_id DESC LIMIT $2"};
inline constexpr Sql kSelectSearchTokenPageBefore{
    "kSelectSearchTokenPageBefore",
    "SELECT supporter_id FROM supporter_search_tokens WHERE token = $1 AND supporter_id < $2"
    " ORDER BY supporter_id DESC LIMIT $3"};
// A token's holders counted up to $2: the walk stops there.
inline constexpr Sql kCountSearchTokenCapped{
    "kCountSearchTokenCapped",
    "SELECT count(*) FROM (SELECT 1 FROM supporter_search_tokens WHERE token = $1 LIMIT $2) AS capped"};

// ---- Keeper: the dashboard's aggregates -----------------------------------------
// Read from the day counts, honeytokens left out, by whole UTC days: $1
// (unix seconds) counts from the start of its day.

inline constexpr Sql kSelectAddedPerDay{
    "kSelectAddedPerDay",
    "SELECT day, sum(n)::bigint FROM supporter_day_counts WHERE day >= $1::bigint / 86400"
    " GROUP BY day HAVING sum(n) > 0 ORDER BY day"};
inline constexpr Sql kSelectTagCountsSince{
    "kSelectTagCountsSince",
    "SELECT tag, sum(n)::bigint FROM tag_day_counts WHERE day >= $1::bigint / 86400"
    " GROUP BY tag HAVING sum(n) > 0 ORDER BY 2 DESC, 1 LIMIT $2"};
inline constexpr Sql kSelectAddedByOrigin{
    "kSelectAddedByOrigin",
    "SELECT origin, sum(n)::bigint FROM supporter_day_counts WHERE day >= $1::bigint / 86400"
    " GROUP BY origin HAVING sum(n) > 0 ORDER BY 2 DESC, 1"};

inline constexpr Sql kSelectHoneytokenIds{
    "kSelectHoneytokenIds", "SELECT supporter_id FROM honeytokens ORDER BY supporter_id"};
inline constexpr Sql kSelectSearchBacklog{
    "kSelectSearchBacklog", "SELECT supporter_id FROM search_token_backlog ORDER BY supporter_id LIMIT $1"};
inline constexpr Sql kDeleteFromSearchBacklog{
    "kDeleteFromSearchBacklog", "DELETE FROM search_token_backlog WHERE supporter_id = $1"};
inline constexpr Sql kInsertIntoSearchBacklog{
    "kInsertIntoSearchBacklog",
    "INSERT INTO search_token_backlog (supporter_id) SELECT id FROM supporters"
    " ON CONFLICT (supporter_id) DO NOTHING"};

// Keyset pages of the directory, newest first by (created_at, id). Columns:
// those of kSelectSupporterById, then the supporter's tags as comma-joined
// upper-case hex of their UTF-8 bytes (as SQLite's hex(); NULL when none;
// column 15). $1 limit; the *After forms take the position $2 created_at,
// $3 id (rows strictly after it); the *Tagged forms take the tag as $4.
#define REMPART_PAGE_COLUMNS                                                                      \
  "SELECT s.id, s.key_version, s.wrapped_key, s.fields, s.email_index, s.phone_index,"          \
  " s.consent_email_at, s.consent_sms_at, s.created_at, s.updated_at,"                          \
  " s.consent_email_refused_at, s.consent_sms_refused_at, s.joined_at, s.source_index, s.origin," \
  " (SELECT string_agg(upper(encode(convert_to(t.tag, 'UTF8'), 'hex')), ',') FROM supporter_tags t" \
  " WHERE t.supporter_id = s.id)"                                                               \
  " FROM supporters s"
inline constexpr Sql kSelectSupporterPage{
    "kSelectSupporterPage",
    REMPART_PAGE_COLUMNS " ORDER BY s.created_at DESC, s.id DESC LIMIT $1"};
inline constexpr Sql kSelectSupporterPageAfter{
    "kSelectSupporterPageAfter",
    REMPART_PAGE_COLUMNS " WHERE (s.created_at, s.id) < ($2::bigint, $3::bytea)"
    " ORDER BY s.created_at DESC, s.id DESC LIMIT $1"};
// $2 and $3 unused (NULL).
inline constexpr Sql kSelectSupporterPageTagged{
    "kSelectSupporterPageTagged",
    REMPART_PAGE_COLUMNS
    " WHERE num_nulls($2::bigint, $3::bytea) >= 0"
    " AND EXISTS (SELECT 1 FROM supporter_tags w WHERE w.supporter_id = s.id AND w.tag = $4::text)"
    " ORDER BY s.created_at DESC, s.id DESC LIMIT $1"};
inline constexpr Sql kSelectSupporterPageTaggedAfter{
    "kSelectSupporterPageTaggedAfter",
    REMPART_PAGE_COLUMNS
    " WHERE (s.created_at, s.id) < ($2::bigint, $3::bytea)"
    " AND EXISTS (SELECT 1 FROM supporter_tags w WHERE w.supporter_id = s.id AND w.tag = $4::text)"
    " ORDER BY s.created_at DESC, s.id DESC LIMIT $1"};
// One supporter and its tags in one statement (one snapshot). Columns as
// the pages'.
inline constexpr Sql kSelectListingByEmailIndex{"kSelectListingByEmailIndex",
                                                REMPART_PAGE_COLUMNS " WHERE s.email_index = $1"};
inline constexpr Sql kSelectListingByPhoneIndex{"kSelectListingByPhoneIndex",
                                                REMPART_PAGE_COLUMNS " WHERE s.phone_index = $1"};
inline constexpr Sql kSelectListingById{"kSelectListingById", REMPART_PAGE_COLUMNS " WHERE s.id = $1"};
// Segments. One WHERE for every segment, each part switched off by its own
// parameters, numbered as in SQLite:
//   $4 e-mail consent, $5 SMS consent: '' any, 'given', 'refused', 'unknown';
//   $6, $7 sign-up date from (inclusive), before (exclusive), NULL: open;
//   $8, $9 the same for updated_at;
//   $10 origin: '' any, 'unknown', 'import' (any tool), or one exactly;
//   $14 how many place tokens (0: that part is off);
//   $20, $21, $22 the all-of, any-of and none-of tag lists ('|a|b|', ''
//   where that part is off), matched against the record's tag list by
//   rempart_tags_match (inlined: no function call per record); $23 is 0
//   when all three are '';
//   $50..$53 the place's search tokens, NULL where unused.
// The other numbers up to $53 are unused: send NULL.
#define REMPART_SEGMENT_PLACE "($50::bytea, $51::bytea, $52::bytea, $53::bytea)"
#define REMPART_SEGMENT_WHERE                                                                            \
  " ($23::bigint = 0 OR rempart_tags_match(s.tag_list, $20::text, $21::text, $22::text))"              \
  " AND ($4::text = '' OR ($4::text = 'given' AND s.consent_email_at IS NOT NULL)"                      \
  " OR ($4::text = 'refused' AND s.consent_email_at IS NULL AND s.consent_email_refused_at IS NOT NULL)" \
  " OR ($4::text = 'unknown' AND s.consent_email_at IS NULL AND s.consent_email_refused_at IS NULL))"    \
  " AND ($5::text = '' OR ($5::text = 'given' AND s.consent_sms_at IS NOT NULL)"                        \
  " OR ($5::text = 'refused' AND s.consent_sms_at IS NULL AND s.consent_sms_refused_at IS NOT NULL)"     \
  " OR ($5::text = 'unknown' AND s.consent_sms_at IS NULL AND s.consent_sms_refused_at IS NULL))"        \
  " AND ($6::bigint IS NULL OR (s.created_at >= $6::bigint AND (s.joined_at IS NULL OR s.joined_at >= $6::bigint)))" \
  " AND ($7::bigint IS NULL OR s.created_at < $7::bigint OR coalesce(s.joined_at < $7::bigint, false))" \
  " AND ($8::bigint IS NULL OR s.updated_at >= $8::bigint) AND ($9::bigint IS NULL OR s.updated_at < $9::bigint)" \
  " AND ($10::text = '' OR coalesce(s.origin, 'unknown') = $10::text"                                   \
  " OR ($10::text = 'import' AND s.origin >= 'import:' AND s.origin < 'import;'))"                     \
  " AND ($14::bigint = 0 OR EXISTS (SELECT 1 FROM supporter_search_tokens p WHERE p.supporter_id = s.id" \
  " AND p.token IN " REMPART_SEGMENT_PLACE "))"
// The numbers no segment statement uses.
#define REMPART_SEGMENT_UNUSED                                                                          \
  "$1::text, $2::text, $3::text, $15::text, $16::text, $17::text, $18::text, $19::text, $24::text,"    \
  " $25::text, $26::text, $27::text, $28::text, $29::text, $30::text, $31::text, $32::text, $33::text," \
  " $34::text, $35::text, $36::text, $37::text, $38::text, $39::text, $40::text, $41::text, $42::text," \
  " $43::text, $44::text, $45::text, $46::text, $47::text, $48::text, $49::text"
// Counts leave honeytokens out: the matching honeytokens are subtracted.
// The *Placed form, for a segment with a place, starts from the holders of
// the place's tokens.
inline constexpr Sql kCountSegment{
    "kCountSegment",
    "SELECT (SELECT count(*) FROM supporters s WHERE" REMPART_SEGMENT_WHERE ")"
    " - (SELECT count(*) FROM honeytokens h JOIN supporters s ON s.id = h.supporter_id WHERE" REMPART_SEGMENT_WHERE ")"
    " WHERE num_nulls(" REMPART_SEGMENT_UNUSED ", $11::text, $12::text, $13::text) >= 0"};
inline constexpr Sql kCountSegmentPlaced{
    "kCountSegmentPlaced",
    "SELECT count(*) FROM supporters s"
    " WHERE num_nulls(" REMPART_SEGMENT_UNUSED ", $11::text, $12::text, $13::text) >= 0"
    " AND s.id IN (SELECT w.supporter_id FROM supporter_search_tokens w WHERE w.token IN " REMPART_SEGMENT_PLACE ")"
    " AND NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id) AND" REMPART_SEGMENT_WHERE};
// Pages as kSelectSupporterPage*: $13 limit; the *After form takes the
// position $11 created_at, $12 id.
inline constexpr Sql kSelectSegmentPage{
    "kSelectSegmentPage",
    REMPART_PAGE_COLUMNS " WHERE num_nulls(" REMPART_SEGMENT_UNUSED ", $11::bigint, $12::bytea) >= 0"
    " AND" REMPART_SEGMENT_WHERE " ORDER BY s.created_at DESC, s.id DESC LIMIT $13"};
inline constexpr Sql kSelectSegmentPageAfter{
    "kSelectSegmentPageAfter",
    REMPART_PAGE_COLUMNS " WHERE (s.created_at, s.id) < ($11::bigint, $12::bytea)"
    " AND num_nulls(" REMPART_SEGMENT_UNUSED ") >= 0 AND" REMPART_SEGMENT_WHERE
    " ORDER BY s.created_at DESC, s.id DESC LIMIT $13"};
#undef REMPART_SEGMENT_UNUSED
#undef REMPART_SEGMENT_WHERE
#undef REMPART_SEGMENT_PLACE
#undef REMPART_PAGE_COLUMNS
// Totals are sums of the day counts, which leave honeytokens out.
inline constexpr Sql kCountSupportersWithTag{
    "kCountSupportersWithTag", "SELECT coalesce(sum(n), 0)::bigint FROM tag_day_counts WHERE tag = $1"};
inline constexpr Sql kCountVisibleSupporters{
    "kCountVisibleSupporters", "SELECT coalesce(sum(n), 0)::bigint FROM supporter_day_counts"};

// ---- Keeper: tags ----------------------------------------------------------------

// Only while the record holds fewer than $4 tags (store::kMaxTagsPerRecord).
inline constexpr Sql kInsertTag{
    "kInsertTag",
    "INSERT INTO supporter_tags (supporter_id, tag, added_at) SELECT $1::bytea, $2::text, $3::bigint"
    " WHERE (SELECT count(*) FROM supporter_tags WHERE supporter_id = $1::bytea) < $4::bigint"
    " ON CONFLICT (supporter_id, tag) DO NOTHING"};
inline constexpr Sql kSelectTags{
    "kSelectTags", "SELECT tag FROM supporter_tags WHERE supporter_id = $1 ORDER BY tag"};
inline constexpr Sql kDeleteTag{
    "kDeleteTag", "DELETE FROM supporter_tags WHERE supporter_id = $1 AND tag = $2"};
inline constexpr Sql kSelectTagCounts{
    "kSelectTagCounts",
    "SELECT tag, sum(n)::bigint FROM tag_day_counts GROUP BY tag HAVING sum(n) > 0 ORDER BY tag"};
// A record's tag list made again from its tags (in tag order).
inline constexpr Sql kRefreshTagList{
    "kRefreshTagList",
    "UPDATE supporters SET tag_list = coalesce((SELECT '|' || string_agg(t.tag, '|' ORDER BY t.tag) || '|'"
    " FROM supporter_tags t WHERE t.supporter_id = $1), '') WHERE id = $1"};
// The same for every holder of tag $1.
inline constexpr Sql kRefreshTagListsOfTag{
    "kRefreshTagListsOfTag",
    "UPDATE supporters SET tag_list = coalesce((SELECT '|' || string_agg(t.tag, '|' ORDER BY t.tag) || '|'"
    " FROM supporter_tags t WHERE t.supporter_id = supporters.id), '')"
    " WHERE id IN (SELECT w.supporter_id FROM supporter_tags w WHERE w.tag = $1)"};

// ---- Keeper: exfiltration guard ---------------------------------------------------

inline constexpr Sql kInsertHoneytoken{
    "kInsertHoneytoken",
    "INSERT INTO honeytokens (supporter_id, planted_at, planted_by) VALUES ($1, $2, $3)"};
// One row: 1 or 0.
inline constexpr Sql kSelectIsHoneytoken{
    "kSelectIsHoneytoken",
    "SELECT (EXISTS (SELECT 1 FROM honeytokens WHERE supporter_id = $1))::integer::bigint"};
inline constexpr Sql kCountHoneytokens{"kCountHoneytokens", "SELECT count(*) FROM honeytokens"};
// "Create at delta or add delta" in one statement; returns the count after.
inline constexpr Sql kAddToGuardCounter{
    "kAddToGuardCounter",
    "INSERT INTO guard_counters (actor, kind, window_start, count) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (actor, kind, window_start) DO UPDATE SET count = guard_counters.count + excluded.count"
    " RETURNING count"};
inline constexpr Sql kSelectGuardCounter{
    "kSelectGuardCounter",
    "SELECT count FROM guard_counters WHERE actor = $1 AND kind = $2 AND window_start = $3"};
inline constexpr Sql kDeleteGuardCountersBefore{
    "kDeleteGuardCountersBefore", "DELETE FROM guard_counters WHERE window_start < $1"};
inline constexpr Sql kDeleteGuardCountersOf{"kDeleteGuardCountersOf", "DELETE FROM guard_counters WHERE actor = $1"};

// ---- Keeper: audit log -------------------------------------------------------------
// Entry selects return columns in the order read by read_audit_entry().

#define REMPART_AUDIT_COLUMNS \
  "seq, at, actor, action, client, subject, details, key_version, prev_hash, hash, mac"

inline constexpr Sql kSelectAuditHead{
    "kSelectAuditHead", "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"};
inline constexpr Sql kInsertAuditEntry{
    "kInsertAuditEntry",
    "INSERT INTO audit_entries (" REMPART_AUDIT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"};
inline constexpr Sql kSelectLastAuditCheckpoint{
    "kSelectLastAuditCheckpoint",
    "SELECT seq, head_hash, at, key_version, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"};
inline constexpr Sql kSelectAuditCheckpoints{
    "kSelectAuditCheckpoints",
    "SELECT seq, head_hash, at, key_version, signature FROM audit_checkpoints ORDER BY seq"};
inline constexpr Sql kInsertAuditCheckpoint{
    "kInsertAuditCheckpoint",
    "INSERT INTO audit_checkpoints (seq, head_hash, at, key_version, signature) VALUES ($1, $2, $3, $4, $5)"};
inline constexpr Sql kScanAudit{
    "kScanAudit", "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries WHERE seq >= $1 ORDER BY seq"};
// Filters: $1 actor, $2 action, $3 subject ('' = any), $4 since, $5 until.
// One statement per index that can lead.
inline constexpr Sql kScanAuditByActor{
    "kScanAuditByActor",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE actor = $1::text AND at >= $4::bigint AND at < $5::bigint AND ($2::text = '' OR action = $2::text)"
    " AND ($3::text = '' OR subject = $3::text) ORDER BY at, seq"};
inline constexpr Sql kScanAuditBySubject{
    "kScanAuditBySubject",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE subject = $3::text AND subject <> '' AND at >= $4::bigint AND at < $5::bigint"
    " AND ($1::text = '' OR actor = $1::text) AND ($2::text = '' OR action = $2::text) ORDER BY seq"};
inline constexpr Sql kScanAuditByAction{
    "kScanAuditByAction",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE action = $2::text AND at >= $4::bigint AND at < $5::bigint AND ($1::text = '' OR actor = $1::text)"
    " AND ($3::text = '' OR subject = $3::text) ORDER BY at, seq"};
inline constexpr Sql kScanAuditByTime{
    "kScanAuditByTime",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE at >= $4::bigint AND at < $5::bigint AND ($1::text = '' OR actor = $1::text)"
    " AND ($2::text = '' OR action = $2::text) AND ($3::text = '' OR subject = $3::text) ORDER BY seq"};
// The newest $6 of the same, in the reverse order.
inline constexpr Sql kNewestAuditByActor{
    "kNewestAuditByActor",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE actor = $1::text AND at >= $4::bigint AND at < $5::bigint AND ($2::text = '' OR action = $2::text)"
    " AND ($3::text = '' OR subject = $3::text) ORDER BY at DESC, seq DESC LIMIT $6"};
inline constexpr Sql kNewestAuditBySubject{
    "kNewestAuditBySubject",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE subject = $3::text AND subject <> '' AND at >= $4::bigint AND at < $5::bigint"
    " AND ($1::text = '' OR actor = $1::text) AND ($2::text = '' OR action = $2::text) ORDER BY seq DESC LIMIT $6"};
inline constexpr Sql kNewestAuditByAction{
    "kNewestAuditByAction",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE action = $2::text AND at >= $4::bigint AND at < $5::bigint AND ($1::text = '' OR actor = $1::text)"
    " AND ($3::text = '' OR subject = $3::text) ORDER BY at DESC, seq DESC LIMIT $6"};
inline constexpr Sql kNewestAuditByTime{
    "kNewestAuditByTime",
    "SELECT " REMPART_AUDIT_COLUMNS " FROM audit_entries"
    " WHERE at >= $4::bigint AND at < $5::bigint AND ($1::text = '' OR actor = $1::text)"
    " AND ($2::text = '' OR action = $2::text) AND ($3::text = '' OR subject = $3::text) ORDER BY seq DESC LIMIT $6"};

#undef REMPART_AUDIT_COLUMNS

// ---- Keeper: accounts, sessions, API tokens -------------------------------------
// Account selects return columns in the order read by read_account().

#define REMPART_ACCOUNT_COLUMNS                                                              \
  "id, name, role, password_hash, totp_sealed, totp_last_step, disabled, locked, lock_reason," \
  " failures, last_failure_at, created_at, updated_at, state, created_by, admin_since, enrol_hash, enrol_expires_at," \
  " locked_at, lock_detail"

inline constexpr Sql kInsertAccount{
    "kInsertAccount",
    "INSERT INTO accounts (" REMPART_ACCOUNT_COLUMNS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"};
inline constexpr Sql kSelectAccountById{
    "kSelectAccountById", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts WHERE id = $1"};
inline constexpr Sql kSelectAccountByName{
    "kSelectAccountByName", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts WHERE name = $1"};
inline constexpr Sql kSelectAccounts{
    "kSelectAccounts", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts ORDER BY name"};
inline constexpr Sql kUpdateAccount{
    "kUpdateAccount",
    "UPDATE accounts SET role = $3, password_hash = $4, totp_sealed = $5, totp_last_step = $6,"
    " disabled = $7, locked = $8, lock_reason = $9, failures = $10, last_failure_at = $11, updated_at = $13,"
    " state = $14, created_by = $15, admin_since = $16, enrol_hash = $17, enrol_expires_at = $18,"
    " locked_at = $19, lock_detail = $20"
    " WHERE id = $1 AND name = $2 AND created_at = $12"};
inline constexpr Sql kSelectAccountByEnrolHash{
    "kSelectAccountByEnrolHash", "SELECT " REMPART_ACCOUNT_COLUMNS " FROM accounts WHERE enrol_hash = $1"};

#undef REMPART_ACCOUNT_COLUMNS

inline constexpr Sql kInsertRecoveryCode{
    "kInsertRecoveryCode",
    "INSERT INTO account_recovery_codes (account_id, code_hash, used_at) VALUES ($1, $2, NULL)"};
inline constexpr Sql kDeleteRecoveryCodes{
    "kDeleteRecoveryCodes", "DELETE FROM account_recovery_codes WHERE account_id = $1"};
inline constexpr Sql kUseRecoveryCode{
    "kUseRecoveryCode",
    "UPDATE account_recovery_codes SET used_at = $3"
    " WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL"};
inline constexpr Sql kCountUnusedRecoveryCodes{
    "kCountUnusedRecoveryCodes",
    "SELECT count(*) FROM account_recovery_codes WHERE account_id = $1 AND used_at IS NULL"};

inline constexpr Sql kInsertSession{
    "kInsertSession",
    "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, client) VALUES ($1, $2, $3, $4, $5)"};
inline constexpr Sql kSelectSession{
    "kSelectSession",
    "SELECT token_hash, account_id, created_at, last_seen_at, client FROM sessions WHERE token_hash = $1"};
inline constexpr Sql kSelectSessionsOfAccount{
    "kSelectSessionsOfAccount",
    "SELECT token_hash, account_id, created_at, last_seen_at, client FROM sessions WHERE account_id = $1"
    " ORDER BY last_seen_at DESC"};
inline constexpr Sql kTouchSession{
    "kTouchSession", "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1"};
inline constexpr Sql kDeleteSession{"kDeleteSession", "DELETE FROM sessions WHERE token_hash = $1"};
inline constexpr Sql kDeleteSessionsOfAccount{
    "kDeleteSessionsOfAccount", "DELETE FROM sessions WHERE account_id = $1"};

inline constexpr Sql kInsertApiToken{
    "kInsertApiToken",
    "INSERT INTO api_tokens (label, scope, prefix, token_hash, created_by, created_at, expires_at, revoked_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) RETURNING id"};
#define REMPART_TOKEN_COLUMNS "id, label, scope, prefix, token_hash, created_by, created_at, expires_at, revoked_at"
inline constexpr Sql kSelectApiTokenByHash{
    "kSelectApiTokenByHash", "SELECT " REMPART_TOKEN_COLUMNS " FROM api_tokens WHERE token_hash = $1"};
inline constexpr Sql kSelectApiTokens{
    "kSelectApiTokens", "SELECT " REMPART_TOKEN_COLUMNS " FROM api_tokens ORDER BY id"};
#undef REMPART_TOKEN_COLUMNS
inline constexpr Sql kRevokeApiToken{
    "kRevokeApiToken", "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"};
inline constexpr Sql kRevokeApiTokensOf{
    "kRevokeApiTokensOf", "UPDATE api_tokens SET revoked_at = $2 WHERE created_by = $1 AND revoked_at IS NULL"};

inline constexpr Sql kSelectLoginThrottle{
    "kSelectLoginThrottle", "SELECT failures, last_failure_at FROM login_throttle WHERE client = $1"};
inline constexpr Sql kUpsertLoginThrottle{
    "kUpsertLoginThrottle",
    "INSERT INTO login_throttle (client, failures, last_failure_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (client) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at"};
inline constexpr Sql kDeleteLoginThrottle{"kDeleteLoginThrottle", "DELETE FROM login_throttle WHERE client = $1"};

// ---- Keeper: privilege requests, sponsors, raised budgets ------------------------

inline constexpr Sql kInsertSponsor{
    "kInsertSponsor",
    "INSERT INTO account_sponsors (account_id, sponsor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
inline constexpr Sql kSelectSponsor{
    "kSelectSponsor", "SELECT 1::bigint FROM account_sponsors WHERE account_id = $1 AND sponsor_id = $2"};
#define REMPART_PRIVILEGE_COLUMNS \
  "id, kind, requester_id, target, params, secret_hash, status, created_at, expires_at, decided_by, decided_at"
inline constexpr Sql kInsertPrivilegeRequest{
    "kInsertPrivilegeRequest",
    "INSERT INTO privilege_requests (kind, requester_id, target, params, secret_hash, status, created_at,"
    " expires_at, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"};
inline constexpr Sql kSelectPrivilegeRequest{
    "kSelectPrivilegeRequest", "SELECT " REMPART_PRIVILEGE_COLUMNS " FROM privilege_requests WHERE id = $1"};
inline constexpr Sql kSelectPrivilegeRequests{
    "kSelectPrivilegeRequests",
    "SELECT " REMPART_PRIVILEGE_COLUMNS " FROM privilege_requests ORDER BY id DESC LIMIT $1"};
#undef REMPART_PRIVILEGE_COLUMNS
inline constexpr Sql kUpdatePrivilegeRequest{
    "kUpdatePrivilegeRequest",
    "UPDATE privilege_requests SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1"};
inline constexpr Sql kUpsertAccountBudget{
    "kUpsertAccountBudget",
    "INSERT INTO account_budgets (account_id, counted, per_minute, per_hour, per_day, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, counted) DO UPDATE SET"
    " per_minute = excluded.per_minute, per_hour = excluded.per_hour, per_day = excluded.per_day,"
    " expires_at = excluded.expires_at"};
inline constexpr Sql kSelectAccountBudget{
    "kSelectAccountBudget",
    "SELECT account_id, counted, per_minute, per_hour, per_day, expires_at FROM account_budgets"
    " WHERE account_id = $1 AND counted = $2"};

// ---- Keeper: exports -------------------------------------------------------------

inline constexpr Sql kUpdateAccountExportKey{
    "kUpdateAccountExportKey", "UPDATE accounts SET export_public_key = $2 WHERE id = $1"};
inline constexpr Sql kSelectAccountExportKey{
    "kSelectAccountExportKey", "SELECT export_public_key FROM accounts WHERE id = $1"};
// The segment is NULL unless a request names one: '' in and out of the store.
#define REMPART_EXPORT_COLUMNS                                                                     \
  "id, requester_id, tag, fields, reason, status, created_at, expires_at, approver_id, approved_at, rows," \
  " coalesce(segment, '')"
inline constexpr Sql kInsertExport{
    "kInsertExport",
    "INSERT INTO exports (requester_id, tag, fields, reason, status, created_at, expires_at, approver_id,"
    " approved_at, rows, segment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11::text, ''))"
    " RETURNING id"};
inline constexpr Sql kSelectExport{
    "kSelectExport", "SELECT " REMPART_EXPORT_COLUMNS " FROM exports WHERE id = $1"};
inline constexpr Sql kSelectExports{
    "kSelectExports", "SELECT " REMPART_EXPORT_COLUMNS " FROM exports ORDER BY id DESC"};
inline constexpr Sql kSelectExportsOf{
    "kSelectExportsOf", "SELECT " REMPART_EXPORT_COLUMNS " FROM exports WHERE requester_id = $1 ORDER BY id DESC"};
#undef REMPART_EXPORT_COLUMNS
inline constexpr Sql kUpdateExport{
    "kUpdateExport",
    "UPDATE exports SET status = $2, approver_id = $3, approved_at = $4, rows = $5 WHERE id = $1"};
// Columns of kSelectSupporterById; $1 tag ('' = every supporter).
inline constexpr Sql kScanRealSupporters{
    "kScanRealSupporters",
    "SELECT s.id, s.key_version, s.wrapped_key, s.fields, s.email_index, s.phone_index,"
    " s.consent_email_at, s.consent_sms_at, s.created_at, s.updated_at,"
    " s.consent_email_refused_at, s.consent_sms_refused_at, s.joined_at, s.source_index, s.origin"
    " FROM supporters s"
    " WHERE NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id)"
    " AND ($1::text = '' OR EXISTS (SELECT 1 FROM supporter_tags w WHERE w.supporter_id = s.id AND w.tag = $1::text))"
    " ORDER BY s.created_at, s.id"};
inline constexpr Sql kInsertCanary{
    "kInsertCanary",
    "INSERT INTO export_canaries (blind_index, key_version, kind, export_id) VALUES ($1, $2, $3, $4)"};
inline constexpr Sql kSelectCanary{
    "kSelectCanary", "SELECT blind_index, key_version, kind, export_id FROM export_canaries WHERE blind_index = $1"};

// ---- Keeper: notes and erasure ------------------------------------------------

inline constexpr Sql kInsertNote{
    "kInsertNote",
    "INSERT INTO supporter_notes (id, supporter_id, kind, sealed, author, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"};
// Newest first (seq: the order of insertion, SQLite's rowid); served by
// supporter_notes_supporter.
inline constexpr Sql kSelectNotes{
    "kSelectNotes",
    "SELECT id, supporter_id, kind, sealed, author, created_at FROM supporter_notes"
    " WHERE supporter_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2"};
// An erasure deletes what refers to the record first, each by name, then
// the record; what it does not name goes with the record (ON DELETE CASCADE).
inline constexpr Sql kDeleteNotesOf{"kDeleteNotesOf", "DELETE FROM supporter_notes WHERE supporter_id = $1"};
inline constexpr Sql kDeleteConsentEventsOf{"kDeleteConsentEventsOf",
                                            "DELETE FROM consent_events WHERE supporter_id = $1"};
inline constexpr Sql kDeleteTagsOf{"kDeleteTagsOf", "DELETE FROM supporter_tags WHERE supporter_id = $1"};
inline constexpr Sql kDeleteHoneytokenOf{"kDeleteHoneytokenOf", "DELETE FROM honeytokens WHERE supporter_id = $1"};
inline constexpr Sql kDeleteSupporter{"kDeleteSupporter", "DELETE FROM supporters WHERE id = $1"};

// ---- Keeper: supporter mail -----------------------------------------------------

#define REMPART_OUTBOX_COLUMNS "id, supporter_id, kind, state, attempts, created_at, next_at, done_at, last_reply, lang"
inline constexpr Sql kInsertOutbox{
    "kInsertOutbox",
    "INSERT INTO outbox (supporter_id, kind, state, attempts, created_at, next_at, last_reply, lang)"
    " VALUES ($1, $2, 'queued', 0, $3, $3, 0, $4) RETURNING id"};
inline constexpr Sql kCountOutboxSince{
    "kCountOutboxSince",
    "SELECT count(*) FROM outbox WHERE supporter_id = $1 AND kind = $2 AND created_at >= $3"};
// Served by outbox_due (a partial index: only what is still to send).
inline constexpr Sql kSelectDueOutbox{
    "kSelectDueOutbox",
    "SELECT " REMPART_OUTBOX_COLUMNS " FROM outbox"
    " WHERE state IN ('queued', 'sending') AND next_at <= $1 ORDER BY next_at, id LIMIT $2"};
inline constexpr Sql kSelectOutboxById{"kSelectOutboxById",
                                       "SELECT " REMPART_OUTBOX_COLUMNS " FROM outbox WHERE id = $1"};
inline constexpr Sql kUpdateOutbox{
    "kUpdateOutbox",
    "UPDATE outbox SET state = $2, attempts = $3, next_at = $4, done_at = $5, last_reply = $6 WHERE id = $1"};
inline constexpr Sql kCountOutboxPending{"kCountOutboxPending",
                                         "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')"};
inline constexpr Sql kCountOutboxByState{"kCountOutboxByState",
                                         "SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state"};
#undef REMPART_OUTBOX_COLUMNS
inline constexpr Sql kInsertLinkToken{
    "kInsertLinkToken",
    "INSERT INTO link_tokens (hash, supporter_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"};
inline constexpr Sql kSelectLinkToken{
    "kSelectLinkToken",
    "SELECT hash, supporter_id, purpose, created_at, expires_at, used_at FROM link_tokens WHERE hash = $1"};
inline constexpr Sql kUseLinkToken{"kUseLinkToken",
                                   "UPDATE link_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL"};
inline constexpr Sql kDeleteExpiredLinkTokens{"kDeleteExpiredLinkTokens",
                                              "DELETE FROM link_tokens WHERE expires_at <= $1"};
// Only a consent that is given can be confirmed.
inline constexpr Sql kConfirmEmailConsent{
    "kConfirmEmailConsent",
    "UPDATE supporters SET consent_email_confirmed_at = $2"
    " WHERE id = $1 AND consent_email_at IS NOT NULL AND consent_email_confirmed_at IS NULL"};
inline constexpr Sql kSelectEmailConfirmed{"kSelectEmailConfirmed",
                                           "SELECT consent_email_confirmed_at FROM supporters WHERE id = $1"};
inline constexpr Sql kInsertPhrase{
    "kInsertPhrase",
    "INSERT INTO supporter_phrases (supporter_id, phrase_id, sealed, created_at) VALUES ($1, $2, $3, $4)"};
inline constexpr Sql kSelectPhrase{
    "kSelectPhrase",
    "SELECT supporter_id, phrase_id, sealed, created_at FROM supporter_phrases WHERE supporter_id = $1"};
inline constexpr Sql kDeleteOutboxOf{"kDeleteOutboxOf", "DELETE FROM outbox WHERE supporter_id = $1"};
inline constexpr Sql kDeleteLinkTokensOf{"kDeleteLinkTokensOf", "DELETE FROM link_tokens WHERE supporter_id = $1"};
inline constexpr Sql kDeletePhraseOf{"kDeletePhraseOf", "DELETE FROM supporter_phrases WHERE supporter_id = $1"};

// ---- Keeper: mailings ------------------------------------------------------------

#define REMPART_MAILING_COLUMNS                                                                  \
  "SELECT id, name, subject, body, segment, state, recipients, created_by, created_at, updated_at," \
  " drawn_at, approved_by, approved_at, started_at, finished_at, audience, lang FROM mailings"
inline constexpr Sql kInsertMailing{
    "kInsertMailing",
    "INSERT INTO mailings (name, subject, body, segment, state, recipients, created_by, created_at, updated_at,"
    " drawn_at, approved_by, approved_at, started_at, finished_at, audience, lang)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id"};
inline constexpr Sql kSelectMailing{"kSelectMailing", REMPART_MAILING_COLUMNS " WHERE id = $1"};
inline constexpr Sql kSelectMailings{"kSelectMailings", REMPART_MAILING_COLUMNS " ORDER BY id DESC LIMIT $1"};
inline constexpr Sql kSelectOldestSendingMailing{
    "kSelectOldestSendingMailing", REMPART_MAILING_COLUMNS " WHERE state = 'sending' ORDER BY id LIMIT 1"};
#undef REMPART_MAILING_COLUMNS
inline constexpr Sql kUpdateMailing{
    "kUpdateMailing",
    "UPDATE mailings SET name = $2, subject = $3, body = $4, segment = $5, state = $6, recipients = $7,"
    " updated_at = $8, drawn_at = $9, approved_by = $10, approved_at = $11, started_at = $12, finished_at = $13,"
    " audience = $14, lang = $15 WHERE id = $1"};
// Mailable: an address, the e-mail consent given and (unless the audience,
// A, is 'given') confirmed by double opt-in, the address not bouncing, not
// a honeytoken. A notice (audience 'notice') asks for no consent.
#define REMPART_MAILABLE(A)                                                                             \
  " s.email_index IS NOT NULL AND (" A " = 'notice' OR (s.consent_email_at IS NOT NULL"                \
  " AND (" A " = 'given' OR s.consent_email_confirmed_at IS NOT NULL)))"                                \
  " AND s.email_bouncing_at IS NULL AND NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id)"
inline constexpr Sql kInsertMailingRecipient{
    "kInsertMailingRecipient",
    "INSERT INTO mailing_recipients (mailing_id, supporter_id, state) SELECT $1::bigint, s.id, 'queued'"
    " FROM supporters s WHERE s.id = $2::bytea AND" REMPART_MAILABLE("$3::text")
    " ON CONFLICT (mailing_id, supporter_id) DO NOTHING"};
inline constexpr Sql kSelectMailable{"kSelectMailable",
                                     "SELECT 1::bigint FROM supporters s WHERE s.id = $1 AND" REMPART_MAILABLE("$2::text")};
#undef REMPART_MAILABLE
inline constexpr Sql kSelectMailingRecipients{
    "kSelectMailingRecipients",
    "SELECT supporter_id FROM mailing_recipients WHERE mailing_id = $1 AND state = $2 ORDER BY supporter_id"
    " LIMIT $3"};
inline constexpr Sql kUpdateMailingRecipient{
    "kUpdateMailingRecipient",
    "UPDATE mailing_recipients SET state = $3, batch = $4, done_at = $5, last_reply = $6"
    " WHERE mailing_id = $1 AND supporter_id = $2"};
inline constexpr Sql kDeleteMailingRecipients{"kDeleteMailingRecipients",
                                              "DELETE FROM mailing_recipients WHERE mailing_id = $1"};
inline constexpr Sql kMoveMailingRecipients{
    "kMoveMailingRecipients",
    "UPDATE mailing_recipients SET state = $3 WHERE mailing_id = $1 AND state = $2"};
inline constexpr Sql kCountMailingRecipients{
    "kCountMailingRecipients",
    "SELECT state, count(*) FROM mailing_recipients WHERE mailing_id = $1 GROUP BY state ORDER BY state"};
inline constexpr Sql kMarkEmailBouncing{
    "kMarkEmailBouncing",
    "UPDATE supporters SET email_bouncing_at = $2 WHERE id = $1 AND email_bouncing_at IS NULL"};

inline constexpr Sql kSelectAccountTestAddress{"kSelectAccountTestAddress",
                                               "SELECT test_address_sealed FROM accounts WHERE id = $1"};
inline constexpr Sql kUpdateAccountTestAddress{"kUpdateAccountTestAddress",
                                               "UPDATE accounts SET test_address_sealed = $2 WHERE id = $1"};

// ---- Keeper: bounces and complaints ------------------------------------------------

inline constexpr Sql kInsertMailEvent{
    "kInsertMailEvent",
    "INSERT INTO mail_events (supporter_id, kind, at, mailing_id, report) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (report) DO NOTHING"};
inline constexpr Sql kCountMailEvents{
    "kCountMailEvents", "SELECT count(*) FROM mail_events WHERE supporter_id = $1 AND kind = $2 AND at >= $3"};
inline constexpr Sql kDeleteMailEventsOf{"kDeleteMailEventsOf", "DELETE FROM mail_events WHERE supporter_id = $1"};
inline constexpr Sql kDeleteMailingRecipientsOf{"kDeleteMailingRecipientsOf",
                                                "DELETE FROM mailing_recipients WHERE supporter_id = $1"};
// What became of a sent message: the named mailing's ($2), or when it is
// NULL the one last sent to the record (a NULL done_at last, as SQLite
// sorts it). Once per recipient.
#define REMPART_MAILING_OUTCOME(COLUMN)                                                                   \
  "UPDATE mailing_recipients SET " COLUMN " = $3::bigint WHERE supporter_id = $1::bytea AND state = 'sent'" \
  " AND " COLUMN " IS NULL AND mailing_id = coalesce($2::bigint, (SELECT r.mailing_id FROM mailing_recipients r" \
  " WHERE r.supporter_id = $1::bytea AND r.state = 'sent' ORDER BY r.done_at DESC NULLS LAST, r.mailing_id DESC" \
  " LIMIT 1)) RETURNING mailing_id"
inline constexpr Sql kMailingBounced{"kMailingBounced", REMPART_MAILING_OUTCOME("bounced_at")};
inline constexpr Sql kMailingComplained{"kMailingComplained", REMPART_MAILING_OUTCOME("complained_at")};
inline constexpr Sql kMailingUnsubscribed{"kMailingUnsubscribed", REMPART_MAILING_OUTCOME("unsubscribed_at")};
#undef REMPART_MAILING_OUTCOME
inline constexpr Sql kCountMailingOutcomes{
    "kCountMailingOutcomes",
    "SELECT count(bounced_at), count(complained_at), count(unsubscribed_at) FROM mailing_recipients"
    " WHERE mailing_id = $1"};

// ---- Keeper: suppressions after erasure -----------------------------------------

inline constexpr Sql kInsertSuppression{
    "kInsertSuppression",
    "INSERT INTO suppressions (blind_index, key_version, erased_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (blind_index) DO UPDATE SET key_version = excluded.key_version, erased_at = excluded.erased_at"};
inline constexpr Sql kSelectSuppressed{"kSelectSuppressed",
                                       "SELECT 1::bigint FROM suppressions WHERE blind_index = $1"};
inline constexpr Sql kDeleteSuppression{"kDeleteSuppression", "DELETE FROM suppressions WHERE blind_index = $1"};
inline constexpr Sql kCountSuppressions{"kCountSuppressions", "SELECT count(*) FROM suppressions"};

// ---- Keeper: retention ---------------------------------------------------------
// A record's last activity: its last change (updated_at) or the last
// statement of consent in its log, whichever is later. Honeytokens are
// left out. Each takes its candidates by id, after $2, up to $3 at a time;
// $1 is the cutoff.
#define REMPART_LAST_ACTIVITY \
  "greatest(s.updated_at, coalesce((SELECT max(c.at) FROM consent_events c WHERE c.supporter_id = s.id), 0))"
#define REMPART_NOT_HONEYTOKEN " AND NOT EXISTS (SELECT 1 FROM honeytokens h WHERE h.supporter_id = s.id)"
inline constexpr Sql kRetentionInactive{
    "kRetentionInactive",
    "SELECT s.id FROM supporters s WHERE s.id > $2::bytea AND " REMPART_LAST_ACTIVITY " < $1::bigint"
    REMPART_NOT_HONEYTOKEN " ORDER BY s.id LIMIT $3"};
inline constexpr Sql kRetentionPhone{
    "kRetentionPhone",
    "SELECT s.id FROM supporters s WHERE s.id > $2::bytea AND s.phone_index IS NOT NULL AND " REMPART_LAST_ACTIVITY
    " < $1::bigint" REMPART_NOT_HONEYTOKEN " ORDER BY s.id LIMIT $3"};
// A sign-up whose e-mail consent was never confirmed though a confirmation
// mail went out, that gave no other consent and changed nothing since.
inline constexpr Sql kRetentionUnconfirmed{
    "kRetentionUnconfirmed",
    "SELECT s.id FROM supporters s WHERE s.id > $2::bytea AND s.origin = 'intake' AND s.consent_email_at IS NOT NULL"
    " AND s.consent_email_confirmed_at IS NULL AND s.consent_sms_at IS NULL AND s.created_at < $1::bigint"
    " AND s.updated_at <= s.created_at"
    " AND EXISTS (SELECT 1 FROM outbox o WHERE o.supporter_id = s.id AND o.kind = 'confirm' AND o.state = 'sent')"
    REMPART_NOT_HONEYTOKEN " ORDER BY s.id LIMIT $3"};
#undef REMPART_LAST_ACTIVITY
#undef REMPART_NOT_HONEYTOKEN

// ---- Keeper: saved segments, tags across records ------------------------------------

#define REMPART_SEGMENT_COLUMNS "id, name, definition, created_by, created_at, updated_at"
inline constexpr Sql kInsertSegment{
    "kInsertSegment",
    "INSERT INTO segments (name, definition, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)"
    " RETURNING id"};
inline constexpr Sql kSelectSegmentByName{
    "kSelectSegmentByName", "SELECT " REMPART_SEGMENT_COLUMNS " FROM segments WHERE name = $1"};
inline constexpr Sql kSelectSegments{"kSelectSegments", "SELECT " REMPART_SEGMENT_COLUMNS " FROM segments ORDER BY name"};
#undef REMPART_SEGMENT_COLUMNS
inline constexpr Sql kUpdateSegment{
    "kUpdateSegment", "UPDATE segments SET definition = $2, updated_at = $3 WHERE name = $1"};
inline constexpr Sql kDeleteSegment{"kDeleteSegment", "DELETE FROM segments WHERE name = $1"};
// A tag moved across records: `to` ($2) added where `from` ($1) is (kept
// where it already is), then `from` deleted; the delete's count is the
// supporters that held it.
inline constexpr Sql kCopyTag{
    "kCopyTag",
    "INSERT INTO supporter_tags (supporter_id, tag, added_at)"
    " SELECT supporter_id, $2::text, $3::bigint FROM supporter_tags WHERE tag = $1::text"
    " ON CONFLICT (supporter_id, tag) DO NOTHING"};
inline constexpr Sql kDeleteTagEverywhere{"kDeleteTagEverywhere", "DELETE FROM supporter_tags WHERE tag = $1"};

// ---- Keeper: call lists -----------------------------------------------------------

#define REMPART_CALL_LIST_COLUMNS "id, name, segment, script, created_by, created_at, starts_at, ends_at, closed_at"
#define REMPART_CALL_ENTRY_COLUMNS "list_id, position, supporter_id, caller, opened_at, outcome, done_at"
inline constexpr Sql kInsertCallList{
    "kInsertCallList",
    "INSERT INTO call_lists (name, segment, script, created_by, created_at, starts_at, ends_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"};
inline constexpr Sql kInsertCallEntry{
    "kInsertCallEntry",
    "INSERT INTO call_list_entries (list_id, position, supporter_id, caller) VALUES ($1, $2, $3, $4)"};
inline constexpr Sql kSelectCallListByName{
    "kSelectCallListByName", "SELECT " REMPART_CALL_LIST_COLUMNS " FROM call_lists WHERE name = $1"};
inline constexpr Sql kSelectCallLists{
    "kSelectCallLists", "SELECT " REMPART_CALL_LIST_COLUMNS " FROM call_lists ORDER BY created_at DESC, id DESC"};
// Shares per caller: of one list ($1 > 0, its primary key) or of all ($1 = 0).
inline constexpr Sql kSelectCallShares{
    "kSelectCallShares",
    "SELECT list_id, caller, count(*), count(opened_at), count(done_at) FROM call_list_entries"
    " WHERE $1::bigint = 0 OR list_id = $1::bigint GROUP BY list_id, caller ORDER BY list_id, caller"};
// Served by call_list_entries_caller.
inline constexpr Sql kSelectCallSharesOf{
    "kSelectCallSharesOf",
    "SELECT list_id, caller, count(*), count(opened_at), count(done_at) FROM call_list_entries"
    " WHERE caller = $1 GROUP BY list_id, caller ORDER BY list_id"};
inline constexpr Sql kSelectCallOutcomes{
    "kSelectCallOutcomes",
    "SELECT outcome, count(*) FROM call_list_entries WHERE list_id = $1 AND outcome IS NOT NULL"
    " GROUP BY outcome ORDER BY outcome"};
// The entry opened and not done first, then the first not opened.
inline constexpr Sql kSelectNextCallEntry{
    "kSelectNextCallEntry",
    "SELECT " REMPART_CALL_ENTRY_COLUMNS " FROM call_list_entries"
    " WHERE caller = $2 AND list_id = $1 AND done_at IS NULL ORDER BY opened_at IS NULL, position LIMIT 1"};
inline constexpr Sql kSelectCallEntry{
    "kSelectCallEntry",
    "SELECT " REMPART_CALL_ENTRY_COLUMNS " FROM call_list_entries WHERE list_id = $1 AND position = $2"};
#undef REMPART_CALL_LIST_COLUMNS
#undef REMPART_CALL_ENTRY_COLUMNS
inline constexpr Sql kOpenCallEntry{
    "kOpenCallEntry",
    "UPDATE call_list_entries SET opened_at = $3 WHERE list_id = $1 AND position = $2 AND opened_at IS NULL"};
inline constexpr Sql kFinishCallEntry{
    "kFinishCallEntry",
    "UPDATE call_list_entries SET outcome = $3, done_at = $4"
    " WHERE list_id = $1 AND position = $2 AND opened_at IS NOT NULL AND done_at IS NULL"};
inline constexpr Sql kCloseCallList{
    "kCloseCallList", "UPDATE call_lists SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL"};
inline constexpr Sql kDeleteCallEntriesOf{
    "kDeleteCallEntriesOf", "DELETE FROM call_list_entries WHERE supporter_id = $1"};

// ---- Key versions (store.hpp, KeyVersionPort) ----
inline constexpr Sql kSelectRecordsToRewrap{
    "kSelectRecordsToRewrap",
    "SELECT id, key_version, wrapped_key FROM supporters WHERE id > $1 AND key_version < $2"
    " ORDER BY id LIMIT $3"};
inline constexpr Sql kRewrapRecord{
    "kRewrapRecord",
    "UPDATE supporters SET key_version = $4, wrapped_key = $5"
    " WHERE id = $1 AND key_version = $2 AND wrapped_key = $3"};
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
    "kCountAccountsByTotpVersion", "SELECT substring(totp_sealed from 1 for 4), count(*) FROM accounts GROUP BY 1 ORDER BY 1"};
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
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id"};
inline constexpr Sql kSelectBreach{"kSelectBreach", REMPART_BREACH_COLUMNS " WHERE id = $1"};
inline constexpr Sql kSelectBreaches{"kSelectBreaches", REMPART_BREACH_COLUMNS " ORDER BY id DESC LIMIT $1"};
#undef REMPART_BREACH_COLUMNS
// Only what happened after the breach was recorded: the facts stay.
inline constexpr Sql kUpdateBreach{
    "kUpdateBreach",
    "UPDATE breach_register SET updated_at = $2, not_notified_reason = $3, authority_notified_at = $4,"
    " people_notified_at = $5, closed_at = $6, close_reason = $7, state = $8 WHERE id = $1"};

}  // namespace sql

// ---- SQLite statements with no counterpart here ------------------------------
// (tests/pg/check_statements.py reads this list: one name per line.)
// Connection setup, SQLite's own settings (statements.hpp, connection.cpp,
// sqlite_store.cpp):
//   kPragmaJournalModeWal
//   kPragmaSynchronousFull
//   kPragmaSecureDeleteOn
//   kPragmaForeignKeysOn
//   kPragmaTrustedSchemaOff
//   kPragmaSynchronous
//   kPragmaForeignKeys
//   kPragmaTrustedSchema
//   kPragmaTempStoreMemory
//   kPragmaTempStoreGet
//   kPragmaCacheSize
//   kPragmaCacheSizeGet
//   kPragmaWalAutocheckpoint
//   kPragmaWalAutocheckpointGet
//   kPragmaInboxReaderCache
// Transaction control, replaced by kBegin (a write transaction) and
// kBeginReadOnlySnapshot (a read snapshot):
//   kBeginImmediate
//   kBeginDeferred
// The upgrade of files an older SQLite version left (legacy inbox in the
// records' file, fold marks, the inbox file's uid):
//   kPeekLegacyInbox
//   kCountLegacyInbox
//   kSelectInboxFileUid
//   kSelectFoldMark
//   kCountFoldMarks
//   kDeleteFoldMarks
//   kDeleteInboxThrough
// The check of a backup's copy (sqlite/backup.hpp; PostgreSQL is backed up
// with its own tools):
//   kPragmaQuickCheck

}  // namespace rempart::store::postgres
