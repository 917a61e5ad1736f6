import type { KernelExports } from './exports.js';

type NativeGram = (memory: Uint8Array, c: number, m: number, xs: number, K: number, n: number, out: number) => void;
type NativeGather = (X: Float64Array, rows: Int32Array, memory: Uint8Array, from: number, r0: number, count: number, at: number, mean: number) => void;
type NativeCdPass = (memory: Uint8Array, ...args: Parameters<KernelExports['cdPass']>) => number;

/**
 * The C kernels of native/gram.c (AVX2, N-API), loaded by the thread (workers/kernelContext.ts): gramStaged with
 * 256-bit vectors, the gather of a fold's rows that stages partner columns, and cdPass (the same bits as the
 * WebAssembly cdPass). They work on the WebAssembly kernel memory directly.
 */
export interface NativeKernels {
  gramStaged: NativeGram;
  gatherCentered: NativeGather;
  cdPass: NativeCdPass;
  /** Transparent huge pages (madvise) for `memory`'s bytes, or the first `pages` 64 KB pages from its start when more; whether taken. */
  adviseHugePages: (memory: Uint8Array, pages: number) => boolean;
}

/** The memory's bytes, viewed again when it has grown (a grown shared memory comes with a new, longer buffer). */
export function bytesOf(memory: WebAssembly.Memory): () => Uint8Array {
  let buffer = memory.buffer;
  let bytes = new Uint8Array(buffer);
  return () => {
    if (memory.buffer !== buffer) bytes = new Uint8Array((buffer = memory.buffer));
    return bytes;
  };
}

/**
 * The kernels of an instance, with gramStaged and cdPass replaced by the native ones when given. Every thread on a
 * memory must make the same choice (the helper thread is told the heap's): the two Gram kernels' sums differ in
 * rounding, and a Gram column must not depend on which thread computed it.
 */
export function kernelsOf(instance: WebAssembly.Instance, native: NativeKernels | undefined): KernelExports {
  const exports = instance.exports as unknown as KernelExports;
  if (!native) return exports;
  const bytes = bytesOf(exports.memory);
  const { gramStaged, cdPass } = native;
  return {
    ...exports,
    gramStaged: (c, m, xs, K, n, out) => gramStaged(bytes(), c, m, xs, K, n, out),
    cdPass: (list, count, beta, grad, variance, colOf, l1, l2, p, activeOnly, pending) =>
      cdPass(bytes(), list, count, beta, grad, variance, colOf, l1, l2, p, activeOnly, pending),
  };
}
