// The store contract (src/store/contract.ts): the same tests for every implementation — SQLite, and PostgreSQL when
// REGSWEEP_TEST_PG_URL names a server (.ci/run starts one; in CI a missing server fails the run).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { NewSweep, Task, TaskResult, TrialFigures } from '../../src/domain.js';
import { OutsideError, UserError } from '../../src/errors.js';
import type { Store } from '../../src/store/contract.js';
import { openStore } from '../../src/store/open.js';
import { createRungBoard, RungBoard } from '../../src/fitting/shared/rungBoard.js';
import { freshPostgresDatabase, postgresUrl } from '../postgres.js';
import { ROOT, tempDir, until } from '../helpers.js';
import { packRows } from '../../src/util/coefficientRows.js';

interface StoreUnderTest {
  name: string;
  /** A fresh, empty location. */
  location: () => Promise<string>;
  /** Whether several processes work on one sweep (leases and fencing matter). */
  shared: boolean;
}

const STORES: StoreUnderTest[] = [{ name: 'SQLite', location: async () => join(tempDir('regsweep-contract-'), 'c.db'), shared: false }];
if (postgresUrl()) STORES.push({ name: 'PostgreSQL', location: freshPostgresDatabase, shared: true });
else if (process.env.CI) throw new Error('REGSWEEP_TEST_PG_URL is not set: the PostgreSQL store cannot be tested (see scripts/test-postgres.sh)');
// Outside CI without a server the PostgreSQL half shows as skipped, with what to do, rather than not at all.
else describe.skip('store contract: PostgreSQL — REGSWEEP_TEST_PG_URL is not set (scripts/test-postgres.sh start DIR prints it)', () => it('runs every case on PostgreSQL', () => undefined));

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
  encoding: null,
  featureScales: [1, 2.5, 0],
  totalTasks: tasks.length,
  totalTrials: tasks.reduce((s, t) => s + t.lambdas.length, 0),
  notes: ['a note'],
});

const task = (fold: number | 'all', lambdas = [1, 0.5, 0.25], penalty: 'l1' | 'l2' = 'l1'): Task => ({
  id: `${penalty}/a=${penalty === 'l1' ? 1 : 0}/fold=${fold}`,
  penalty,
  l1Ratio: penalty === 'l1' ? 1 : 0,
  fold,
  lambdas,
});

function figures(lambda: number, valLoss: number | null): TrialFigures {
  return {
    lambda, status: 'ok', converged: true, error: null, trainLoss: 1, valLoss, nTrain: 8, nVal: 2, nnz: 2, zeroFraction: 1 / 3,
    nearZeroFraction: 1 / 3, l1Norm: 1.5, l2Norm: 1.2, passes: 4, epochsRun: 0, seconds: 0.01, metrics: { extra: 1 },
  };
}

function result(t: Task): TaskResult {
  return {
    taskId: t.id,
    trials: t.lambdas.map((lambda) => figures(lambda, t.fold === 'all' ? null : lambda + 1)),
    coefficients: packRows(Float64Array.from({ length: t.lambdas.length * 3 }, (_, k) => k + 0.5), t.lambdas.length),
    intercepts: Float64Array.from(t.lambdas, (l) => -l),
    // validation.keep: two held-out rows' predictions at each λ (a validation task only).
    ...(t.fold === 'all' ? {} : { heldOut: { rows: Int32Array.from([3, 7]), observed: Float64Array.from([1.25, -2]), link: Float64Array.from({ length: t.lambdas.length * 2 }, (_, k) => k / 4) } }),
  };
}

