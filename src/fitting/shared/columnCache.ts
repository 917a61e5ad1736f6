import type { KernelContext } from '../context.js';
import type { WasmHeap } from '../kernels/heap.js';
import type { Design } from './design.js';

/**
 * Centered training columns x_ij − m_j (rows with nonzero weight only) copied into the thread's kernel memory,
 * where the SIMD kernels read them. Copied on first use; when all p do not fit in the budget
 * (`limits.columnCacheBytes`), a CLOCK policy
 * (second chance) picks the column to evict, so memory stays bounded on very large data at the price of copying
 * again.
 */
export class ColumnCache {
  readonly rows: Int32Array;
  readonly capacity: number;
  private readonly heap: WasmHeap;
  private readonly base: number;
  private readonly slotOf: Int32Array;
  private readonly columnIn: Int32Array;
  private readonly used: Uint8Array;
  private hand = 0;
  private filled = 0;

  constructor(
    context: KernelContext,
    private readonly design: Design,
    private readonly mean: Float64Array,
    rows: Int32Array,
  ) {
    this.heap = context.heap;
    const budgetBytes = context.limits.columnCacheBytes;
    this.rows = rows;
    const m = Math.max(1, rows.length);
    this.capacity = Math.max(1, Math.min(design.p, Math.floor(budgetBytes / (8 * m))));
    this.base = this.heap.alloc(this.capacity * m);
    this.slotOf = new Int32Array(design.p).fill(-1);
    this.columnIn = new Int32Array(this.capacity).fill(-1);
    this.used = new Uint8Array(this.capacity);
  }

  /** Byte offset of feature j's centered column in kernel memory (valid until the next call). */
  offset(j: number): number {
    let slot = this.slotOf[j];
    if (slot < 0) {
      slot = this.freeSlot();
      this.load(j, slot);
    }
    this.used[slot] = 1;
    return (this.base + slot * this.rows.length) * 8;
  }

  dispose(): void {
    this.heap.release(this.base);
  }

  private freeSlot(): number {
    if (this.filled < this.capacity) return this.filled++;
    while (this.used[this.hand]) {
      this.used[this.hand] = 0;
      this.hand = (this.hand + 1) % this.capacity;
    }
    const slot = this.hand;
    this.hand = (this.hand + 1) % this.capacity;
    this.slotOf[this.columnIn[slot]] = -1;
    return slot;
  }

  private load(j: number, slot: number): void {
    const { X, n } = this.design;
    const F = this.heap.f64;
    const rows = this.rows;
    const at = this.base + slot * rows.length;
    const off = j * n;
    const mj = this.mean[j];
    for (let r = 0; r < rows.length; r++) F[at + r] = X[off + rows[r]] - mj;
    this.slotOf[j] = slot;
    this.columnIn[slot] = j;
  }
}
