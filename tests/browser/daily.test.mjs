// An organiser's daily look-ups on a phone-sized screen (390 px), in a real
// Chromium, with the keyboard only: finding people by name, by place and
// by both, then the dashboard. Screenshots are kept for people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addAccount, fitsAPhone, importPeople, launchBrowser, rempart, startInstance, stopWithoutPersonalData, totp, signInAs,
} from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const PHONE = { width: 390, height: 844 };
const PEOPLE = [
  ['Maëlys', 'Quéméner', 'maelys.quemener@exemple.org', '+33199000301', '29000', 'Quimper'],
  ['Yannick', 'Quéméner', 'yannick.quemener@exemple.org', '+33199000302', '69003', 'Lyon'],
  ['Aurélien', 'Castagnède', 'aurelien.castagnede@exemple.org', '+33199000303', '64100', 'Bayonne'],
  ['Salomé', 'Vandenbussche', 'salome.vandenbussche@exemple.org', '+33199000304', '59100', 'Roubaix'],
];
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
let secret;

before(async () => {
  instance = await startInstance();
  importPeople(instance, 'given_name,family_name,email,phone,postal_code,locality,tags',
    PEOPLE.map((p) => [...p, 'volunteer']));
  secret = addAccount(instance.config, 'camille', 'organiser', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) assert.equal(await stopWithoutPersonalData(instance, PEOPLE.flat()), 0, 'serve exits 0 on SIGTERM');
});

const fitsAPhoneWithoutScript = (page, problems) => fitsAPhone(page, PHONE.width, problems);

// Presses Enter in the focused field and waits for the page that answers.
async function submit(page) {
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

// Tabs from the page's start until `selector` has the focus.
async function tabTo(page, selector) {
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 40; ++i) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
  }
  assert.fail(`the keyboard never reached ${selector}`);
}

test('an organiser finds people by name and place, then reads the dashboard, on a phone', async () => {
  mkdirSync(screenshots, { recursive: true });
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await signInAs(page, instance.consoleUrl, 'camille', PASSWORD, totp(secret));
  await page.waitForURL('**/supporters', { timeout: 30_000 });

  await page.goto(`${instance.consoleUrl}/search`);
  await fitsAPhoneWithoutScript(page, problems);
  // A family name typed without its accents finds both Quéméners.
  await tabTo(page, '#name');
  await page.keyboard.type('quemener');
  await submit(page);
  assert.match(await page.textContent('main'), /2 supporters match\./);
  await fitsAPhoneWithoutScript(page, problems);
  writeFileSync(join(screenshots, 'search-name-phone.png'), await page.screenshot({ fullPage: true }));
  const shown = await page.content();
  for (const p of PEOPLE) for (const v of [p[2], p[3]]) assert.ok(!shown.includes(v), 'results are masked');

  // The same name in the Rhône only: one.
  await tabTo(page, '#place');
  await page.keyboard.type('69');
  await submit(page);
  assert.match(await page.textContent('main'), /1 supporter matches\./);
  assert.equal(await page.locator('#name').inputValue(), 'quemener', 'the form keeps what was typed');

  // A region by its name, nobody by a prefix.
  await page.locator('#name').fill('');
  await page.locator('#place').fill('Bretagne');
  await page.locator('#place').focus();
  await submit(page);
  assert.match(await page.textContent('main'), /1 supporter matches\./);
  await page.locator('#place').fill('Bret');
  await page.locator('#place').focus();
  await submit(page);
  assert.match(await page.textContent('main'), /Nobody matches/);
  writeFileSync(join(screenshots, 'search-nobody-phone.png'), await page.screenshot({ fullPage: true }));

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await page.waitForURL('**/dashboard');
  await fitsAPhoneWithoutScript(page, problems);
  assert.match(await page.textContent('main'), /4 supporters added in the last 30 days/);
  assert.equal(await page.locator('svg.chart rect').count(), 30);
  assert.match(await page.textContent('main'), /Your budgets/);
  writeFileSync(join(screenshots, 'dashboard-phone.png'), await page.screenshot({ fullPage: true }));
  await ctx.close();

  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  assert.ok(q.out.includes('"by":"name+place"'), 'the combined search is recorded as such');
  for (const word of ['quemener', 'Bretagne', 'Bret']) assert.ok(!q.out.includes(word), 'no searched word in the log');
});
