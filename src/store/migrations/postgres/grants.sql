-- Privileges of the keeper and intake roles on the instance's schema, run
-- by the owner role (rempart_owner, which owns the schema and everything in
-- it) after the migrations, with search_path set to the schema. Idempotent:
-- it first takes back whatever the two roles hold, then grants exactly what
-- is below, so running it again (after every migration) ends in the same
-- state. Run it in one transaction, so that no session sees the roles
-- between the two.
--
-- It mirrors the SQLite authorizers (store/sqlite/sqlite_store.cpp):
--   - rempart_intake (intake_authorizer): INSERT into inbox and
--     intake_batches, nothing else (no SELECT: an intake node cannot read a
--     submission back, not even its own); plus the shared sign-up rate
--     limit, through rempart_take_token() only;
--   - rempart_keeper (keeper_authorizer): SELECT, INSERT, UPDATE, DELETE on
--     every table, except the append-only audit_entries and
--     audit_checkpoints (SELECT, INSERT) and the write-once honeytokens
--     (SELECT, INSERT, DELETE: a mark is erased with its record, explicitly
--     or by the supporters_uncounted trigger, which run as the keeper)
--     and the breach register (SELECT, INSERT, UPDATE: never shortened);
--     on the inbox (inbox_keeper_authorizer): SELECT and DELETE, and
--     UPDATE on one column only because SELECT ... FOR UPDATE SKIP LOCKED
--     requires it (a trigger refuses any real UPDATE there); schema_migrations:
--     SELECT. No DDL: neither role owns anything nor may create in the schema.
-- ON DELETE CASCADE and SET NULL run as the owner of the referencing table,
-- so they need no privilege of the keeper's; the count triggers run as the
-- role whose statement fired them (the keeper), within its privileges.
-- Identity columns draw from their sequence without any privilege on it.

-- ---- The schema: usable, never writable ----------------------------------------

REVOKE ALL ON SCHEMA rempart FROM PUBLIC;
REVOKE ALL ON SCHEMA rempart FROM rempart_keeper, rempart_intake;
GRANT USAGE ON SCHEMA rempart TO rempart_keeper, rempart_intake;

-- ---- Start from nothing (table privileges take their column privileges with them) --

REVOKE ALL ON ALL TABLES IN SCHEMA rempart FROM PUBLIC, rempart_keeper, rempart_intake;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA rempart FROM PUBLIC, rempart_keeper, rempart_intake;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA rempart FROM PUBLIC, rempart_keeper, rempart_intake;
-- Functions the owner makes later (a migration) are not executable by
-- PUBLIC either, even before this file runs again. (Global for the owner:
-- a per-schema REVOKE cannot take back PUBLIC's default EXECUTE.)
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- ---- The keeper ----------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA rempart TO rempart_keeper;

-- Append-only: the chain is only ever extended.
REVOKE UPDATE, DELETE ON audit_entries, audit_checkpoints FROM rempart_keeper;
-- Write-once: added, or erased with the record; never changed.
REVOKE UPDATE ON honeytokens FROM rempart_keeper;
-- The breach register (0002): an entry is added and brought up to date
-- (notified, closed), never taken out: GDPR article 33(5) asks for every
-- breach to stay documented.
REVOKE DELETE ON breach_register FROM rempart_keeper;
-- The inbox: read, claimed (FOR UPDATE SKIP LOCKED needs UPDATE on one
-- column; inbox_not_updated and intake_batches_not_updated refuse any
-- UPDATE) and deleted once folded; only the intake adds to it.
REVOKE INSERT, UPDATE ON inbox, intake_batches FROM rempart_keeper;
GRANT UPDATE (received_at) ON inbox TO rempart_keeper;
GRANT UPDATE (created_at) ON intake_batches TO rempart_keeper;
-- The intake's rate limit is none of the keeper's business.
REVOKE ALL ON intake_rate FROM rempart_keeper;
-- Only the migration (the owner) writes the schema's version.
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM rempart_keeper;

GRANT EXECUTE ON FUNCTION rempart_tags_match(TEXT, TEXT, TEXT, TEXT) TO rempart_keeper;

-- ---- The intake ----------------------------------------------------------------------

-- INSERT only, and into inbox without its id (the sequence gives it). Its
-- statements use a bare ON CONFLICT DO NOTHING: one naming a constraint's
-- columns would need SELECT on them.
GRANT INSERT ON intake_batches TO rempart_intake;
GRANT INSERT (batch_uid, item_uid, wrapped_key, fields, received_at) ON inbox TO rempart_intake;

GRANT EXECUTE ON FUNCTION rempart_take_token(TEXT, DOUBLE PRECISION, DOUBLE PRECISION, DOUBLE PRECISION)
  TO rempart_intake;
