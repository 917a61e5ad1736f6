// What `regsweep serve` lets across its boundary (issue 34, cases 2–4): no non-local server without a strong token, no
// answer to a Host it does not listen as (DNS rebinding), and no stale data from a database deleted, replaced or
// overwritten under it — the page and its event stream say so, in a real browser.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServe, stopChild, tempDir, writeFile } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const dir = tempDir('regsweep-serve-bounds-');
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env });

const serveHere = (args: string[]) => startServe(args, dir);
const stop = (child: ChildProcess) => stopChild(child);

/** A GET to 127.0.0.1:port with the Host header a browser would send for `host` (fetch cannot set it). */
function get(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sweepFile = (name: string) =>
  `name: ${name}\ndata: {synthetic: {kind: regression, n: 300, p: 10, nonzero: 3, seed: ${name.length}}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 12}}\nworkers: 1\n`;

beforeAll(() => {
  for (const name of ['served', 'other-sweep']) {
    writeFile(dir, `${name}.yaml`, sweepFile(name));
    const r = cli(['run', `${name}.yaml`, '--out', `${name}.db`, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
  }
}, 120_000);

describe('the token', () => {
  it.each([
    [['--host', '0.0.0.0', '--token', ''], /^regsweep: --token: empty; a token needs at least 22 \(128 random bits/],
    [['--host', '0.0.0.0', '--token', 'x'], /^regsweep: --token: 1 character; a token needs at least 22/],
    [['--host', '127.0.0.1', '--token', 'abcdefghijklmnopqrstu'], /^regsweep: --token: 21 characters; a token needs at least 22/],
    [['--host', '0.0.0.0', '--token', 'a b;c=d e f g h i j k l m n'], /^regsweep: --token: use letters, digits/],
  ])('serve %j is refused: one line, exit 2', (args, said) => {
    const r = cli(['serve', 'served.db', '--port', '0', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(said);
  });

  it('--token "$UNSET" (an empty value from the shell) does not turn authentication off', () => {
    const r = spawnSync('bash', ['-c', `unset REGSWEEP_NO_SUCH_TOKEN; "${process.execPath}" "${BIN}" serve served.db --port 0 --host 0.0.0.0 --token "$REGSWEEP_NO_SUCH_TOKEN"`], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--token: empty/);
  });

  it('a generated token has 128 random bits; a given one of 22 characters is the one every request needs', async () => {
    const generated = await serveHere(['served.db', '--host', '0.0.0.0', '--port', '0']);
    try {
      expect(new URL(generated.url).searchParams.get('token')).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await stop(generated.child);
    }
    const token = 'Zx8_q-3vTyL0pWmK2sRaNb';
    const given = await serveHere(['served.db', '--host', '0.0.0.0', '--port', '0', '--token', token]);
    try {
      const port = Number(new URL(given.url).port);
      expect((await get(port, '/api/sweeps', `127.0.0.1:${port}`)).status).toBe(401);
      expect((await get(port, '/api/sweeps', `127.0.0.1:${port}`, { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await get(port, '/api/sweeps', `127.0.0.1:${port}`, { authorization: `Bearer ${token.slice(0, -1)}X` })).status).toBe(401);
    } finally {
      await stop(given.child);
    }
  });
});

describe('the Host header (DNS rebinding)', () => {
  it('a local server answers only as localhost, 127.0.0.1 and [::1]: 421 for any other name, before anything is read', async () => {
    const { child, url } = await serveHere(['served.db', '--port', '0']);
    try {
      const port = Number(new URL(url).port);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1']) {
        const r = await get(port, '/api/sweeps', host);
        expect(r.status, host).toBe(200);
        expect(JSON.parse(r.body)[0].name).toBe('served');
      }
      for (const host of [`attacker.example:${port}`, 'attacker.example', `127.0.0.1.attacker.example:${port}`, `localhost.:${port}`, `${hostname()}:${port}`]) {
        for (const path of ['/', '/api/sweeps', '/sweeps/1', '/sweeps/1/events', '/static/vega.min.js']) {
          const r = await get(port, path, host);
          expect(r.status, `${host} ${path}`).toBe(421);
          expect(r.body).not.toMatch(/served|trial/);
        }
      }
    } finally {
      await stop(child);
    }
  });

  it('a server on all addresses answers as this machine (its addresses and name) and as --allow-host names; not as others, token or not', async () => {
    const token = 'Zx8_q-3vTyL0pWmK2sRaNb';
    const { child, url } = await serveHere(['served.db', '--host', '0.0.0.0', '--port', '0', '--token', token, '--allow-host', 'sweeps.lab.example']);
    try {
      const port = Number(new URL(url).port);
      const auth = { authorization: `Bearer ${token}` };
      for (const host of [`127.0.0.1:${port}`, `${hostname()}:${port}`, `sweeps.lab.example:${port}`, `0.0.0.0:${port}`]) expect((await get(port, '/api/sweeps', host, auth)).status, host).toBe(200);
      const other = await get(port, '/api/sweeps', `attacker.example:${port}`, auth);
      expect(other.status).toBe(421);
      expect(other.body).toMatch(/--allow-host NAME/);
    } finally {
      await stop(child);
    }
  });
});

describe.runIf(existsSync(CHROMIUM) || process.env.CI === 'true')('a database deleted, replaced or overwritten while served', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each([
    ['deleted', (db: string) => rmSync(db), /the database file was deleted after it was opened/],
    ['replaced by another file', (db: string) => (copyFileSync(join(dir, 'other-sweep.db'), `${db}.new`), renameSync(`${db}.new`, db)), /the database file was replaced by another file after it was opened/],
    ['overwritten in place', (db: string) => copyFileSync(join(dir, 'other-sweep.db'), db), /the database was overwritten while it was served \(sweep 1 is another sweep now\)|database disk image is malformed/],
  ] as const)('%s: the open page and its event stream say so and stop; new requests get 410 with the reason', { timeout: 60_000 }, async (what, change, said) => {
    const db = join(dir, `served-${what.split(' ')[0]}.db`);
    copyFileSync(join(dir, 'served.db'), db);
    const { child, url } = await serveHere([db, '--port', '0']);
    try {
      const tab = await browser.newPage();
      await tab.goto(`${url}sweeps/1`);
      await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts);
      expect(await tab.textContent('#status')).toBe('(done)');
      change(db);
      await tab.waitForFunction(() => document.getElementById('connection')!.className === 'gone', undefined, { timeout: 20_000 });
      const message = (await tab.textContent('#connection'))!;
      expect(message).toMatch(said);
      expect(message).toMatch(/restart regsweep serve to read the database as it is now \(the page shows the sweep as it was\)$/);
      expect(await tab.textContent('#status')).toBe('(no longer served)');
      // The charts the page had stay on screen.
      expect(await tab.$$eval('.chart svg', (els) => els.length)).toBeGreaterThan(0);
      const port = Number(new URL(url).port);
      const page = await get(port, '/sweeps/1', `127.0.0.1:${port}`);
      expect(page.status).toBe(410);
      expect(page.body).toMatch(said);
      expect(page.body).not.toMatch(/other-sweep/);
      const api = await get(port, '/api/sweeps', `127.0.0.1:${port}`);
      expect(api.status).toBe(410);
      expect(JSON.parse(api.body).error).toMatch(said);
      const events = await get(port, '/sweeps/1/events', `127.0.0.1:${port}`);
      expect(events.body).toMatch(/^event: gone\ndata: \{"message":/);
      await tab.close();
    } finally {
      await stop(child);
    }
  });
});
