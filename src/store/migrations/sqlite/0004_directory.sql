-- The directory lists supporters newest first, a keyset page at a time:
-- ORDER BY created_at DESC, id DESC, resuming strictly after the last
-- (created_at, id) shown. This index serves both the order and the resume
-- point, so a page reads only its own rows however deep it is, and no page
-- needs a sort of the whole table.
CREATE INDEX supporters_created_id ON supporters(created_at, id);
