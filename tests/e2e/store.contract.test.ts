// The store contract (src/store/contract.ts), the same tests for every implementation.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NewSweep, Task, TaskResult, TrialFigures } from '../../src/domain.js';
import { OutsideError, UserError } from '../../src/errors.js';
import type { Store } from '../../src/store/contract.js';
import { openStore } from '../../src/store/open.js';
import { ROOT, tempDir } from '../helpers.js';

/** A store implementation under test: a fresh empty location each time. */
interface StoreUnderTest {
  name: string;
  location: () => Promise<string>;
  /** A command line that counts trials and their tasks in a loop, for the concurrent-reader test. */
  readerScript?: (location: string) => string;
}

export const STORES: StoreUnderTest[] = [
  {
    name: 'SQLite',
    location: async () => join(tempDir('regsweep-contract-'), 'c.db'),
  },
];

const newSweep = (name: string, tasks: Task[]): NewSweep => ({
  name,
  configJson: JSON.stringify({ name, sweep: { kind: 'grid' }, validation: { kind: 'kfold', folds: 2 }, model: { kind: 'linear' } }),
  configHash: 'h',
  dataHash: 'd',
  n: 10,
  p: 3,
  modelKind: 'linear',
  featureNames: ['a', 'b', 'c'],
  targetNames: ['y'],
  classes: null,
  totalTasks: tasks.length,
  totalTrials: tasks.reduce((s, t) => s + t.lambdas.length, 0),
  notes: ['a note'],
});

const task = (fold: number | 'all', lambdas = [1, 0.5, 0.25]): Task => ({ id: `l1/a=1/fold=${fold}`, penalty: 'l1', l1Ratio: 1, fold, lambdas });

function figures(lambda: number, valLoss: number | null): TrialFigures {
  return {
    lambda, status: 'ok', converged: true, error: null, trainLoss: 1, valLoss, nTrain: 8, nVal: 2, nnz: 2, zeroFraction: 1 / 3,
    nearZeroFraction: 1 / 3, l1Norm: 1.5, l2Norm: 1.2, passes: 4, epochsRun: 0, seconds: 0.01, metrics: { extra: 1 },
  };
}

function result(t: Task, valLoss = (l: number) => l + 1): TaskResult {
  return {
    taskId: t.id,
    trials: t.lambdas.map((lambda) => figures(lambda, t.fold === 'all' ? null : valLoss(lambda))),
    coefs: Float64Array.from({ length: t.lambdas.length * 3 }, (_, k) => k + 0.5),
    intercepts: Float64Array.from(t.lambdas, (l) => -l),
  };
}

