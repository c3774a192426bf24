-- The breach register (GDPR article 33(5); docs/incident.md): every
-- personal data breach the organisation knows of, notified to the
-- supervisory authority or not (then with the reason), with its facts,
-- effects and remedial action. Counts and categories only: never a record
-- id nor anything of a person. The text columns (nature, measures_note,
-- contact, the reasons) are the data protection officer's own words.
-- Written by `rempart incident report --record` and `incident register
-- update`; a row is never deleted (the keeper's authorizer refuses it).
-- Times are unix seconds.
CREATE TABLE breach_register (
  id                    INTEGER PRIMARY KEY,
  recorded_at           INTEGER NOT NULL,
  recorded_by           TEXT    NOT NULL,  -- audit actor
  updated_at            INTEGER NOT NULL,
  since_at              INTEGER NOT NULL,  -- the window of the log examined: from (inclusive)
  until_at              INTEGER,           -- to (exclusive); NULL: up to recorded_at
  actor                 TEXT    NOT NULL DEFAULT '',  -- the one actor examined, as the log writes it; '': all
  aware_at              INTEGER NOT NULL,  -- when the organisation became aware: the 72 hours run from it
  nature                TEXT    NOT NULL DEFAULT '',
  people                INTEGER NOT NULL CHECK (people >= 0),         -- data revealed or exported
  people_masked         INTEGER NOT NULL CHECK (people_masked >= 0),  -- seen masked only
  records               INTEGER NOT NULL CHECK (records >= 0),
  values_revealed       INTEGER NOT NULL CHECK (values_revealed >= 0),
  categories            TEXT    NOT NULL,  -- JSON object: data category -> people
  consequences          TEXT    NOT NULL,  -- comma-joined codes (services/breach_report.hpp)
  measures              TEXT    NOT NULL,  -- JSON object: audit action -> entries, when recorded
  measures_note         TEXT    NOT NULL DEFAULT '',
  contact               TEXT    NOT NULL DEFAULT '',
  not_notified_reason   TEXT,
  authority_notified_at INTEGER,
  people_notified_at    INTEGER,
  closed_at             INTEGER,
  close_reason          TEXT,
  state                 TEXT    NOT NULL CHECK (state IN ('open', 'not_notified', 'notified', 'closed'))
);
