-- The words a person agreed to (docs/supporter-mail.md, "Consent log"):
-- each statement of consent names the wording shown when it was given, by
-- the BLAKE2b hash of its text, and the texts are kept once each here, so
-- that what someone agreed to can be shown years later, whatever the form
-- says by then. NULL for statements with no wording on record (imports,
-- the API, staff, withdrawals).
ALTER TABLE consent_events ADD COLUMN wording BLOB CHECK (wording IS NULL OR length(wording) = 32);

CREATE TABLE consent_wordings (
  hash       BLOB    PRIMARY KEY NOT NULL CHECK (length(hash) = 32),
  text       TEXT    NOT NULL,
  first_seen INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
