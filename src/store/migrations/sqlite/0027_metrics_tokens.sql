-- API tokens of scope "metrics" (docs/operations.md, "Metrics"): they read
-- /metrics on the keeper's console and nothing else. SQLite cannot change a
-- CHECK in place, so the table is rebuilt with the new scope.
CREATE TABLE api_tokens_next (
  id         INTEGER PRIMARY KEY NOT NULL,
  label      TEXT    NOT NULL,
  scope      TEXT    NOT NULL CHECK (scope IN ('intake', 'read-masked', 'reveal', 'metrics')),
  prefix     TEXT    NOT NULL,                            -- public part, shown in lists
  token_hash BLOB    NOT NULL UNIQUE,
  created_by TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;
INSERT INTO api_tokens_next (id, label, scope, prefix, token_hash, created_by, created_at, expires_at, revoked_at)
  SELECT id, label, scope, prefix, token_hash, created_by, created_at, expires_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_next RENAME TO api_tokens;
