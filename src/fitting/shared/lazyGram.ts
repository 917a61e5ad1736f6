import type { KernelContext } from '../context.js';
import { runGramShare, STAGED_STRIDE, type GramShare, type KernelHelper } from '../kernels/gramShare.js';
import type { WasmHeap } from '../kernels/heap.js';
import type { Design } from './design.js';
import { centerTarget, featureProducts, type ColumnStats } from './columnStats.js';

/** Columns per block, smallest and largest: a block costs one pass over X, so it grows with the active set. */
const MIN_BLOCK = 16;
const MAX_BLOCK = 64;
/** Partner columns per kernel call: their chunk stays in the L2 cache while the block goes by. */
const PARTNERS = 16;
/** Rows per call (even): the staged pieces of the block and partner columns stay small and in cache. */
const CHUNK = 2048;
/** Distance between staged columns, fixed by the kernel: room for CHUNK rows and 64 bytes more. */
const LD = STAGED_STRIDE;

/**
 * Block features in index order: storeBlock then reads each known column at increasing positions (the block's rows
 * of it, by symmetry), which the hardware prefetches, instead of at scattered ones. The order changes no value.
 */
const byIndex = (a: number, b: number) => a - b;

/** Gram storage that a forgotten LazyGram (never disposed) still gives back when it is collected. */
const unreleased = new FinalizationRegistry<{ heap: WasmHeap; blocks: number[] }>(({ heap, blocks }) => {
  for (const b of blocks) heap.release(b);
});

/**
 * Gram columns C_jk = (1/W) Σ w_i x̃_ij x̃_ik, computed only for features that become nonzero (glmnet's
 * covariance mode), a block at a time: the feature asked for plus the likeliest next ones, so the matrix is
 * streamed once per block instead of once per column. Entries whose partner column is already known are
 * copied (the matrix is symmetric) instead of recomputed. The columns live in the thread's kernel memory
 * (`heap.f64`, column of slot s at `base + s·p`), where the SIMD kernels read them.
 */
export class LazyGram {
  readonly slotOf: Int32Array;
  slots = 0;
  readonly heap: WasmHeap;
  /** Start of the p × p column store in `heap.f64` (reserved whole; pages are touched only as columns fill). */
  readonly base: number;
  private readonly block: number;
  private readonly partners: number;
  private readonly out: number;
  /** Byte offsets of the partner columns for gramStaged (i32, p + 2 of them). */
  private readonly partnerList: number;
  /** An i32: the next partner group of a block shared with the helper thread (runGramShare), reset per share. */
  private readonly counter: number;
  /** The rows with nonzero weight and their weights (their order is the sum order). */
  private readonly rows: Int32Array;
  private readonly rowWeights: Float64Array;
  /** Whether every kept row has weight 1 (folds of a CV): block columns are then plain copies. */
  private readonly unitWeights: boolean;
  /**
   * Start of the centered copy of those rows, or 0 without one: chunk r of feature k (CHUNK rows, then a zero) at
   * `cache + (r·p + k)·LD`.
   */
  private readonly cache: number = 0;
  private readonly owned: { heap: WasmHeap; blocks: number[] };
  /**
   * With a helper thread and the per-fold copy: room to compute the next likely block on the helper while this
   * thread runs coordinate descent (block columns of every chunk, one partner list per chunk, the sums), and the
   * block under way there.
   */
  private readonly ahead: { block: number; lists: number; out: number } | undefined;
  private pending: { block: number[]; todo: number[]; helper: KernelHelper; share: GramShare } | undefined;
  /** Features that are not constant: once they all have a column there is nothing left to compute ahead. */
  readonly candidates: number;

