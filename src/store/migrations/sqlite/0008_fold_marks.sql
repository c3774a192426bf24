-- The inbox moves to a file of its own (inbox.db, migrations/sqlite_inbox/):
-- the intake no longer opens this file, and its group commits no longer wait
-- for the fold's write lock on it. A fold commits its records here, then
-- deletes the folded items from the inbox file in a second transaction; the
-- mark below, written in the first, says which items are already folded if
-- the process stops between the two. One row per inbox file (its random
-- uid): the highest inbox id up to which every item is folded or rejected.
--
-- The inbox and intake_batches tables of this file stay for what an older
-- version left in them: the keeper moves those submissions into the inbox
-- file when it starts, and nothing else reads or writes them.
CREATE TABLE fold_marks (
  inbox_uid BLOB    PRIMARY KEY NOT NULL,
  last_id   INTEGER NOT NULL CHECK (last_id >= 0)
) STRICT, WITHOUT ROWID;
