// The helper thread of gramHelper.ts: the kernels on the caller's shared memory, one Gram share at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { GRAM_SHARE_FIELDS, runGramShare, type GramShare } from '../src/fitting/kernels/gramShare.js';
import { kernelsOf } from '../src/fitting/kernels/native.js';
import { HelperState, STATE } from './gramHelper.js';
import { nativeKernels } from './kernelContext.js';

const { module, memory, control, native } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; native: boolean };
// The same Gram kernel as the thread it helps (native or not), so that a column's bits do not depend on the thread.
const kernels = kernelsOf(new WebAssembly.Instance(module, { env: { memory } }), native ? nativeKernels() : undefined);
// The control words sit below any later growth of the memory, so this view stays valid.
const c = new Int32Array(memory.buffer, control, 1 + GRAM_SHARE_FIELDS.length);
Atomics.store(c, STATE, HelperState.idle);
parentPort!.postMessage('ready');

for (;;) {
  Atomics.wait(c, STATE, HelperState.idle);
  const state = Atomics.load(c, STATE);
  if (state === HelperState.stopping) break;
  if (state !== HelperState.working) continue;
  const share = Object.fromEntries(GRAM_SHARE_FIELDS.map((f, k) => [f, c[1 + k]])) as unknown as GramShare;
  runGramShare(kernels, share);
  Atomics.store(c, STATE, HelperState.idle);
  Atomics.notify(c, STATE);
}
