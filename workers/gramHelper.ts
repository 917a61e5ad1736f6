import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { builtFile } from '../src/builtFile.js';
import type { KernelContext } from '../src/fitting/context.js';
import { GRAM_SHARE_FIELDS, type KernelHelper } from '../src/fitting/kernels/gramShare.js';

/** Control words in the shared kernel memory: the state, then a GramShare's fields in GRAM_SHARE_FIELDS order. */
export const STATE = 0;
export const enum HelperState {
  /** The zero the shared memory starts with. @public */
  starting = 0,
  idle = 1,
  working = 2,
  stopping = 3,
}
const WORDS = 1 + GRAM_SHARE_FIELDS.length;

/**
 * A second thread for this context's Gram blocks (LazyGram splits each chunk's partners with it), for a caller that
 * has a core to spare: a single path run in-process, a sweep with fewer paths than workers. The helper instantiates
 * the same kernels on the same shared memory; the two threads hand over a share through Atomics on a few words of
 * that memory, with no message per block. Resolves once the helper is ready and set as `context.helper`; `stop()`
 * ends it.
 */
export async function startGramHelper(context: KernelContext): Promise<{ stop: () => Promise<void> }> {
  const { heap } = context;
  if (context.helper) throw new Error('this kernel context already has a helper thread');
  const words = heap.alloc(Math.ceil(WORDS / 2));
  const control = () => new Int32Array(heap.kernels.memory.buffer, words * 8, WORDS);
  control().fill(0);
  const worker = new Worker(builtFile(join('workers', 'gramHelperThread.js')), { workerData: { module: heap.module, memory: heap.kernels.memory, control: words * 8, native: heap.native } });
  worker.unref();
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  await Promise.race([new Promise((resolve) => worker.once('message', resolve)), failed]);

  const helper: KernelHelper = {
    start(share) {
      const c = control();
      if (Atomics.load(c, STATE) !== HelperState.idle) return false;
      GRAM_SHARE_FIELDS.forEach((f, k) => (c[1 + k] = share[f]));
      Atomics.store(c, STATE, HelperState.working);
      Atomics.notify(c, STATE);
      return true;
    },
    wait() {
      const c = control();
      while (Atomics.load(c, STATE) === HelperState.working) Atomics.wait(c, STATE, HelperState.working);
    },
    done: () => Atomics.load(control(), STATE) !== HelperState.working,
  };
  context.helper = helper;
  return {
    stop: async () => {
      context.helper = undefined;
      // A share still running (a block computed ahead) finishes first, so that no caller waits on it forever.
      helper.wait();
      const c = control();
      Atomics.store(c, STATE, HelperState.stopping);
      Atomics.notify(c, STATE);
      await worker.terminate();
      heap.release(words);
    },
  };
}
