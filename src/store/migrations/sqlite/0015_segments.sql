-- Segments (docs/console.md, "Segments"): saved filters over the directory,
-- and where each record came from.

-- Where a record was created: "intake" (the sign-up form or the OSDI API,
-- through the inbox), "import:<tool>" (csv, action-network, ...), "synth".
-- Set once, when the record is created; NULL for records made before this
-- column (segments call them "unknown"). Not personal data: a channel name.
ALTER TABLE supporters ADD COLUMN origin TEXT;

-- A saved segment: a unique name and its definition (a JSON object the
-- keeper validates whenever it loads one, services/segments.cpp).
-- created_by is an audit actor ("account:<hex>", "token:<id>").
CREATE TABLE segments (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  definition  TEXT    NOT NULL,
  created_by  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

-- What a segment count reads of each supporter, in one index: a count
-- walks this index (a fraction of the table, which holds the ciphertext),
-- or seeks it by id for the holders of a tag, and never reads the table.
CREATE INDEX supporters_segment_facts ON supporters(
  id, created_at, joined_at, updated_at, consent_email_at, consent_email_refused_at,
  consent_sms_at, consent_sms_refused_at, origin);
