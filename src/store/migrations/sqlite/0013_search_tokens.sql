-- Name and place search without decrypting the directory: each record's
-- search tokens are keyed BLAKE2b hashes (16 bytes) of the normalised words
-- of its names, its postcode, the département and region derived from a
-- French postcode, and its locality (services/search_tokens.hpp). A search
-- computes the same hashes from what was typed and looks them up here.
-- Records made before this table existed are listed in
-- search_token_backlog until the keeper has computed their tokens.
CREATE TABLE supporter_search_tokens (
  token        BLOB NOT NULL,
  supporter_id BLOB NOT NULL REFERENCES supporters(id) ON DELETE CASCADE,
  PRIMARY KEY (token, supporter_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX supporter_search_tokens_supporter ON supporter_search_tokens(supporter_id);

CREATE TABLE search_token_backlog (
  supporter_id BLOB PRIMARY KEY NOT NULL REFERENCES supporters(id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
INSERT INTO search_token_backlog (supporter_id) SELECT id FROM supporters;
