-- Consent is yes, no, or unknown: a refusal is kept apart from "nothing
-- said" (consent_*_refused_at), and every statement is logged with where it
-- came from (consent_events: "signup", "import:<tool>:<file fingerprint>").
-- joined_at is the sign-up date a source system recorded; source_index the
-- blind index of "<tool>:<its id>", so that a later export of the same tool
-- updates its records instead of duplicating them.
ALTER TABLE supporters ADD COLUMN consent_email_refused_at INTEGER;
ALTER TABLE supporters ADD COLUMN consent_sms_refused_at INTEGER;
ALTER TABLE supporters ADD COLUMN joined_at INTEGER;
ALTER TABLE supporters ADD COLUMN source_index BLOB;
CREATE UNIQUE INDEX supporters_source_index ON supporters(source_index) WHERE source_index IS NOT NULL;

CREATE TABLE consent_events (
  id           INTEGER PRIMARY KEY,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  channel      TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
  choice       TEXT    NOT NULL CHECK (choice IN ('yes', 'no')),
  at           INTEGER NOT NULL,
  source       TEXT    NOT NULL
) STRICT;
CREATE INDEX consent_events_supporter ON consent_events(supporter_id, id);
