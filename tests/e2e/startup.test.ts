// Start-up: each command loads only what it uses (checked on the modules a real process loads, not on a time), and
// the help pages answered without loading yargs are the ones yargs prints.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, tempDir, writeFile } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'regsweep.js');

/** The modules a `regsweep ARGS` process loaded, as paths under node_modules or the package (with its exit code). */
function modulesLoaded(args: string[], cwd: string): { status: number | null; modules: string[]; stderr: string } {
  const log = join(cwd, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', join(FIXTURES, '..', 'fixtures', 'recordModules.mjs'), BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, REGSWEEP_MODULE_LOG: log },
    timeout: 60_000,
  });
  let modules: string[] = [];
  try {
    modules = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } catch {
    // Nothing loaded beyond the entry.
  }
  rmSync(log, { force: true });
  return { status: r.status, modules, stderr: r.stderr };
}

/** The source modules of the bundle's files (dist/cli/*.js), as esbuild's metafile lists them. */
const bundled = new Map(
  Object.entries(JSON.parse(readFileSync(join(ROOT, 'dist', 'cli-modules.json'), 'utf8')) as Record<string, string[]>).map(([file, inputs]) => [join(ROOT, file), inputs]),
);

/** Every module loaded: files loaded directly, and the source modules inside each bundle file loaded. */
const expand = (modules: string[]) => modules.flatMap((m) => [m, ...(bundled.get(m.replace(/^file:\/\//, '')) ?? [])]);

const packagesIn = (modules: string[]) =>
  [...new Set(expand(modules).map((m) => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(m)?.[1]).filter((p): p is string => p !== undefined))].sort();
const sourcesIn = (modules: string[]) => expand(modules).filter((m) => /^dist\/src\//.test(m));

describe('start-up', () => {
  const dir = tempDir('regsweep-startup-');
  const sweep = writeFile(
    dir,
    'one.yaml',
    `name: one
data: {path: ${join(ROOT, 'data', 'diabetes.csv')}, target: progression}
validation: {kind: holdout, fraction: 0.2, seed: 0}
model: {kind: linear}
sweep: {kind: grid, penalty: [l1], lambda: [0.1]}
output: one.db
`,
  );

  it('run loads no chart, PostgreSQL or thread-pool code for a one-trial sweep', () => {
    const r = modulesLoaded(['run', sweep, '--quiet'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const packages = packagesIn(r.modules);
    // The sweep did load what it needs: the proof that the log records CommonJS and ES modules alike.
    expect(packages).toEqual(expect.arrayContaining(['better-sqlite3', 'yaml', 'yargs', 'zod']));
    for (const unwanted of ['vega', 'vega-lite', 'vega-embed', '@resvg/resvg-js', 'pg', 'piscina', 'cli-progress'])
      expect(packages).not.toContain(unwanted);
    const sources = sourcesIn(r.modules);
    expect(sources).toContain('dist/src/pool/coordinator.js');
    for (const unwanted of ['report/', 'store/postgres/', 'model/', 'results/compare']) expect(sources.filter((m) => m.includes(unwanted))).toEqual([]);
  });

  it('query loads neither the sweep runner nor the charts', () => {
    const r = modulesLoaded(['query', join(dir, 'one.db'), '--list'], dir);
    expect(r.status).toBe(0);
    const packages = packagesIn(r.modules);
    expect(packages).toContain('better-sqlite3');
    for (const unwanted of ['vega', 'vega-lite', '@resvg/resvg-js', 'pg', 'piscina', 'papaparse', 'cli-progress']) expect(packages).not.toContain(unwanted);
    for (const unwanted of ['pool/', 'fitting/', 'report/', 'data/']) expect(sourcesIn(r.modules).filter((m) => m.includes(unwanted))).toEqual([]);
  });

  it('report loads the charts (the log would show them)', () => {
    const r = modulesLoaded(['report', join(dir, 'one.db'), '--no-png'], dir);
    expect(r.status).toBe(0);
    expect(packagesIn(r.modules)).toEqual(expect.arrayContaining(['vega', 'vega-lite']));
    expect(sourcesIn(r.modules)).toContain('dist/src/report/write.js');
  });

  it("a command that opens PostgreSQL loads node-postgres without Node's fetch implementation (pg's Cloudflare probe)", () => {
    // Port 1: refused at once; the driver is loaded by then.
    const r = modulesLoaded(['worker', 'postgres://nobody@127.0.0.1:1/none', '--reconnect-timeout', '0.01'], dir);
    expect(r.stderr).toMatch(/connection refused/);
    expect(r.status).toBe(1);
    expect(packagesIn(r.modules)).toContain('pg');
    expect(r.modules.filter((m) => m.startsWith('node:internal/deps/')).length).toBeGreaterThan(0);
    expect(r.modules.filter((m) => /undici/.test(m))).toEqual([]);
  });

  it('--help and --version load no library at all', () => {
    for (const args of [['--help'], ['run', '--help'], ['--version']]) {
      const r = modulesLoaded(args, dir);
      expect(r.status).toBe(0);
      expect(packagesIn(r.modules)).toEqual([]);
    }
  });

  it('the help pages written at build time are what yargs prints', () => {
    const { version, pages } = JSON.parse(readFileSync(join(ROOT, 'dist', 'help.json'), 'utf8')) as { version: string; pages: Record<string, string> };
    expect(Object.keys(pages).sort()).toEqual(['', 'compare', 'export', 'predict', 'query', 'report', 'run', 'serve', 'status', 'worker']);
    const live = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, REGSWEEP_LIVE_HELP: '1' } });
    for (const [command, page] of Object.entries(pages)) {
      const r = live(command ? [command, '--help'] : ['--help']);
      expect(r.status).toBe(0);
      expect(page).toBe(r.stdout);
      const cached = spawnSync(process.execPath, [BIN, ...(command ? [command, '-h'] : ['-h'])], { encoding: 'utf8' });
      expect(cached.stdout).toBe(r.stdout);
    }
    expect(version).toBe(live(['--version']).stdout);
    expect(version.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
});
