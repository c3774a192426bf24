-- The fold ledger: which inbox items are folded, by item uid. The keeper
-- records an item here in the transaction that folds it, and forgets it once
-- the inbox has deleted it; an item found here is never folded again. Ids of
-- the inbox give no order to rely on (several intake writers commit out of
-- id order), so the fold marks of migration 0008 are no longer written: the
-- keeper, when it opens, deletes the inbox items at or below a mark left by
-- an older version, then the marks.
CREATE TABLE folded_items (
  item_uid  BLOB    PRIMARY KEY NOT NULL,
  folded_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
