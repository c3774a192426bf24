// The admins' self-check page on a phone-sized screen (390 px), in a real
// Chromium: an admin sees what fails first with its fix, the passing checks
// folded away, and the plaintext scan as `rempart selfcheck` recorded it;
// an organiser is refused the page. Screenshots are kept for people to
// look at. Needs `serve` to hand the console the self-check's settings
// (ConsoleOptions::selfcheck, set from cli::selfcheck_settings).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, fitsAPhone, launchBrowser, rempart, signInAs, startInstance, totp } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const PHONE = { width: 390, height: 844 };
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
const secrets = {};

before(async () => {
  instance = await startInstance();
  secrets.ada = addAccount(instance.config, 'ada', 'admin', PASSWORD);
  secrets.olga = addAccount(instance.config, 'olga', 'organiser', PASSWORD);
  // The CLI's run records the scan the page shows.
  const r = rempart(['selfcheck', '--config', instance.config]);
  assert.notEqual(r.code, 2, r.err);
  // A key file opened to others: the page must say so, with the fix.
  chmodSync(join(instance.dir, 'keys', 'keeper.keyring'), 0o644);
  browser = await launchBrowser();
});

after(async () => {
  chmodSync(join(instance.dir, 'keys', 'keeper.keyring'), 0o600);
  await browser?.close();
  if (instance) assert.equal(await instance.stop(), 0, 'serve exits 0 on SIGTERM');
});

test('an admin reads the self-check on a phone', async () => {
  mkdirSync(screenshots, { recursive: true });
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await signInAs(page, instance.consoleUrl, 'ada', PASSWORD, totp(secrets.ada));
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 30_000 });
  await page.goto(instance.consoleUrl + '/selfcheck');
  const main = await page.textContent('main');
  assert.match(main, /1 check fails/);
  assert.match(main, /To fix now/);
  assert.match(main, /key files open to group or others: keeper\.keyring 0644/);
  assert.match(main, /Fix: chmod 700 .* and chmod 600 every file in it/);
  assert.match(main, /the last plaintext scan, by `rempart selfcheck`, was 0 days ago/);
  assert.match(main, /checks pass/);
  await fitsAPhone(page, PHONE.width, problems);
  writeFileSync(join(screenshots, 'selfcheck-phone.png'), await page.screenshot({ fullPage: true }));
  // In French, from the language switch.
  await page.getByRole('link', { name: 'Français' }).click();
  await page.waitForURL('**/selfcheck');
  assert.match(await page.textContent('main'), /fichiers de clés ouverts au groupe ou aux autres/);
  writeFileSync(join(screenshots, 'selfcheck-phone-fr.png'), await page.screenshot({ fullPage: true }));
  await ctx.close();
});

test('an organiser is refused the page', async () => {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await ctx.newPage();
  await signInAs(page, instance.consoleUrl, 'olga', PASSWORD, totp(secrets.olga));
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 30_000 });
  const res = await page.goto(instance.consoleUrl + '/selfcheck');
  assert.equal(res.status(), 403);
  assert.doesNotMatch(await page.textContent('body'), /keeper\.keyring/);
  await ctx.close();
});
