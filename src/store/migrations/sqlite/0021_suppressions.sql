-- People who asked to be erased, kept only as the blind index of their
-- e-mail address and of their phone number (keyed BLAKE2b under the
-- blind-index key: no address can be read back from it), so that a later
-- import cannot bring them back (docs/supporter-mail.md, "Erasure and
-- suppression"). A new sign-up by the person lifts it. `key_version` is the
-- blind-index key's version the entry was made under.
CREATE TABLE suppressions (
  blind_index BLOB    PRIMARY KEY NOT NULL,
  key_version INTEGER NOT NULL CHECK (key_version BETWEEN 0 AND 4294967295),
  erased_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