  /**
   * When the training rows fit in `context.limits.gramCacheBytes`, they are copied once per fold, centered, and every
   * block reads its partner columns there; otherwise each block copies them from X again (blocks × p × n copies in
   * all).
   */
  constructor(
    readonly context: KernelContext,
    readonly design: Design,
    readonly weights: Float64Array,
    readonly stats: ColumnStats,
  ) {
    const { n, p } = design;
    this.heap = context.heap;
    this.slotOf = new Int32Array(p).fill(-1);
    this.candidates = stats.constant.reduce((count, c) => count + (c ? 0 : 1), 0);
    const heap = this.heap;
    this.base = heap.alloc(p * p);
    this.block = heap.alloc(MAX_BLOCK * LD);
    this.partners = heap.alloc(PARTNERS * LD);
    this.out = heap.alloc((p + PARTNERS) * MAX_BLOCK);
    this.partnerList = heap.alloc((p >> 1) + 2);
    this.counter = heap.alloc(2);
    this.owned = { heap, blocks: [this.base, this.block, this.partners, this.out, this.partnerList, this.counter] };
    unreleased.register(this, this.owned, this);

    // Rows of zero weight (another fold's) add nothing to any sum: left out, they cost no work.
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (weights[i] !== 0) kept.push(i);
    this.rows = Int32Array.from(kept);
    this.rowWeights = Float64Array.from(kept, (i) => weights[i]);
    this.unitWeights = this.rowWeights.every((w) => w === 1);
    const chunks = Math.ceil(kept.length / CHUNK);
    // A sparse design's columns are computed from its nonzeros (sparseBlock): no copy of the rows.
    if (design.sparse || chunks * p * LD * 8 > context.limits.gramCacheBytes) return;
    this.cache = heap.alloc(chunks * p * LD);
    this.owned.blocks.push(this.cache);
    if (context.helper) {
      this.ahead = { block: heap.alloc(chunks * MAX_BLOCK * LD), lists: heap.alloc(chunks * ((p >> 1) + 2)), out: heap.alloc((p + PARTNERS) * MAX_BLOCK) };
      this.owned.blocks.push(this.ahead.block, this.ahead.lists, this.ahead.out);
    }
    for (let k = 0; k < p; k++) {
      if (stats.constant[k]) continue; // never a block or a partner column
      for (let r = 0, r0 = 0; r0 < kept.length; r++, r0 += CHUNK) {
        this.stageCentered(k, r0, Math.min(CHUNK, kept.length - r0), this.cache + (r * p + k) * LD);
      }
    }
  }

  /**
   * Feature k, centered, on the kept rows r0 … r0 + count − 1, into kernel memory at `at`, and a zero after them (the
   * kernel takes rows in pairs). All rows kept: a copy and a SIMD subtraction (faster than one JS loop doing
   * both); else a gather before the subtraction, both in the native kernel where there is one.
   */
  private stageCentered(k: number, r0: number, count: number, at: number): void {
    const { X, n } = this.design;
    const F = this.heap.f64;
    const { gatherCentered } = this.heap;
    if (this.rows.length !== n && gatherCentered) gatherCentered(X, k * n, this.rows, r0, count, at, this.stats.mean[k]);
    else {
      if (this.rows.length === n) F.set(X.subarray(k * n + r0, k * n + r0 + count), at);
      else for (let i = 0; i < count; i++) F[at + i] = X[k * n + this.rows[r0 + i]];
      this.heap.kernels.subtract(at * 8, this.stats.mean[k], count);
    }
    F[at + count] = 0;
  }

  /** What every path of this fold shares about its target, made once per target y. */
  private ofTarget?: { y: Float64Array; target: ReturnType<typeof centerTarget>; gradient?: Float64Array };
  /** The training target's weighted mean and variance, and w ∘ (y − ȳ). Read-only. */
  target(y: Float64Array): ReturnType<typeof centerTarget> {
    if (this.ofTarget?.y !== y) this.ofTarget = { y, target: centerTarget(y, this.weights, this.stats.weightSum) };
    return this.ofTarget.target;
  }

  /** X̃ᵀ(w ∘ (y − ȳ))/W, the gradient at β = 0. Read-only. */
  initialGradient(y: Float64Array): Float64Array {
    const { centered } = this.target(y);
    return (this.ofTarget!.gradient ??= featureProducts(this.design, this.stats, centered, new Float64Array(this.design.p)));
  }

  /** The kernel memory holding the columns; read it again after anything else allocates kernel memory. */
  get data(): Float64Array {
    return this.heap.f64;
  }

