// A phone-banking evening in a real Chromium: an organiser makes a call
// list from a segment and gives it to a volunteer; the volunteer, on a
// phone-sized screen (390 px) and with the keyboard only, calls more people
// than the hourly phone reveal budget allows, each name and phone shown
// together, one at a time, and records how each call went. Screenshots are
// kept for people to look at.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, fitsAPhone, importPeople, launchBrowser, rempart, signInAs, startInstance,
  stopWithoutPersonalData, totp } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const PHONE = { width: 390, height: 844 };
const GIVEN = ['Maëlys', 'Baptiste', 'Inès', 'Timothée', 'Léonie', 'Corentin', 'Solène', 'Gaspard', 'Apolline',
  'Évariste', 'Clémence', 'Anatole'];
const PEOPLE = GIVEN.map((g, i) => [g, 'Appel-' + String.fromCharCode(65 + i), `appel.${i}@exemple.org`,
  `+331990004${String(i).padStart(2, '0')}`, '35000', 'phonebank']);
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
let organiser;
let caller;

before(async () => {
  instance = await startInstance();
  importPeople(instance, 'given_name,family_name,email,phone,postal_code,tags', PEOPLE);
  organiser = addAccount(instance.config, 'morgane', 'organiser', PASSWORD);
  caller = addAccount(instance.config, 'lucas', 'viewer', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) {
    assert.equal(await stopWithoutPersonalData(instance, PEOPLE.flatMap((p) => p.slice(0, 4))), 0,
      'serve exits 0 on SIGTERM');
  }
});

async function keep(page, name, problems) {
  await fitsAPhone(page, PHONE.width, problems);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, `${name}.png`), await page.screenshot({ fullPage: true }));
}

// Focus by keyboard: Tab until `selector` has focus (at most 80 presses).
async function tabTo(page, selector) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function activate(page, selector) {
  await tabTo(page, selector);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

test('an organiser makes a call list and a volunteer calls through it on a phone', async () => {
  const problems = [];
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
  };

  const desk = await browser.newContext({ viewport: PHONE, isMobile: true });
  const op = await desk.newPage();
  watch(op);
  await signInAs(op, instance.consoleUrl, 'morgane', PASSWORD, totp(organiser));
  await op.waitForURL('**/supporters', { timeout: 30_000 });
  await op.goto(instance.consoleUrl + '/segments/new');
  await op.fill('#name', 'phonebank');
  await op.fill('#tags_all', 'phonebank');
  await op.click('button[value=save]');
  await op.waitForURL('**/segments/phonebank');

  await op.goto(instance.consoleUrl + '/calls');
  assert.match(await op.textContent('main'), /You have no call list/);
  await op.fill('#name', 'mardi-soir');
  await op.selectOption('#segment', 'phonebank');
  await op.check('input[name=caller][value=lucas]');
  await op.fill('#script', 'Bonjour, je vous appelle pour la réunion de samedi.\nPouvez-vous venir ?');
  await keep(op, 'calls-new-phone', problems);
  await op.click('form[action="/calls"] button');
  await op.waitForURL('**/calls/mardi-soir');
  const made = await op.textContent('main');
  assert.match(made, new RegExp(`0 of ${PEOPLE.length} done`));
  for (const p of PEOPLE) for (const v of p.slice(0, 4)) assert.ok(!made.includes(v), 'the list page shows nobody');
  await keep(op, 'call-list-phone', problems);

  const field = await browser.newContext({ viewport: PHONE, isMobile: true });
  const page = await field.newPage();
  watch(page);
  await page.goto(instance.consoleUrl + '/login');
  await page.waitForFunction(() => document.activeElement?.id === 'name', null, { timeout: 10_000 });
  await page.keyboard.type('lucas');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByLabel(/authenticator/).fill(totp(caller));
  await page.keyboard.press('Enter');
  await page.waitForURL('**/supporters', { timeout: 30_000 });
  await activate(page, 'nav a[href="/calls"]');
  assert.match(await page.textContent('main'), new RegExp(`0 of ${PEOPLE.length} done`));
  await keep(page, 'calls-mine-phone', problems);
  await activate(page, 'form[action="/calls/mardi-soir/next"] button');

  const seen = new Set();
  for (let i = 0; i < PEOPLE.length; i++) {
    const name = await page.textContent('.callee-name');
    const person = PEOPLE.find((p) => name === `${p[0]} ${p[1]}`);
    assert.ok(person, `a whole name is shown (${i})`);
    assert.ok(!seen.has(name), 'nobody twice');
    seen.add(name);
    assert.equal(await page.getAttribute('a.callee-phone', 'href'), `tel:${person[3]}`);
    assert.match(await page.textContent('a.callee-phone'), /^\+33 1 99 00 04 \d\d$/);
    assert.match(await page.textContent('main'), /Pouvez-vous venir/);
    if (i === 0) await keep(page, 'call-person-phone', problems);
    // The outcome by keyboard: Space checks the first radio ("Talked with
    // them"), an arrow moves to and checks the next ("Will come").
    await tabTo(page, 'input[name=outcome]');
    await page.keyboard.press(i % 2 ? 'ArrowDown' : 'Space');
    await tabTo(page, '#text');
    await page.keyboard.type(i % 3 ? '' : 'Rappeler après 19 h');
    if (i === PEOPLE.length - 1) {
      await activate(page, 'button[value=stop]');
    } else {
      await activate(page, 'button[value=next]');
      assert.match(await page.textContent('main'), /Saved\./);
    }
  }
  assert.equal(seen.size, PEOPLE.length);
  const mine = await page.textContent('main');
  assert.match(mine, /Saved\./);
  assert.doesNotMatch(mine, /Continue calling|Start calling/);
  assert.match(mine, new RegExp(`${PEOPLE.length} of ${PEOPLE.length} done`));
  await keep(page, 'calls-done-phone', problems);

  await op.goto(instance.consoleUrl + '/calls/mardi-soir');
  const progress = await op.textContent('main');
  assert.match(progress, new RegExp(`${PEOPLE.length} of ${PEOPLE.length} done`));
  assert.match(progress, new RegExp(`Talked with them\\s*${PEOPLE.length / 2}`));
  assert.match(progress, new RegExp(`Will come \\(RSVP\\)\\s*${PEOPLE.length / 2}`));
  await keep(op, 'call-list-done-phone', problems);
  assert.deepEqual(problems, []);
  await desk.close();
  await field.close();

  // Every opening audited as the call list's, nobody locked.
  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  const entries = q.out.trim().split('\n').map((l) => JSON.parse(l));
  const reveals = entries.filter((e) => e.action === 'supporter.reveal');
  assert.equal(reveals.length, PEOPLE.length);
  for (const e of reveals) assert.equal(e.details.by, 'call_list');
  assert.equal(entries.filter((e) => e.action === 'call.outcome').length, PEOPLE.length);
  assert.equal(entries.filter((e) => e.action === 'guard.lock').length, 0);
});
