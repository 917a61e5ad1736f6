// Running a sweep's tasks on a worker pool and recording each as it comes back. A failing store stops the run with
// its cause; no task is recorded as failed for a cause that was not its own.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArrayTaskQueue, Piscina } from 'piscina';
import { builtFile } from '../builtFile.js';
import type { Batch, Task, TaskOutcome } from '../domain.js';
import type { BatchMessage, FitSettings, SharedData } from '../fitting/fitTask.js';
import { scheduleBatches, threadsFor } from '../plan/schedule.js';
import type { Store } from '../store/contract.js';

export interface BatchRunInput {
  store: Store;
  sweepId: number;
  tasks: Task[];
  shared: SharedData;
  settings: FitSettings;
  workers: number;
  /** Whether a fold's paths share Gram columns (then a fold is one batch). */
  covariance: boolean;
  signal?: AbortSignal;
  log: (message: string) => void;
  /** After a batch is recorded. */
  onBatch: (batch: Batch) => void;
}

export interface BatchRun {
  tasksPlanned: number;
  tasksRun: number;
  tasksFailed: number;
  /** Stopped by the user (Ctrl-C, SIGTERM). */
  interrupted: boolean;
  /** Stopped because the store failed: the cause, said once. */
  stoppedBy?: Error;
  gramHelper: boolean;
}

/** Records of batches whose write failed once, tried again before the run gives up (a lock may have been released). */
interface Unwritten {
  batch: Batch;
  outcomes: TaskOutcome[];
}

export async function runBatches(input: BatchRunInput): Promise<BatchRun> {
  const { store, sweepId, tasks, shared, settings, log } = input;
  const batches = scheduleBatches(tasks, input.workers, input.covariance);
  const { threads, gramHelper } = threadsFor(batches.length, input.workers, input.covariance);
  const cores = availableParallelism();
  if (input.workers > cores)
    log(`warning: workers: ${input.workers} on ${cores} cores; more threads than cores only take more memory (starting ${threads}: no more than there are batches of tasks)`);
  const result: BatchRun = { tasksPlanned: tasks.length, tasksRun: 0, tasksFailed: 0, interrupted: false, gramHelper };
  if (batches.length === 0) return result;
  const pool = new Piscina({
    filename: pathToFileURL(builtFile(join('workers', 'piscinaEntry.js'))).href,
    maxThreads: threads,
    minThreads: threads,
    idleTimeout: 1000,
    // The order scheduleBatches chose is the order workers pick tasks up in: a plain FIFO, and a task the pool could
    // not hand out yet goes back to the head of the queue, not (piscina's default) to its tail.
    taskQueue: new ArrayTaskQueue(),
    stricterFIFO: true,
    workerData: shared,
  });
  let stopping = false;
  // A worker that finishes while the pool is being destroyed answers a task the pool has dropped; piscina reports
  // that as an error event, which is expected then.
  pool.on('error', (e: Error) => {
    if (!stopping) log(`warning: worker pool: ${e.message}`);
  });
  const unwritten: Unwritten[] = [];
  // No abort signal on the tasks themselves: piscina queues signalled tasks apart, last in first out, which would
  // undo scheduleBatches. Stopping destroys the pool instead; queued and running tasks then reject, and are not
  // recorded (a resumed run does them).
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void pool.destroy();
  };
  const onAbort = () => {
    result.interrupted = true;
    stop();
  };
  if (input.signal?.aborted) onAbort();
  input.signal?.addEventListener('abort', onAbort, { once: true });

  const record = async (batch: Batch, outcomes: TaskOutcome[]) => {
    for (let k = 0; k < batch.length; k++) {
      // Once the store has failed, later results wait for the one more try at the end instead of each timing out.
      if (result.stoppedBy && !retrying) throw result.stoppedBy;
      await store.recordTask(sweepId, batch[k], outcomes[k], shared.outputs);
    }
    await store.ensureIntact();
  };
  let retrying = false;
  try {
    await Promise.all(
      batches.map(async (batch) => {
        let outcomes: TaskOutcome[];
        try {
          outcomes = (await pool.run({ tasks: batch, gramHelper, ...settings } satisfies BatchMessage)) as TaskOutcome[];
        } catch (e) {
          if (stopping) return;
          // A worker that dies (out of memory, a crash in native code) fails its whole batch; the sweep goes on and a
          // resume runs it again.
          outcomes = batch.map((task) => ({ taskId: task.id, error: e instanceof Error ? e.message : String(e) }));
        }
        if (result.stoppedBy) {
          unwritten.push({ batch, outcomes });
          return;
        }
        try {
          await record(batch, outcomes);
        } catch (e) {
          // The store failed, not the task: keep the results to try once more, and stop handing out work.
          unwritten.push({ batch, outcomes });
          result.stoppedBy ??= e as Error;
          stop();
          return;
        }
        result.tasksRun += batch.length;
        for (const [k, o] of outcomes.entries())
          if ('error' in o) {
            result.tasksFailed++;
            log(`task ${batch[k].id} failed: ${o.error}`);
          }
        input.onBatch(batch);
      }),
    );
  } finally {
    input.signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
  }
  // Results computed before the store failed are written once more: a lock may be gone by now. What still fails is
  // computed again on resume.
  if (result.stoppedBy) {
    retrying = true;
    for (const u of unwritten) {
      try {
        await record(u.batch, u.outcomes);
        result.tasksRun += u.batch.length;
      } catch {
        break;
      }
    }
  }
  return result;
}
