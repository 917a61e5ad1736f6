// The helper thread of gramHelper.ts: the kernels on the caller's shared memory, one Gram share at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { kernelsOf, runGramShare, type GramShare } from '../kernels/wasm/heap.js';
import { FIELDS, HelperState, STATE } from './gramHelper.js';

const { module, memory, control, native } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; native: boolean };
// The same Gram kernel as the thread it helps (native or not), so that a column's bits do not depend on the thread.
const kernels = kernelsOf(new WebAssembly.Instance(module, { env: { memory } }), native);
// The control words sit below any later growth of the memory, so this view stays valid.
const c = new Int32Array(memory.buffer, control, 1 + FIELDS.length);
Atomics.store(c, STATE, HelperState.idle);
parentPort!.postMessage('ready');

for (;;) {
  Atomics.wait(c, STATE, HelperState.idle);
  const state = Atomics.load(c, STATE);
  if (state === HelperState.stopping) break;
  if (state !== HelperState.working) continue;
  const share = Object.fromEntries(FIELDS.map((f, k) => [f, c[1 + k]])) as unknown as GramShare;
  runGramShare(kernels, share);
  Atomics.store(c, STATE, HelperState.idle);
  Atomics.notify(c, STATE);
}
