// The work queue under load: many processes' worth of connections claiming and completing tiny tasks on one
// PostgreSQL sweep at once. Used by `npm run bench -- distributed` (claim throughput) and by a bounded test (no task
// lost or done twice).
import { packRows } from '../src/util/coefficientRows.js';
import pg from 'pg';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/contract.js';
import type { Task, TaskResult } from '../src/domain.js';

export interface ClaimStress {
  tasks: number;
  claimers: number;
  seconds: number;
  /** Tasks claimed and recorded per second, over all claimers. */
  throughput: number;
  /** Claims that recorded a result (each task exactly once when nothing was lost or doubled). */
  recorded: number;
  /** Tasks recorded twice (must be 0). */
  doubled: number;
  /** Tasks never recorded (must be 0). */
  lost: number;
  /** Trial rows in the store (must equal the tasks: one λ each). */
  trialRows: number;
}

const tinyResult = (task: Task): TaskResult => ({
  taskId: task.id,
  trials: [
    {
      lambda: task.lambdas[0], status: 'ok', converged: true, error: null, trainLoss: 1, valLoss: 1, nTrain: 1, nVal: 1, nnz: 0, zeroFraction: 1,
      nearZeroFraction: 1, l1Norm: 0, l2Norm: 0, passes: 1, epochsRun: 0, seconds: 0, metrics: {},
    },
  ],
  coefficients: packRows(new Float64Array(1), 1),
  intercepts: new Float64Array(1),
});

/**
 * `claimers` stores (one connection each) claim one task at a time and record it until none is left. With `workMs`,
 * each task "runs" for that long as pg_sleep on a connection of its own: work that takes no CPU of this machine, so
 * that what limits completions is the queue's coordination, not this 2-core machine's processors.
 */
export async function claimStress(url: string, tasks: number, claimers: number, workMs = 0): Promise<ClaimStress> {
  const setup = await openStore(url, { mode: 'write' });
  const planned: Task[] = Array.from({ length: tasks }, (_, k) => ({ id: `l1/a=1/fold=${k}`, penalty: 'l1', l1Ratio: 1, fold: k, lambdas: [1] }));
  const { sweep } = await setup.createSweep(
    {
      name: `claims-${tasks}x${claimers}`, configJson: '{}', configHash: 'stress', dataHash: 'stress', n: 1, p: 1, modelKind: 'linear',
      featureNames: ['x'], targetNames: ['y'], classes: null,
      encoding: null, featureScales: null, totalTasks: tasks, totalTrials: tasks, notes: [],
    },
    planned,
  );
  const stores: Store[] = [];
  for (let k = 0; k < claimers; k++) stores.push(await openStore(url, { mode: 'write' }));
  const workers: pg.Client[] = [];
  if (workMs > 0)
    for (let k = 0; k < claimers; k++) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      workers.push(client);
    }
  const recordedBy = new Map<string, number>();
  const started = performance.now();
  await Promise.all(
    stores.map(async (store, k) => {
      const owner = `stress:${k}`;
      for (;;) {
        const [batch] = await store.claimBatches(sweep.id, { owner, leaseMs: 60_000, bundleFolds: false, batches: 1 });
        if (!batch) return;
        for (const claim of batch) {
          if (workMs > 0) await workers[k].query('SELECT pg_sleep($1)', [workMs / 1000]);
          if ((await store.completeTask(sweep.id, claim, tinyResult(claim.task), 1, 1)) === 'recorded')
            recordedBy.set(claim.task.id, (recordedBy.get(claim.task.id) ?? 0) + 1);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const trialRows = await setup.trialCount(sweep.id);
  for (const s of stores) await s.close();
  for (const w of workers) await w.end();
  await setup.close();
  const counts = [...recordedBy.values()];
  return {
    tasks,
    claimers,
    seconds,
    throughput: tasks / seconds,
    recorded: counts.reduce((a, b) => a + b, 0),
    doubled: counts.filter((c) => c > 1).length,
    lost: tasks - recordedBy.size,
    trialRows,
  };
}
