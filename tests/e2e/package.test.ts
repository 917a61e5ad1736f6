// The package as a user gets it: `npm pack`, installed into an empty folder, runs a sweep and writes its report.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';

const npm = (args: string[], cwd: string) =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });

describe('npm pack, installed elsewhere', () => {
  it('installs from the tarball and runs `regsweep run`, `query` and `report` from there', { timeout: 900_000 }, () => {
    const dir = tempDir('regsweep-pack-');
    const pack = npm(['pack', '--pack-destination', dir], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    // What the package holds: the built code and the native kernel's source, no tests, no benchmark, no build output
    // of this machine.
    const listing = spawnSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' }).stdout.split('\n');
    expect(listing).toEqual(expect.arrayContaining(['package/dist/src/cli.js', 'package/dist/cli/cli.js', 'package/dist/help.json', 'package/bin/package.json', 'package/dist/workers/piscinaEntry.js', 'package/dist/workers/csvChunk.js', 'package/native/gram.c', 'package/LICENSE', 'package/bin/regsweep.js', 'package/sweeps/quickstart.yaml', 'package/src/model/templates/model.py', 'package/src/model/templates/model.R']));
    expect(listing.filter((f) => /^package\/(tests|bench|dist\/bench|dist\/native)\//.test(f))).toEqual([]);

    const consumer = join(dir, 'consumer');
    spawnSync('mkdir', ['-p', consumer]);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, allowScripts: { 'better-sqlite3': true, regsweep: true } }));
    const install = npm(['install', join(dir, tarball), '--prefer-offline'], consumer);
    expect(install.status, install.stderr.slice(-2000)).toBe(0);

    writeFileSync(join(consumer, 'small.yaml'), 'name: small\ndata: {synthetic: {kind: regression, n: 200, p: 20, nonzero: 4, seed: 1}}\nvalidation: {kind: kfold, folds: 3}\nsweep: {kind: grid, penalty: [l1, l2], lambda: {auto: 15}}\n');
    const regsweep = (args: string[]) => spawnSync(join(consumer, 'node_modules', '.bin', 'regsweep'), args, { cwd: consumer, encoding: 'utf8', timeout: 300_000 });
    expect(regsweep(['--version']).stdout.trim()).toBe('0.1.0');
    const run = regsweep(['run', 'small.yaml', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(consumer, 'results', 'small.db'))).toBe(true);
    expect(regsweep(['query', 'results/small.db', '--best']).stdout).toMatch(/^l1\s/m);
    const report = regsweep(['report', 'results/small.db', '--no-png']);
    expect(report.status, report.stderr).toBe(0);
    expect(existsSync(join(consumer, 'results', 'small-report', 'report.html'))).toBe(true);
    // The generated scripts come from the template files the package ships.
    for (const format of ['sklearn', 'glmnet']) {
      const script = regsweep(['export', 'results/small.db', '--model', '--format', format]);
      expect(script.status, script.stderr).toBe(0);
      expect(script.stdout).toMatch(format === 'sklearn' ? /^FEATURES = \["x1", /m : /^features <- c\("x1", /m);
    }
  });
});
