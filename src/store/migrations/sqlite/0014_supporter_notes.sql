-- Notes and contact history of a supporter (docs/console.md, "The record
-- page"): each sealed under the record's own data key, so erasing the
-- record's wrapped key erases them too; deleted with the record (and
-- explicitly by an erasure). `kind` says what the entry is (a note or a
-- contact: called, left_message, rsvp, attended, no_answer, wrong_number);
-- its text is in `sealed` only. `author` is the audit actor who wrote it.
CREATE TABLE supporter_notes (
  id           BLOB    NOT NULL UNIQUE,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  kind         TEXT    NOT NULL CHECK (kind IN ('note', 'called', 'left_message', 'rsvp', 'attended',
                                                'no_answer', 'wrong_number')),
  sealed       BLOB    NOT NULL,
  author       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX supporter_notes_supporter ON supporter_notes(supporter_id, created_at);
