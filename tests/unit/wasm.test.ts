import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STAGED_STRIDE } from '../../src/fitting/kernels/gramShare.js';
import { WasmHeap as Heap, type KernelExports } from '../../src/fitting/kernels/heap.js';
import { KERNELS_FUSED_WASM_BASE64, KERNELS_PLAIN_WASM_BASE64 } from '../../src/fitting/kernels/wasm/kernels.wasm.js';
import { columnStats } from '../../src/fitting/shared/columnStats.js';
import { LazyGram } from '../../src/fitting/shared/lazyGram.js';
import { pathPredictions } from '../../src/fitting/shared/predict.js';
import { createKernelContext, heapSource } from '../../workers/kernelContext.js';

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

describe('WebAssembly kernels', () => {
  it('the committed binaries are the compiled kernels.wat, with and without relaxed SIMD', async () => {
    // @ts-expect-error plain ESM build script without type declarations
    const { compileKernels, withoutRelaxedSimd } = await import('../../scripts/build-wasm.mjs');
    expect(await compileKernels()).toEqual({ fused: KERNELS_FUSED_WASM_BASE64, plain: KERNELS_PLAIN_WASM_BASE64 });
    const source = readFileSync(new URL('../../src/fitting/kernels/wasm/kernels.wat', import.meta.url), 'utf8');
    expect(source).toContain('(func (export "gramStaged")');
    expect(source).toContain('f64x2.relaxed_madd');
    expect(withoutRelaxedSimd(source)).not.toMatch(/\(f64x2\.relaxed/);
    expect(withoutRelaxedSimd('(f64x2.relaxed_nmadd (local.get $a) (v128.load (i32.add (local.get $x) (local.get $i))) (local.get $y))')).toBe(
      '(f64x2.sub (local.get $y) (f64x2.mul (local.get $a) (v128.load (i32.add (local.get $x) (local.get $i)))))',
    );
  });

  it('the fused and the plain build compute the same Gram sums, axpy and dot products', () => {
    const fused = new WasmHeap({ native: false });
    const plain = new WasmHeap({ fused: false, native: false });
    // Node 20 gets relaxed SIMD from a V8 flag, Node 22 has it on: either way the fused build must load here.
    expect(fused.fused).toBe(true);
    expect(plain.fused).toBe(false);
    const run = (heap: WasmHeap) => {
      const rand = random(5);
      const m = 8;
      const K = 6;
      const n = 1030; // three 512-row chunks inside the kernel, the last one short
      const c = heap.alloc(m * STAGED_STRIDE);
      // Partner columns anywhere: here n + 2 apart, listed in reverse order.
      const x = heap.alloc(K * (n + 2));
      const list = heap.alloc(K);
      const out = heap.alloc(m * K);
      const y = heap.alloc(n);
      const F = heap.f64;
      const column = (k: number) => x + (K - 1 - k) * (n + 2);
      new Int32Array(F.buffer, list * 8, K).set(Array.from({ length: K }, (_, k) => column(k) * 8));
      for (let t = 0; t < m; t++) for (let i = 0; i < n; i++) F[c + t * STAGED_STRIDE + i] = rand() - 0.3;
      for (let k = 0; k < K; k++) for (let i = 0; i < n; i++) F[column(k) + i] = rand() * 2 - 1;
      for (let i = 0; i < n; i++) F[y + i] = rand();
      F.fill(0, out, out + m * K);
      heap.kernels.gramStaged(c * 8, m, list * 8, K, n, out * 8);
      const sums = Array.from(F.subarray(out, out + m * K));
      let worst = 0;
      for (let k = 0; k < K; k++) {
        for (let t = 0; t < m; t++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += F[c + t * STAGED_STRIDE + i] * F[column(k) + i];
          worst = Math.max(worst, Math.abs(sums[k * m + t] - s));
        }
      }
      heap.kernels.axpy(y * 8, column(0) * 8, 0.75, 0, n);
      const dot = heap.kernels.dot(column(0) * 8, y * 8, 0, n);
      return { sums, worst, y: Array.from(F.subarray(y, y + n)), dot };
    };
    const a = run(fused);
    const b = run(plain);
    expect(a.worst).toBeLessThan(1e-12);
    expect(b.worst).toBeLessThan(1e-12);
    for (let k = 0; k < a.sums.length; k++) expect(Math.abs(a.sums[k] - b.sums[k])).toBeLessThan(1e-12);
    for (let i = 0; i < a.y.length; i++) expect(Math.abs(a.y[i] - b.y[i])).toBeLessThan(1e-15);
    expect(Math.abs(a.dot - b.dot)).toBeLessThan(1e-12);
  });

  it('Gram columns equal the plain sums, and C_jk equals C_kj to the bit', () => {
    const rand = random(7);
    // Odd n split into row chunks of 2048, 2048 and 7 (the kernel's tail row in the last), and p not a multiple
    // of the block or pair sizes.
    const n = 4103;
    const p = 45;
    const X = Float64Array.from({ length: n * p }, () => rand() * 4 - 1 + (rand() < 0.1 ? 50 : 0));
    const weights = Float64Array.from({ length: n }, () => (rand() < 0.2 ? 0 : 1));
    const design = { X, n, p };
    const stats = columnStats(design, weights, true);
    const gram = new LazyGram(createKernelContext(), design, weights, stats);
    // Columns in an order that puts every feature both in a block and among the partners of another block.
    for (const j of [3, 40, 7, 0, 44, 21]) gram.column(j, () => Array.from({ length: p }, (_, k) => (k * 17 + j) % p));
    for (let j = 0; j < p; j++) gram.column(j);
    const C = gram.data;
    let worst = 0;
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += weights[i] * (X[j * n + i] - stats.mean[j]) * (X[k * n + i] - stats.mean[k]);
        const exact = s / (stats.weightSum * stats.scale[j] * stats.scale[k]);
        const got = C[gram.column(j) + k];
        worst = Math.max(worst, Math.abs(got - exact) / Math.max(1, Math.abs(exact)));
        expect(Object.is(got, C[gram.column(k) + j])).toBe(true);
      }
    }
    expect(worst).toBeLessThan(1e-12);
    // Without room for the centered copy of the rows, every block copies its partner columns from X: the same sums
    // in the same order, so the same numbers to the bit.
    const staged = new LazyGram(createKernelContext({ limits: { gramCacheBytes: 0 } }), design, weights, stats);
    for (let j = p - 1; j >= 0; j--) staged.column(j, () => Array.from({ length: p }, (_, k) => k));
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) expect(Object.is(staged.data[staged.column(j) + k], gram.data[gram.column(j) + k])).toBe(true);
    }
    staged.dispose();
    gram.dispose();
  });

  it('path predictions equal x_i·b_l + b0_l row by row, for chosen rows or all, over any λ range', () => {
    const rand = random(11);
    // Odd p (the kernel's tail feature), 301 rows over three staging chunks with an odd last one, 7 λ (not a
    // multiple of 4), zero coefficients among them.
    const n = 301;
    const p = 37;
    const nLambda = 7;
    const X = Float64Array.from({ length: n * p }, () => rand() * 2 - 1);
    const coefs = Float64Array.from({ length: nLambda * p }, () => (rand() < 0.3 ? 0 : rand() * 4 - 2));
    const intercepts = Float64Array.from({ length: nLambda }, () => rand() * 10);
    const rows = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 1);
    const exact = (l: number, i: number) => {
      let s = intercepts[l];
      for (let j = 0; j < p; j++) s += X[j * n + i] * coefs[l * p + j];
      return s;
    };
    for (const [chosen, first, last] of [[rows, 0, 7], [null, 2, 7], [rows, 5, 6]] as const) {
      const out = pathPredictions(new WasmHeap(), { X, n, p }, chosen, coefs, intercepts, first, last);
      const m = chosen ? chosen.length : n;
      expect(out.length).toBe((last - first) * m);
      let worst = 0;
      for (let l = first; l < last; l++) {
        for (let r = 0; r < m; r++) worst = Math.max(worst, Math.abs(out[(l - first) * m + r] - exact(l, chosen ? chosen[r] : r)));
      }
      expect(worst).toBeLessThan(1e-12);
    }
  });

  it('path predictions on one heap: rows staged once are used again only for the same rows of the same matrix', () => {
    const rand = random(12);
    const n = 257;
    const p = 21;
    const X = Float64Array.from({ length: n * p }, () => rand() * 2 - 1);
    const Y = Float64Array.from(X, (x) => -x);
    const coefs = Float64Array.from({ length: 3 * p }, () => rand() * 4 - 2);
    const intercepts = Float64Array.from({ length: 3 }, () => rand());
    const everyThird = Int32Array.from({ length: 85 }, (_, k) => 3 * k);
    // The same number of rows, other rows; and the same rows in another order.
    const shifted = Int32Array.from(everyThird, (i) => i + 1);
    const reversed = everyThird.slice().reverse();
    const heap = new WasmHeap();
    const fresh = (design: Float64Array, rows: Int32Array | null) => pathPredictions(new WasmHeap(), { X: design, n, p }, rows, coefs, intercepts, 0, 3);
    const steps: [Float64Array, Int32Array | null][] = [
      [X, everyThird], [X, everyThird], [X, shifted], [X, reversed], [Y, reversed], [X, null], [Y, null], [X, everyThird], [Y, everyThird],
    ];
    for (const [design, rows] of steps) {
      const out = pathPredictions(heap, { X: design, n, p }, rows, coefs, intercepts, 0, 3);
      const alone = fresh(design, rows);
      expect(out.length).toBe(alone.length);
      expect(out.every((v, k) => Object.is(v, alone[k]))).toBe(true);
      const m = rows ? rows.length : n;
      let s = intercepts[2];
      const i = rows ? rows[m - 1] : m - 1;
      for (let j = 0; j < p; j++) s += design[j * n + i] * coefs[2 * p + j];
      expect(out[2 * m + m - 1]).toBeCloseTo(s, 12);
    }
    // Rows beyond what stays staged (16 MB) are staged a chunk at a time, to the same values.
    const wide = 16_400;
    const W = Float64Array.from({ length: wide * 120 }, () => rand() * 2 - 1);
    const wideCoefs = Float64Array.from({ length: 120 }, () => rand());
    const big = pathPredictions(heap, { X: W, n: wide, p: 120 }, null, wideCoefs, Float64Array.of(0.5), 0, 1);
    for (const r of [0, 8191, wide - 1]) {
      let s = 0.5;
      for (let j = 0; j < 120; j++) s += W[j * wide + r] * wideCoefs[j];
      expect(big[r]).toBeCloseTo(s, 11);
    }
  });

  it('axpy updates every entry, or only those marked to keep, with odd lengths', () => {
    const heap = new WasmHeap();
    const len = 11;
    const y = heap.alloc(len);
    const x = heap.alloc(len);
    const keep = heap.alloc(len);
    const F = heap.f64;
    for (let k = 0; k < len; k++) {
      F[y + k] = k;
      F[x + k] = 2 * k + 1;
      F[keep + k] = k % 3 === 0 ? 0 : 1;
    }
    heap.kernels.axpy(y * 8, x * 8, 0.5, 0, len);
    expect(Array.from(F.subarray(y, y + len))).toEqual(Array.from({ length: len }, (_, k) => k - 0.5 * (2 * k + 1)));
    heap.kernels.axpy(y * 8, x * 8, 0.5, keep * 8, len);
    expect(Array.from(F.subarray(y, y + len))).toEqual(Array.from({ length: len }, (_, k) => k - (k % 3 === 0 ? 1 : 2) * 0.5 * (2 * k + 1)));
  });

  it('dot products, plain and weighted, for every length remainder', () => {
    const heap = new WasmHeap();
    const rand = random(3);
    for (const len of [0, 1, 2, 3, 4, 5, 6, 7, 101]) {
      const x = heap.alloc(len);
      const y = heap.alloc(len);
      const w = heap.alloc(len);
      const F = heap.f64;
      let plain = 0;
      let weighted = 0;
      for (let k = 0; k < len; k++) {
        F[x + k] = rand() - 0.5;
        F[y + k] = rand() * 3;
        F[w + k] = rand() < 0.3 ? 0 : rand();
        plain += F[x + k] * F[y + k];
        weighted += F[w + k] * F[x + k] * F[y + k];
      }
      expect(heap.kernels.dot(x * 8, y * 8, 0, len)).toBeCloseTo(plain, 13);
      expect(heap.kernels.dot(x * 8, y * 8, w * 8, len)).toBeCloseTo(weighted, 13);
    }
  });

  it('gather copies src[idx[r]] in index-list order, repeated and out-of-order indices included', () => {
    const heap = new WasmHeap();
    const src = heap.alloc(10);
    const dst = heap.alloc(6);
    const idxAt = heap.alloc(3);
    const F = heap.f64;
    for (let k = 0; k < 10; k++) F[src + k] = k * 1.5;
    const idx = new Int32Array(F.buffer, idxAt * 8, 6);
    idx.set([9, 0, 4, 4, 2, 7]);
    F.fill(-1, dst, dst + 6);
    heap.kernels.gather(dst * 8, src * 8, idxAt * 8, 5);
    expect(Array.from(F.subarray(dst, dst + 6))).toEqual([13.5, 0, 6, 6, 3, -1]);
    heap.kernels.gather(dst * 8, src * 8, idxAt * 8, 0);
    expect(F[dst]).toBe(13.5);
  });

  it('nextViolator finds the first kept feature with |g| > l1 from a start index, and p when there is none', () => {
    const heap = new WasmHeap();
    const p = 7;
    const g = heap.alloc(p);
    const keep = heap.alloc(p);
    const F = heap.f64;
    F.set([0.5, -2, 1, 3, -1.5, 1, 0.2], g);
    F.set([1, 0, 1, 1, 1, 1, 1], keep);
    const next = (from: number, l1: number) => heap.kernels.nextViolator(g * 8, keep * 8, from, p, l1);
    expect(next(0, 1)).toBe(3); // −2 is not kept; 1 is not above 1
    expect(next(4, 1)).toBe(4); // −1.5 < −1
    expect(next(5, 1)).toBe(p);
    expect(next(0, 0.4)).toBe(0);
    expect(next(0, 5)).toBe(p);
    expect(next(p, 0)).toBe(p);
  });

  it('the heap grows when nothing fits, and released blocks are handed out again', () => {
    const heap = new WasmHeap();
    const doublesBefore = heap.f64.length;
    const a = heap.alloc(doublesBefore); // more than the initial page
    expect(heap.f64.length).toBeGreaterThan(doublesBefore);
    const b = heap.alloc(100);
    expect(b >= a + doublesBefore || b + 100 <= a).toBe(true);
    heap.release(a);
    const grown = heap.f64.length;
    expect(heap.alloc(doublesBefore)).toBe(a);
    expect(heap.f64.length).toBe(grown);
  });
});
