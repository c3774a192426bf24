// The admin console in a real Chromium: sign in with a password and a TOTP
// code, search, open a record, reveal one field with a reason. No script runs
// on these pages, the CSP holds, every field has a label, and a screenshot is
// kept for people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, importPeople, launchBrowser, rempart, startInstance, stopWithoutPersonalData, totp } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const PEOPLE = [
  ['Maëlys', 'Quéméner', 'maelys.quemener@exemple.org', '+33199000201', '29000'],
  ['Aurélien', 'Castagnède', 'aurelien.castagnede@exemple.org', '+33199000202', '64100'],
  ['Salomé', 'Vandenbussche', 'salome.vandenbussche@exemple.org', '+33199000203', '59100'],
];
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
let secret;

before(async () => {
  instance = await startInstance();
  importPeople(instance, 'given_name,family_name,email,phone,postal_code,tags', PEOPLE.map((p) => [...p, 'volunteer']));
  secret = addAccount(instance.config, 'camille', 'organiser', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) assert.equal(await stopWithoutPersonalData(instance, PEOPLE.flat()), 0, 'serve exits 0 on SIGTERM');
});

async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

// Waits for the console's first page after a sign-in. If it does not come,
// fails with what the browser shows and what serve logged (neither holds
// personal data: the `after` hook checks the log), so a rare failure can be
// told apart: a refused code, an expired step one, or a store error.
async function signedIn(page) {
  try {
    await page.waitForURL('**/supporters', { timeout: 30_000 });
  } catch (e) {
    const shown = await page.textContent('main').catch(() => '(no page)');
    const logged = instance.log().split('\n').filter((l) => /console|sign|login|auth|error|warn/i.test(l));
    // The audit log names the refusal's cause (password, second_factor,
    // throttled, ...) without the values that were typed.
    const q = rempart(['audit', 'query', '--config', instance.config, '--action', 'login.failure', '--format', 'jsonl']);
    const causes = q.out.split('\n').filter(Boolean).map((l) => JSON.parse(l).details?.cause ?? '?');
    throw new Error(`no sign-in at ${page.url()}: page says ${JSON.stringify(shown?.trim())}; ` +
                    `login failures in the audit log: ${JSON.stringify(causes)}; ` +
                    `serve logged:\n${logged.slice(-20).join('\n')}\n${e.message}`);
  }
}

async function signIn(page, code) {
  await page.goto(instance.consoleUrl + '/login');
  await page.getByLabel('Account name').fill('camille');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel(/authenticator/).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('sign in, search, reveal one field with a reason', async () => {
  const { context, page, problems } = await openPage();
  const login = await page.goto(instance.consoleUrl + '/login');
  assert.match(login.headers()['content-security-policy'], /default-src 'none'/);
  // Keyboard only: the name field has focus; Tab reaches the password.
  // Chromium applies autofocus at a rendering update that may come after the
  // load event, so keys typed before it would go to the page, not the field.
  await page.waitForFunction(() => document.activeElement?.id === 'name', null, { timeout: 10_000 });
  await page.keyboard.type('camille');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByLabel(/authenticator/).fill(totp(secret));
  await page.keyboard.press('Enter');
  await signedIn(page);

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name.includes('rempart_session'));
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');

  const list = await page.textContent('main');
  assert.match(list, /3 supporters/);
  for (const p of PEOPLE) for (const v of p) assert.ok(!list.includes(v), 'the list is masked');
  assert.ok(list.includes('m•••@e•••.org'));

  await page.getByRole('link', { name: 'Search' }).click();
  await page.getByLabel('Search by').selectOption('email');
  await page.getByLabel('Value').fill('Aurelien.Castagnede@exemple.org');
  await page.getByRole('button', { name: 'Search' }).click();
  const found = await page.textContent('main');
  assert.ok(found.includes('a•••@e•••.org'));
  assert.ok(!found.includes('Castagnède'));
  await page.getByRole('link', { name: 'A. C.' }).click();

  // Two fields at once, with one reason: a caller sees the name and the
  // phone together; the others stay masked.
  await page.getByRole('checkbox', { name: 'E-mail' }).check();
  await page.getByRole('checkbox', { name: 'Phone' }).check();
  await page.getByLabel('Reason', { exact: true }).fill('calling back about the rally');
  await page.getByRole('button', { name: 'Reveal', exact: true }).click();
  const revealed = await page.locator('[data-field=email]').textContent();
  assert.equal(revealed, 'aurelien.castagnede@exemple.org');
  assert.equal(await page.locator('[data-field=phone]').textContent(), '+33199000202');
  assert.equal(await page.locator('[data-field=name]').textContent(), 'A. C.');
  const shot = await page.screenshot({ fullPage: true });
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, 'console-reveal.png'), shot);

  // Every input has a label; no script, no CSP violation.
  const unlabeled = await page.$$eval('input:not([type=hidden]), select',
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.name));
  assert.deepEqual(unlabeled, []);
  assert.equal(await page.$$eval('script', (s) => s.length), 0);
  assert.deepEqual(problems, []);

  // The reveal is in the audit log, with its reason and without the value.
  const q = rempart(['audit', 'query', '--config', instance.config, '--action', 'supporter.reveal', '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /calling back about the rally/);
  assert.ok(!q.out.includes('castagnede@'));
  await context.close();
});

