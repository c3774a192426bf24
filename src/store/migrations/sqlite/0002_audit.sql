-- The tamper-evident audit log (docs/audit.md). Entries hold no personal
-- data: a subject is a record id in hex, details a JSON object of names and
-- counts. The keeper connection's authorizer allows INSERT into these tables
-- and refuses UPDATE and DELETE; the intake connection may not touch them.

-- seq is the rowid: 1, 2, 3 … without gaps; the verifier reports a gap.
CREATE TABLE audit_entries (
  seq         INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
  at          INTEGER NOT NULL,            -- unix microseconds
  actor       TEXT    NOT NULL,            -- keeper | operator:<user> | account:<id> | token:<id>
  action      TEXT    NOT NULL,            -- supporter.create, supporter.reveal, …
  client      TEXT    NOT NULL DEFAULT '', -- client address, '' when none
  subject     TEXT    NOT NULL DEFAULT '', -- record id (hex), '' when none
  details     TEXT    NOT NULL,            -- JSON object
  key_version INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),
  prev_hash   BLOB    NOT NULL,
  hash        BLOB    NOT NULL,
  mac         BLOB    NOT NULL
) STRICT;

-- Blast radius and queries by actor over a time window.
CREATE INDEX audit_entries_actor_at ON audit_entries(actor, at);
-- Blast radius over a time window for every actor (action IN (…) AND at …).
CREATE INDEX audit_entries_action_at ON audit_entries(action, at);
-- Everything that happened to one record.
CREATE INDEX audit_entries_subject ON audit_entries(subject) WHERE subject <> '';

-- Signed heads of the chain; also appended to a file outside the data dir.
CREATE TABLE audit_checkpoints (
  seq         INTEGER PRIMARY KEY NOT NULL,  -- the last entry covered
  head_hash   BLOB    NOT NULL,              -- that entry's hash
  at          INTEGER NOT NULL,              -- unix microseconds
  key_version INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),
  signature   BLOB    NOT NULL               -- Ed25519 over the encoding in docs/audit.md
) STRICT;
