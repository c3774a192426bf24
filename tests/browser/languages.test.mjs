// French and English: the sign-up page, its thank-you page and the console
// follow the browser's language (Accept-Language) and a visible switch;
// dates, numbers and country names follow the language. Screenshots of
// each language on a phone are kept in the artifacts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAccount, fitsAPhone, launchBrowser, rempart, signInAs, startInstance, totp, waitForSupporter } from './rempart.mjs';

const screenshots = process.env.REMPART_ARTIFACTS || join(process.cwd(), 'artifacts');
const phone = { width: 390, height: 844 };

let instance;
let browser;

// The organisation's own look: a logo beside the config and its colour.
const logoDir = mkdtempSync(join(tmpdir(), 'rempart-logo-'));
writeFileSync(join(logoDir, 'logo.svg'),
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 60"><rect width="240" height="60" rx="8" fill="#5b2a86"/>' +
  '<text x="120" y="39" font-family="sans-serif" font-size="24" fill="#fff" text-anchor="middle">Mouvement Démo</text></svg>');

before(async () => {
  instance = await startInstance({
    configEdit: (t) => t.replace(/^organisation = ""(.*)$/m, 'organisation = "Mouvement Démo"$1')
      .replace(/^colour = ""(.*)$/m, 'colour = "#5b2a86"$1')
      .replace(/^logo = ""(.*)$/m, `logo = ${JSON.stringify(join(logoDir, 'logo.svg'))}$1`),
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (instance) assert.equal(await instance.stop(), 0, 'serve exits 0 on SIGTERM');
  rmSync(logoDir, { recursive: true, force: true });
});

async function openPage(options = {}) {
  const context = await browser.newContext({ viewport: phone, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

test('a French browser gets the French page, signs up with a country chosen by its French name', async () => {
  const { context, page, problems } = await openPage({ locale: 'fr-FR' });
  await page.goto(instance.url + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.textContent('h1'), 'S’inscrire – Mouvement Démo');
  assert.equal(await page.title(), 'S’inscrire – Mouvement Démo');
  // E-mail first: the first field a person meets is their address.
  assert.equal(await page.$eval('form input:not([type=hidden]), form select', (e) => e.name), 'email');
  // The country list is in French, sorted the French way.
  const names = await page.$$eval('#country option', (os) => os.map((o) => o.textContent));
  assert.ok(names.includes('Allemagne') && names.includes('Royaume-Uni'), 'country names in French');
  assert.ok(names.indexOf('Égypte') < names.indexOf('Espagne') && names.indexOf('Espagne') < names.indexOf('Estonie'),
            'accented names sorted in place');
  // The organisation's logo, loaded under the CSP, named by its text, and
  // its colour on the button.
  const logo = await page.$eval('header.site img', (i) => ({ alt: i.alt, loaded: i.complete && i.naturalWidth > 0 }));
  assert.deepEqual(logo, { alt: 'Mouvement Démo', loaded: true });
  assert.equal(await page.$eval('button[type=submit]', (b) => getComputedStyle(b).backgroundColor), 'rgb(91, 42, 134)');
  await page.getByLabel('Adresse e-mail').fill('gaspard.fr@example.org');
  await page.getByLabel('Prénom').fill('Gaspard');
  await page.getByLabel('Pays').selectOption({ label: 'Allemagne' });
  await page.getByLabel('J’accepte de recevoir des nouvelles par e-mail.').check();
  await fitsAPhone(page, phone.width, problems);
  await page.screenshot({ path: join(screenshots, 'signup-fr-phone.png'), fullPage: true });
  await page.getByRole('button', { name: 'S’inscrire' }).click();
  await page.waitForURL(/\/thanks/);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.textContent('h1'), 'Merci');
  assert.match(await page.textContent('main'), /Nous avons bien reçu votre inscription/);
  await page.screenshot({ path: join(screenshots, 'thanks-fr-phone.png'), fullPage: true });
  const record = await waitForSupporter(instance.config, 'gaspard.fr@example.org');
  assert.ok(record, 'the sign-up was folded');
  assert.equal(record.country, 'DE', 'the code of the country chosen by name');
  assert.deepEqual(problems, []);
  await context.close();
});

test('an English browser gets English, and the switch turns the page French and keeps it so', async () => {
  const { context, page, problems } = await openPage({ locale: 'en-GB' });
  await page.goto(instance.url + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'Sign up – Mouvement Démo');
  const names = await page.$$eval('#country option', (os) => os.map((o) => o.textContent));
  assert.ok(names.includes('Germany') && !names.includes('Allemagne'));
  await fitsAPhone(page, phone.width, problems);
  await page.screenshot({ path: join(screenshots, 'signup-en-phone.png'), fullPage: true });
  await page.getByRole('link', { name: 'Français' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.textContent('h1'), 'S’inscrire – Mouvement Démo');
  // The choice holds through the sign-up to the thank-you page.
  await page.getByLabel('Adresse e-mail').fill('switch.fr@example.org');
  await page.getByRole('button', { name: 'S’inscrire' }).click();
  await page.waitForURL(/\/thanks\?lang=fr/);
  assert.equal(await page.textContent('h1'), 'Merci');
  await page.getByRole('link', { name: 'English' }).click();
  assert.equal(await page.textContent('h1'), 'Thank you');
  await page.screenshot({ path: join(screenshots, 'thanks-en-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('the console in French: the switch, the sign-in page and the list, with French dates', async () => {
  const secret = addAccount(instance.config, 'camille', 'organiser', 'tilleul-ardoise-2026');
  const { context, page, problems } = await openPage({ locale: 'fr-FR' });
  await page.goto(instance.consoleUrl + '/login');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.doesNotMatch(await page.textContent('main'), /Account name|Password/);
  await page.screenshot({ path: join(screenshots, 'console-login-fr-phone.png'), fullPage: true });
  // The English switch on the sign-in page, then signing in in English.
  await page.getByRole('link', { name: 'English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await signInAs(page, instance.consoleUrl, 'camille', 'tilleul-ardoise-2026', totp(secret));
  await page.goto(instance.consoleUrl + '/supporters');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('main'), /\d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d UTC/, 'an English date');
  await page.screenshot({ path: join(screenshots, 'console-list-en-phone.png'), fullPage: true });
  // The switch back to French, on the page it was used on.
  await page.getByRole('link', { name: 'Français' }).click();
  await page.waitForURL(/\/supporters$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  const main = await page.textContent('main');
  assert.match(main, /\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? 20\d\d, \d\d:\d\d UTC/,
               'a French date');
  assert.doesNotMatch(main, /Values are masked/);
  await fitsAPhone(page, phone.width, problems);
  await page.screenshot({ path: join(screenshots, 'console-list-fr-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});
