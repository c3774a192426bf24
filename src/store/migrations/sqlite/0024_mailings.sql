-- Blind outreach (docs/mailings.md): mailings written and approved by
-- staff, sent by the keeper to a segment's members, whose addresses no
-- staff member ever sees.

-- A hard bounce seen for the record's address (RFC 3464); NULL while none.
-- A bouncing address is mailed no more; a new address clears it (the
-- trigger below, whatever writes the record).
ALTER TABLE supporters ADD COLUMN email_bouncing_at INTEGER;
CREATE TRIGGER supporters_email_changed AFTER UPDATE OF email_index ON supporters
WHEN NEW.email_index IS NOT OLD.email_index AND NEW.email_bouncing_at IS NOT NULL
BEGIN
  UPDATE supporters SET email_bouncing_at = NULL WHERE id = NEW.id;
END;

-- One mailing: its text (a template: services/mailings.hpp), the saved
-- segment it goes to ('' for a notice), whose consent it needs
-- (`audience`: confirmed, the double opt-in done; given, also consents
-- never confirmed, such as an import's; notice, none: a breach notification
-- the organisation owes the people a blast radius names), the language of
-- rempart's own words in it (footer, notice), and where it stands. `state`: draft (being written),
-- ready (its recipients drawn: `recipients` is the count people approve),
-- approved, sending, paused, sent, cancelled. Accounts by audit actor.
CREATE TABLE mailings (
  id           INTEGER PRIMARY KEY,
  name         TEXT    NOT NULL,
  subject      TEXT    NOT NULL,
  body         TEXT    NOT NULL,
  segment      TEXT    NOT NULL,
  audience     TEXT    NOT NULL DEFAULT 'confirmed' CHECK (audience IN ('confirmed', 'given', 'notice')),
  lang         TEXT    NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr')),
  state        TEXT    NOT NULL CHECK (state IN ('draft', 'ready', 'approved', 'sending', 'paused', 'sent',
                                                 'cancelled')),
  recipients   INTEGER NOT NULL DEFAULT 0,
  created_by   TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  drawn_at     INTEGER,
  approved_by  TEXT,
  approved_at  INTEGER,
  started_at   INTEGER,
  finished_at  INTEGER
) STRICT;

-- Who a mailing goes to, drawn once (state ready): the segment's members
-- whose e-mail consent is given (and confirmed, unless the audience is
-- 'given') and whose address is not bouncing, honeytokens left out. `state`: queued, sending (in the batch
-- handed to the relay: a crash there sends that batch again, and nothing
-- else twice), sent, failed (refused by the relay), skipped (no longer
-- mailable when its turn came: consent withdrawn, bouncing). A recipient
-- erased meanwhile leaves with the record (the audit log keeps the id).
CREATE TABLE mailing_recipients (
  mailing_id   INTEGER NOT NULL REFERENCES mailings(id) ON DELETE CASCADE,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  state        TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
  batch        INTEGER NOT NULL DEFAULT 0,
  done_at      INTEGER,
  last_reply   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (mailing_id, supporter_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX mailing_recipients_state ON mailing_recipients(mailing_id, state, supporter_id);
CREATE INDEX mailing_recipients_supporter ON mailing_recipients(supporter_id);
