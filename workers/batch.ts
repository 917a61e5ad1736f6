// One batch of paths on a kernel context: what a pool thread runs, and what the main thread runs for a tiny sweep.
import type { TaskOutcome } from '../src/domain.js';
import type { KernelContext } from '../src/fitting/context.js';
import { fitTask, type BatchMessage, type SharedData } from '../src/fitting/fitTask.js';

/** A path that throws fails alone; the others of the batch are still returned. */
export function runBatch(context: KernelContext, shared: SharedData, message: BatchMessage): TaskOutcome[] {
  const { tasks, gramHelper: _gramHelper, ...settings } = message;
  return tasks.map((task) => {
    try {
      return fitTask(context, shared, task, settings);
    } catch (e) {
      return { taskId: task.id, error: e instanceof Error ? e.message : String(e) };
    }
  });
}
