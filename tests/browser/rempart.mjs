// Test-only helpers: a fresh rempart instance in a temporary directory and a
// headless Debian Chromium, both on this machine only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const binary = process.env.REMPART_BINARY;
if (!binary) throw new Error('set REMPART_BINARY to the rempart executable');

export function rempart(args, input) {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// With REMPART_BROWSER_BACKEND=postgresql, each instance keeps its records
// in a database of its own on the test cluster of scripts/test
// (REMPART_TEST_PG, REMPART_TEST_PG_PASSWORD_FILE), made here and dropped
// by stop(); otherwise in SQLite files.
const postgres = process.env.REMPART_BROWSER_BACKEND === 'postgresql';

function pgAdmin(args) {
  const dsn = process.env.REMPART_TEST_PG || '';
  const host = /host=(\S+)/.exec(dsn)?.[1];
  const port = /port=(\S+)/.exec(dsn)?.[1];
  const password = readFileSync(process.env.REMPART_TEST_PG_PASSWORD_FILE, 'utf8').split('\n')[0];
  const r = spawnSync(args[0], args.slice(1), {
    encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, PGHOST: host, PGPORT: port, PGUSER: 'postgres', PGPASSWORD: password },
  });
  if (r.status !== 0) throw new Error(`${args[0]} failed: ${r.stderr}`);
  return { host, port };
}

// `configEdit`, if given, rewrites the configuration text before serve
// starts. Alerts go to DIR/alerts.jsonl.
export async function startInstance({ configEdit } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rempart-browser-'));
  const config = join(dir, 'rempart.toml');
  const backend = [];
  let database = null;
  if (postgres) {
    database = 'rempart_browser_' + dir.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '_');
    const { host, port } = pgAdmin(['createdb', '-E', 'UTF8', '-T', 'template0', database]);
    backend.push('--backend', 'postgresql', '--dsn', `host=${host} port=${port} dbname=${database}`,
                 '--admin-user', 'postgres', '--admin-password-file', process.env.REMPART_TEST_PG_PASSWORD_FILE);
  }
  const init = rempart(['init', '--data', join(dir, 'data'), '--keys', join(dir, 'keys'), '--config', config,
                        '--listen', '127.0.0.1:0', '--console-listen', '127.0.0.1:0', ...backend]);
  if (init.code !== 0) throw new Error('init failed: ' + init.err);
  let text = readFileSync(config, 'utf8').replace(/^file = .*$/m, `file = ${JSON.stringify(join(dir, 'alerts.jsonl'))}`);
  if (configEdit) text = configEdit(text);
  writeFileSync(config, text);
  const log = [];
  const proc = spawn(binary, ['serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.setEncoding('utf8');
  const [port, consolePort] = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 30_000);
    proc.stderr.on('data', (chunk) => {
      log.push(chunk);
      const text = log.join('');
      const m = /intake listening on [^ ]*:(\d+)\s/.exec(text);
      const c = /console listening on [^ ]*:(\d+)\s/.exec(text);
      if (m && c) { clearTimeout(timer); resolve([Number(m[1]), Number(c[1])]); }
    });
    proc.on('exit', () => reject(new Error('server exited: ' + log.join(''))));
  });
  return {
    dir, config, port, url: `http://127.0.0.1:${port}`, consoleUrl: `http://127.0.0.1:${consolePort}`,
    log: () => log.join(''),
    async stop() {
      const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      if (database) pgAdmin(['dropdb', '--force', database]);
      return code;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
}

// Waits until `supporters show` finds the person (folding is asynchronous).
export async function waitForSupporter(config, email, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    const r = rempart(['supporters', 'show', '--config', config, '--email', email, '--json']);
    if (r.code === 0) return JSON.parse(r.out);
    last = r;
    await new Promise((res) => setTimeout(res, 150));
  }
  console.error('supporters show gave up:', last?.code, last?.err);
  return null;
}

export function read(path) { return readFileSync(path, 'utf8'); }

// Creates a console account; returns its TOTP secret (base32) from the
// one-time set-up that `admin add` prints.
export function addAccount(config, name, role, password) {
  const r = rempart(['admin', 'add', name, '--role', role, '--password-stdin', '--config', config], password + '\n');
  if (r.code !== 0) throw new Error('admin add failed: ' + r.err);
  const m = /secret=([A-Z2-7]+)/.exec(r.out);
  if (!m) throw new Error('admin add printed no otpauth URI');
  return m[1];
}

// The current TOTP code of `secret`, computed by oathtool (liboath), so the
// test does not re-implement RFC 6238.
export function totp(secret, offsetSteps = 0) {
  const now = new Date(Date.now() + offsetSteps * 30_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const r = spawnSync('oathtool', ['--totp', '-b', '--now', now, secret], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('oathtool failed');
  return r.stdout.trim();
}

// The console's two sign-in steps, as a person types them.
export async function signInAs(page, consoleUrl, name, password, code) {
  await page.goto(consoleUrl + '/login');
  await page.getByLabel('Account name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel(/authenticator/).fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// The page fits a phone `width` px wide, runs no script, labels every
// field, and the browser reported no error (a CSP refusal shows there).
export async function fitsAPhone(page, width, problems = []) {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  if (scroll > width) throw new Error(`the page is wider than a ${width} px phone (scrollWidth ${scroll})`);
  if ((await page.$$eval('script', (s) => s.length)) !== 0) throw new Error('the page holds a script');
  const unlabeled = await page.$$eval('input:not([type=hidden]), select',
    (els) => els.filter((e) => e.labels.length === 0).map((e) => e.name));
  if (unlabeled.length !== 0) throw new Error(`fields without a label: ${unlabeled.join(', ')}`);
  if (problems.length !== 0) throw new Error(`browser errors: ${problems.join('; ')}`);
}

// Imports `rows` (arrays of cells, in the order of `header`) into the
// instance through `rempart supporters import`.
export function importPeople(instance, header, rows) {
  const csv = join(instance.dir, 'people.csv');
  writeFileSync(csv, header + '\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
  const imp = rempart(['supporters', 'import', csv, '--config', instance.config, '--no-progress']);
  if (imp.code !== 0) throw new Error(`import failed: ${imp.err}`);
}

// Stops the instance after checking that its log holds none of `values`
// (the people's data); returns serve's exit code.
export async function stopWithoutPersonalData(instance, values) {
  const log = instance.log();
  for (const v of values) if (v && log.includes(v)) throw new Error('personal data in the log');
  return instance.stop();
}
