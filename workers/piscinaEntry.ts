// Piscina worker: the shared data arrive once in workerData; each call runs a batch of paths.
import Piscina from 'piscina';
import type { BatchResult, SharedData, TaskMessage } from '../src/pool/protocol.js';
import { startGramHelper } from '../src/pool/gramHelper.js';
import { fitTask } from './fitTask.js';

const shared = Piscina.workerData as SharedData;

let helper: Promise<unknown> | undefined;

export default async function runBatch(message: TaskMessage) {
  const { tasks, ...settings } = message;
  // Started once and kept: it ends with this worker. Without it (a thread that would not start) the results are
  // the same, only the Gram blocks take one thread.
  if (settings.gramHelper) await (helper ??= startGramHelper().catch(() => undefined));
  // A path that throws fails alone; the others of the batch are still returned.
  const results: BatchResult = tasks.map((task) => {
    try {
      return fitTask(shared, { ...settings, task });
    } catch (e) {
      return { taskId: task.id, error: e instanceof Error ? e.message : String(e) };
    }
  });
  // Copied back, not transferred: a transfer detaches the worker's buffers, and the first detached buffer in a
  // thread throws away all its optimized typed-array code (V8's detach protector), which the JIT then compiles again
  // (measured with --trace-opt: 58 such deoptimizations in a CV sweep, 10 without). The bench's CV batch hands back
  // 1.6 MB of coefficients; structuredClone copies that in 1.4–3.3 ms.
  return results;
}
