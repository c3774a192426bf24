-- Console accounts, sessions, API tokens and login throttling (docs/accounts.md).
-- No secret is stored in the clear: passwords are Argon2id hashes, the TOTP
-- secret is sealed under a key derived from the keeper keyring, recovery
-- codes, session tokens and API tokens are stored as keyed/unkeyed BLAKE2b
-- hashes only.

CREATE TABLE accounts (
  id              BLOB    PRIMARY KEY NOT NULL,           -- 16 random bytes
  name            TEXT    NOT NULL UNIQUE,
  role            TEXT    NOT NULL CHECK (role IN ('viewer', 'organiser', 'admin', 'auditor')),
  password_hash   TEXT    NOT NULL,                       -- crypto_pwhash_str (Argon2id)
  totp_sealed     BLOB    NOT NULL,                       -- XChaCha20-Poly1305, AD = account id
  totp_last_step  INTEGER NOT NULL DEFAULT -1,            -- last accepted TOTP time step (replay guard)
  disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  locked          INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  lock_reason     TEXT    NOT NULL DEFAULT '',
  failures        INTEGER NOT NULL DEFAULT 0,             -- consecutive failed logins
  last_failure_at INTEGER NOT NULL DEFAULT 0,             -- unix seconds
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE account_recovery_codes (
  account_id BLOB    NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  code_hash  BLOB    NOT NULL,                            -- keyed BLAKE2b
  used_at    INTEGER,                                     -- NULL while unused
  PRIMARY KEY (account_id, code_hash)
) STRICT;

CREATE TABLE sessions (
  token_hash   BLOB    PRIMARY KEY NOT NULL,              -- BLAKE2b-256 of the 256-bit token
  account_id   BLOB    NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  client       TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE api_tokens (
  id         INTEGER PRIMARY KEY NOT NULL,
  label      TEXT    NOT NULL,
  scope      TEXT    NOT NULL CHECK (scope IN ('intake', 'read-masked', 'reveal')),
  prefix     TEXT    NOT NULL,                            -- public part, shown in lists
  token_hash BLOB    NOT NULL UNIQUE,
  created_by TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

-- Failed logins per client address.
CREATE TABLE login_throttle (
  client          TEXT    PRIMARY KEY NOT NULL,
  failures        INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL
) STRICT;