const lease = { leaseMs: 60_000, bundleFolds: false, batches: Infinity };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Claims every claimable task as `owner`, one batch per task. */
const claimAll = async (s: Store, sweepId: number, owner = 'me') => (await s.claimBatches(sweepId, { ...lease, owner })).flat();

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
        expect(s.shared).toBe(impl.shared);
        const first = (await s.createSweep(newSweep('sw', tasks), tasks)).sweep;
        expect(first).toMatchObject({ name: 'sw', status: 'running', totalTasks: 3, totalTrials: 9, notes: ['a note'], featureNames: ['a', 'b', 'c'], featureScales: [1, 2.5, 0] });
        const second = (await s.createSweep(newSweep('sw', tasks), tasks)).sweep;
        expect(second.id).toBeGreaterThan(first.id);
        expect((await s.findSweep({ name: 'sw' })).id).toBe(second.id);
        expect((await s.findSweep({ name: 'sw@1' })).id).toBe(first.id);
        expect((await s.findSweep({ id: first.id })).id).toBe(first.id);
        expect((await s.findSweep()).id).toBe(second.id);
        await expect(s.findSweep({ name: 'other' })).rejects.toThrow(new UserError(`${s.location}: no sweep named "other" (sweeps: sw@1 (id ${first.id}), sw@2 (id ${second.id}))`));
        expect(await s.taskCounts(first.id)).toEqual({ total: 3, pending: 3, running: 0, done: 0, failed: 0, trialsRecorded: 0, openFolds: 3, stale: 0 });
        const [claim] = (await s.claimBatches(first.id, { ...lease, owner: 'me', batches: 1 })).flat();
        expect(claim.task).toEqual(tasks[0]);
        expect(await s.completeTask(first.id, claim, result(claim.task), 1, 3)).toBe('recorded');
        await s.setSweepStatus(first.id, 'interrupted');
      });
      // Reopened: the finished task is there, the others are not; the sweep resumes.
      await use(await openStore(location, { mode: 'write' }), async (s) => {
        const sweep = await s.findSweep({ name: 'sw@1' });
        expect(sweep.status).toBe('interrupted');
        expect(await s.finishedTaskIds(sweep.id)).toEqual(new Set([tasks[0].id]));
        await s.beginWriting(sweep.id);
        expect((await s.findSweep({ id: sweep.id })).status).toBe('running');
        expect((await claimAll(s, sweep.id)).map((c) => c.task.id)).toEqual([tasks[1].id, tasks[2].id]);
      });
    });

    it('keeps a wide coefficient vector of mostly zeros in its sparse form, and gives every vector back as it was', async () => {
      const { store } = await writable();
      const tasks = [task('all', [1, 0.5, 0.25, 0.125])];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('wide', tasks), tasks)).sweep;
        const [claim] = (await s.claimBatches(sweep.id, { ...lease, owner: 'me', batches: 1 })).flat();
        const width = 500;
        // λ 1: all zero; λ 0.5: three nonzeros (−0 stays a zero); λ 0.25: a quarter nonzero (still sparse); λ 0.125: every entry.
        const coefs = new Float64Array(4 * width);
        coefs.set([1e-300, -2.5, 7], width + 0);
        coefs[width + 499] = 3;
        coefs[width + 7] = -0;
        for (let j = 0; j < width / 4; j++) coefs[2 * width + 4 * j + 1] = j / 3;
        for (let j = 0; j < width; j++) coefs[3 * width + j] = Math.sin(j) + 2;
        const wide: TaskResult = { taskId: claim.task.id, trials: [1, 0.5, 0.25, 0.125].map((l) => figures(l, null)), coefficients: packRows(coefs, 4), intercepts: Float64Array.of(0, 1, 2, 3) };
        expect(await s.completeTask(sweep.id, claim, wide, 1, 4)).toBe('recorded');
        const back = await s.coefficients(sweep.id);
        expect(back.map((c) => c.lambda)).toEqual([1, 0.5, 0.25, 0.125]);
        back.forEach((c, l) => expect(Array.from(c.coefs)).toEqual(Array.from(coefs.subarray(l * width, (l + 1) * width)).map((v) => (v === 0 ? 0 : v))));
      });
    });

    it('tells the last trial id, and which tasks run now (with their owner) and which failed (with their error)', async () => {
      const { store } = await writable();
      const tasks = [task('all'), task(0), task(1)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('live', tasks), tasks)).sweep;
        expect(await s.lastTrialId(sweep.id)).toBe(0);
        expect(await s.runningAndFailedTasks(sweep.id)).toEqual([]);
        const [c0, c1] = (await s.claimBatches(sweep.id, { ...lease, owner: 'host:1:ab', batches: 2 })).flat();
        expect((await s.runningAndFailedTasks(sweep.id)).map((t) => [t.taskId, t.status, t.owner, t.attempt])).toEqual([
          [c0.task.id, 'running', 'host:1:ab', 1],
          [c1.task.id, 'running', 'host:1:ab', 1],
        ]);
        expect(await s.completeTask(sweep.id, c0, result(c0.task), 1, 3)).toBe('recorded');
        const trials = await s.trials(sweep.id);
        expect(await s.lastTrialId(sweep.id)).toBe(Math.max(...trials.map((t) => t.id)));
        expect(await s.completeTask(sweep.id, c1, { taskId: c1.task.id, error: 'boom' }, 1, 1)).toBe('recorded');
        expect(await s.runningAndFailedTasks(sweep.id)).toEqual([
          { taskId: c1.task.id, penalty: 'l1', l1Ratio: 1, settings: '', fold: String(c1.task.fold), status: 'failed', owner: expect.anything(), attempt: 1, error: 'boom' },
        ]);
        expect(await s.lastTrialId(sweep.id)).toBeGreaterThan(Math.max(...trials.map((t) => t.id)));
      });
    });

    it('claims in order (fold by fold, longer paths first), a fold as one batch when asked, never the same task twice', async () => {
      const { store } = await writable();
      const tasks = [task('all', [1, 0.5]), task('all', [1, 0.5, 0.2], 'l2'), task(0, [1]), task(0, [1, 0.3], 'l2'), task(1), task(1, [2], 'l2')];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('order', tasks), tasks)).sweep;
        const bundled = await s.claimBatches(sweep.id, { ...lease, owner: 'a', bundleFolds: true, batches: 2 });
        expect(bundled.map((b) => b.map((c) => c.task.id))).toEqual([
          ['l2/a=0/fold=all', 'l1/a=1/fold=all'],
          ['l2/a=0/fold=0', 'l1/a=1/fold=0'],
        ]);
        expect(bundled.flat().every((c) => c.attempt === 1)).toBe(true);
        // Claimers racing for the rest get disjoint tasks.
        const raced = (await Promise.all(['b', 'c', 'd', 'e'].map((owner) => s.claimBatches(sweep.id, { ...lease, owner, batches: 1 })))).flat(2);
        expect(raced.map((c) => c.task.id).sort()).toEqual(['l1/a=1/fold=1', 'l2/a=0/fold=1']);
        expect(await s.claimBatches(sweep.id, { ...lease, owner: 'f' })).toEqual([]);
        expect(await s.taskCounts(sweep.id)).toMatchObject({ pending: 0, running: 6, openFolds: 3 });
      });
    });

    it('records a task atomically under its claim: trials, coefficients and status, or nothing; newTrials follows what is recorded', async () => {
      const { store } = await writable();
      const tasks = [task('all'), task(0), task(1)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('atomic', tasks), tasks)).sweep;
        const [c0, c1] = await claimAll(s, sweep.id);
        const before = await s.newTrials(sweep.id, undefined);
        expect(before.trials).toEqual([]);
        expect(await s.completeTask(sweep.id, c0, result(c0.task), 1, 3)).toBe('recorded');
        const first = await s.newTrials(sweep.id, before.cursor);
        expect(first.trials.map((t) => t.taskId)).toEqual([c0.task.id, c0.task.id, c0.task.id]);
        const bad = result(c1.task);
        // A figure that cannot be stored (NOT NULL) in the last trial: the whole task must stay absent.
        (bad.trials[2] as { nTrain: number | null }).nTrain = null;
        await expect(s.completeTask(sweep.id, c1, bad, 1, 3)).rejects.toThrow();
        expect(await s.finishedTaskIds(sweep.id)).toEqual(new Set([c0.task.id]));
        expect(await s.trialCount(sweep.id)).toBe(3);
        expect(await s.completeTask(sweep.id, c1, result(c1.task), 1, 3)).toBe('recorded');
        // The same claim completed once more (a retry after a lost connection): recorded already, nothing written twice.
        expect(await s.completeTask(sweep.id, c1, result(c1.task), 1, 3)).toBe('recorded');
        const trials = await s.trials(sweep.id);
        expect(trials).toHaveLength(6);
        // Since the cursor of the first read: the second task's trials (a store may give the first task's again).
        const since = await s.newTrials(sweep.id, first.cursor);
        expect(since.trials.filter((t) => t.taskId === c1.task.id)).toHaveLength(3);
        expect((await s.newTrials(sweep.id, since.cursor)).trials.filter((t) => t.taskId === c1.task.id).length).toBeLessThanOrEqual(3);
        expect(await s.trialTally(sweep.id)).toEqual({ total: 6, diverged: 0, failed: 0, pruned: 0, firstError: null, firstDivergedEpoch: null });
        const t = trials.find((x) => x.fold === '0' && x.lambda === 0.5)!;
        expect(t).toMatchObject({ penalty: 'l1', l1Ratio: 1, status: 'ok', converged: true, valLoss: 1.5, nnz: 2, zeroFraction: 1 / 3, passes: 4, epochsRun: 0, metrics: { extra: 1 } });
        const coefs = await s.coefficients(sweep.id, { fold: '0' });
        expect(coefs.map((c) => [c.lambda, c.intercept, Array.from(c.coefs)])).toEqual([
          [1, [-1], [0.5, 1.5, 2.5]],
          [0.5, [-0.5], [3.5, 4.5, 5.5]],
          [0.25, [-0.25], [6.5, 7.5, 8.5]],
        ]);
        // The held-out predictions: each trial its λ's two values, the task's first trial the rows and targets.
        const kept = await s.predictions(sweep.id, { fold: '0' });
        expect(kept.map((p) => [p.lambda, Array.from(p.link), p.rows && Array.from(p.rows), p.observed && Array.from(p.observed)])).toEqual([
          [1, [0, 0.25], [3, 7], [1.25, -2]],
          [0.5, [0.5, 0.75], null, null],
          [0.25, [1, 1.25], null, null],
        ]);
        expect(await s.predictions(sweep.id, { fold: 'all' })).toEqual([]);
        expect(await s.taskCounts(sweep.id)).toMatchObject({ done: 2, running: 1, trialsRecorded: 6 });
        expect(await s.trialCount(sweep.id)).toBe(6);
      });
    });

    it('gives back every figure of a trial as written (gaps, NaN norms, an error, metrics); a filter is a value, never SQL', async () => {
      const { store } = await writable();
      const tasks = [task('all'), task(0)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('figures', tasks), tasks)).sweep;
        const [c0, c1] = await claimAll(s, sweep.id);
        const odd = result(c0.task);
        const written: TrialFigures = {
          ...odd.trials[1], status: 'diverged', converged: false, error: `it's \\ "odd" — é`, trainLoss: null, valLoss: null, nnz: 0,
          zeroFraction: 1, nearZeroFraction: 0.75, l1Norm: NaN, l2Norm: NaN, passes: 2 ** 31 - 1, epochsRun: 3, seconds: 1e-300, metrics: { b: 2, a: 0.1 + 0.2 },
        };
        odd.trials[1] = written;
        expect(await s.completeTask(sweep.id, c0, odd, 1, 3)).toBe('recorded');
        expect(await s.completeTask(sweep.id, c1, result(c1.task), 1, 3)).toBe('recorded');
        const trials = await s.trials(sweep.id);
        // Ordered by penalty, l1 ratio, settings, λ descending, then fold ('0' before 'all').
        expect(trials.map((t) => [t.lambda, t.fold])).toEqual([[1, '0'], [1, 'all'], [0.5, '0'], [0.5, 'all'], [0.25, '0'], [0.25, 'all']]);
        const back = trials.find((t) => t.fold === 'all' && t.lambda === 0.5)!;
        expect(back).toMatchObject({ sweepId: sweep.id, taskId: c0.task.id, penalty: 'l1', l1Ratio: 1, settings: '', ...written, l1Norm: NaN, l2Norm: NaN });
        expect(Object.keys(back.metrics)).toEqual(['a', 'b']);
        expect(back.metrics.a).toBe(0.1 + 0.2);
        expect(trials.every((t) => Number.isSafeInteger(t.id) && t.id > 0)).toBe(true);
        expect(await s.trials(sweep.id, { fold: '0' })).toHaveLength(3);
        expect(await s.trials(sweep.id, { penalty: 'l1', fold: 'all' })).toHaveLength(3);
        for (const fold of ["0' OR 'x' = 'x", "\\' OR 1 = 1 --", 'all\\']) expect(await s.trials(sweep.id, { fold })).toEqual([]);
        expect(await s.trials(sweep.id, { penalty: "l1' OR '1' = '1" })).toEqual([]);
        expect((await s.newTrials(sweep.id, undefined)).trials).toEqual(trials);
      });
    });

    it('a task that throws is queued again until its attempts run out, then stored as failed; --retry-failed queues it again', async () => {
      const { store } = await writable();
      const tasks = [task(0)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('failing', tasks), tasks)).sweep;
        const boom = { taskId: tasks[0].id, error: 'boom' };
        for (const attempt of [1, 2]) {
          const [c] = await claimAll(s, sweep.id);
          expect(c.attempt).toBe(attempt);
          expect(await s.completeTask(sweep.id, c, boom, 1, 3)).toBe('retry');
          expect(await s.trialCount(sweep.id)).toBe(0);
        }
        const [last] = await claimAll(s, sweep.id);
        expect(await s.completeTask(sweep.id, last, boom, 1, 3)).toBe('recorded');
        expect((await s.trials(sweep.id)).map((t) => [t.status, t.error])).toEqual([
          ['failed', 'boom'],
          ['failed', 'boom'],
          ['failed', 'boom'],
        ]);
        expect(await s.taskCounts(sweep.id)).toMatchObject({ failed: 1, pending: 0 });
        expect(await claimAll(s, sweep.id)).toEqual([]);
        expect(await s.requeueFailed(sweep.id)).toEqual({ failed: 1, released: 0 });
        const [again] = await claimAll(s, sweep.id);
        expect(again.attempt).toBe(1);
        expect(await s.completeTask(sweep.id, again, result(again.task), 1, 3)).toBe('recorded');
        expect((await s.trials(sweep.id)).map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
        expect(await s.coefficients(sweep.id)).toHaveLength(3);
      });
    });

    it('a task recorded with a failed λ and run again (--retry-failed) is replaced whole: no coefficients or predictions of its first trials are left', async () => {
      const { store } = await writable();
      const tasks = [task(0)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('replaced', tasks), tasks)).sweep;
        const [first] = await claimAll(s, sweep.id);
        const partly = result(first.task);
        partly.trials[1] = { ...partly.trials[1], status: 'failed', error: 'singular', valLoss: null };
        expect(await s.completeTask(sweep.id, first, partly, 1, 3)).toBe('recorded');
        const rows = async () => (await s.readOnlyQuery(`SELECT (SELECT count(*) FROM coefficients) AS coefficients, (SELECT count(*) FROM predictions) AS predictions, (SELECT count(*) FROM trials) AS trials`, { timeoutMs: 10_000 }))[0];
        expect(await rows()).toEqual({ coefficients: 2, predictions: 2, trials: 3 });
        expect(await s.requeueFailed(sweep.id)).toEqual({ failed: 1, released: 0 });
        const [again] = await claimAll(s, sweep.id);
        expect(await s.completeTask(sweep.id, again, result(again.task), 1, 3)).toBe('recorded');
        expect(await rows()).toEqual({ coefficients: 3, predictions: 3, trials: 3 });
        expect((await s.coefficients(sweep.id)).map((c) => c.lambda)).toEqual([1, 0.5, 0.25]);
      });
    });

    it('fencing: a claim whose lease ran out and was taken over cannot record; renewal keeps a claim', async () => {
      const { store } = await writable();
      const tasks = [task(0), task(1)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('fenced', tasks), tasks)).sweep;
        const short = { leaseMs: 300, bundleFolds: false, batches: 1 };
        const [late] = (await s.claimBatches(sweep.id, { ...short, owner: 'paused' })).flat();
        const [kept] = (await s.claimBatches(sweep.id, { ...short, owner: 'alive' })).flat();
        for (let k = 0; k < 5; k++) {
          await sleep(150);
          expect(await s.renewLeases(sweep.id, 'alive', [kept], 300)).toEqual([]);
        }
        // The paused owner's lease ran out: another process takes its task (attempt 2); the renewed one is not free.
        const [taken] = (await s.claimBatches(sweep.id, { ...short, owner: 'other', batches: 5 })).flat();
        expect([taken.task.id, taken.attempt]).toEqual([late.task.id, 2]);
        expect(await s.renewLeases(sweep.id, 'paused', [late], 300)).toEqual([late]);
        expect(await s.completeTask(sweep.id, late, result(late.task), 1, 3)).toBe('fenced');
        expect(await s.trialCount(sweep.id)).toBe(0);
        expect(await s.completeTask(sweep.id, taken, result(taken.task), 1, 3)).toBe('recorded');
        expect(await s.completeTask(sweep.id, kept, result(kept.task), 1, 3)).toBe('recorded');
        expect(await s.trialCount(sweep.id)).toBe(6);
        // Released claims go back to the queue at once.
        const more = [task('all')];
        await s.addTasks(sweep.id, more);
        const [c] = await claimAll(s, sweep.id, 'quitter');
        await s.releaseClaims(sweep.id, 'quitter', [c]);
        expect(await s.taskCounts(sweep.id)).toMatchObject({ pending: 1, running: 0 });
      });
    });

    it('makes a sweep only if the latest of its name is still the one the caller saw: a second maker joins the first', async () => {
      const { store } = await writable();
      const tasks = [task(0)];
      await use(store, async (s) => {
        const made = await s.createSweep(newSweep('once', tasks), tasks, undefined, undefined, null);
        expect(made.created).toBe(true);
        // A second run that looked before the first made it: nothing is made, it is told to look again.
        const late = await s.createSweep(newSweep('once', tasks), tasks, undefined, undefined, null);
        expect(late).toMatchObject({ created: false, sweep: { id: made.sweep.id } });
        expect((await s.listSweeps()).filter((w) => w.name === 'once')).toHaveLength(1);
        // One that saw the latest makes the next; --new (no expectation) always makes one.
        expect((await s.createSweep(newSweep('once', tasks), tasks, undefined, undefined, made.sweep.id)).created).toBe(true);
        expect((await s.createSweep(newSweep('once', tasks), tasks)).created).toBe(true);
        expect((await s.listSweeps()).filter((w) => w.name === 'once')).toHaveLength(3);
      });
    });

    // Completions commit side by side on a shared store: one whose trials got smaller ids may commit last.
    if (impl.shared)
      it('newTrials finds a completion that commits after a later one (ids out of commit order)', async () => {
        const { location, store } = await writable();
        const tasks = [task(0), task(1)];
        const early = new pg.Client({ connectionString: location });
        await early.connect();
        await use(store, async (s) => {
          const { sweep } = await s.createSweep(newSweep('order', tasks), tasks);
          const [, c1] = await claimAll(s, sweep.id);
          // A transaction that records a trial and has not committed yet.
          await early.query('BEGIN');
          await early.query(
            `INSERT INTO regsweep.trials (sweep_id, task_id, penalty, lambda, l1_ratio, fold, status, converged, n_train, n_val, nnz, zero_fraction, near_zero_fraction, l1_norm, l2_norm, passes, epochs_run, seconds)
             VALUES ($1, $2, 'l1', 0.125, 1, '0', 'ok', true, 10, 5, 1, 0, 0, 1, 1, 1, 0, 0)`,
            [sweep.id, tasks[0].id],
          );
          expect(await s.completeTask(sweep.id, c1, result(c1.task), 1, 3)).toBe('recorded');
          const read = await s.newTrials(sweep.id, undefined);
          expect(read.trials.map((t) => t.taskId)).toEqual([c1.task.id, c1.task.id, c1.task.id]);
          await early.query('COMMIT');
          const late = (await s.newTrials(sweep.id, read.cursor)).trials.filter((t) => t.taskId === tasks[0].id);
          expect(late).toHaveLength(1);
          expect(late[0].id).toBeLessThan(Math.min(...read.trials.map((t) => t.id)));
        });
        await early.end();
      });

    // Successive halving on a shared store: each process's board takes in the others' losses.
    if (impl.shared)
      it('rung losses go out to the other processes: a board that took them in decides as one board of every loss would', async () => {
        const { store } = await writable();
        await use(store, async (s) => {
          const { sweep } = await s.createSweep(newSweep('halving', [task(0)]), [task(0)]);
          const settings = () => ({ rungs: [2, 6], reduction: 3, board: createRungBoard(2, 100) });
          const [a, b, alone] = [settings(), settings(), settings()].map((p) => new RungBoard(p));
          const sent = { a: [0, 0], b: [0, 0] };
          let cursorA: string | undefined;
          let cursorB: string | undefined;
          const seen = { a: new Set<number>(), b: new Set<number>() };
          const exchange = async (board: RungBoard, who: 'a' | 'b') => {
            const got = await s.exchangeRungReports(sweep.id, who, board.ownSince(sent[who]), who === 'a' ? cursorA : cursorB);
            if (who === 'a') cursorA = got.cursor;
            else cursorB = got.cursor;
            for (const r of got.reports) if (!seen[who].has(r.id)) (seen[who].add(r.id), board.merge(r.rung, r.loss));
            return got.reports.length;
          };
          // Process a's trials reach rung 0 first; b's come after an exchange: b prunes as one board of both would.
          const first = [0.5, 0.4, 0.6, 0.45];
          const then = [0.7, 0.42, 0.9, 0.3];
          for (const loss of first) expect(a.report(0, loss)).toBe(alone.report(0, loss));
          expect(await exchange(a, 'a')).toBe(0);
          expect(await exchange(b, 'b')).toBe(first.length);
          for (const loss of then) expect(b.report(0, loss), `loss ${loss}`).toBe(alone.report(0, loss));
          // a takes in b's losses (not its own back) and decides on the next trial as the single board does.
          expect(await exchange(b, 'b')).toBe(0);
          expect(await exchange(a, 'a')).toBe(then.length);
          expect(a.report(0, 0.41)).toBe(alone.report(0, 0.41));
          expect(alone.report(0, 0.8)).toBe(false);
        });
      });

    // Leases belong to shared stores (one SQLite writer holds its claims until it ends).
    if (impl.shared) it('a claim whose owner missed two renewals is stale; requeueFailed gives it back to the queue and fences its owner', async () => {
      const { store } = await writable();
      const tasks = [task(0), task(1)];
      await use(store, async (s) => {
        const { sweep } = await s.createSweep(newSweep('stale', tasks), tasks);
        const long = { leaseMs: 900, bundleFolds: false, batches: 1 };
        const [gone] = (await s.claimBatches(sweep.id, { ...long, owner: 'gone' })).flat();
        const [alive] = (await s.claimBatches(sweep.id, { ...long, owner: 'alive' })).flat();
        expect((await s.taskCounts(sweep.id)).stale).toBe(0);
        // Renewed every third of the lease by one owner, never by the other: after two thirds, only that one is stale.
        for (let k = 0; k < 3; k++) {
          await sleep(250);
          expect(await s.renewLeases(sweep.id, 'alive', [alive], 900)).toEqual([]);
        }
        expect(await s.taskCounts(sweep.id)).toMatchObject({ running: 2, stale: 1 });
        expect(await s.requeueFailed(sweep.id)).toEqual({ failed: 0, released: 1 });
        expect(await s.taskCounts(sweep.id)).toMatchObject({ pending: 1, running: 1, stale: 0 });
        const [again] = (await s.claimBatches(sweep.id, { ...long, owner: 'new' })).flat();
        expect([again.task.id, again.attempt]).toEqual([gone.task.id, 2]);
        expect(await s.completeTask(sweep.id, gone, result(gone.task), 1, 3)).toBe('fenced');
        expect(await s.completeTask(sweep.id, again, result(again.task), 1, 3)).toBe('recorded');
      });
    });

    if (impl.shared)
      it("a wait for a sweep's change ends on another process's completion, on the store's one connection, and again after that connection was cut", async () => {
        const { location, store } = await writable();
        const tasks = [task(0), task(1), task(2)];
        const other = await openStore(location, { mode: 'write' });
        const admin = new pg.Client({ connectionString: location });
        await admin.connect();
        // The store's sessions (application_name regsweep), and the end of one wait of at most 20 s.
        const sessions = async () => (await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'regsweep'`)).rows.map((r) => r.pid as number);
        const waited = async (s: Store, sweepId: number, act: () => Promise<unknown>) => {
          const started = performance.now();
          const wait = s.waitForChange(sweepId, 20_000);
          await sleep(300);
          await act();
          await wait;
          return performance.now() - started;
        };
        try {
          await use(store, async (s) => {
            const { sweep } = await s.createSweep(newSweep('woken', tasks), tasks);
            const [a, b, c] = (await other.claimBatches(sweep.id, { owner: 'other', leaseMs: 60_000, bundleFolds: false, batches: 3 })).flat();
            expect(await waited(s, sweep.id, () => other.completeTask(sweep.id, a, result(a.task), 1, 3))).toBeLessThan(10_000);
            // Both stores, a connection each: the one that waited listens on the connection it works with.
            expect(await sessions()).toHaveLength(2);
            // Its connection cut (a server restart, an operator): the next query makes another, which listens again.
            const before = await sessions();
            await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', ['regsweep']);
            await until(async () => (await sessions()).length === 0);
            await expect(s.taskCounts(sweep.id)).resolves.toMatchObject({ done: 1 });
            await expect(other.taskCounts(sweep.id)).resolves.toMatchObject({ done: 1 });
            const after = await sessions();
            expect(after).toHaveLength(2);
            expect(after.filter((pid) => before.includes(pid))).toEqual([]);
            expect(await waited(s, sweep.id, () => other.completeTask(sweep.id, b, result(b.task), 1, 3))).toBeLessThan(10_000);
            // A notification for another sweep does not end the wait: it runs to its timeout.
            const started = performance.now();
            const wait = s.waitForChange(sweep.id, 1_500);
            await admin.query(`SELECT pg_notify('regsweep', $1)`, [String(sweep.id + 1)]);
            await wait;
            expect(performance.now() - started).toBeGreaterThan(1_400);
            expect(await other.completeTask(sweep.id, c, result(c.task), 1, 3)).toBe('recorded');
          });
        } finally {
          await other.close();
          await admin.end();
        }
      });

    it('finishes a sweep exactly once, when no task is open, with its summary, selections and notes', async () => {
      const { store } = await writable();
      const tasks = [task(0)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('summary', tasks), tasks)).sweep;
        const point = { penalty: 'l1' as const, l1Ratio: 1, settings: '', lambda: 0.5, metric: 'val_loss', folds: 1, mean: 1.5, se: 0, trainMean: 1, nnzAll: null };
        const selection = { penalty: 'l1' as const, l1Ratio: 1, settings: '', metric: 'val_loss', lambdaMin: 0.5, lambda1se: 0.5, meanMin: 1.5, seMin: 0, mean1se: 1.5, nnzMin: null, nnz1se: null, edge: null };
        let calls = 0;
        const summarize = (trials: unknown[]) => {
          calls++;
          expect(trials).toHaveLength(3);
          return { points: [point], selections: [selection], notes: ['run note'] };
        };
        expect(await s.finishSweep(sweep.id, summarize)).toBe(false);
        const [c] = await claimAll(s, sweep.id);
        await s.completeTask(sweep.id, c, result(c.task), 1, 3);
        const finished = await Promise.all([s.finishSweep(sweep.id, summarize), s.finishSweep(sweep.id, summarize)]);
        expect(finished.filter(Boolean)).toHaveLength(1);
        expect(calls).toBe(1);
        expect(await s.summary(sweep.id)).toEqual([point]);
        expect(await s.selections(sweep.id)).toEqual([selection]);
        expect(await s.findSweep({ id: sweep.id })).toMatchObject({ status: 'done', notes: ['a note', 'run note'] });
        await s.setNotes(sweep.id, ['data note']);
        expect((await s.findSweep({ id: sweep.id })).notes).toEqual(['data note', 'run note']);
      });
    });

    it('model settings as a dimension: tasks keep their settings, the same (penalty, λ, fold) is stored once per settings, summaries and selections by settings', async () => {
      const { store } = await writable();
      const variant = (settings: string, fold: number): Task => ({ ...task(fold), id: `l1/a=1/${settings}/fold=${fold}`, settings });
      const tasks = [variant('{"lr":0.01}', 0), variant('{"lr":0.03}', 0)];
      await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('settings', tasks), tasks)).sweep;
        const claims = await claimAll(s, sweep.id);
        expect(claims.map((c) => c.task.settings).sort()).toEqual(['{"lr":0.01}', '{"lr":0.03}']);
        for (const c of claims) expect(await s.completeTask(sweep.id, c, result(c.task), 1, 3)).toBe('recorded');
        const trials = await s.trials(sweep.id);
        expect(trials).toHaveLength(6);
        expect(trials.filter((t) => t.settings === '{"lr":0.03}').map((t) => t.lambda)).toEqual([1, 0.5, 0.25]);
        const coefs = await s.coefficients(sweep.id);
        expect(new Set(coefs.map((c) => c.settings))).toEqual(new Set(['{"lr":0.01}', '{"lr":0.03}']));
        const points = ['{"lr":0.01}', '{"lr":0.03}'].map((settings, k) => ({ penalty: 'l1' as const, l1Ratio: 1, settings, lambda: 0.5, metric: 'val_loss', folds: 1, mean: 1 + k, se: 0, trainMean: 1, nnzAll: null }));
        const selections = points.map((p) => ({ penalty: 'l1' as const, l1Ratio: 1, settings: p.settings, metric: 'val_loss', lambdaMin: 0.5, lambda1se: 0.5, meanMin: p.mean, seMin: 0, mean1se: p.mean, nnzMin: null, nnz1se: null, edge: null }));
        expect(await s.finishSweep(sweep.id, () => ({ points, selections, notes: [] }))).toBe(true);
        expect(await s.summary(sweep.id)).toEqual(points);
        expect(await s.selections(sweep.id)).toEqual(selections);
      });
    });

    it('a store opened for reading refuses SQL that writes, and reads what the writer committed', async () => {
      const { location, store } = await writable();
      const tasks = [task(0)];
      const sweepId = await use(store, async (s) => {
        const sweep = (await s.createSweep(newSweep('ro', tasks), tasks)).sweep;
        const [c] = await claimAll(s, sweep.id);
        await s.completeTask(sweep.id, c, result(c.task), 1, 3);
        return sweep.id;
      });
      await use(await openStore(location, { mode: 'read' }), async (s) => {
        for (const statement of ['DELETE FROM trials', 'DROP TABLE trials', 'UPDATE sweeps SET name = 1', "INSERT INTO tasks (sweep_id, task_id, status) VALUES (1, 'x', 'done')"])
          await expect(s.readOnlyQuery(statement, { timeoutMs: 10_000 })).rejects.toThrow(UserError);
        expect(await s.readOnlyQuery(`SELECT count(*) AS n FROM trials WHERE sweep_id = ${sweepId}`, { timeoutMs: 10_000 })).toEqual([{ n: 3 }]);
        await expect(s.readOnlyQuery('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c', { timeoutMs: 500 })).rejects.toThrow(/stopped after 0.5 s/);
        expect(await s.trialCount(sweepId)).toBe(3);
      });
    });

    it('readers in another process see whole tasks while a writer records', async () => {
      const { location, store } = await writable();
      const tasks = Array.from({ length: 40 }, (_, k) => task(k, Array.from({ length: 25 }, (_, l) => 1 / (l + 1))));
      const sweep = (await store.createSweep(newSweep('concurrent', tasks), tasks)).sweep;
      // A reader process counts trials and done tasks in one statement, over and over, until told to stop.
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
            seen.push([Number(row.trials), Number(row.done)]);
            if (seen.length === 1) console.log('ready');
            await s.close();
            await new Promise((r) => setTimeout(r, 5));
          }
          console.log(JSON.stringify(seen));
          process.exit(0);`],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let out = '';
      reader.stdout.on('data', (b) => (out += b));
      // The writer starts once the reader reads (a loaded machine starts a process slowly).
      while (!out.includes('ready')) await sleep(10);
      for (const c of await claimAll(store, sweep.id)) {
        await store.completeTask(sweep.id, c, result(c.task), 1, 3);
        await sleep(25);
      }
      reader.stdin.write('stop\n');
      await new Promise((r) => reader.once('exit', r));
      await store.close();
      const seen = JSON.parse(out.split('\n').filter(Boolean).at(-1)!) as [number, number][];
      expect(seen.length).toBeGreaterThan(2);
      for (const [trials, done] of seen) expect(trials).toBe(25 * done);
    });

    it(impl.shared ? 'several processes may write one sweep' : 'refuses to begin writing a sweep that another live process is writing; a gone writer leaves it interrupted', async () => {
      const { location, store } = await writable();
      const { sweep } = await store.createSweep(newSweep('owned', [task(0)]), [task(0)]);
      await store.setSweepStatus(sweep.id, 'interrupted');
      await store.close();
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
        if (impl.shared) await s.beginWriting(sweep.id);
        else await expect(s.beginWriting(sweep.id)).rejects.toThrow(new RegExp(`sweep "owned" is being run by process ${other.pid}`));
        other.kill('SIGKILL');
        await new Promise((r) => other.once('exit', r));
        if (!impl.shared) expect((await s.findSweep({ id: sweep.id })).status).toBe('interrupted');
        await s.beginWriting(sweep.id);
      });
    });

    it('a missing location for reading is a user error; a file store deleted under a writer is an outside failure', async () => {
      const location = await impl.location();
      if (!impl.shared) await expect(openStore(location, { mode: 'read' })).rejects.toThrow(UserError);
      const { store } = await writable();
      await use(store, async (s) => {
        await s.ensureIntact();
        if (!impl.shared) {
          const { rmSync } = await import('node:fs');
          rmSync(s.location);
          await expect(s.ensureIntact()).rejects.toThrow(OutsideError);
        }
      });
    });
  });
}

