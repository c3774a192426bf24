-- Search tokens gained a token per pair of name words
-- (services/search_tokens.hpp, "namepair"): every record goes back on the
-- backlog, and the keeper computes its tokens again (the single-word ones
-- keep finding it meanwhile).
INSERT OR IGNORE INTO search_token_backlog (supporter_id) SELECT id FROM supporters;
