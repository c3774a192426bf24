-- Where each sign-up came from (docs/intake-api.md, "Where a sign-up came
-- from"): a "signup" entry of the record's history, sealed under the
-- record's data key like every note, holding the sign-up's declared
-- sources (a hidden "source" input, utm_* parameters, OSDI custom_fields).
-- Written by the keeper's fold, never by staff. SQLite cannot change a
-- CHECK in place, so the table is rebuilt with the new kind.
CREATE TABLE supporter_notes_next (
  id           BLOB    NOT NULL UNIQUE,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  kind         TEXT    NOT NULL CHECK (kind IN ('note', 'called', 'left_message', 'rsvp', 'attended',
                                                'no_answer', 'wrong_number', 'signup')),
  sealed       BLOB    NOT NULL,
  author       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;
INSERT INTO supporter_notes_next (id, supporter_id, kind, sealed, author, created_at)
  SELECT id, supporter_id, kind, sealed, author, created_at FROM supporter_notes;
DROP TABLE supporter_notes;
ALTER TABLE supporter_notes_next RENAME TO supporter_notes;
CREATE INDEX supporter_notes_supporter ON supporter_notes(supporter_id, created_at);
