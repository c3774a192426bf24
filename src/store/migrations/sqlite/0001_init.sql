-- Initial schema. Every column holding anything derived from personal data is
-- an opaque BLOB (ciphertext, wrapped key or blind index); tables are STRICT so
-- a value of the wrong type is refused rather than coerced.

-- One intake batch: the ephemeral public key its items' data keys are wrapped under.
CREATE TABLE intake_batches (
  uid              BLOB    PRIMARY KEY NOT NULL,
  key_version      INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),
  ephemeral_public BLOB    NOT NULL,
  created_at       INTEGER NOT NULL
) STRICT;

-- Sealed submissions waiting to be folded. AUTOINCREMENT so an id is never
-- reused: a stale delete by id can never hit a newer submission.
CREATE TABLE inbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_uid   BLOB    NOT NULL REFERENCES intake_batches(uid),
  item_uid    BLOB    NOT NULL UNIQUE,
  wrapped_key BLOB    NOT NULL,
  fields      BLOB    NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

-- Serves the foreign key check when a batch is deleted and the search for
-- unreferenced batches.
CREATE INDEX inbox_batch_uid ON inbox(batch_uid);

CREATE TABLE supporters (
  id               BLOB    PRIMARY KEY NOT NULL,
  key_version      INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),
  wrapped_key      BLOB    NOT NULL,
  fields           BLOB    NOT NULL,
  email_index      BLOB    UNIQUE,
  phone_index      BLOB    UNIQUE,
  consent_email_at INTEGER,
  consent_sms_at   INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE supporter_tags (
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  tag          TEXT    NOT NULL,
  added_at     INTEGER NOT NULL,
  PRIMARY KEY (supporter_id, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX supporter_tags_tag ON supporter_tags(tag);
