-- Two-person privilege changes and self-enrolment (docs/accounts.md).
--
-- An account is 'enrolling' from its creation (or an MFA reset) until its
-- owner has set their own password and TOTP with the single-use enrolment
-- code handed to them; only the code's BLAKE2b hash is kept. admin_since
-- says since when the account holds the admin role (an approver must have
-- held it for the cooling period before a request was made); created_by is
-- the audit actor that asked for the account.
ALTER TABLE accounts ADD COLUMN state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'enrolling'));
ALTER TABLE accounts ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN admin_since INTEGER;
ALTER TABLE accounts ADD COLUMN enrol_hash BLOB;
ALTER TABLE accounts ADD COLUMN enrol_expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET admin_since = created_at WHERE role = 'admin';
CREATE UNIQUE INDEX accounts_enrol_hash ON accounts(enrol_hash) WHERE enrol_hash IS NOT NULL;

-- Who brought an account its privileges: every account that requested or
-- approved its creation or a role change. A sponsor may never approve what
-- the account it sponsored asks for, nor the other way round.
CREATE TABLE account_sponsors (
  account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sponsor_id BLOB NOT NULL,
  PRIMARY KEY (account_id, sponsor_id)
) STRICT, WITHOUT ROWID;

-- Requests for a privilege change, approved by another admin with a fresh
-- TOTP code. params is JSON without any secret; secret_hash is the BLAKE2b
-- of the enrolment code or API token shown once to the requester, which
-- works only once the request is approved.
CREATE TABLE privilege_requests (
  id           INTEGER PRIMARY KEY NOT NULL,
  kind         TEXT    NOT NULL CHECK (kind IN ('create_account', 'set_role', 'unlock', 'reset_mfa',
                                                'reveal_token', 'raise_budget')),
  requester_id BLOB    NOT NULL REFERENCES accounts(id),
  target       TEXT    NOT NULL,
  params       TEXT    NOT NULL,
  secret_hash  BLOB,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'expired')),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  decided_by   BLOB,
  decided_at   INTEGER
) STRICT;
CREATE INDEX privilege_requests_status ON privilege_requests(status, id);

-- A raised budget for one account and one counted kind, until expires_at.
CREATE TABLE account_budgets (
  account_id BLOB    NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  counted    TEXT    NOT NULL,
  per_minute INTEGER NOT NULL,
  per_hour   INTEGER NOT NULL,
  per_day    INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, counted)
) STRICT, WITHOUT ROWID;
