-- Two-person bulk exports (docs/exports.md): each account's export public
-- key, the export requests and their approvals, and the canary values
-- planted in each export file. No personal data: a canary row holds a
-- blind index of a made-up value, never the value.

-- X25519 public key an export file is sealed to; NULL for accounts made
-- before this migration (they get one at their next MFA reset).
ALTER TABLE accounts ADD COLUMN export_public_key BLOB;

CREATE TABLE exports (
  id           INTEGER PRIMARY KEY NOT NULL,
  requester_id BLOB    NOT NULL REFERENCES accounts(id),
  tag          TEXT    NOT NULL,                    -- '' for every supporter
  fields       TEXT    NOT NULL,                    -- field kind names, comma-joined
  reason       TEXT    NOT NULL,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'expired', 'downloaded')),
  created_at   INTEGER NOT NULL,                    -- unix seconds
  expires_at   INTEGER NOT NULL,
  approver_id  BLOB    REFERENCES accounts(id),     -- NULL until approved
  approved_at  INTEGER,
  rows         INTEGER NOT NULL DEFAULT 0           -- real records written
) STRICT;
CREATE INDEX exports_requester ON exports(requester_id);

-- A canary value written into one export: found again by the blind index
-- (under the keyring version `key_version`) of its normalised value.
CREATE TABLE export_canaries (
  blind_index BLOB    PRIMARY KEY NOT NULL,
  key_version INTEGER NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('email', 'phone')),
  export_id   INTEGER NOT NULL REFERENCES exports(id)
) STRICT, WITHOUT ROWID;
CREATE INDEX export_canaries_export ON export_canaries(export_id);
