// Piscina worker: the shared data arrive once in workerData; each call runs a batch of paths on this thread's kernels.
import Piscina from 'piscina';
import type { TaskOutcome } from '../src/domain.js';
import type { BatchMessage, SharedData } from '../src/fitting/fitTask.js';
import { runBatch } from './batch.js';
import { startGramHelper } from './gramHelper.js';
import { threadKernelContext } from './kernelContext.js';

const shared = Piscina.workerData as SharedData;
const context = threadKernelContext();
let helper: Promise<unknown> | undefined;

/** A batch's outcomes and the seconds this thread spent on them (not counting the time it waited in the queue). */
export default async function runPoolBatch(message: BatchMessage): Promise<{ outcomes: TaskOutcome[]; seconds: number }> {
  // Started once and kept: it ends with this worker. Without it (a thread that would not start) the results are
  // the same, only the Gram blocks take one thread. Results are copied back, not transferred: a transfer detaches
  // buffers, which costs this thread its optimized code (docs/performance.md, "JIT").
  if (message.gramHelper) await (helper ??= startGramHelper(context).catch(() => undefined));
  const started = performance.now();
  const outcomes = runBatch(context, shared, message);
  return { outcomes, seconds: (performance.now() - started) / 1000 };
}
