-- The inbox without a UNIQUE index on item_uid. Item ids are 16 bytes from
-- the CSPRNG, bound into each item's AEAD; nothing looks an item up by them,
-- and a unique index over random keys cost every group commit one randomly
-- placed index leaf per submission: with ~29 sign-ups a group, strace counted
-- ~58 WAL pages written per commit (docs/benchmarks.md). Uniqueness never
-- guarded against anything: a sealed item replayed after its fold is folded
-- as a no-op merge either way.
CREATE TABLE inbox_next (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_uid   BLOB    NOT NULL REFERENCES intake_batches(uid),
  item_uid    BLOB    NOT NULL,
  wrapped_key BLOB    NOT NULL,
  fields      BLOB    NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

INSERT INTO inbox_next (id, batch_uid, item_uid, wrapped_key, fields, received_at)
  SELECT id, batch_uid, item_uid, wrapped_key, fields, received_at FROM inbox ORDER BY id;

-- Keep the AUTOINCREMENT high-water mark, so no id is ever reused across
-- the rebuild: the copy's own row (if any) gives way to the old table's.
DELETE FROM sqlite_sequence WHERE name = 'inbox_next';
UPDATE sqlite_sequence SET name = 'inbox_next' WHERE name = 'inbox';

DROP INDEX inbox_batch_uid;
DROP TABLE inbox;
ALTER TABLE inbox_next RENAME TO inbox;
CREATE INDEX inbox_batch_uid ON inbox(batch_uid);
