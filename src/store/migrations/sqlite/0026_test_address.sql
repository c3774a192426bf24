-- A staff member's own address for a mailing's test send (docs/mailings.md,
-- "Test sends"): sealed under the keeper's account key (as the TOTP secret
-- is), the account id bound in; NULL while none is set.
ALTER TABLE accounts ADD COLUMN test_address_sealed BLOB;
