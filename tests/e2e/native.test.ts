// The native (AVX2) kernels of native/gram.c, built by `npm run build`: the same sums and bits as the WebAssembly ones,
// and the huge pages they ask for under the kernel memory and large data.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { STAGED_STRIDE } from '../../src/fitting/kernels/gramShare.js';
import { WasmHeap as Heap, type KernelExports } from '../../src/fitting/kernels/heap.js';
import { heapSource } from '../../workers/kernelContext.js';

/** A heap on this thread's kernels; `fused: false` and `native: false` force the plainer builds. */
class WasmHeap extends Heap {
  constructor(options: { fused?: boolean; native?: boolean } = {}) {
    super(heapSource(options));
  }
}

/** Deterministic pseudo-random numbers (mulberry32) so a failure can be reproduced. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('native kernels', () => {
  it('the native Gram kernel (AVX2) gives the WebAssembly kernel\'s sums, and refuses offsets outside the memory', (context) => {
    const native = new WasmHeap();
    if (!native.native) {
      // CI's machine has the compiler and the CPU for it; elsewhere the WebAssembly kernel runs.
      if (process.env.CI) throw new Error('the native Gram kernel was not built (see scripts/build-native.mjs)');
      context.skip();
    }
    const wasm = new WasmHeap({ native: false });
    const run = (heap: WasmHeap, m: number, K: number, n: number) => {
      const rand = random(m * 1000 + n);
      const c = heap.alloc(m * STAGED_STRIDE);
      const x = heap.alloc(K * (n + 2));
      const list = heap.alloc(K);
      const out = heap.alloc(m * K);
      const F = heap.f64;
      new Int32Array(F.buffer, list * 8, K).set(Array.from({ length: K }, (_, k) => (x + (K - 1 - k) * (n + 2)) * 8));
      for (let t = 0; t < m; t++) for (let i = 0; i < n; i++) F[c + t * STAGED_STRIDE + i] = rand() - 0.3;
      for (let i = 0; i < K * (n + 2); i++) F[x + i] = rand() * 2 - 1;
      F.fill(0.5, out, out + m * K); // sums are added to what is there
      heap.kernels.gramStaged(c * 8, m, list * 8, K, n, out * 8);
      return { sums: Array.from(F.subarray(out, out + m * K)), c, list, out };
    };
    // Row counts that end a 512-row chunk on 0, 2 mod 4 (the two-row tail) and a whole chunk.
    for (const [m, K, n] of [[8, 6, 1030], [4, 2, 2], [12, 16, 2048], [4, 4, 514]]) {
      const a = run(native, m, K, n);
      const b = run(wasm, m, K, n);
      for (let k = 0; k < a.sums.length; k++) expect(Math.abs(a.sums[k] - b.sums[k])).toBeLessThan(1e-12 * Math.max(1, Math.abs(b.sums[k])));
    }
    const { c, list, out } = run(native, 4, 2, 8);
    const bytes = native.f64.byteLength;
    expect(() => native.kernels.gramStaged(c * 8, 4, list * 8, 2, 8, bytes)).toThrow(/outside the kernel memory/);
    expect(() => native.kernels.gramStaged(bytes - 64, 4, list * 8, 2, 8, out * 8)).toThrow(/outside the kernel memory/);
    expect(() => native.kernels.gramStaged(c * 8, 3, list * 8, 2, 8, out * 8)).toThrow(/outside the kernel memory/);

    // The gather that stages a fold's rows: the same bits as the JavaScript gather and the kernel's subtraction.
    const rand = random(3);
    const X = Float64Array.from({ length: 3 * 101 }, () => rand() * 10 - 5);
    const rows = Int32Array.from({ length: 60 }, (_, i) => (i * 37) % 101);
    const at = native.alloc(64);
    native.gatherCentered!(X, 101, rows, 5, 50, at, 0.3125);
    for (let i = 0; i < 50; i++) expect(Object.is(native.f64[at + i], X[101 + rows[5 + i]] - 0.3125)).toBe(true);
    expect(() => native.gatherCentered!(X, 2 * 101 + 50, rows, 0, 60, at, 0)).toThrow(/a row outside X/);
    expect(() => native.gatherCentered!(X, 0, rows, 20, 50, at, 0)).toThrow(/outside its array/);
  });

  it('the native cdPass gives the WebAssembly cdPass\'s bits, over full columns, the active set only, odd p', (context) => {
    const heap = new WasmHeap();
    if (!heap.native) {
      if (process.env.CI) throw new Error('the native kernels were not built (see scripts/build-native.mjs)');
      context.skip();
    }
    const wasm = (new WebAssembly.Instance(heap.module, { env: { memory: heap.kernels.memory } }).exports as unknown as KernelExports).cdPass;
    for (const [p, activeOnly] of [[37, 0], [37, 1], [64, 0], [3, 0]]) {
      const rand = random(p * 10 + activeOnly);
      const count = Math.max(1, p - 5);
      // Kernel memory for the state and the columns: written once, then copied for each kernel's run.
      const size = 6 * p + 2 + count * p;
      const start = heap.alloc(size);
      const [list, beta, grad, variance, colOf, pending, cols] = [0, 1, 2, 3, 4, 5, 6].map((k) => start + k * p);
      const F = heap.f64;
      const ints = new Int32Array(F.buffer);
      for (let a = 0; a < count; a++) ints[list * 2 + a] = (a * 7) % p; // distinct features, out of order
      for (let k = 0; k < p; k++) {
        F[beta + k] = rand() < 0.3 ? 0 : rand() - 0.5;
        F[grad + k] = rand() * 0.4 - 0.2;
        F[variance + k] = 0.5 + rand();
        F[pending + k] = 0;
        ints[colOf * 2 + k] = (cols + (k % count) * p) * 8;
      }
      for (let i = 0; i < count * p; i++) F[cols + i] = rand() - 0.5;
      const before = Float64Array.from(F.subarray(start, start + size));
      const run = (pass: KernelExports['cdPass']) => {
        F.set(before, start);
        const changes = [0, 1, 2].map(() => pass(list * 8, count, beta * 8, grad * 8, variance * 8, colOf * 8, 0.01, 0.05, p, activeOnly, pending * 8));
        return { changes, state: Array.from(F.subarray(beta, cols)) };
      };
      const a = run(wasm);
      const b = run(heap.kernels.cdPass);
      expect(a.changes[0]).toBeGreaterThan(0);
      expect(b).toEqual(a);
      heap.release(start);
    }
  });

  it('the kernel memory and large shared data ask for transparent huge pages: filling them faults 2 MB pages, which without the native module they do not', () => {
    // A fresh process each: what its first writes to 16 MB of kernel memory and to 16 MB of shared data added to its
    // huge pages (smaps_rollup), and what the advice returned.
    const filled = (env: NodeJS.ProcessEnv) => {
      const script = `
        const { readFileSync } = await import('node:fs');
        const { heapSource } = await import(${JSON.stringify(join(ROOT, 'dist/workers/kernelContext.js'))});
        const { WasmHeap } = await import(${JSON.stringify(join(ROOT, 'dist/src/fitting/kernels/heap.js'))});
        const { sharedFloat64 } = await import(${JSON.stringify(join(ROOT, 'dist/src/data/dataset.js'))});
        const huge = () => Number(/AnonHugePages:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) / 1024;
        const source = heapSource();
        const start = huge();
        const heap = new WasmHeap(source);
        const at = heap.alloc(2 << 20);
        heap.f64.fill(1, at, at + (2 << 20));
        const kernel = huge() - start;
        sharedFloat64(2 << 20).fill(1);
        console.log(JSON.stringify({ native: source.native !== undefined, kernel, data: huge() - start - kernel }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { native: boolean; kernel: number; data: number };
    };
    const mode = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))![1];
    const advised = filled({});
    if (!advised.native && process.env.CI) throw new Error('the native module was not built (see scripts/build-native.mjs)');
    // Under "never" the kernel gives none whatever is asked; under "always" everyone gets them unasked.
    if (mode === 'never' || !advised.native) return;
    expect(advised.kernel).toBeGreaterThanOrEqual(12);
    expect(advised.data).toBeGreaterThanOrEqual(12);
    const unadvised = filled({ REGSWEEP_NATIVE: '0' });
    expect(unadvised.native).toBe(false);
    if (mode === 'madvise') expect(unadvised).toMatchObject({ kernel: 0, data: 0 });
  });
});
