-- Why and since when an account is locked, for the admins who decide to
-- unlock it (docs/accounts.md, "Locks"). lock_reason keeps its code
-- ("too many failed logins", "guard: reveal_budget", "guard: honeytoken", …);
-- lock_detail is a JSON object without personal data that says more (for a
-- budget: the counted kind, the window and its limit; for failed sign-ins:
-- how many); locked_at is unix seconds, NULL while unlocked. Locks made
-- before this migration keep their reason and have neither.
ALTER TABLE accounts ADD COLUMN locked_at INTEGER;
ALTER TABLE accounts ADD COLUMN lock_detail TEXT NOT NULL DEFAULT '';