for (const impl of STORES) {
  describe(`store contract: ${impl.name}`, () => {
    const writable = async () => {
      const location = await impl.location();
      return { location, store: await openStore(location, { mode: 'write' }) };
    };
    const use = async <T>(store: Store, fn: (s: Store) => Promise<T>) => {
      try {
        return await fn(store);
      } finally {
        await store.close();
      }
    };

    it('creates a sweep with its tasks pending, finds it by name, name@K and id, and resumes it', async () => {
      const { location, store } = await writable();
      const tasks = [task('all'), task(0), task(1)];
      await use(store, async (s) => {
        const first = await s.createSweep(newSweep('sw', tasks), tasks);
        expect(first).toMatchObject({ name: 'sw', status: 'running', totalTasks: 3, totalTrials: 9, notes: ['a note'], featureNames: ['a', 'b', 'c'] });
        const second = await s.createSweep(newSweep('sw', tasks), tasks);
        expect(second.id).toBeGreaterThan(first.id);
        expect((await s.findSweep({ name: 'sw' })).id).toBe(second.id);
        expect((await s.findSweep({ name: 'sw@1' })).id).toBe(first.id);
        expect((await s.findSweep({ id: first.id })).id).toBe(first.id);
        expect((await s.findSweep()).id).toBe(second.id);
        await expect(s.findSweep({ name: 'other' })).rejects.toThrow(new UserError(`${s.location}: no sweep named "other" (sweeps: sw@1 (id ${first.id}), sw@2 (id ${second.id}))`));
        expect(await s.finishedTaskIds(first.id)).toEqual(new Set());
        await s.recordTask(first.id, tasks[1], result(tasks[1]), 1);
        await s.setSweepStatus(first.id, 'interrupted');
      });
      // Reopened: the finished task is there, the others are not; the sweep resumes.
      await use(await openStore(location, { mode: 'write' }), async (s) => {
        const sweep = await s.findSweep({ name: 'sw@1' });
        expect(sweep.status).toBe('interrupted');
        expect(await s.finishedTaskIds(sweep.id)).toEqual(new Set([tasks[1].id]));
        await s.beginWriting(sweep.id);
        expect((await s.findSweep({ id: sweep.id })).status).toBe('running');
      });
    });

    it('records a task atomically: trials, coefficients and status, or nothing; trial ids increase', async () => {
      const { store } = await writable();
      const tasks = [task('all'), task(0), task(1)];
      await use(store, async (s) => {
        const sweep = await s.createSweep(newSweep('atomic', tasks), tasks);
        await s.recordTask(sweep.id, tasks[0], result(tasks[0]), 1);
        const bad = result(tasks[1]);
        // A figure that cannot be stored (NOT NULL) in the last trial: the whole task must stay absent.
        (bad.trials[2] as { l1Norm: number | null }).l1Norm = null;
        await expect(s.recordTask(sweep.id, tasks[1], bad, 1)).rejects.toThrow();
        expect(await s.finishedTaskIds(sweep.id)).toEqual(new Set([tasks[0].id]));
        expect(await s.trialCount(sweep.id)).toBe(3);
        await s.recordTask(sweep.id, tasks[1], result(tasks[1]), 1);
        const trials = await s.trials(sweep.id);
        expect(trials).toHaveLength(6);
        const firstTask = trials.filter((t) => t.taskId === tasks[0].id).map((t) => t.id);
        const secondTask = trials.filter((t) => t.taskId === tasks[1].id).map((t) => t.id);
        expect(Math.min(...secondTask)).toBeGreaterThan(Math.max(...firstTask));
        expect(await s.trials(sweep.id, { afterId: Math.max(...firstTask) })).toHaveLength(3);
        const t = trials.find((x) => x.fold === '0' && x.lambda === 0.5)!;
        expect(t).toMatchObject({ penalty: 'l1', l1Ratio: 1, status: 'ok', converged: true, valLoss: 1.5, nnz: 2, zeroFraction: 1 / 3, passes: 4, epochsRun: 0, metrics: { extra: 1 } });
        const coefs = await s.coefficients(sweep.id, { fold: '0' });
        expect(coefs.map((c) => [c.lambda, c.intercept, Array.from(c.coefs)])).toEqual([
          [1, [-1], [0.5, 1.5, 2.5]],
          [0.5, [-0.5], [3.5, 4.5, 5.5]],
          [0.25, [-0.25], [6.5, 7.5, 8.5]],
        ]);
      });
    });

    it('a failed task is stored as failed trials, not finished, and replaced whole when run again', async () => {
      const { store } = await writable();
      const tasks = [task(0)];
      await use(store, async (s) => {
        const sweep = await s.createSweep(newSweep('failing', tasks), tasks);
        await s.recordTask(sweep.id, tasks[0], { taskId: tasks[0].id, error: 'boom' }, 1);
        expect(await s.finishedTaskIds(sweep.id)).toEqual(new Set());
        expect((await s.trials(sweep.id)).map((t) => [t.status, t.error])).toEqual([
          ['failed', 'boom'],
          ['failed', 'boom'],
          ['failed', 'boom'],
        ]);
        await s.recordTask(sweep.id, tasks[0], result(tasks[0]), 1);
        expect(await s.finishedTaskIds(sweep.id)).toEqual(new Set([tasks[0].id]));
        expect((await s.trials(sweep.id)).map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
        expect(await s.coefficients(sweep.id)).toHaveLength(3);
      });
    });

    it('stores the summary and the selections, replacing the ones before', async () => {
      const { store } = await writable();
      await use(store, async (s) => {
        const sweep = await s.createSweep(newSweep('summary', []), []);
        const point = { penalty: 'l1' as const, l1Ratio: 1, lambda: 0.5, metric: 'val_loss', folds: 2, mean: 1.5, se: 0.1, trainMean: 1, nnzAll: 2 };
        const selection = { penalty: 'l1' as const, l1Ratio: 1, metric: 'val_loss', lambdaMin: 0.5, lambda1se: 1, meanMin: 1.5, seMin: 0.1, mean1se: 1.55, nnzMin: 2, nnz1se: 1, edge: null };
        await s.writeSummary(sweep.id, [point, { ...point, lambda: 1, mean: 1.55 }], [selection]);
        await s.writeSummary(sweep.id, [point], [{ ...selection, edge: 'smallest' }]);
        expect(await s.summary(sweep.id)).toEqual([point]);
        expect(await s.selections(sweep.id)).toEqual([{ ...selection, edge: 'smallest' }]);
        await s.setNotes(sweep.id, ['one', 'two']);
        expect((await s.findSweep({ id: sweep.id })).notes).toEqual(['one', 'two']);
      });
    });

    it('a store opened for reading refuses SQL that writes, and reads what the writer committed', async () => {
      const { location, store } = await writable();
      const tasks = [task(0)];
      const sweepId = await use(store, async (s) => {
        const sweep = await s.createSweep(newSweep('ro', tasks), tasks);
        await s.recordTask(sweep.id, tasks[0], result(tasks[0]), 1);
        return sweep.id;
      });
      await use(await openStore(location, { mode: 'read' }), async (s) => {
        for (const statement of ['DELETE FROM trials', 'DROP TABLE trials', 'UPDATE sweeps SET name = 1', 'INSERT INTO notes VALUES (1)'])
          await expect(s.readOnlyQuery(statement, { timeoutMs: 10_000 })).rejects.toThrow(UserError);
        expect(await s.readOnlyQuery(`SELECT count(*) AS n FROM trials WHERE sweep_id = ${sweepId}`, { timeoutMs: 10_000 })).toEqual([{ n: 3 }]);
        expect(await s.trialCount(sweepId)).toBe(3);
      });
    });

    it('readers in another process see whole tasks while a writer records', async () => {
      const { location, store } = await writable();
      const tasks = Array.from({ length: 40 }, (_, k) => task(k, Array.from({ length: 25 }, (_, l) => 1 / (l + 1))));
      const sweep = await store.createSweep(newSweep('concurrent', tasks), tasks);
      // A reader process counts trials and done tasks in one read, over and over, until told to stop.
      const reader = spawn(
        process.execPath,
        ['--input-type=module', '-e', `
          import { openStore } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'store', 'open.js'))};
          const seen = [];
          let stop = false;
          process.stdin.on('data', () => (stop = true));
          while (!stop) {
            const s = await openStore(${JSON.stringify(location)}, { mode: 'read' });
            const [row] = await s.readOnlyQuery("SELECT (SELECT count(*) FROM trials) AS trials, (SELECT count(*) FROM tasks WHERE status = 'done') AS done", { timeoutMs: 10000 });
            seen.push([row.trials, row.done]);
            await s.close();
            await new Promise((r) => setTimeout(r, 5));
          }
          console.log(JSON.stringify(seen));
          process.exit(0);`],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let out = '';
      reader.stdout.on('data', (b) => (out += b));
      for (const t of tasks) {
        await store.recordTask(sweep.id, t, result(t), 1);
        await new Promise((r) => setTimeout(r, 25));
      }
      reader.stdin.write('stop\n');
      await new Promise((r) => reader.once('exit', r));
      await store.close();
      const seen = JSON.parse(out) as [number, number][];
      expect(seen.length).toBeGreaterThan(2);
      for (const [trials, done] of seen) expect(trials).toBe(25 * done);
    });

    it('refuses to begin writing a sweep that another live process is writing; a gone writer leaves it interrupted', async () => {
      const { location, store } = await writable();
      const sweep = await store.createSweep(newSweep('owned', [task(0)]), [task(0)]);
      await store.setSweepStatus(sweep.id, 'interrupted');
      await store.close();
      // Another process takes the sweep over and stays alive.
      const other = spawn(
        process.execPath,
        ['--input-type=module', '-e', `
          import { openStore } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'store', 'open.js'))};
          const s = await openStore(${JSON.stringify(location)}, { mode: 'write' });
          await s.beginWriting(${sweep.id});
          console.log('writing');
          setTimeout(() => {}, 60000);`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise((r) => other.stdout.once('data', r));
      await use(await openStore(location, { mode: 'write' }), async (s) => {
        await expect(s.beginWriting(sweep.id)).rejects.toThrow(new RegExp(`sweep "owned" is being run by process ${other.pid}`));
        other.kill('SIGKILL');
        await new Promise((r) => other.once('exit', r));
        expect((await s.findSweep({ id: sweep.id })).status).toBe('interrupted');
        await s.beginWriting(sweep.id);
      });
    });

    it('a missing location for reading, and a store deleted under a writer, say so', async () => {
      const location = await impl.location();
      await expect(openStore(location, { mode: 'read' })).rejects.toThrow(UserError);
      const { store } = await writable();
      await use(store, async (s) => {
        await s.ensureIntact();
        if (impl.name === 'SQLite') {
          const { rmSync } = await import('node:fs');
          rmSync(s.location);
          await expect(s.ensureIntact()).rejects.toThrow(OutsideError);
        }
      });
    });
  });
}
