-- The exfiltration guard (docs/honeytokens.md): which supporter records are
-- honeytokens, and per-actor counters in fixed time windows (reveal
-- budgets). Neither table holds personal data: a honeytoken row names a
-- random record id, a counter row an audit actor and a kind of access.

-- A honeytoken is an ordinary supporter row that no real person owns; this
-- table is the only thing that tells it apart. Erasing the record erases
-- the mark with it.
CREATE TABLE honeytokens (
  supporter_id BLOB    PRIMARY KEY NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  planted_at   INTEGER NOT NULL,  -- unix seconds
  planted_by   TEXT    NOT NULL   -- audit actor
) STRICT, WITHOUT ROWID;

-- How many accesses of one kind an actor made in the window starting at
-- window_start (unix seconds, aligned by the caller).
CREATE TABLE guard_counters (
  actor        TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  count        INTEGER NOT NULL,
  PRIMARY KEY (actor, kind, window_start)
) STRICT, WITHOUT ROWID;

-- Pruning old windows: delete_counters_before(window_start).
CREATE INDEX guard_counters_window ON guard_counters(window_start);
