// `regsweep serve` in Debian's chromium: a page that follows a running sweep without reloading, through a restart of
// the server, that loads nothing from outside the server, and a server on a non-local address that wants its token.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startServe, stopChild, tempDir, writeFile } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM) || process.env.CI === 'true';

const stop = stopChild;

const trialsInDatabase = (db: string) => {
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.prepare('SELECT count(*) AS c FROM trials').get() as { c: number }).c;
  } finally {
    conn.close();
  }
};

const progressOf = (tab: Page) =>
  tab.$eval('#progress', (el) => ({ done: Number(el.getAttribute('data-trials-done')), total: Number(el.getAttribute('data-trials-total')) }));
const marksOf = (tab: Page) => tab.$$eval('.chart svg .role-mark > *', (els) => els.length);

describe.runIf(haveBrowser)('regsweep serve, live in a real browser', () => {
  let browser: Browser;
  const dir = tempDir('regsweep-serve-');
  let run: ChildProcess | undefined;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  });
  afterAll(async () => {
    await stop(run);
    await stop(server);
    await browser?.close();
  });

  it('follows a running sweep: trials and marks grow without a reload; after a server restart the page reconnects and ends with every trial', { timeout: 180_000 }, async () => {
    // 60 paths of 90 λ on one worker thread, task by task over several seconds; the best λ lies below the grid, so
    // run then extends it (twice, a decade each): new λ, new marks, a larger total, all while the page is open.
    writeFile(
      dir,
      'live.yaml',
      `name: live
data: {synthetic: {kind: regression, n: 8000, p: 600, nonzero: 60, rho: 0.6, snr: 2, seed: 4}}
validation: {kind: kfold, folds: 19, seed: 1}
sweep: {kind: grid, penalty: [l1, elasticnet, l2], lambda: {log_range: [0.5, 50], num: 90}, l1_ratio: [0.5], extend: 2}
model: {kind: linear, tol: 1e-9}
workers: 1
output: live.db
`,
    );
    run = spawn(process.execPath, [BIN, 'run', 'live.yaml', '--quiet'], { cwd: dir, stdio: 'ignore' });
    const db = join(dir, 'live.db');
    // The file exists before its tables do: a read that finds none yet waits like one that finds no trials.
    const recorded = () => {
      try {
        return existsSync(db) && trialsInDatabase(db) > 0;
      } catch {
        return false;
      }
    };
    for (let k = 0; k < 200 && !recorded(); k++) await new Promise((r) => setTimeout(r, 50));
    const first = await startServe(['live.db', '--port', '0'], dir);
    server = first.child;
    const origin = new URL(first.url).origin;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on('request', (r) => requests.push(r.url()));
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.on('console', (m) => m.type() === 'error' && !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text()) && errors.push(m.text()));
    await tab.goto(`${origin}/`);
    await tab.click('a[href="sweeps/1"]');
    // The progress as the page was served (the sweep goes on while the charts are made live).
    await tab.waitForSelector('#progress');
    const start = await progressOf(tab);
    await tab.waitForFunction(() => (window as unknown as { regsweepCharts?: Promise<unknown> }).regsweepCharts !== undefined);
    await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts);
    const startMarks = await marksOf(tab);
    expect(start.total).toBe(3 * 90 * 20);
    expect(start.done).toBeLessThan(start.total);

    // Without a reload: the count and the charts' marks grow.
    await tab.waitForFunction((done) => Number(document.getElementById('progress')!.getAttribute('data-trials-done')) > done, start.done, { timeout: 60_000 });
    await tab.waitForFunction((marks) => document.querySelectorAll('.chart svg .role-mark > *').length > marks, startMarks, { timeout: 90_000 });
    const updates = await tab.evaluate(() => (window as unknown as { regsweepUpdates?: number }).regsweepUpdates ?? 0);
    expect(updates).toBeGreaterThan(0);
    // Charts whose spec stays the same got their new rows by a vega changeset, not by drawing them again.
    expect(await tab.evaluate(() => (window as unknown as { regsweepChangesets?: number }).regsweepChangesets ?? 0)).toBeGreaterThan(0);
    expect(await tab.$eval('#running', (el) => el.textContent)).toMatch(/task .*fold/);

    // The server goes away mid-sweep and comes back on the same port: the page reconnects by itself.
    await stop(server);
    const before = await progressOf(tab);
    await new Promise((r) => setTimeout(r, 1500));
    server = (await startServe(['live.db', '--port', new URL(origin).port], dir)).child;
    await new Promise<void>((resolve) => (run!.exitCode !== null ? resolve() : run!.once('exit', () => resolve())));
    expect(run.exitCode).toBe(0);
    const final = trialsInDatabase(db);
    await tab.waitForFunction((n) => Number(document.getElementById('progress')!.getAttribute('data-trials-done')) === n && /done/.test(document.getElementById('status')!.textContent ?? ''), final, {
      timeout: 60_000,
    });
    expect(final).toBeGreaterThan(start.total);
    expect((await progressOf(tab)).total).toBe(final);
    expect((await progressOf(tab)).done).toBeGreaterThan(before.done);
    expect(await tab.$eval('#running', (el) => el.textContent)).toBe('none');

    // Nothing was asked of any other host.
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(requests.some((u) => u.endsWith('/static/vega-lite.min.js'))).toBe(true);
    expect(errors).toEqual([]);
    await tab.close();
    // The next test starts a server of its own: this one would outlive the run.
    await stop(server);
  });

  it('before the first validation fold completes the page says when validation curves appear, and shows the rate, the time left and the claimed tasks', { timeout: 120_000 }, async () => {
    // The fits on all rows are planned first: each path here takes seconds on one thread, so there is a moment when
    // they are recorded and no validation fold is. The run is held there (SIGSTOP) while the page is read, then let go.
    writeFile(
      dir,
      'early.yaml',
      `name: early
data: {synthetic: {kind: classification, n: 6000, p: 200, nonzero: 20, seed: 4}}
validation: {kind: kfold, folds: 4, seed: 1}
sweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 60, ratio: 1e-3}, extend: 0}
model: {kind: logistic, tol: 1e-8}
workers: 1
output: early.db
`,
    );
    const db = join(dir, 'early.db');
    const counts = () => {
      try {
        const conn = new Database(db, { readonly: true });
        try {
          return conn.prepare("SELECT sum(fold = 'all') AS whole, sum(fold <> 'all') AS folds FROM trials").get() as { whole: number | null; folds: number | null };
        } finally {
          conn.close();
        }
      } catch {
        return { whole: null, folds: null };
      }
    };
    run = spawn(process.execPath, [BIN, 'run', 'early.yaml', '--quiet'], { cwd: dir, stdio: 'ignore' });
    for (let k = 0; k < 1200 && !(counts().whole ?? 0); k++) await new Promise((r) => setTimeout(r, 25));
    run.kill('SIGSTOP');
    try {
      expect(counts().whole).toBeGreaterThan(0);
      expect(counts().folds ?? 0).toBe(0);
      const served = await startServe(['early.db', '--port', '0'], dir);
      server = served.child;
      const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await tab.goto(`${new URL(served.url).origin}/sweeps/1`);
      // As served (no script run yet) and once the page's own updates have come.
      for (const stage of ['served', 'live']) {
        if (stage === 'live') {
          await tab.waitForFunction(() => (window as unknown as { regsweepCharts?: Promise<unknown> }).regsweepCharts !== undefined);
          await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts);
        }
        const caption = await tab.$eval('#section-fit .caption', (el) => el.textContent ?? '');
        expect(caption, stage).toMatch(/validation curves \(mean ± se over 4 folds\) appear when the first validation fold completes/);
        expect(caption, stage).not.toMatch(/validation kind none|no held-out data/);
        expect(await tab.$eval('#section-fit .guide', (el) => el.textContent ?? ''), stage).not.toMatch(/There is no validation curve here/);
        expect(await tab.$eval('#progress', (el) => el.textContent ?? ''), stage).toMatch(/^\d+ of 600 trials · [\d.]+ trials\/s · about \d+ (s|min) left$/);
        const running = await tab.$$eval('#running li', (els) => els.map((el) => el.textContent ?? ''));
        expect(running.length, stage).toBeGreaterThan(0);
        expect(running[0], stage).toMatch(/^task \S+: l[12], fold (all|\d)/);
      }
      await tab.close();
    } finally {
      run.kill('SIGCONT');
    }
    await new Promise<void>((resolve) => (run!.exitCode !== null ? resolve() : run!.once('exit', () => resolve())));
    expect(run.exitCode).toBe(0);
    await stop(server);
  });

  it("a sweep's page arrives with every chart drawn; the live views that replace the drawings draw the same marks", { timeout: 60_000 }, async () => {
    const { child, url } = await startServe(['live.db', '--port', '0'], dir);
    try {
      // Per chart: its marks, and the size of its drawing (the same text measure on both sides gives the same layout).
      const marksPerChart = (tab: Page) =>
        tab.$$eval('.chart', (els) =>
          els.map((el) => [el.getAttribute('data-chart'), el.querySelectorAll('svg .role-mark > *').length, el.querySelector('svg')?.getAttribute('width'), el.querySelector('svg')?.getAttribute('height')]),
        );
      // Without JavaScript: what the server sent.
      const still = await browser.newContext({ javaScriptEnabled: false });
      const served = await still.newPage();
      await served.goto(`${url}sweeps/1`);
      const drawn = await marksPerChart(served);
      await still.close();
      expect(drawn.map(([id]) => id)).toEqual(['fit', 'sparsity', 'paths', 'l1-vs-l2', 'l1-ratio-lambda']);
      for (const [id, marks] of drawn) expect(marks, String(id)).toBeGreaterThan(0);
      const tab = await browser.newPage();
      await tab.goto(`${url}sweeps/1`);
      await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts);
      expect(await marksPerChart(tab)).toEqual(drawn);
      // One drawing per chart: each was replaced, not added to.
      expect(await tab.$$eval('.chart', (els) => els.map((el) => el.querySelectorAll('svg.marks').length))).toEqual(drawn.map(() => 1));
      await tab.close();
    } finally {
      await stop(child);
    }
  });

  it('on a non-local address every request needs the token (401 without); only its own routes, GET only', async () => {
    const { child, url } = await startServe(['live.db', '--host', '0.0.0.0', '--port', '0'], dir);
    try {
      const token = new URL(url).searchParams.get('token');
      expect(token).toMatch(/^[0-9a-f]{32}$/);
      const port = new URL(url).port;
      const at = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);
      expect((await at('/')).status).toBe(401);
      expect((await at('/sweeps/1/events')).status).toBe(401);
      expect((await at('/static/vega.min.js')).status).toBe(401);
      expect((await at(`/?token=${'0'.repeat(32)}`)).status).toBe(401);
      const page = await at(`/?token=${token}`);
      expect(page.status).toBe(200);
      const cookie = page.headers.get('set-cookie')!.split(';')[0];
      expect((await at('/api/sweeps', { headers: { cookie } })).status).toBe(200);
      expect((await at('/api/sweeps', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      for (const path of ['/static/../package.json', '/static/vega.js', '/package.json', '/live.db', '/sweeps/99', '/%2e%2e/live.db'])
        expect((await at(path, { headers: { cookie } })).status, path).toBe(404);
      expect((await at('/api/sweeps', { method: 'POST', headers: { cookie } })).status).toBe(405);
    } finally {
      await stop(child);
    }
  });

  it('a port in use is named, exit 1', async () => {
    const { child, url } = await startServe(['live.db', '--port', '0'], dir);
    try {
      const r = spawnSync(process.execPath, [BIN, 'serve', 'live.db', '--port', new URL(url).port], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`regsweep: --port ${new URL(url).port}: in use by another process; choose another with --port\n`);
    } finally {
      await stop(child);
    }
  });
});
