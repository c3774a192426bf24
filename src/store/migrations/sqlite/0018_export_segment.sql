-- Exports by segment (docs/exports.md): the saved segment an export request
-- takes its supporters from, by name; NULL when it takes them by tag (or
-- every supporter). Not personal data: a name an organiser chose.
ALTER TABLE exports ADD COLUMN segment TEXT;
