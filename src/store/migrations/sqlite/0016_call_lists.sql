-- Call lists for phone-banking (docs/console.md, "Call lists"): the members
-- of a segment, fixed when the list is made, shared out among callers who
-- may work through their share during a time window. A caller opens the
-- name and phone of one entry at a time; opening an entry is what the
-- assignment counts (one per entry, however often it is shown again), so a
-- caller can never see more people than their share. Personal data stays
-- in the records: an entry holds a record id, its caller and the outcome.

-- `segment` is the name of the segment the entries came from, as it was
-- (the segment may change or go later); `script` is what callers are to
-- say, shown on every call (not personal data). Times are unix seconds:
-- entries open from starts_at (inclusive) to ends_at (exclusive), and not
-- at all once closed_at is set.
CREATE TABLE call_lists (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  segment     TEXT    NOT NULL,
  script      TEXT    NOT NULL,
  created_by  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  closed_at   INTEGER
) STRICT;

-- One person to call. `caller` is the account's audit actor
-- ("account:<hex>"); opened_at is set when its name and phone were first
-- shown to the caller, done_at with the outcome (a contact kind, as in
-- supporter_notes). Deleted with the record (erasure) or the list.
CREATE TABLE call_list_entries (
  list_id      INTEGER NOT NULL REFERENCES call_lists(id) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  supporter_id BLOB    NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  caller       TEXT    NOT NULL,
  opened_at    INTEGER,
  outcome      TEXT    CHECK (outcome IN ('called', 'left_message', 'rsvp', 'no_answer', 'wrong_number')),
  done_at      INTEGER,
  PRIMARY KEY (list_id, position)
) STRICT;
-- A caller's next entry and their shares; an erasure's delete by record.
CREATE INDEX call_list_entries_caller ON call_list_entries(caller, list_id, done_at, position);
CREATE INDEX call_list_entries_supporter ON call_list_entries(supporter_id);