test('a wrong code fails without saying which factor was wrong', async () => {
  const { context, page } = await openPage();
  await signIn(page, '000000');
  const text = await page.textContent('main');
  assert.match(text, /Sign-in failed/);
  assert.ok(!/password is wrong|code is wrong|unknown/i.test(text));
  assert.equal((await context.cookies()).length, 0);
  await context.close();
});

test('readable on a phone', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(instance.consoleUrl + '/login');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, 'no horizontal scrolling on a narrow screen');
  await context.close();
});

test('an auditor on a phone: the chain verified, the whole of it on demand, the log read by name', async () => {
  const auditorSecret = addAccount(instance.config, 'aude', 'auditor', PASSWORD);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(instance.consoleUrl + '/login');
  await page.getByLabel('Account name').fill('aude');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel(/authenticator/).fill(totp(auditorSecret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/audit', { timeout: 30_000 });
  assert.match(await page.textContent('[role=status]'), /Chain verified through entry \d+/);

  // A second view reads only what was appended since the first.
  await page.reload();
  assert.match(await page.textContent('[role=status]'), /were read for this view; the ones before were read in full/);
  await page.getByRole('button', { name: 'Verify the whole chain now' }).click();
  const status = await page.textContent('[role=status]');
  assert.match(status, /All \d+ entries were read for this view\./);

  // Filtered by camille's account name: her entries only, shown by name,
  // the reveal's details as labelled values.
  await page.getByLabel('Actor').fill('camille');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/\/audit\?actor=camille/);
  const actors = await page.$$eval('table.entries td[data-label=Actor]', (tds) => tds.map((t) => t.textContent));
  assert.ok(actors.length >= 2, `camille's sign-in and reveal at least (${actors.length})`);
  assert.deepEqual([...new Set(actors)], ['camille']);
  const details = await page.$$eval('table.entries td[data-label=Details]', (tds) => tds.map((t) => t.innerText));
  assert.ok(details.some((d) => /reason:\s*calling back about the rally/.test(d)), JSON.stringify(details));
  assert.ok(details.every((d) => !d.includes('{"')), 'details are not JSON text');
  assert.match(await page.textContent('main'), /Blast radius of camille/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, 'console-audit-phone.png'), await page.screenshot({ fullPage: true }));
  assert.ok(width <= 390, `no horizontal scrolling on a narrow screen (${width} px)`);
  const text = await page.textContent('main');
  for (const p of PEOPLE) for (const v of p.slice(2)) assert.ok(!text.includes(v), 'no personal data on the audit page');

  assert.deepEqual(problems, []);

  // A name nobody has: said plainly (a 400, which the browser reports), the
  // filter kept to correct.
  await page.getByLabel('Actor').fill('nobody');
  await page.getByRole('button', { name: 'Filter' }).click();
  assert.match(await page.textContent('.notice'), /No account has that name/);
  assert.deepEqual(problems.splice(0), ['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  assert.equal(await page.getByLabel('Actor').inputValue(), 'nobody');
  assert.equal(await page.$$eval('table.entries', (t) => t.length), 0);

  // The same session on a desktop screen: the whole log, nothing cut at the
  // right edge.
  const wide = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                          storageState: await context.storageState() });
  const desk = await wide.newPage();
  desk.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await desk.goto(instance.consoleUrl + '/audit');
  const deskActors = await desk.$$eval('table.entries td[data-label=Actor]', (tds) => tds.map((t) => t.textContent));
  assert.ok(deskActors.includes('camille') && deskActors.includes('aude'), JSON.stringify(deskActors));
  assert.ok(deskActors.every((a) => !a.startsWith('account:')), 'accounts by name');
  const overflow = await desk.evaluate(() => {
    const t = document.querySelector('table.entries');
    return { doc: document.documentElement.scrollWidth, table: t.scrollWidth, box: t.clientWidth };
  });
  assert.ok(overflow.doc <= 1280 && overflow.table <= overflow.box, JSON.stringify(overflow));
  writeFileSync(join(screenshots, 'console-audit.png'), await desk.screenshot({ fullPage: true }));
  assert.equal(await desk.$$eval('script', (s) => s.length), 0);
  assert.deepEqual(problems, []);
  await wide.close();
  await context.close();
});
