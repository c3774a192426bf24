// How a new account comes to be, in a real Chromium, as people do it: one
// admin asks for it in the console, a second admin approves with a fresh
// authenticator code, and the newcomer opens the single-use link, chooses a
// password, scans their own authenticator set-up and signs in. The admins
// never see the newcomer's secret. Screenshots are kept for people to look
// at, one of them on a phone-sized screen.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAccount, launchBrowser, rempart, startInstance, totp, signInAs } from './rempart.mjs';

const PASSWORD = 'Ardoise-Mistral-Quarante-7';
const NEWCOMER_PASSWORD = 'Galet-Brume-Sept-Lanternes';
const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');

let instance;
let browser;
const secrets = {};

before(async () => {
  // Approvers are usually admins of a day's standing; this instance waives
  // the wait so two admins made now can show the whole flow.
  instance = await startInstance({
    configEdit: (text) => text.replace(/approver_cooling_hours = \d+/, 'approver_cooling_hours = 0'),
  });
  secrets.alice = addAccount(instance.config, 'alice', 'admin', PASSWORD);
  secrets.bruno = addAccount(instance.config, 'bruno', 'admin', PASSWORD);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) assert.equal(await instance.stop(), 0, 'serve exits 0 on SIGTERM');
});

// Both steps of the console's sign-in, as a person types them.
const signIn = (page, name, password, code) => signInAs(page, instance.consoleUrl, name, password, code);

async function noScriptAndEveryFieldLabelled(page) {
  const unlabeled = await page.$$eval('input:not([type=hidden]), select',
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.name));
  assert.deepEqual(unlabeled, []);
  assert.equal(await page.$$eval('script', (s) => s.length), 0);
}

test('an admin asks, another approves, the newcomer enrols and signs in', async () => {
  mkdirSync(screenshots, { recursive: true });
  // 1. Alice asks for the account.
  const a = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const pa = await a.newPage();
  await signIn(pa, 'alice', PASSWORD, totp(secrets.alice));
  await pa.waitForURL('**/accounts', { timeout: 30_000 });
  await pa.getByLabel('Account name (a-z, 0-9, . _ -)').fill('dominique');
  await pa.locator('#new-role').selectOption('organiser');
  await pa.locator('#code-new').fill(totp(secrets.alice, 1));
  await pa.getByRole('button', { name: 'Request the account' }).click();
  const filed = await pa.textContent('main');
  assert.match(filed, /waiting for another admin/);
  const link = /^https?:\/\/[^\s]+\/enrol\?code=(rmpe_[A-Za-z0-9_-]+)$/.exec(await pa.locator('code.secret').textContent());
  assert.ok(link, 'the enrolment link is shown to the requester');
  assert.ok(!/otpauth|rmpx1_/.test(await pa.content()), 'no secret of the newcomer is shown to the requester');
  await noScriptAndEveryFieldLabelled(pa);
  writeFileSync(join(screenshots, 'console-request-filed.png'), await pa.screenshot({ fullPage: true }));
  await a.close();

  // 2. The link does nothing before approval.
  const early = await browser.newContext();
  const pe = await early.newPage();
  const before = await pe.goto(instance.consoleUrl + '/enrol?code=' + link[1]);
  assert.equal(before.status(), 404);
  assert.match(await pe.textContent('main'), /not valid/);
  await early.close();

  // 3. Bruno approves on the Requests page with a fresh code.
  const b = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const pb = await b.newPage();
  await signIn(pb, 'bruno', PASSWORD, totp(secrets.bruno));
  await pb.waitForURL('**/accounts', { timeout: 30_000 });
  await pb.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
  assert.match(await pb.textContent('main'), /new account.*dominique/s);
  writeFileSync(join(screenshots, 'console-requests.png'), await pb.screenshot({ fullPage: true }));
  await pb.getByLabel('A new code from your authenticator app').first().fill(totp(secrets.bruno, 1));
  await pb.getByRole('button', { name: 'Approve' }).first().click();
  await pb.waitForURL('**/requests?done=approved');
  assert.match(await pb.textContent('main'), /approved by bruno/);
  // The accounts page as an admin sees it on a phone.
  await pb.setViewportSize({ width: 375, height: 740 });
  await pb.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
  assert.match(await pb.textContent('main'), /dominique.*waiting for its owner to enrol/s);
  await pb.locator('details').first().locator('summary').click();
  writeFileSync(join(screenshots, 'console-accounts-phone.png'), await pb.screenshot({ fullPage: true }));
  await noScriptAndEveryFieldLabelled(pb);
  await b.close();

  // 4. Dominique enrols, on a phone.
  const d = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
  const pd = await d.newPage();
  await pd.goto(instance.consoleUrl + '/enrol?code=' + link[1]);
  assert.match(await pd.textContent('main'), /dominique/);
  await noScriptAndEveryFieldLabelled(pd);
  await pd.getByLabel('Password', { exact: true }).fill(NEWCOMER_PASSWORD);
  await pd.getByLabel('Same password again').fill(NEWCOMER_PASSWORD);
  await pd.getByRole('button', { name: 'Continue' }).click();
  const setup = await pd.textContent('main');
  const uri = /^otpauth:\/\/totp\/[^\s]+secret=([A-Z2-7]+)&/.exec(await pd.locator('code.secret').first().textContent());
  assert.ok(uri, 'the newcomer sees their own authenticator set-up');
  assert.match(setup, /rmpx1_/);
  assert.equal(await pd.locator('svg.qr').count(), 1);
  const width = await pd.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the set-up page fits a phone (scrollWidth ${width})`);
  writeFileSync(join(screenshots, 'enrol-setup-phone.png'), await pd.screenshot({ fullPage: true }));
  await noScriptAndEveryFieldLabelled(pd);
  await pd.getByLabel('The code your authenticator app shows now').fill(totp(uri[1]));
  await pd.getByRole('button', { name: 'Finish set-up' }).click();
  await pd.waitForURL('**/login?enrolled=1');
  assert.match(await pd.textContent('main'), /Your account is ready/);

  // 5. And signs in with what only they know.
  await signIn(pd, 'dominique', NEWCOMER_PASSWORD, totp(uri[1], 1));
  await pd.waitForURL('**/supporters', { timeout: 30_000 });
  await d.close();

  // The link is spent; the audit log tells the story without a secret.
  const again = await browser.newContext();
  const pg = await again.newPage();
  assert.equal((await pg.goto(instance.consoleUrl + '/enrol?code=' + link[1])).status(), 404);
  await again.close();
  const q = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(q.code, 0, q.err);
  for (const act of ['privilege.request', 'privilege.approve', 'account.create', 'account.enrol', 'account.enrolled']) {
    assert.ok(q.out.includes(`"${act}"`), act + ' is in the audit log');
  }
  assert.ok(!q.out.includes(uri[1]) && !q.out.includes(link[1]) && !q.out.includes(NEWCOMER_PASSWORD));
  const alerts = readFileSync(join(instance.dir, 'alerts.jsonl'), 'utf8');
  assert.match(alerts, /privilege_request/);
  assert.match(alerts, /privilege_approved/);
});
