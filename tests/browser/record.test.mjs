// The record page's daily work on a phone-sized screen (390 px), in a real
// Chromium, with the keyboard: an organiser corrects an e-mail without
// seeing it, adds a note, withdraws a consent on the person's behalf; then
// an admin erases the record on the person's request, with its id alone.
// No page runs a script, every field has a label, nothing typed comes back,
// and screenshots are kept for people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, launchBrowser, rempart, startInstance, totp } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const PERSON = ['Ysaline', 'Kerdoncuff', 'ysaline.kerdoncuff@exemple.org', '+33199000301', '29200'];
const NEW_EMAIL = 'ysaline.k@exemple.org';
const NOTE = 'Rappeler Ysaline mardi soir, porte B';
const PHONE = { width: 390, height: 844 };
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
const secrets = {};
let recordId;

before(async () => {
  instance = await startInstance();
  const csv = join(instance.dir, 'people.csv');
  writeFileSync(csv, 'given_name,family_name,email,phone,postal_code,consent_email,consent_sms,tags\n' +
    PERSON.join(',') + ',yes,yes,volunteer\n');
  const imp = rempart(['supporters', 'import', csv, '--config', instance.config, '--no-progress']);
  assert.equal(imp.code, 0, imp.err);
  secrets.odile = addAccount(instance.config, 'odile', 'organiser', PASSWORD);
  secrets.adam = addAccount(instance.config, 'adam', 'admin', PASSWORD);
  browser = await launchBrowser();
  mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (instance) {
    const log = instance.log();
    for (const v of [...PERSON, NEW_EMAIL, 'Rappeler']) assert.ok(!log.includes(v), 'no personal data in the log');
    assert.equal(await instance.stop(), 0, 'serve exits 0 on SIGTERM');
  }
});

async function phonePage() {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

// Both sign-in steps with the keyboard.
async function signIn(page, name, code, landing) {
  await page.goto(instance.consoleUrl + '/login');
  await page.waitForFunction(() => document.activeElement?.id === 'name', null, { timeout: 10_000 });
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByLabel(/authenticator/).focus();
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  await page.waitForURL('**' + landing, { timeout: 30_000 });
}

async function fitsAPhoneWithoutScript(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page fits a 390 px phone (scrollWidth ${width})`);
  assert.equal(await page.$$eval('script', (s) => s.length), 0);
  const unlabeled = await page.$$eval('input:not([type=hidden]), select, textarea',
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.name));
  assert.deepEqual(unlabeled, []);
}

const focused = (page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

test('an organiser corrects an e-mail, adds a note and withdraws a consent on a phone', async () => {
  const { context, page, problems } = await phonePage();
  await signIn(page, 'odile', totp(secrets.odile), '/supporters');
  await page.getByRole('link', { name: 'Y. K.' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/supporters\/[0-9a-f]{32}$/);
  recordId = /\/supporters\/([0-9a-f]{32})$/.exec(page.url())[1];
  await fitsAPhoneWithoutScript(page);

  // Correct the e-mail: field, new value, reason, Enter; the value is never shown.
  await page.locator('#edit-field').focus();
  await page.keyboard.type('E-mail');
  assert.equal(await page.locator('#edit-field').inputValue(), 'email');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'edit-value');
  await page.keyboard.type(NEW_EMAIL.toUpperCase());
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'edit-reason');
  await page.keyboard.type('she wrote to correct it');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/supporters/' + recordId + '?done=edit');
  let main = await page.textContent('main');
  assert.match(main, /The correction is saved\./);
  assert.ok(!main.includes(NEW_EMAIL) && !main.includes(PERSON[2]), 'no e-mail shown in full');
  assert.ok(main.includes('y•••@e•••.org'));
  await fitsAPhoneWithoutScript(page);
  writeFileSync(join(screenshots, 'record-edit-phone.png'), await page.screenshot({ fullPage: true }));

  // A note, written in the textarea and sent with the keyboard.
  await page.locator('#note-kind').focus();
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'note-text');
  await page.keyboard.type(NOTE);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/supporters/' + recordId + '?done=note*');
  const note = await page.locator('ul.notes li').first().textContent();
  assert.match(note, /Note/);
  assert.match(note, /odile/);
  assert.ok(note.includes(NOTE));

  // The SMS consent withdrawn, asked for by letter; the consent log says so.
  await page.locator('#consent-channel').focus();
  await page.keyboard.type('Text');
  assert.equal(await page.locator('#consent-channel').inputValue(), 'sms');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Letter');
  assert.equal(await page.locator('#consent-source').inputValue(), 'letter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/supporters/' + recordId + '?done=consent');
  main = await page.textContent('main');
  assert.match(main, /The consent is withdrawn and logged\./);
  const rows = await page.$$eval('table.consent-log tbody tr', (trs) => trs.map((t) => t.innerText));
  assert.ok(rows.some((r) => /Text messages\s+no\s[\s\S]*console, Letter/.test(r)), JSON.stringify(rows));
  await fitsAPhoneWithoutScript(page);
  writeFileSync(join(screenshots, 'record-notes-phone.png'), await page.screenshot({ fullPage: true }));
  assert.deepEqual(problems, []);
  await context.close();

  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  for (const action of ['supporter.edit', 'supporter.note', 'supporter.notes_read', 'supporter.consent']) {
    assert.ok(q.out.includes(`"${action}"`), action);
  }
  for (const v of [NEW_EMAIL, PERSON[2], 'Rappeler', PERSON[0]]) assert.ok(!q.out.includes(v), 'no value in the audit log');
  const shown = rempart(['supporters', 'show', '--config', instance.config, '--email', NEW_EMAIL, '--json']);
  assert.equal(shown.code, 0, 'found by the corrected e-mail');
});

test('an admin erases the record on the person\'s request, with its id alone', async () => {
  assert.ok(recordId, 'the record of the first test');
  const { context, page, problems } = await phonePage();
  await signIn(page, 'adam', totp(secrets.adam), '/accounts');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Erasure' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL('**/erase');
  await page.getByLabel('Record id').focus();
  await page.keyboard.type(recordId);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/supporters/' + recordId + '/erase');
  let main = await page.textContent('main');
  for (const v of [...PERSON, NEW_EMAIL, 'Y. K.']) assert.ok(!main.includes(v), 'the admin sees nothing of the record');
  await page.locator('#erase-reason').focus();
  await page.keyboard.type('Letter');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'erase-confirm');
  await page.keyboard.type('erase');
  await fitsAPhoneWithoutScript(page);
  writeFileSync(join(screenshots, 'record-erase-phone.png'), await page.screenshot({ fullPage: true }));
  await page.keyboard.press('Enter');
  await page.waitForSelector('p.ok');
  main = await page.textContent('main');
  assert.match(main, /is erased/);
  await fitsAPhoneWithoutScript(page);
  writeFileSync(join(screenshots, 'record-erased-phone.png'), await page.screenshot({ fullPage: true }));
  assert.deepEqual(problems, []);
  await context.close();

  const shown = rempart(['supporters', 'show', '--config', instance.config, '--email', NEW_EMAIL, '--json']);
  assert.notEqual(shown.code, 0, 'nobody is found any more');
  const q = rempart(['audit', 'query', '--config', instance.config, '--action', 'supporter.erase', '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  assert.ok(q.out.includes(recordId));
  assert.match(q.out, /"reason":"letter"/);
});
