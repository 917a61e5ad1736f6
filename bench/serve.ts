// The `serve` workload of `npm run bench`: a finished sweep of 104 000 trials (8 groups × 1 000 λ × 13 fits: 12 folds
// and all rows), opened in Debian's chromium from `regsweep serve`: the server's first state, every chart on screen
// (the server's drawings), every chart live (vega views with their data, taking updates), and from starting the
// server with the page opened at once.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadRow } from './load.js';

const CHROMIUM = '/usr/bin/chromium';

export async function serveWorkload(root: string, rows: LoadRow[], notes: string[]): Promise<void> {
  if (!existsSync(CHROMIUM)) return void rows.push({ workload: 'serve', tool: 'regsweep serve', seconds: null, note: `skipped: ${CHROMIUM} not installed` });
  const dir = join(tmpdir(), `regsweep-bench-serve-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'big.yaml'),
    'name: big\ndata: {synthetic: {kind: regression, n: 300, p: 8, nonzero: 3, seed: 2}}\nvalidation: {kind: kfold, folds: 12, seed: 1}\n' +
      'sweep: {kind: grid, penalty: [l1, l2, elasticnet], lambda: {log_range: [1e-4, 10], num: 1000}, l1_ratio: [0.1, 0.3, 0.5, 0.7, 0.9, 0.95], extend: 0}\nmodel: {kind: linear}\noutput: big.db\n',
  );
  const bin = join(root, 'bin', 'regsweep.js');
  const run = spawnSync(process.execPath, [bin, 'run', join(dir, 'big.yaml'), '--quiet'], { encoding: 'utf8' });
  if (run.status !== 0) return void rows.push({ workload: 'serve', tool: 'regsweep serve', seconds: null, note: `failed: ${run.stderr.trim().split('\n').at(-1)}` });
  const { chromium } = await import('playwright-core');
  const startServer = async () => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [bin, 'serve', join(dir, 'big.db'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve) => child.stdout!.on('data', (d: Buffer) => /at (http:\S+)/.test(String(d)) && resolve(/at (http:\S+)/.exec(String(d))![1])));
    return { child, origin: new URL(url).origin, startedAt };
  };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  const servers: ChildProcess[] = [];
  try {
    // Opened as soon as the server says where it is: the page waits for the state and the drawings.
    const cold: number[] = [];
    for (let k = 0; k < 3; k++) {
      const server = await startServer();
      servers.push(server.child);
      const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await tab.goto(`${server.origin}/sweeps/1`);
      await tab.waitForFunction(() => (window as unknown as { regsweepShownAt?: number }).regsweepShownAt !== undefined);
      const shownAt = await tab.evaluate(() => performance.timeOrigin + (window as unknown as { regsweepShownAt: number }).regsweepShownAt);
      cold.push((shownAt - server.startedAt) / 1000);
      await tab.close();
      server.child.kill();
    }
    const { child, origin } = await startServer();
    servers.push(child);
    const t = performance.now();
    await fetch(`${origin}/api/sweeps/1`);
    const stateSeconds = (performance.now() - t) / 1000;
    // Times from the page's navigation start (its performance.now()).
    const shown: number[] = [];
    const live: number[] = [];
    for (let k = 0; k < 3; k++) {
      const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await tab.goto(`${origin}/sweeps/1`);
      await tab.evaluate(() => (window as unknown as { regsweepCharts: Promise<unknown> }).regsweepCharts);
      const [shownAt, liveAt] = await tab.evaluate(() => [(window as unknown as { regsweepShownAt: number }).regsweepShownAt, (window as unknown as { regsweepLiveAt: number }).regsweepLiveAt]);
      shown.push(shownAt / 1000);
      live.push(liveAt / 1000);
      await tab.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
    rows.push({ workload: 'serve', tool: 'server state, first request', seconds: stateSeconds, note: '104 000 trials, aggregated on the server' });
    rows.push({ workload: 'serve', tool: 'chromium: every chart on screen', seconds: median(shown), note: 'drawn by the server; from navigation start, median of 3' });
    rows.push({ workload: 'serve', tool: 'chromium: every chart live', seconds: median(live), note: 'vega views with tooltips and updates; median of 3' });
    rows.push({ workload: 'serve', tool: 'serve started → every chart on screen', seconds: median(cold), note: 'page opened as soon as the URL is printed; median of 3' });
    notes.push(
      `serve: a finished sweep of 104 000 trials — every chart on screen ${median(shown).toFixed(2)} s, every chart live ${median(live).toFixed(2)} s after navigation (target: opens under 2 s); ${median(cold).toFixed(2)} s from starting the server`,
    );
  } finally {
    for (const server of servers) server.kill();
    await browser.close();
  }
}
