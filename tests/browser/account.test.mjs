// One's own account on a phone-sized screen (390 px), in a real Chromium:
// a person changes their password (after a refused attempt) and replaces
// their authenticator, scanning the new set-up and confirming it with its
// first code. Screenshots are kept for people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, fitsAPhone, launchBrowser, rempart, startInstance, totp, signInAs } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const NEW_PASSWORD = 'Galet-Brume-Sept-Lanternes';
const PHONE = { width: 390, height: 844 };
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
const secrets = {};

before(async () => {
  instance = await startInstance();
  secrets.alice = addAccount(instance.config, 'alice', 'organiser', PASSWORD);
  secrets.basile = addAccount(instance.config, 'basile', 'auditor', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) assert.equal(await instance.stop(), 0, 'serve exits 0 on SIGTERM');
});

// Both steps of the console's sign-in, as a person types them.
const signIn = (page, name, password, code) => signInAs(page, instance.consoleUrl, name, password, code);

const fitsAPhoneWithoutScript = (page) => fitsAPhone(page, PHONE.width);

test('a person changes their own password on a phone', async () => {
  mkdirSync(screenshots, { recursive: true });
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await ctx.newPage();
  await signIn(page, 'alice', PASSWORD, totp(secrets.alice));
  await page.waitForURL('**/supporters', { timeout: 30_000 });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'alice (organiser)' }).click();
  await page.waitForURL('**/account');
  await fitsAPhoneWithoutScript(page);
  writeFileSync(join(screenshots, 'account-phone.png'), await page.screenshot({ fullPage: true }));

  // A wrong current password: refused, said so, nothing echoed.
  await page.locator('#pw-current').fill('Pas-Le-Bon-Mot-De-Passe');
  await page.locator('#pw-new').fill(NEW_PASSWORD);
  await page.locator('#pw-new2').fill(NEW_PASSWORD);
  await page.locator('#code-pw').fill(totp(secrets.alice, 1));
  await page.getByRole('button', { name: 'Change password' }).click();
  assert.match(await page.textContent('main'), /not right\. Nothing was changed/);
  assert.ok(!(await page.content()).includes(NEW_PASSWORD), 'no typed password comes back');
  assert.equal(await page.locator('#pw-current').inputValue(), '');
  writeFileSync(join(screenshots, 'account-password-refused-phone.png'), await page.screenshot({ fullPage: true }));

  await page.locator('#pw-current').fill(PASSWORD);
  await page.locator('#pw-new').fill(NEW_PASSWORD);
  await page.locator('#pw-new2').fill(NEW_PASSWORD);
  await page.locator('#code-pw').fill(totp(secrets.alice, 1));
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.waitForURL('**/account?done=password');
  assert.match(await page.textContent('main'), /Password changed/);
  await ctx.close();

  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  assert.ok(q.out.includes('"account.password"'));
  assert.ok(!q.out.includes(NEW_PASSWORD) && !q.out.includes(PASSWORD), 'no password in the audit log');
});

test('a person replaces their own authenticator on a phone', async () => {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await ctx.newPage();
  await signIn(page, 'basile', PASSWORD, totp(secrets.basile));
  await page.waitForURL('**/audit', { timeout: 30_000 });
  await page.goto(instance.consoleUrl + '/account');
  await page.locator('#au-current').fill(PASSWORD);
  await page.locator('#code-au').fill(totp(secrets.basile, 1));
  await page.getByRole('button', { name: 'Continue' }).click();
  const uri = /^otpauth:\/\/totp\/[^\s]+secret=([A-Z2-7]+)&/.exec(await page.locator('code.secret').first().textContent());
  assert.ok(uri, 'the new set-up is shown to its owner');
  assert.equal(await page.locator('svg.qr').count(), 1);
  await fitsAPhoneWithoutScript(page);
  writeFileSync(join(screenshots, 'account-authenticator-phone.png'), await page.screenshot({ fullPage: true }));
  await page.getByLabel('The code your new authenticator app shows now').fill(totp(uri[1]));
  await page.getByRole('button', { name: 'Replace my authenticator' }).click();
  await page.waitForURL('**/account?done=authenticator');
  assert.match(await page.textContent('main'), /Authenticator replaced/);
  await ctx.close();

  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  assert.ok(q.out.includes('"account.authenticator"'));
  assert.ok(!q.out.includes(uri[1]), 'no secret in the audit log');
});
