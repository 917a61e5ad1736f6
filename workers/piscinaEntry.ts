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
  const buffers = results.flatMap((r) => ('coefs' in r ? [r.coefs.buffer, r.intercepts.buffer] : []));
  // Hand the coefficient buffers back by transfer, not by copy (piscina's Transferable interface).
  return Piscina.move({ [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: results });
}
