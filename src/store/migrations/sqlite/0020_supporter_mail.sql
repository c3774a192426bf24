-- Mail to supporters (docs/supporter-mail.md): double opt-in, the outbox,
-- single-use links and the anti-phishing phrase.

-- When the person confirmed their e-mail consent by the link mailed to
-- them (double opt-in); NULL while the consent is given but unconfirmed, or
-- not given. A consent withdrawn or given again is unconfirmed again: the
-- trigger below clears the confirmation whenever consent_email_at changes,
-- whatever writes it.
ALTER TABLE supporters ADD COLUMN consent_email_confirmed_at INTEGER;
CREATE TRIGGER supporters_consent_email_changed AFTER UPDATE OF consent_email_at ON supporters
WHEN NEW.consent_email_at IS NOT OLD.consent_email_at AND NEW.consent_email_confirmed_at IS NOT NULL
BEGIN
  UPDATE supporters SET consent_email_confirmed_at = NULL WHERE id = NEW.id;
END;

-- The consent log learns 'confirmed' (a double opt-in link followed).
CREATE TABLE consent_events_new (
  id           INTEGER PRIMARY KEY,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  channel      TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
  choice       TEXT    NOT NULL CHECK (choice IN ('yes', 'no', 'confirmed')),
  at           INTEGER NOT NULL,
  source       TEXT    NOT NULL
) STRICT;
INSERT INTO consent_events_new (id, supporter_id, channel, choice, at, source)
SELECT id, supporter_id, channel, choice, at, source FROM consent_events;
DROP TABLE consent_events;
ALTER TABLE consent_events_new RENAME TO consent_events;
CREATE INDEX consent_events_supporter ON consent_events(supporter_id, id);

-- Mail the keeper owes a supporter. Never an address nor a text: the
-- sender opens the record when it sends, and renders then. `kind` names
-- the template (confirm, welcome, manage: a self-service link, data: what
-- is held, for the person); `state` is queued (waiting for next_at), sending (handed
-- to the relay; a crash there sends it again at next_at), sent, failed
-- (refused by the relay, or out of attempts) or dropped (no longer due: the
-- consent was withdrawn or confirmed meanwhile, or the record has no
-- address). `last_reply` is the relay's
-- last SMTP reply code (0: none, e.g. no connection).
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  kind         TEXT    NOT NULL CHECK (kind IN ('confirm', 'welcome', 'manage', 'data')),
  state        TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'dropped')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  next_at      INTEGER NOT NULL,
  done_at      INTEGER,
  last_reply   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_due ON outbox(next_at) WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_supporter ON outbox(supporter_id, kind, created_at);

-- Links mailed to a supporter (confirm a consent, unsubscribe, manage
-- their data), by the BLAKE2b hash of their random token: the token itself
-- is only ever in the mail. Confirmation and self-service links are
-- single-use (used_at); an unsubscribe link may be followed again (mail
-- clients repeat the one-click POST).
CREATE TABLE link_tokens (
  hash         BLOB    PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  purpose      TEXT    NOT NULL CHECK (purpose IN ('confirm', 'unsubscribe', 'manage')),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  used_at      INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX link_tokens_supporter ON link_tokens(supporter_id, purpose);
CREATE INDEX link_tokens_expiry ON link_tokens(expires_at);

-- A supporter's anti-phishing phrase, sealed under the record's own data
-- key as its notes are (crypto/record_notes.hpp, kind "phrase"): made when
-- the person confirms, quoted in every later mail.
CREATE TABLE supporter_phrases (
  supporter_id BLOB    PRIMARY KEY NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  phrase_id    BLOB    NOT NULL,
  sealed       BLOB    NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
