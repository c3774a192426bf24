-- The inbox file (inbox.db beside the records' rempart.db): sealed
-- submissions the intake appends and the keeper folds into records. The
-- intake role opens this file and no other, so a takeover of it reaches no
-- record, not even as ciphertext (docs/architecture.md).

-- A random identity made with the file. The records' file keeps how far the
-- keeper has folded this inbox under that identity (fold_marks), so a new
-- inbox file starts from its first item, never past it.
CREATE TABLE inbox_file (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  uid      BLOB    NOT NULL CHECK (length(uid) = 16)
) STRICT;
INSERT INTO inbox_file (only_row, uid) VALUES (1, randomblob(16));

-- One intake batch: the ephemeral public key its items' data keys are
-- wrapped under.
CREATE TABLE intake_batches (
  uid              BLOB    PRIMARY KEY NOT NULL,
  key_version      INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),
  ephemeral_public BLOB    NOT NULL,
  created_at       INTEGER NOT NULL
) STRICT;

-- Sealed submissions waiting to be folded. AUTOINCREMENT so an id is never
-- reused: the keeper's fold mark (the highest id folded) can never cover a
-- newer submission. No index on item_uid: ids are 16 bytes from the CSPRNG,
-- bound into each item's AEAD, and nothing looks an item up by them (see
-- migration 0007 of the records' file).
CREATE TABLE inbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_uid   BLOB    NOT NULL REFERENCES intake_batches(uid),
  item_uid    BLOB    NOT NULL,
  wrapped_key BLOB    NOT NULL,
  fields      BLOB    NOT NULL,
  received_at INTEGER NOT NULL
) STRICT;

-- Serves the foreign key check when a batch is deleted and the search for
-- unreferenced batches.
CREATE INDEX inbox_batch_uid ON inbox(batch_uid);
