-- The language of a mail to a supporter (docs/languages.md): that of the
-- page the person acted on (the sign-up page, a confirmation or
-- self-service link), '' for the instance's default language.
ALTER TABLE outbox ADD COLUMN lang TEXT NOT NULL DEFAULT '' CHECK (lang IN ('', 'en', 'fr'));
