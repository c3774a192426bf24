// Double opt-in as a person lives it, in a real Chromium against a real
// SMTP server (tests/support/smtp_server.py, aiosmtpd): sign up, receive the
// confirmation mail, open its link (nothing happens yet), press the button,
// receive the welcome mail with the anti-phishing phrase and the consent
// receipt, then unsubscribe in one click as a mail client does (RFC 8058).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitsAPhone, launchBrowser, rempart, startInstance, stopWithoutPersonalData, waitForSupporter } from './rempart.mjs';

const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');
const here = dirname(fileURLToPath(import.meta.url));
const python = '/usr/bin/python3';  // Debian's, with python3-aiosmtpd

let smtp;  // { url, dir, stop }
let instance;
let browser;

// The test SMTP server: the one scripts/test started for this stage, or one
// of our own.
async function startSmtp() {
  if (process.env.REMPART_TEST_SMTP_URL && process.env.REMPART_TEST_SMTP_DIR) {
    return { url: process.env.REMPART_TEST_SMTP_URL, dir: process.env.REMPART_TEST_SMTP_DIR, stop: async () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rempart-smtp-'));
  const proc = spawn(python, [join(here, '..', 'support', 'smtp_server.py'), '--dir', join(dir, 'received'),
                              '--exit-with-stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP server did not start')), 15_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.once('data', (line) => { clearTimeout(timer); resolve(Number(line.trim())); });
    proc.on('exit', () => reject(new Error('the SMTP server exited')));
  });
  return {
    url: `smtp://127.0.0.1:${port}`, dir: join(dir, 'received'),
    async stop() {
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The messages to `to` received so far, decoded by Python's email package
// (a real MIME parser): [{subject, text, html, headers}].
function mailsTo(to) {
  const out = [];
  for (const name of readdirSync(smtp.dir)) {
    if (name.startsWith('.')) continue;
    const raw = readFileSync(join(smtp.dir, name), 'latin1');
    if (!raw.split('\r\n\r\n')[0].includes(`X-Envelope-To: ${to}\r\n`)) continue;
    const r = spawnSync(python, ['-c', `
import email, json, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
body = lambda t: (m.get_body(preferencelist=(t,)) or {}).get_content() if m.get_body(preferencelist=(t,)) else ''
files = {a.get_filename(): a.get_content() for a in m.iter_attachments()}
files = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in files.items()}
print(json.dumps({'subject': str(m['subject']), 'text': body('plain'), 'html': body('html'),
                  'headers': {k.lower(): str(v) for k, v in m.items()}, 'files': files}))
`, join(smtp.dir, name)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    out.push(JSON.parse(r.stdout));
  }
  return out;
}

async function waitForMail(to, count, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = mailsTo(to);
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) throw new Error(`no mail ${count} for the test address: ${instance.log()}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

before(async () => {
  smtp = await startSmtp();
  const port = await freePort();
  instance = await startInstance({
    configEdit: (text) => text.replace(/^listen = "127\.0\.0\.1:0"$/m, `listen = "127.0.0.1:${port}"`) + `
[mail]
smtp_url = "${smtp.url}"
require_tls = false
from = "nouvelles@mouvement.example"
organisation = "Mouvement Écologie Démo"
links_base = "http://127.0.0.1:${port}"
`,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) {
    const people = ['camille.double', 'Camille', 'alix.export', 'bao.erase', 'Alix', 'Bao'];
    assert.equal(await stopWithoutPersonalData(instance, people), 0);
  }
  await smtp?.stop();
});

test('sign up, confirm by the mailed link, welcome with the phrase, unsubscribe in one click', async () => {
  const to = `camille.double.${process.pid}@example.org`;
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(instance.url + '/');
  await page.getByLabel('First name').fill('Camille');
  await page.getByLabel('E-mail address').fill(to);
  await page.locator('input[name=consent_email]').check();
  await Promise.all([page.waitForURL('**/thanks'), page.locator('form button[type=submit]').click()]);
  const thanks = await page.textContent('main');
  assert.match(thanks, /we are sending you a message to confirm it/);
  assert.match(thanks, /anti-phishing phrase/);
  mkdirSync(screenshots, { recursive: true });
  writeFileSync(join(screenshots, 'mail-thanks.png'), await page.screenshot({ fullPage: true }));

  // The confirmation mail.
  const [confirmation] = await waitForMail(to, 1);
  assert.equal(confirmation.subject, 'Please confirm your subscription to Mouvement Écologie Démo');
  assert.match(confirmation.text, /^Hello Camille,/);
  assert.equal(confirmation.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  const confirmLink = /http:\/\/127\.0\.0\.1:\d+\/confirm\?t=[A-Za-z0-9_-]{43}/.exec(confirmation.text)?.[0];
  assert.ok(confirmLink, confirmation.text);
  assert.ok(confirmation.html.includes(`<a href="${confirmLink}">`), 'the HTML part links it too');
  writeFileSync(join(screenshots, 'mail-confirmation.txt'), confirmation.text);

  // Opening the link (as a mail scanner would) confirms nothing.
  await page.goto(confirmLink);
  assert.equal(await page.textContent('h1'), 'Confirm your subscription');
  assert.equal((await page.content()).includes(confirmLink.split('t=')[1]), false, 'the token is not in the page');
  writeFileSync(join(screenshots, 'mail-confirm-page.png'), await page.screenshot({ fullPage: true }));
  await new Promise((res) => setTimeout(res, 2500));
  assert.equal(mailsTo(to).length, 1, 'no welcome mail before the button');

  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Confirm my subscription' }).click()]);
  await page.waitForSelector('text=your subscription is now confirmed');
  writeFileSync(join(screenshots, 'mail-confirmed.png'), await page.screenshot({ fullPage: true }));

  const welcome = (await waitForMail(to, 2)).find((m) => m.subject.startsWith('Welcome'));
  assert.ok(welcome);
  assert.match(welcome.text, /Your personal anti-phishing phrase is: [a-z]+ [a-z]+ [a-z]+ [a-z]+/);
  assert.match(welcome.text, /E-mail: agreed on .* through the sign-up form, to the words “I agree to receive news by e-mail\.”/);
  assert.match(welcome.text, /E-mail: confirmed on .* through the link in our e-mail/);
  writeFileSync(join(screenshots, 'mail-welcome.txt'), welcome.text);

  // Confirming again with the same link: the same page, nothing more sent.
  await page.goto(confirmLink);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Confirm my subscription' }).click()]);
  await page.waitForSelector('text=your subscription is now confirmed');

  // RFC 8058: the mail client POSTs to the List-Unsubscribe address.
  const unsubscribe = /<(http:[^>]+)>/.exec(welcome.headers['list-unsubscribe'])[1];
  const res = await fetch(unsubscribe, { method: 'POST', body: 'List-Unsubscribe=One-Click',
                                         headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(res.status, 200);
  const deadline = Date.now() + 15_000;
  let person;
  do {
    person = await waitForSupporter(instance.config, to);
    if (person && !person.consent.email) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  assert.equal(person.consent.email, false, 'the one-click unsubscribe withdrew the consent');
  assert.equal(mailsTo(to).length, 2, 'two mails in all');

  // Opened in a browser, the unsubscribe link shows a button and changes nothing.
  await page.goto(unsubscribe);
  assert.equal(await page.textContent('h1'), 'Unsubscribe');
  writeFileSync(join(screenshots, 'mail-unsubscribe-page.png'), await page.screenshot({ fullPage: true }));
  assert.deepEqual(problems, []);
  await context.close();

  const audit = rempart(['audit', 'query', '--config', instance.config, '--format', 'jsonl']);
  assert.equal(audit.code, 0, audit.err);
  const actions = audit.out.trim().split('\n').map((l) => JSON.parse(l).action);
  for (const action of ['supporter.mail', 'supporter.confirm', 'link.refused', 'supporter.unsubscribe']) {
    assert.ok(actions.includes(action), action);
  }
  assert.equal(actions.filter((a) => a === 'supporter.mail').length, 2, 'one opening per mail sent');
  assert.equal(audit.out.includes(to), false, 'the audit log names records, not addresses');
});

// The person's own rights, through their mailbox: ask for a link on the
// site, receive what is held, erase it; an import of an old list then
// leaves them out, and their own sign-up brings them back.
test('self-service: a link by mail, my data by mail, erase me', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  const alix = `alix.export.${process.pid}@example.org`;
  const bao = `bao.erase.${process.pid}@example.org`;
  for (const [name, address] of [['Alix', alix], ['Bao', bao]]) {
    await page.goto(instance.url + '/');
    await page.getByLabel('First name').fill(name);
    await page.getByLabel('E-mail address').fill(address);
    await Promise.all([page.waitForURL('**/thanks'), page.locator('form button[type=submit]').click()]);
    assert.ok(await waitForSupporter(instance.config, address), instance.log());
  }
  assert.match(await page.textContent('main'), /Your data/);

  async function askForLink(address) {
    await page.goto(instance.url + '/manage');
    await page.getByLabel('E-mail address').fill(address.toUpperCase());
    await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Send me a link' }).click()]);
    await page.waitForSelector('text=If this address is in our records');
    const [mail] = (await waitForMail(address, 1)).filter((m) => m.subject.startsWith('Your data at'));
    const link = /http:\/\/127\.0\.0\.1:\d+\/manage\?t=[A-Za-z0-9_-]{43}/.exec(mail.text)?.[0];
    assert.ok(link, mail.text);
    return link;
  }

  // Alix: the same answer for an unknown address, then the data by mail.
  await page.goto(instance.url + '/manage');
  writeFileSync(join(screenshots, 'manage-ask.png'), await page.screenshot({ fullPage: true }));
  await page.getByLabel('E-mail address').fill('personne.inconnue@example.net');
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Send me a link' }).click()]);
  const unknownAnswer = await page.textContent('main');
  writeFileSync(join(screenshots, 'manage-sent.png'), await page.screenshot({ fullPage: true }));
  const alixLink = await askForLink(alix);
  assert.equal(await page.textContent('main'), unknownAnswer, 'the same answer, known or not');
  await page.goto(alixLink);
  await fitsAPhone(page, 390, problems);
  assert.equal((await page.content()).includes(alixLink.split('t=')[1]), false, 'the token is not in the page');
  assert.equal((await page.content()).includes(alix), false, 'nothing held is shown');
  writeFileSync(join(screenshots, 'manage-options.png'), await page.screenshot({ fullPage: true }));
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Send me my data' }).click()]);
  await page.waitForSelector('text=is on its way to your e-mail address');
  const data = (await waitForMail(alix, 2)).find((m) => m.subject.includes('holds about you'));
  assert.ok(data);
  assert.match(data.text, /First name: Alix/);
  const copy = JSON.parse(data.files['my-data.json']);
  assert.equal(copy.record.email, alix);
  assert.equal(copy.record.given_name, 'Alix');
  writeFileSync(join(screenshots, 'manage-data.txt'), data.text);

  // Bao: erase, confirmed by the ticked box.
  const baoLink = await askForLink(bao);
  await page.goto(baoLink);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Erase me' }).click()]);
  // The browser itself holds the form back until the box is ticked.
  assert.equal(page.url(), baoLink);
  await page.getByLabel('I understand that my data will be erased for good.').check();
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Erase me' }).click()]);
  await page.waitForSelector('text=your data is erased');
  writeFileSync(join(screenshots, 'manage-erased.png'), await page.screenshot({ fullPage: true }));
  const deadline = Date.now() + 15_000;
  let gone = false;
  while (!gone && Date.now() < deadline) {
    gone = rempart(['supporters', 'show', '--config', instance.config, '--email', bao, '--json']).code !== 0;
    if (!gone) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(gone, 'the record is erased');

  // An import of an old list leaves Bao out; Bao's own sign-up brings them back.
  writeFileSync(join(instance.dir, 'old.csv'), `email,first_name\n${bao},Bao\n`);
  const again = rempart(['supporters', 'import', join(instance.dir, 'old.csv'), '--config', instance.config,
                         '--no-progress']);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /1 left out: people who asked to be erased/);
  assert.notEqual(rempart(['supporters', 'show', '--config', instance.config, '--email', bao, '--json']).code, 0);
  await page.goto(instance.url + '/');
  await page.getByLabel('E-mail address').fill(bao);
  await Promise.all([page.waitForURL('**/thanks'), page.locator('form button[type=submit]').click()]);
  assert.ok(await waitForSupporter(instance.config, bao), 'a sign-up of their own brings them back');
  assert.deepEqual(problems, []);
  await context.close();
});