  /** Gives the storage back to the thread's kernel memory; the object must not be used afterwards. */
  dispose(): void {
    // The helper may still be writing a block computed ahead into this storage: no group is left for it to take
    // (the counter past the end), and the one it is on is waited for.
    if (this.pending) {
      Atomics.store(new Int32Array(this.heap.f64.buffer, this.counter * 8, 1), 0, 1 << 30);
      this.pending.helper.wait();
      this.pending = undefined;
    }
    unreleased.unregister(this);
    for (const b of this.owned.blocks) this.heap.release(b);
    this.owned.blocks = [];
  }

  /**
   * Offset of feature j's column in `data`. When it is missing, it is computed together with features from
   * `next` (in order, skipping known and constant ones), as many as the block size allows.
   */
  column(j: number, next?: () => Iterable<number>): number {
    if (this.slotOf[j] >= 0) return this.base + this.slotOf[j] * this.design.p;
    // A block computed ahead is taken first: it may hold j, and the helper is free again for the next.
    this.settleAhead();
    if (this.slotOf[j] < 0) {
      const size = Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, this.slots >> 1));
      const block = [j];
      if (next) {
        for (const k of next()) {
          if (block.length === size) break;
          if (k !== j && this.slotOf[k] < 0 && !this.stats.constant[k]) block.push(k);
        }
      }
      this.computeBlock(block.sort(byIndex));
    }
    if (next) this.computeAhead(next);
    return this.base + this.slotOf[j] * this.design.p;
  }

  /**
   * Starts the next likely block (the first features of `next` without a column) on the helper thread, against every
   * feature without a column, all row chunks in one share; settleAhead stores it. The sums are made in the same order
   * as computeBlock's, so a column is the same to the bit whichever way it was computed.
   */
  private computeAhead(next: () => Iterable<number>): void {
    const helper = this.context.helper;
    if (!this.ahead || !helper || this.pending || this.slots === this.candidates) return;
    const { p } = this.design;
    const { constant } = this.stats;
    const block: number[] = [];
    for (const k of next()) {
      if (block.length === MAX_BLOCK) break;
      if (this.slotOf[k] < 0 && !constant[k]) block.push(k);
    }
    if (block.length === 0) return;
    block.sort(byIndex);
    const todo = this.withoutColumn();
    const m = block.length;
    const m4 = (m + 3) & ~3;
    const pairs = (todo.length + 1) & ~1;
    const F = this.heap.f64;
    const chunks = Math.ceil(this.rows.length / CHUNK);
    const listLength = 2 * ((p >> 1) + 2);
    const lists = new Int32Array(F.buffer, this.ahead.lists * 8, listLength * chunks);
    for (let r = 0, r0 = 0; r0 < this.rows.length; r++, r0 += CHUNK) {
      this.stageBlock(block, r, r0, Math.min(CHUNK, this.rows.length - r0), this.ahead.block + r * MAX_BLOCK * LD);
      this.listCachedPartners(todo, r, lists, r * listLength);
    }
    F.fill(0, this.ahead.out, this.ahead.out + pairs * m4);
    const lastCount = this.rows.length - (chunks - 1) * CHUNK;
    const share = {
      block: this.ahead.block * 8, m4, list: this.ahead.lists * 8, first: 0, end: pairs, group: PARTNERS, rows: CHUNK, out: this.ahead.out,
      chunks, blockStep: MAX_BLOCK * LD * 8, listStep: listLength * 4, lastRows: (lastCount + 1) & ~1, counter: this.counter * 8,
    };
    this.resetCounter();
    if (helper.start(share)) this.pending = { block, todo, helper, share };
  }

  /**
   * Keeps the helper thread computing ahead while coordinate descent runs: when its block is finished, stores it and
   * starts the next likely one (nothing happens while it is still busy, or without a helper). Asked for between
   * passes, so the helper does not wait for the next missing column to be given work; which thread computed a
   * column, and when, changes none of its bits.
   */
  lookAhead(next: () => Iterable<number>): void {
    if (!this.ahead) return;
    if (this.pending) {
      if (!this.pending.helper.done()) return;
      this.settleAhead();
    }
    this.computeAhead(next);
  }

  /** Waits for the block computed ahead, if any, and stores its columns as computeBlock would. */
  private settleAhead(): void {
    const pending = this.pending;
    if (!pending || !this.ahead) return;
    // This thread takes the groups the helper has not reached yet.
    runGramShare(this.heap.kernels, pending.share);
    pending.helper.wait();
    this.pending = undefined;
    this.storeBlock(pending.block, pending.todo, this.ahead.out);
  }

  /** Runs a share on this thread, with the helper taking groups too when `split` and it is free. */
  private runShared(share: GramShare, split: boolean): void {
    this.resetCounter();
    const helper = split ? this.context.helper : undefined;
    const helped = helper?.start(share) === true;
    runGramShare(this.heap.kernels, share);
    if (helped) helper!.wait();
  }

  private computeBlock(block: number[]): void {
    if (this.design.sparse) return this.sparseBlock(block);
    const { p } = this.design;
    const F = this.heap.f64;
    const { gramStaged } = this.heap.kernels;
    const partnerList = new Int32Array(F.buffer, this.partnerList * 8, p + 2);
    const m = block.length;
    const m4 = (m + 3) & ~3;
    // Partners: every feature without a column yet (the others come by symmetry, in storeBlock).
    const todo = this.withoutColumn();
    // The kernel takes partners in pairs: an odd count repeats the last column (its sums are not read).
    const pairs = (todo.length + 1) & ~1;
    F.fill(0, this.out, this.out + pairs * m4);
    const { rows } = this;
    // Chunk by chunk of the rows: the block's columns (weighted, centered; padding columns zero) are staged, and
    // the kernel adds the chunk's sums against the partner columns (centered) to `out`. An odd row count ends in
    // a zero row, as the kernel takes rows in pairs.
    for (let r = 0, r0 = 0; r0 < rows.length; r++, r0 += CHUNK) {
      const count = Math.min(CHUNK, rows.length - r0);
      const even = (count + 1) & ~1;
      this.stageBlock(block, r, r0, count, this.block);
      // Partners a group at a time, so that the group's chunk stays in the L2 cache while the block goes by.
      if (this.cache) {
        // Every partner is in the per-fold copy: one list for the chunk, and with a helper thread both threads take
        // groups of partners from a shared counter (their sums go to separate places).
        this.listCachedPartners(todo, r, partnerList, 0);
        this.runShared({ block: this.block * 8, m4, list: this.partnerList * 8, first: 0, end: pairs, group: PARTNERS, rows: even, out: this.out, chunks: 1, blockStep: 0, listStep: 0, lastRows: even, counter: this.counter * 8 }, pairs >= 4 * PARTNERS);
        continue;
      }
      for (let first = 0; first < pairs; first += PARTNERS) {
        const K = Math.min(PARTNERS, pairs - first);
        for (let s = 0; s < K; s++) {
          const x = this.partners + s * LD;
          this.stageCentered(todo[Math.min(first + s, todo.length - 1)], r0, count, x);
          partnerList[s] = x * 8;
        }
        gramStaged(this.block * 8, m4, this.partnerList * 8, K, even, (this.out + first * m4) * 8);
      }
    }
    this.storeBlock(block, todo, this.out);
  }

  /**
   * The block's sums of a sparse design, by merging each pair's sorted row lists: Σ w x_a x_b over the rows both hold,
   * less W·m_a·m_b (the means are weighted), with a < b in every product so that C_jk and C_kj are the same number
   * whichever was computed first (as the dense kernel's sums are).
   */
  private sparseBlock(block: number[]): void {
    const { values, rows, starts, foldGroups, heldOutGroup } = this.design.sparse!;
    const { mean, weightSum } = this.stats;
    const w = this.weights;
    const F = this.heap.f64;
    const m4 = (block.length + 3) & ~3;
    const todo = this.withoutColumn();
    // A design grouped by fold has its rows ascending within each group: the lists merge group by group.
    const groups = foldGroups?.count ?? 1;
    const groupStarts = foldGroups?.starts ?? starts;
    const stride = foldGroups ? groups + 1 : 1;
    for (let t = 0; t < block.length; t++)
      for (let s = 0; s < todo.length; s++) {
        const a = Math.min(block[t], todo[s]);
        const b = Math.max(block[t], todo[s]);
        let sum = 0;
        for (let g = 0; g < groups; g++) {
          if (g === heldOutGroup) continue;
          const endA = groupStarts[a * stride + g + 1];
          const endB = groupStarts[b * stride + g + 1];
          for (let ka = groupStarts[a * stride + g], kb = groupStarts[b * stride + g]; ka < endA && kb < endB; ) {
            const ra = rows[ka];
            const rb = rows[kb];
            if (ra === rb) sum += w[ra] * values[ka++] * values[kb++];
            else if (ra < rb) ka++;
            else kb++;
          }
        }
        F[this.out + s * m4 + t] = sum - weightSum * mean[a] * mean[b];
      }
    this.storeBlock(block, todo, this.out);
  }

  /** Features that have no column yet and are not constant: a block's partners. */
  private withoutColumn(): number[] {
    const todo: number[] = [];
    for (let k = 0; k < this.design.p; k++) if (this.slotOf[k] < 0 && !this.stats.constant[k]) todo.push(k);
    return todo;
  }

  /**
   * Byte offsets of the partners' row chunk r in the per-fold copy, into `list` from index `from`; an odd count is
   * padded with the last partner again (the kernel takes partners in pairs; those sums are not read).
   */
  private listCachedPartners(todo: number[], r: number, list: Int32Array, from: number): void {
    const pairs = (todo.length + 1) & ~1;
    for (let s = 0; s < pairs; s++) list[from + s] = (this.cache + (r * this.design.p + todo[Math.min(s, todo.length - 1)]) * LD) * 8;
  }

  /** The block's columns on row chunk r at `at` (LD apart), zero columns after them up to a multiple of four. */
  private stageBlock(block: number[], r: number, r0: number, count: number, at: number): void {
    const m = block.length;
    for (let t = 0; t < m; t++) this.stageBlockColumn(block[t], r, r0, count, at + t * LD);
    this.heap.f64.fill(0, at + m * LD, at + ((m + 3) & ~3) * LD);
  }

  /** The shared counter of partner groups back to 0, before a share starts. */
  private resetCounter(): void {
    Atomics.store(new Int32Array(this.heap.f64.buffer, this.counter * 8, 1), 0, 0);
  }

  /** Feature k on row chunk r (rows r0 … r0 + count − 1), weighted and centered, into kernel memory at `at`, a zero after. */
  private stageBlockColumn(k: number, r: number, r0: number, count: number, at: number): void {
    const F = this.heap.f64;
    if (this.cache) {
      // The centered rows are in the per-fold copy already: a copy.
      const from = this.cache + (r * this.design.p + k) * LD;
      F.copyWithin(at, from, from + count);
      F[at + count] = 0;
    } else this.stageCentered(k, r0, count, at);
    // The weights only where they are not all 1.
    if (!this.unitWeights) for (let i = 0; i < count; i++) F[at + i] *= this.rowWeights[r0 + i];
  }

  /**
   * The block's columns from the kernel's sums against `todo` (at `out`, partner s at `out + s·m4`), the entries of
   * features that already had a column by symmetry and those of constant features 0; then the block's slots.
   */
  private storeBlock(block: number[], todo: number[], out: number): void {
    const { p } = this.design;
    const { scale, constant, weightSum } = this.stats;
    const F = this.heap.f64;
    const m = block.length;
    const m4 = (m + 3) & ~3;
    const base = this.base + this.slots * p;
    for (let k = 0; k < p; k++) {
      const known = this.slotOf[k];
      if (constant[k]) for (let t = 0; t < m; t++) F[base + t * p + k] = 0;
      // Symmetry: C_jk was computed when k got its slot.
      else if (known >= 0) for (let t = 0; t < m; t++) F[base + t * p + k] = F[this.base + known * p + block[t]];
    }
    // Both factors centered and the sum order fixed by the row index alone (see kernels.wat): with 0/1 fold weights
    // C_jk and C_kj are the same number to the bit, so a copied entry equals a computed one and a path's result
    // does not depend on which other paths filled this cache first, nor on which thread computed a block.
    for (let s = 0; s < todo.length; s++) {
      const k = todo[s];
      for (let t = 0; t < m; t++) F[base + t * p + k] = F[out + s * m4 + t] / (weightSum * (scale[block[t]] * scale[k]));
    }
    for (let t = 0; t < m; t++) this.slotOf[block[t]] = this.slots + t;
    this.slots += m;
  }
}
