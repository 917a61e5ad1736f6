// Piscina worker: the shared data arrive once in workerData; each call runs a batch of paths on this thread's kernels.
import Piscina from 'piscina';
import type { TaskOutcome } from '../src/domain.js';
import { fitTask, type BatchMessage, type SharedData } from '../src/fitting/fitTask.js';
import { startGramHelper } from './gramHelper.js';
import { threadKernelContext } from './kernelContext.js';

const shared = Piscina.workerData as SharedData;
const context = threadKernelContext();
let helper: Promise<unknown> | undefined;

export default async function runBatch(message: BatchMessage): Promise<TaskOutcome[]> {
  const { tasks, gramHelper, ...settings } = message;
  // Started once and kept: it ends with this worker. Without it (a thread that would not start) the results are
  // the same, only the Gram blocks take one thread.
  if (gramHelper) await (helper ??= startGramHelper(context).catch(() => undefined));
  // A path that throws fails alone; the others of the batch are still returned. Results are copied back, not
  // transferred: a transfer detaches buffers, which costs this thread its optimized code (docs/performance.md, "JIT").
  return tasks.map((task) => {
    try {
      return fitTask(context, shared, task, settings);
    } catch (e) {
      return { taskId: task.id, error: e instanceof Error ? e.message : String(e) };
    }
  });
}
