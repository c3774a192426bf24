// Test-only helpers: a fresh rempart instance in a temporary directory and a
// headless Debian Chromium, both on this machine only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const binary = process.env.REMPART_BINARY;
if (!binary) throw new Error('set REMPART_BINARY to the rempart executable');

export function rempart(args) {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export async function startInstance() {
  const dir = mkdtempSync(join(tmpdir(), 'rempart-browser-'));
  const config = join(dir, 'rempart.toml');
  const init = rempart(['init', '--data', join(dir, 'data'), '--keys', join(dir, 'keys'), '--config', config,
                        '--listen', '127.0.0.1:0']);
  if (init.code !== 0) throw new Error('init failed: ' + init.err);
  const log = [];
  const proc = spawn(binary, ['serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.setEncoding('utf8');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 30_000);
    proc.stderr.on('data', (chunk) => {
      log.push(chunk);
      const m = /intake listening on [^ ]*:(\d+)/.exec(log.join(''));
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', () => reject(new Error('server exited: ' + log.join(''))));
  });
  return {
    dir, config, port, url: `http://127.0.0.1:${port}`,
    log: () => log.join(''),
    async stop() {
      const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
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
