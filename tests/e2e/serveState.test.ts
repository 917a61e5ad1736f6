// The live server keeps a sweep's trials between states and reads only the newer ones: what it keeps must always be
// what a full read of the store gives, while a sweep writes, after a task's trials are deleted, and after a task is
// run again (new ids, same keys).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { liveState, ProgressClock, TrialCache } from '../../src/serve/state.js';
import { openStore } from '../../src/store/open.js';
import { ROOT, tempDir, writeFile } from '../helpers.js';

describe('the live server’s trials, read by increments', () => {
  it('equal a full read of the store while a sweep writes, after trials are deleted and after a task is run again', { timeout: 120_000 }, async () => {
    const dir = tempDir('regsweep-serve-state-');
    writeFile(
      dir,
      'grow.yaml',
      `name: grow
data: {synthetic: {kind: regression, n: 6000, p: 300, nonzero: 30, rho: 0.5, snr: 2, seed: 3}}
validation: {kind: kfold, folds: 9, seed: 1}
sweep: {kind: grid, penalty: [l1, elasticnet, l2], lambda: {log_range: [0.01, 10], num: 40}, l1_ratio: [0.5], extend: 0}
model: {kind: linear, tol: 1e-9}
workers: 1
output: grow.db
`,
    );
    const db = join(dir, 'grow.db');
    const run = spawn(process.execPath, [join(ROOT, 'bin', 'regsweep.js'), 'run', 'grow.yaml', '--quiet'], { cwd: dir, stdio: 'ignore' });
    const finished = new Promise<number | null>((resolve) => run.once('exit', resolve));
    let exited = false;
    void finished.then(() => (exited = true));
    for (let k = 0; k < 400 && !existsSync(db); k++) await new Promise((r) => setTimeout(r, 25));

    const cache = new TrialCache();
    const sizes: number[] = [];
    while (!exited) {
      const store = await openStore(db, { mode: 'read', mustExist: true }).catch(() => undefined);
      if (store) {
        try {
          const kept = await cache.refresh(store, 1);
          sizes.push(kept.length);
          // The writer may store more between the two reads: the full read is compared up to the last id kept.
          expect(kept).toEqual((await store.trials(1)).filter((t) => t.id <= cache.lastId));
        } catch (e) {
          // The database's tables may not be made yet.
          if (!/no such table|no sweep/i.test(String(e))) throw e;
        } finally {
          await store.close();
        }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(await finished).toBe(0);
    // Read while it grew: two reads found different numbers of trials, both short of the whole sweep.
    expect(new Set(sizes.filter((n) => n > 0 && n < 3 * 10 * 40)).size).toBeGreaterThanOrEqual(2);

    const store = await openStore(db, { mode: 'read', mustExist: true });
    try {
      expect(await cache.refresh(store, 1)).toEqual(await store.trials(1));
      const full = await store.trials(1);
      expect(full.length).toBe(3 * 10 * 40);

      // A task's trials deleted (not replaced): the count differs, everything is read again.
      const writer = new Database(db);
      const task = full[0].taskId;
      writer.prepare('DELETE FROM trials WHERE task_id = ?').run(task);
      expect(await cache.refresh(store, 1)).toEqual(await store.trials(1));
      expect((await store.trials(1)).length).toBe(full.length - full.filter((t) => t.taskId === task).length);

      // Another task run again: its trials stored anew (new ids) with other figures, under the same keys.
      const again = full.find((t) => t.taskId !== task)!.taskId;
      writer.exec('CREATE TEMP TABLE redo AS SELECT * FROM trials WHERE task_id = ' + writer.prepare('SELECT quote(?) AS q').pluck().get(again));
      writer.prepare('DELETE FROM trials WHERE task_id = ?').run(again);
      writer.exec('UPDATE redo SET id = NULL, val_loss = val_loss * 2');
      writer.exec('INSERT INTO trials SELECT * FROM redo');
      writer.close();
      const kept = await cache.refresh(store, 1);
      expect(kept).toEqual(await store.trials(1));
      const redone = kept.filter((t) => t.taskId === again);
      const before = full.filter((t) => t.taskId === again);
      expect(redone.map((t) => t.valLoss)).toEqual(before.map((t) => (t.valLoss === null ? null : t.valLoss * 2)));

      // The state from the kept trials is the state from a fresh read.
      const sweep = await store.findSweep({ id: 1 });
      const kept1 = await liveState(store, sweep, new ProgressClock(), cache);
      const fresh = await liveState(store, sweep, new ProgressClock());
      expect(JSON.stringify(kept1)).toBe(JSON.stringify(fresh));
    } finally {
      await store.close();
    }
  });
});
