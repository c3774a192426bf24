// Segments on a phone-sized screen (390 px), in a real Chromium, with the
// keyboard: an organiser builds a segment and sees its count, saves it,
// tags every member after the confirmation, and renames the tag. The
// masked list stacks its rows to fit the width. Screenshots are kept for
// people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, importPeople, launchBrowser, rempart, startInstance, stopWithoutPersonalData, totp } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const PHONE = { width: 390, height: 844 };
const PEOPLE = [
  ['Maëlys', 'Quintard-Beaulieu', 'maelys.quintard@exemple.org', '+33199000301', '35000', 'volunteer'],
  ['Baptiste', 'Lefèvre-Ancel', 'baptiste.lefevre@exemple.org', '+33199000302', '44000', 'volunteer'],
  ['Inès', 'Roussel', 'ines.roussel@exemple.org', '', '69003', 'volunteer'],
  ['Timothée', 'Garnier', 'timothee.garnier@exemple.org', '', '31000', 'volunteer'],
  ['Léonie', 'Chassagne', 'leonie.chassagne@exemple.org', '+33199000305', '33000', 'volunteer'],
  ['Corentin', 'Le Bihan', 'corentin.lebihan@exemple.org', '', '29000', 'volunteer'],
  ['Solène', 'Aubertin', 'solene.aubertin@exemple.org', '', '67000', 'donor'],
];
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
let secret;

before(async () => {
  instance = await startInstance();
  importPeople(instance, 'given_name,family_name,email,phone,postal_code,tags', PEOPLE);
  secret = addAccount(instance.config, 'morgane', 'organiser', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) {
    assert.equal(await stopWithoutPersonalData(instance, PEOPLE.flatMap((p) => p.slice(0, 5))), 0,
      'serve exits 0 on SIGTERM');
  }
});

async function fitsAPhoneWithoutScript(page, name) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `${name} fits a 390 px phone (scrollWidth ${width})`);
  assert.equal(await page.$$eval('script', (s) => s.length), 0);
  const unlabeled = await page.$$eval('input:not([type=hidden]), select',
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.name));
  assert.deepEqual(unlabeled, [], `${name}: every field has a label`);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, `${name}.png`), await page.screenshot({ fullPage: true }));
}

// Focus by keyboard: Tab until `selector` has focus (at most 60 presses).
async function tabTo(page, selector) {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.type(text);
}

async function activate(page, selector) {
  await tabTo(page, selector);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

test('an organiser builds a segment, tags its members and renames the tag, on a phone', async () => {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));

  await page.goto(instance.consoleUrl + '/login');
  await page.waitForFunction(() => document.activeElement?.id === 'name', null, { timeout: 10_000 });
  await page.keyboard.type('morgane');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByLabel(/authenticator/).fill(totp(secret));
  await page.keyboard.press('Enter');
  await page.waitForURL('**/supporters', { timeout: 30_000 });
  const list = await page.textContent('main');
  assert.match(list, /7 supporters/);
  for (const p of PEOPLE) for (const v of p.slice(0, 5)) if (v) assert.ok(!list.includes(v), 'the list is masked');
  await fitsAPhoneWithoutScript(page, 'supporters-phone');

  await activate(page, 'a[href="/segments"]');
  await page.waitForURL('**/segments');
  await activate(page, 'a[href="/segments/new"]');
  await page.waitForURL('**/segments/new');
  await typeInto(page, '#name', 'volunteers');
  await typeInto(page, '#tags_all', 'Volunteer');
  await activate(page, 'button[value=count]');
  assert.match(await page.textContent('#count'), /matches 6 supporters/);
  assert.equal(await page.locator('#tags_all').inputValue(), 'volunteer');
  await fitsAPhoneWithoutScript(page, 'segment-count-phone');

  await activate(page, 'button[value=save]');
  await page.waitForURL('**/segments/volunteers');
  assert.match(await page.textContent('#count'), /6 supporters/);
  await fitsAPhoneWithoutScript(page, 'segment-phone');

  await typeInto(page, '#bulk-tag', 'phoning');
  await activate(page, 'form[action$="/tags"] button');
  assert.match(await page.textContent('main'), /the 6 members of volunteers/);
  await fitsAPhoneWithoutScript(page, 'segment-bulk-confirm-phone');
  await activate(page, 'input[name=confirm] ~ button');
  assert.match(await page.textContent('main'), /Added the tag for 6 supporters/);
  await fitsAPhoneWithoutScript(page, 'segment-bulk-done-phone');

  await activate(page, 'a[href^="/supporters?segment="]');
  const members = await page.textContent('main');
  assert.match(members, /6 supporters in the segment/);
  assert.ok(members.includes('phoning'));
  await fitsAPhoneWithoutScript(page, 'segment-members-phone');

  // The saved segments with their counts, and when those were made.
  await activate(page, 'nav a[href="/segments"]');
  await page.waitForURL('**/segments');
  const saved = await page.textContent('main');
  assert.match(saved, /volunteers/);
  assert.match(saved, /Counted at \d\d:\d\d UTC or later/);
  await fitsAPhoneWithoutScript(page, 'segments-phone');

  await activate(page, 'nav a[href="/tags"]');
  await page.waitForURL('**/tags');
  await typeInto(page, '#from', 'phoning');
  await typeInto(page, '#to', 'appels');
  await activate(page, 'form[action="/tags/rename"] button');
  assert.match(await page.textContent('main'), /Rename the tag phoning to appels for 6 supporters/);
  await fitsAPhoneWithoutScript(page, 'tag-rename-confirm-phone');
  await activate(page, 'form[action="/tags/rename"] button');
  await page.waitForURL('**/tags');
  const tags = await page.textContent('main');
  assert.ok(tags.includes('appels') && !tags.includes('phoning'));
  await fitsAPhoneWithoutScript(page, 'tags-phone');
  assert.deepEqual(problems, []);
  await context.close();

  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  for (const action of ['"segment.save"', '"supporter.tag_bulk"', '"tag.rename"']) assert.ok(q.out.includes(action), action);
  for (const p of PEOPLE) for (const v of p.slice(0, 5)) if (v) assert.ok(!q.out.includes(v), 'no personal data in the log');
});
