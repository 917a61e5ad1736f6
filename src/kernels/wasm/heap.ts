import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { builtPath } from '../../builtFile.js';
import { KERNELS_FUSED_WASM_BASE64, KERNELS_PLAIN_WASM_BASE64 } from './kernels.wasm.js';

/** The exported functions of kernels.wat; pointers are byte offsets into its memory. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  gram(c: number, m: number, x: number, K: number, means: number, n: number, ld: number, out: number): void;
  gramStaged(c: number, m: number, xs: number, K: number, n: number, out: number): void;
  axpy(y: number, x: number, a: number, keep: number, len: number): void;
  subtract(y: number, a: number, len: number): void;
  cdPass(
    list: number, count: number, beta: number, grad: number, variance: number, colOf: number,
    l1: number, l2: number, p: number, activeOnly: number, pending: number,
  ): number;
  dot(x: number, y: number, w: number, len: number): number;
  nextViolator(g: number, keep: number, from: number, p: number, l1: number): number;
  gather(dst: number, src: number, idx: number, count: number): void;
}

/**
 * gramStaged over partners [first, end) of the i32 list at byte offset `list` (first and end even), the sums of
 * partner s added to doubles `out + s·m4`: a LazyGram block, which two threads can share. The partners go in groups
 * of `group`, each group over all `chunks` row chunks in order (chunk c's block columns at byte offset
 * `block + c·blockStep`, its partner list at `list + c·listStep`, `rows` rows each but the last, of `lastRows`; all
 * even). Each thread takes the next group from the i32 counter at byte offset `counter` until none is left, so a
 * group's sums are made by one thread in the same order as by one thread alone.
 */
export interface GramShare {
  block: number;
  m4: number;
  list: number;
  first: number;
  end: number;
  group: number;
  rows: number;
  out: number;
  chunks: number;
  blockStep: number;
  listStep: number;
  lastRows: number;
  counter: number;
}

/** Another thread running kernels on this heap's (shared) memory; pool/gramHelper.ts makes one. */
export interface KernelHelper {
  /** Starts the helper on a shared block (runGramShare); false when it is busy or not ready. */
  start(share: GramShare): boolean;
  /** Returns once the helper has no group left to take and has finished the ones it took. */
  wait(): void;
  /** Whether the share it was last started on is finished (no wait). */
  done(): boolean;
}

/** Takes groups of a Gram block until none is left (the helper thread and LazyGram both call it on the same share). */
export function runGramShare(kernels: Pick<KernelExports, 'gramStaged' | 'memory'>, s: GramShare): void {
  const counter = new Int32Array(kernels.memory.buffer, s.counter, 1);
  for (;;) {
    const first = s.first + Atomics.add(counter, 0, 1) * s.group;
    if (first >= s.end) return;
    const K = Math.min(s.group, s.end - first);
    for (let c = 0; c < s.chunks; c++) {
      const rows = c === s.chunks - 1 ? s.lastRows : s.rows;
      kernels.gramStaged(s.block + c * s.blockStep, s.m4, s.list + c * s.listStep + first * 4, K, rows, (s.out + first * s.m4) * 8);
    }
  }
}

/** gramStaged's fixed distance between staged columns, in doubles (STAGED_STRIDE in kernels.wat). */
export const STAGED_STRIDE = 2056;

const compiled = new Map<boolean, { module: WebAssembly.Module; fused: boolean }>();
/**
 * The kernels with fused multiply-adds when the engine accepts relaxed SIMD, else the plain-SIMD build. Node 20's
 * V8 has relaxed SIMD complete but behind a flag (Node 22 ships it on), so the flag is set first where needed; its
 * fused multiply-add gives the Gram kernel about a third more speed on CPUs with FMA.
 */
function kernelModule(fused: boolean): { module: WebAssembly.Module; fused: boolean } {
  const known = compiled.get(fused);
  if (known) return known;
  const fusedBinary = Buffer.from(KERNELS_FUSED_WASM_BASE64, 'base64');
  if (fused && !WebAssembly.validate(fusedBinary)) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // No such flag: the plain build below.
    }
  }
  const useFused = fused && WebAssembly.validate(fusedBinary);
  const module = new WebAssembly.Module(useFused ? fusedBinary : Buffer.from(KERNELS_PLAIN_WASM_BASE64, 'base64'));
  compiled.set(fused, { module, fused: useFused });
  return { module, fused: useFused };
}

