// The public sign-up page in a real Chromium: accessible, no CSP violation,
// works with and without JavaScript, never reflects what was typed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, launchBrowser, rempart, signInAs, startInstance, totp, waitForSupporter } from './rempart.mjs';

const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;

before(async () => {
  instance = await startInstance();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) assert.equal(await instance.stop(), 0, 'serve exits 0 on SIGTERM');
});

async function openPage(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

test('every field has a label, an autocomplete hint and the page loads cleanly', async () => {
  const { context, page, problems } = await openPage();
  const res = await page.goto(instance.url + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
  assert.equal(await page.getAttribute('html', 'lang') !== null, true);
  const fields = await page.$$eval('input:not([type=hidden]):not([type=checkbox])', (inputs) =>
    inputs.map((i) => ({ name: i.name, labels: i.labels.length, autocomplete: i.getAttribute('autocomplete') })));
  assert.ok(fields.length >= 6, 'the form has its fields');
  for (const f of fields) {
    assert.equal(f.labels, 1, `${f.name} has one label`);
    assert.ok(f.autocomplete, `${f.name} has an autocomplete hint`);
  }
  const boxes = await page.$$eval('input[type=checkbox]', (inputs) => inputs.map((i) => ({ labels: i.labels.length,
                                                                                          checked: i.checked })));
  assert.ok(boxes.length >= 2);
  for (const b of boxes) {
    assert.equal(b.labels, 1);
    assert.equal(b.checked, false, 'consent is never pre-ticked');
  }
  // The stylesheet is served and applied under the CSP.
  const font = await page.$eval('body', (b) => getComputedStyle(b).fontFamily);
  assert.ok(font.length > 0);
  assert.deepEqual(problems, [], 'no console error, no CSP violation');
  await context.close();
});

test('a person signs up through the page and is folded into a record', async () => {
  const { context, page, problems } = await openPage();
  await page.goto(instance.url + '/');
  await page.getByLabel('First name').fill('Philippine');
  await page.getByLabel('Last name').fill('Aubrac-Ventoux');
  await page.getByLabel('E-mail address').fill('philippine.aubrac@example.org');
  await page.getByLabel('Phone number').fill('03 53 20 77 88');
  await page.getByLabel('Postcode').fill('67000');
  await page.locator('input[name=consent_email]').check();
  await Promise.all([page.waitForURL('**/thanks'), page.locator('form button[type=submit], form input[type=submit]').first().click()]);
  assert.match(await page.textContent('body'), /thank/i);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, 'signup-thanks.png'), await page.screenshot({ fullPage: true }));
  assert.deepEqual(problems, []);
  await context.close();

  const person = await waitForSupporter(instance.config, 'philippine.aubrac@example.org');
  assert.ok(person, 'the sign-up was folded');
  assert.equal(person.given_name, 'Philippine');
  assert.equal(person.family_name, 'Aubrac-Ventoux');
  assert.equal(person.phone, '+33353207788');
  assert.equal(person.consent.email, true);
  assert.equal(person.consent.sms, false);
});

// A campaign link's utm_* and the page's own hidden source reach the
// record's history, sealed, and an organiser reads them on the record page
// (on a phone); the sign-up page never wrote a byte of them.
test('where a sign-up came from reaches the record page', async () => {
  const { context, page, problems } = await openPage();
  const res = await page.goto(instance.url + '/?utm_source=lettre&utm_campaign=rentr%C3%A9e-2026&other=zz');
  assert.equal((await res.text()).includes('rentr'), false, 'the page does not write its query');
  await page.getByLabel('First name').fill('Capucine');
  await page.getByLabel('Last name').fill('Rivesaltes');
  await page.getByLabel('E-mail address').fill('capucine.rivesaltes@example.org');
  await Promise.all([page.waitForURL('**/thanks'), page.locator('form button[type=submit]').first().click()]);
  assert.deepEqual(problems, []);
  await context.close();
  assert.ok(await waitForSupporter(instance.config, 'capucine.rivesaltes@example.org'), instance.log());

  const password = 'Garrigue-Tramontane-Onze-4';
  const secret = addAccount(instance.config, 'solene', 'organiser', password);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const console = await phone.newPage();
  await signInAs(console, instance.consoleUrl, 'solene', password, totp(secret));
  await console.waitForURL('**/supporters');
  await console.getByRole('link', { name: 'C. R.' }).click();
  await console.waitForURL(/\/supporters\/[0-9a-f]{32}$/);
  const entry = console.locator('ul.notes li', { hasText: 'Signed up from' });
  assert.equal(await entry.count(), 1);
  const text = await entry.textContent();
  assert.match(text, /utm_source=lettre/);
  assert.match(text, /utm_campaign=rentrée-2026/);
  assert.equal(text.includes('other='), false, 'an undeclared name is not kept');
  writeFileSync(join(screenshots, 'signup-source-on-record.png'), await console.screenshot({ fullPage: true }));
  await phone.close();
});

test('without JavaScript the form works the same', async () => {
  const { context, page } = await openPage({ javaScriptEnabled: false });
  await page.goto(instance.url + '/');
  await page.getByLabel('E-mail address').fill('sans.script@example.net');
  await Promise.all([page.waitForURL('**/thanks'), page.locator('form button[type=submit], form input[type=submit]').first().click()]);
  await context.close();
  assert.ok(await waitForSupporter(instance.config, 'sans.script@example.net'), instance.log());
});

test('errors are announced per field and the typed values are not reflected', async () => {
  const { context, page } = await openPage();
  await page.goto(instance.url + '/');
  const marker = 'Zorglub<b>xss</b>';
  await page.getByLabel('First name').fill(marker);
  await page.getByLabel('E-mail address').fill('not-an-address@@example');
  await page.locator('form button[type=submit], form input[type=submit]').first().click();
  await page.waitForLoadState();
  const email = page.getByLabel('E-mail address');
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  const described = await email.getAttribute('aria-describedby');
  assert.ok(described, 'the error is tied to the field');
  assert.ok((await page.textContent('#' + described.split(' ')[0])).trim().length > 0);
  const html = await page.content();
  assert.equal(html.includes('Zorglub'), false, 'the page does not reflect input');
  assert.equal(html.includes('not-an-address'), false);
  await context.close();
});

test('another site\'s page cannot sign its visitors up', async () => {
  const { context, page } = await openPage();
  // A page of another origin (here about:blank) carrying a form that posts
  // to the sign-up route, as a hostile site would.
  await page.setContent(`<form method="post" action="${instance.url}/signup">
    <input name="email" value="cible.involontaire@example.org"><input name="consent_email" value="on">
    <button type="submit">Win a prize</button></form>`);
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button')]);
  assert.equal(res.status(), 403);
  assert.match(await page.textContent('body'), /sent from another website, so nothing was kept/);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, 'signup-cross-site-refused.png'), await page.screenshot({ fullPage: true }));
  await context.close();

  // A sign-up from the page itself, made after it, is folded; the other never is.
  const own = await openPage();
  await own.page.goto(instance.url + '/');
  await own.page.getByLabel('E-mail address').fill('apres.refus@example.org');
  await Promise.all([own.page.waitForURL('**/thanks'), own.page.locator('form button[type=submit]').first().click()]);
  await own.context.close();
  assert.ok(await waitForSupporter(instance.config, 'apres.refus@example.org'), instance.log());
  const r = rempart(['supporters', 'show', '--config', instance.config, '--email', 'cible.involontaire@example.org',
                     '--json']);
  assert.notEqual(r.code, 0, 'the cross-site sign-up was not kept');
});
