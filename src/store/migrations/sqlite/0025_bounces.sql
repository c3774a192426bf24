-- Bounces and complaints read from the bounce mailbox (docs/mailings.md,
-- "Bounces and complaints"), and what became of each mailing's recipients
-- after it was sent.

-- One report about a record's address: a hard bounce (a permanent failure),
-- a soft bounce (a delay, a transient failure) or a complaint (the person
-- marked the message as spam at their provider). The keeper counts them
-- against the thresholds of [bounces]; `mailing_id` is the mailing the
-- reported message belonged to, when known; `report` a keyed hash of the
-- report's bytes (crypto::blind_index, kind "mail-report"), so that a
-- report read again (the keeper stopped between its commit and deleting
-- the message) counts once. Nothing of the report is kept but its kind and
-- time; it goes with the record.
CREATE TABLE mail_events (
  id           INTEGER PRIMARY KEY,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  kind         TEXT    NOT NULL CHECK (kind IN ('hard_bounce', 'soft_bounce', 'complaint')),
  at           INTEGER NOT NULL,
  mailing_id   INTEGER REFERENCES mailings(id) ON DELETE SET NULL,
  report       BLOB    NOT NULL UNIQUE
) STRICT;
CREATE INDEX mail_events_supporter ON mail_events(supporter_id, kind, at);

-- A sent recipient whose message bounced, who complained of it, or who
-- followed its unsubscribe link: the mailing's statistics.
ALTER TABLE mailing_recipients ADD COLUMN bounced_at INTEGER;
ALTER TABLE mailing_recipients ADD COLUMN complained_at INTEGER;
ALTER TABLE mailing_recipients ADD COLUMN unsubscribed_at INTEGER;
