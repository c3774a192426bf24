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
import { addAccount, fitsAPhone, launchBrowser, rempart, signInAs, startInstance, stopWithoutPersonalData, totp,
         waitForSupporter } from './rempart.mjs';

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
    configEdit: (text) => text.replace(/^listen = "127\.0\.0\.1:0"$/m, `listen = "127.0.0.1:${port}"`)
      .replace(/^rate_per_minute = .*$/m, 'rate_per_minute = 6000').replace(/^burst = .*$/m, 'burst = 1000')
      .replace(/^approval_above = .*$/m, 'approval_above = 1') + `
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
    const people = ['camille.double', 'Camille', 'alix.export', 'bao.erase', 'Alix', 'Bao', 'dominique.mailing',
                    'eden.mailing', 'fanny.mailing', 'Dominique', 'Eden', 'Fanny'];
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

// Blind outreach (docs/mailings.md) on a phone-sized screen: an organiser
// builds a segment, writes a mailing, previews it, draws its recipients
// (only the confirmed ones), a second person approves it with a fresh
// code, it is sent; each confirmed member receives it once with their
// phrase and a one-click unsubscribe, the unconfirmed one nothing, and no
// page shows an address or a name.
test('a mailing written, approved by a second person and sent to the confirmed members only', async () => {
  const names = ['Dominique', 'Eden', 'Fanny'];
  const people = ['dominique.mailing', 'eden.mailing', 'fanny.mailing'].map((n) => `${n}.${process.pid}@example.org`);
  for (const [i, to] of people.entries()) {
    const body = new URLSearchParams({ given_name: names[i], email: to, consent_email: 'on', tag: 'rentree' });
    const res = await fetch(instance.url + '/signup', { method: 'POST', body, redirect: 'manual' });
    assert.equal(res.status, 303);
  }
  for (const to of people.slice(0, 2)) {  // Fanny never confirms
    const [confirmation] = await waitForMail(to, 1);
    const link = /http:\/\/127\.0\.0\.1:\d+\/confirm\?t=[A-Za-z0-9_-]{43}/.exec(confirmation.text)[0];
    assert.equal((await fetch(link, { method: 'POST' })).status, 200);
  }
  const phrases = [];
  for (const to of people.slice(0, 2)) {
    const welcome = (await waitForMail(to, 2)).find((m) => m.subject.startsWith('Welcome'));
    phrases.push(/anti-phishing phrase is: ([a-z]+ [a-z]+ [a-z]+ [a-z]+)/.exec(welcome.text)[1]);
  }

  const PASSWORD = 'Lavande-Sirocco-Trente-9';
  const alice = addAccount(instance.config, 'alice', 'organiser', PASSWORD);
  const bruno = addAccount(instance.config, 'bruno', 'admin', PASSWORD);
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true };
  mkdirSync(screenshots, { recursive: true });
  const pages = [];  // every page's HTML, searched for addresses and names at the end
  const keep = async (page, shot) => {
    pages.push(await page.content());
    await fitsAPhone(page, 390);
    if (shot) writeFileSync(join(screenshots, shot), await page.screenshot({ fullPage: true }));
  };

  const a = await (await browser.newContext(phone)).newPage();
  await signInAs(a, instance.consoleUrl, 'alice', PASSWORD, totp(alice));
  await a.waitForURL('**/supporters');
  await a.goto(instance.consoleUrl + '/segments/new');
  await a.locator('#name').fill('rentree');
  await a.locator('#tags_all').fill('rentree');
  await Promise.all([a.waitForURL('**/segments/rentree'), a.locator('button[value=save]').click()]);

  await a.getByRole('link', { name: 'Mailings' }).click();
  await a.waitForURL('**/mailings');
  await a.getByRole('link', { name: 'Write a mailing' }).click();
  await a.waitForURL('**/mailings/new');
  await a.getByLabel('Name').fill('Rentrée 2026');
  await a.getByLabel('Subject').fill('Des nouvelles pour {{given_name}}');
  await a.getByLabel('Text').fill('Bonjour {{given_name}},\n\nOn se retrouve samedi à 10 h, place du marché.');
  await a.getByRole('button', { name: 'Preview' }).click();
  await a.waitForSelector('#preview-h');
  const preview = await a.textContent('main');
  assert.match(preview, /Des nouvelles pour Camille/);
  assert.match(preview, /Bonjour Camille,/);
  assert.match(preview, /To receive no more e-mail from Mouvement Écologie Démo/);
  await keep(a, 'mailing-preview-phone.png');
  await Promise.all([a.waitForURL(/\/mailings\/\d+\?done=saved$/), a.getByRole('button', { name: 'Save the draft' }).click()]);
  const mailing = /\/mailings\/(\d+)/.exec(a.url())[1];
  await Promise.all([a.waitForURL(/done=drawn$/), a.getByRole('button', { name: 'Draw the recipients' }).click()]);
  const drawn = await a.textContent('main');
  assert.match(drawn, /2 recipients: more than 1, so a second person approves it/);
  assert.match(drawn, /Waiting for someone else's approval/);
  assert.match(drawn, /set your test address on your account page/);
  await keep(a, 'mailing-drawn-phone.png');

  // A test to Alice's own address, kept on her account.
  const aliceMailbox = `alice.${process.pid}@example.org`;
  await a.getByRole('link', { name: 'your account page' }).click();
  await a.waitForURL('**/account#test-address');
  await a.getByLabel('E-mail address (empty: none)').fill(aliceMailbox);
  await Promise.all([a.waitForURL(/done=test_address$/), a.getByRole('button', { name: 'Save' }).click()]);
  assert.match(await a.textContent('main'), /Test address saved/);
  await keep(a, 'account-test-address-phone.png');
  await a.goto(`${instance.consoleUrl}/mailings/${mailing}`);
  assert.match(await a.textContent('main'), new RegExp(`to your test address ${aliceMailbox.replace(/\./g, '\\.')}`));
  await Promise.all([a.waitForURL(/done=tested$/), a.getByRole('button', { name: 'Send me a test' }).click()]);
  assert.match(await a.textContent('main'), /A test was sent to your test address/);
  await keep(a, 'mailing-tested-phone.png');
  const [test] = await waitForMail(aliceMailbox, 1);
  assert.equal(test.subject, '[Test] Des nouvelles pour Camille');
  assert.match(test.text, /^Bonjour Camille,/);

  const b = await (await browser.newContext(phone)).newPage();
  await signInAs(b, instance.consoleUrl, 'bruno', PASSWORD, totp(bruno));
  await b.waitForURL('**/accounts');
  await b.goto(`${instance.consoleUrl}/mailings/${mailing}`);
  await b.getByLabel('A new code from your authenticator app').fill(totp(bruno, 1));
  await Promise.all([b.waitForURL(/done=approved$/), b.getByRole('button', { name: 'Approve' }).click()]);
  await keep(b, 'mailing-approved-phone.png');

  await a.goto(`${instance.consoleUrl}/mailings/${mailing}`);
  await Promise.all([a.waitForURL(/done=started$/), a.getByRole('button', { name: 'Start sending' }).click()]);
  const deadline = Date.now() + 20_000;
  for (;;) {
    await a.reload();
    const text = await a.textContent('main');
    if (/State\s*sent/.test(text)) break;
    if (Date.now() > deadline) throw new Error('the mailing was not sent: ' + text);
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.match(await a.textContent('.progress'), /Sent\s*2/);
  await keep(a, 'mailing-sent-phone.png');

  for (const [i, to] of people.slice(0, 2).entries()) {
    const got = mailsTo(to).filter((m) => m.subject.startsWith('Des nouvelles'));
    assert.equal(got.length, 1, 'once each');
    assert.equal(got[0].subject, `Des nouvelles pour ${names[i]}`);
    assert.match(got[0].text, new RegExp(`^Bonjour ${names[i]},`));
    assert.ok(got[0].text.includes(`Your anti-phishing phrase: ${phrases[i]}`), got[0].text);
    assert.equal(got[0].headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    assert.equal(/<img|tracking|utm_/.test(got[0].html), false, 'nothing that tracks');
  }
  assert.equal(mailsTo(people[2]).filter((m) => m.subject.startsWith('Des nouvelles')).length, 0, 'unconfirmed: none');

  // One click from the first mail's header withdraws that consent.
  const first = mailsTo(people[0]).find((m) => m.subject.startsWith('Des nouvelles'));
  const unsubscribe = /<(http:[^>]+)>/.exec(first.headers['list-unsubscribe'])[1];
  const res = await fetch(unsubscribe, { method: 'POST', body: 'List-Unsubscribe=One-Click',
                                         headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(res.status, 200);
  const until = Date.now() + 15_000;
  let person;
  do {
    person = await waitForSupporter(instance.config, people[0]);
    if (person && !person.consent.email) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < until);
  assert.equal(person.consent.email, false);
  await a.reload();
  assert.match(await a.textContent('main'), /Unsubscribed\s*1/);
  await keep(a, 'mailing-after-phone.png');

  for (const html of pages) {
    for (const v of [...people, ...names.filter((n) => n !== 'Camille')]) {
      assert.equal(html.includes(v), false, `a console page holds ${v}`);
    }
  }
  const shown = rempart(['mailing', 'show', mailing, '--config', instance.config]);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /progress: {4}2 sent, 0 waiting, 0 in flight, 0 refused by the relay, 0 no longer mailable/);
});
