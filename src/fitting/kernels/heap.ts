import type { KernelExports } from './exports.js';
import { bytesOf, kernelsOf, type NativeKernels } from './native.js';

export type { KernelExports };
export { runCdPass, type CdPassLayout } from './exports.js';

const PAGE_DOUBLES = 65536 / 8;
/** wasm32 addresses 4 GiB. */
const MAX_DOUBLES = 65536 * PAGE_DOUBLES;
/** Offset 0 means "no keep array" to axpy, so allocations start after it. */
const RESERVED = 2;

/** What a heap is made from: the compiled kernels and, where they were built and load, the native ones. */
export interface HeapSource {
  module: WebAssembly.Module;
  /** Whether `module` is the build with fused multiply-adds (relaxed SIMD). */
  fused: boolean;
  native?: NativeKernels;
}

/**
 * The SIMD kernels and the memory they work in, one per thread. Blocks are handed out by `alloc` (in doubles,
 * 16-byte aligned) and given back with `release`; the memory grows when no free block fits. Growing replaces the
 * underlying buffer, so `f64` must be read again after any `alloc`; between allocations it stays valid.
 */
export class WasmHeap {
  readonly kernels: KernelExports;
  /** The compiled kernels, for a helper thread to instantiate on `kernels.memory`. */
  readonly module: WebAssembly.Module;
  readonly fused: boolean;
  /** Whether gramStaged and cdPass are the native AVX2 kernels (a helper thread on this memory makes the same choice). */
  readonly native: boolean;
  /**
   * With the native kernels: X[from + rows[r0 + i]] − mean for i < count into the memory from double `at` (the
   * WebAssembly way: a JavaScript gather, then `subtract`; the same bits).
   */
  readonly gatherCentered: ((X: Float64Array, from: number, rows: Int32Array, r0: number, count: number, at: number, mean: number) => void) | undefined;
  f64: Float64Array;
  /** Free blocks as start → length, in doubles. */
  private readonly free = new Map<number, number>();
  private readonly sizes = new Map<number, number>();

  constructor({ module, fused, native }: HeapSource) {
    // Shared, so that a helper thread can run a kernel on the same memory; its maximum is wasm32's 4 GB, reserved as
    // address space only.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_DOUBLES / PAGE_DOUBLES, shared: true });
    this.module = module;
    this.fused = fused;
    this.native = native !== undefined;
    this.kernels = kernelsOf(new WebAssembly.Instance(module, { env: { memory } }), native);
    const bytes = bytesOf(memory);
    // The whole reservation, before any page of it is written: a fresh thread's first paths wrote tens of MB here
    // a 4 KB page fault at a time.
    native?.adviseHugePages(bytes(), MAX_DOUBLES / PAGE_DOUBLES);
    this.gatherCentered = native && ((X, from, rows, r0, count, at, mean) => native.gatherCentered(X, rows, bytes(), from, r0, count, at * 8, mean));
    const size = this.kernels.memory.buffer.byteLength / 8;
    this.free.set(RESERVED, size - RESERVED);
    this.f64 = new Float64Array(this.kernels.memory.buffer);
  }

  /** Start (in doubles) of a fresh block of `count` doubles; its contents are not cleared. */
  alloc(count: number): number {
    const size = Math.max(2, count + (count & 1));
    for (const [start, length] of this.free) {
      if (length < size) continue;
      this.free.delete(start);
      if (length > size) this.free.set(start + size, length - size);
      this.sizes.set(start, size);
      return start;
    }
    const before = this.f64.length;
    // The free block at the end of memory (if any) is extended rather than left behind.
    let tailStart = before;
    for (const [start, length] of this.free) if (start + length === before) tailStart = start;
    const needed = Math.ceil((tailStart + size - before) / PAGE_DOUBLES);
    const room = (MAX_DOUBLES - before) / PAGE_DOUBLES;
    if (needed > room) {
      throw new RangeError(`kernel memory: ${((count * 8) / 2 ** 20).toFixed(0)} MB more would exceed the 4 GB WebAssembly limit`);
    }
    // Grown by half at least (fewer, larger steps; pages not yet written cost no memory), never past the limit.
    const pages = Math.min(room, Math.max(needed, Math.ceil(before / 2 / PAGE_DOUBLES)));
    this.kernels.memory.grow(pages);
    this.f64 = new Float64Array(this.kernels.memory.buffer);
    this.free.delete(tailStart);
    this.free.set(tailStart, this.f64.length - tailStart);
    return this.alloc(count);
  }

  release(start: number): void {
    const size = this.sizes.get(start);
    if (size === undefined) return;
    this.sizes.delete(start);
    let begin = start;
    let length = size;
    // Merge with the free neighbours so large blocks can be handed out again.
    const after = this.free.get(start + size);
    if (after !== undefined) {
      this.free.delete(start + size);
      length += after;
    }
    for (const [s, l] of this.free) {
      if (s + l === start) {
        this.free.delete(s);
        begin = s;
        length += l;
        break;
      }
    }
    this.free.set(begin, length);
  }
}
