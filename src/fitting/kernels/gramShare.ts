import type { KernelExports } from './exports.js';

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

/** The GramShare fields in the order a helper thread reads them from shared memory. */
export const GRAM_SHARE_FIELDS: (keyof GramShare)[] = ['block', 'm4', 'list', 'first', 'end', 'group', 'rows', 'out', 'chunks', 'blockStep', 'listStep', 'lastRows', 'counter'];

/** Another thread running kernels on the same (shared) kernel memory; workers/gramHelper.ts makes one. */
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