type NativeGram = (memory: Uint8Array, c: number, m: number, xs: number, K: number, n: number, out: number) => void;
type NativeGather = (X: Float64Array, rows: Int32Array, memory: Uint8Array, from: number, r0: number, count: number, at: number, mean: number) => void;
type NativeCdPass = (memory: Uint8Array, ...args: Parameters<KernelExports['cdPass']>) => number;
interface NativeKernels {
  gramStaged: NativeGram;
  gatherCentered: NativeGather;
  cdPass: NativeCdPass;
}
let native: NativeKernels | null | undefined;
/**
 * The native kernels (native/gram.c, built by `npm run build` when a C compiler is there): gramStaged with 256-bit
 * AVX2 vectors, twice the multiply-adds per instruction of the WebAssembly kernel; the gather of a fold's rows that
 * stages partner columns; and cdPass, whose gradient axpys take four entries per instruction (the same bits as the
 * WebAssembly cdPass). Undefined when they were not built, when the CPU lacks AVX2 or FMA (the module then exports
 * nothing), or with REGSWEEP_NATIVE=0.
 */
function nativeKernels(): NativeKernels | undefined {
  if (native === undefined) {
    native = null;
    const file = builtPath(join('native', 'gram.node'));
    if (process.env.REGSWEEP_NATIVE !== '0' && existsSync(file)) {
      try {
        const loaded = createRequire(import.meta.url)(file) as Partial<NativeKernels>;
        if (loaded.gramStaged && loaded.gatherCentered && loaded.cdPass) native = loaded as NativeKernels;
      } catch {
        // Built for another Node or machine: the WebAssembly kernels.
      }
    }
  }
  return native ?? undefined;
}

/** The memory's bytes, viewed again when it has grown (a grown shared memory comes with a new, longer buffer). */
function bytesOf(memory: WebAssembly.Memory): () => Uint8Array {
  let buffer = memory.buffer;
  let bytes = new Uint8Array(buffer);
  return () => {
    if (memory.buffer !== buffer) bytes = new Uint8Array((buffer = memory.buffer));
    return bytes;
  };
}

/**
 * The kernels of an instance, with gramStaged and cdPass replaced by the native ones when there are (`useNative`).
 * Every thread on a memory must make the same choice (the helper thread asks the heap): the two Gram kernels' sums
 * differ in rounding, and a Gram column must not depend on which thread computed it. (The native cdPass gives the
 * WebAssembly one's bits.)
 */
export function kernelsOf(instance: WebAssembly.Instance, useNative: boolean): KernelExports {
  const exports = instance.exports as unknown as KernelExports;
  const native = useNative ? nativeKernels() : undefined;
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

const PAGE_DOUBLES = 65536 / 8;
/** wasm32 addresses 4 GiB. */
const MAX_DOUBLES = 65536 * PAGE_DOUBLES;
/** Offset 0 means "no keep array" to axpy, so allocations start after it. */
const RESERVED = 2;

/**
 * The SIMD kernels and the memory they work in, one per thread. Blocks are handed out by `alloc` (in doubles,
 * 16-byte aligned) and given back with `free`; the memory grows when no free block fits. Growing replaces the
 * underlying buffer, so `f64` must be read again after any `alloc`; between allocations it stays valid.
 */
export class WasmHeap {
  readonly kernels: KernelExports;
  /** The compiled kernels, for a helper thread to instantiate on `kernels.memory`. */
  readonly module: WebAssembly.Module;
  /** A second thread for the Gram blocks, when the caller has a spare core (see pool/gramHelper.ts). */
  helper: KernelHelper | undefined;
  /** Whether these kernels use fused multiply-adds (relaxed SIMD). */
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

  /** `fused: false` forces the plain-SIMD build, `native: false` the WebAssembly kernels only (tests compare them). */
  constructor({ fused = true, native = true }: { fused?: boolean; native?: boolean } = {}) {
    const chosen = kernelModule(fused);
    this.fused = chosen.fused;
    // Shared, so that a helper thread can run a kernel on the same memory (pool/gramHelper.ts); its maximum is
    // wasm32's 4 GB, reserved as address space only.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_DOUBLES / PAGE_DOUBLES, shared: true });
    this.module = chosen.module;
    const nativeOnes = native ? nativeKernels() : undefined;
    this.native = nativeOnes !== undefined;
    this.kernels = kernelsOf(new WebAssembly.Instance(chosen.module, { env: { memory } }), this.native);
    const bytes = bytesOf(memory);
    this.gatherCentered = nativeOnes && ((X, from, rows, r0, count, at, mean) => nativeOnes.gatherCentered(X, rows, bytes(), from, r0, count, at * 8, mean));
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

let heap: WasmHeap | undefined;
/** This thread's heap, made on first use. */
export function wasmHeap(): WasmHeap {
  heap ??= new WasmHeap();
  return heap;
}
