// Successive halving across threads (asynchronous, as ASHA and Optuna's SuccessiveHalvingPruner): each network trial
// reports its validation loss at the rung epochs; one worse than the best 1/reduction of those reported at that rung
// so far stops there. The losses live in a SharedArrayBuffer every worker thread of a process sees; on a shared store
// the process's main thread also merges in the losses other processes reported (and marks them, so that only its
// own are sent out).

/** Room for the losses of this many trials per rung; later reports are compared but not kept. */
const HEADER_INTS = 16;

export interface PruneSettings {
  /** Epochs (1-based) at which trials are compared, ascending. */
  rungs: number[];
  reduction: number;
  board: SharedArrayBuffer;
}

/**
 * A board for `rungs` rungs of up to `capacity` trials each: counters, then the losses (NaN until written), then one
 * byte a loss: 1 where it was merged in from another process.
 */
export function createRungBoard(rungs: number, capacity: number): SharedArrayBuffer {
  if (rungs > HEADER_INTS) throw new Error(`at most ${HEADER_INTS} rungs`);
  const buffer = new SharedArrayBuffer(4 * HEADER_INTS + 9 * rungs * capacity);
  new Float64Array(buffer, 4 * HEADER_INTS, rungs * capacity).fill(NaN);
  return buffer;
}

/** A loss at a rung, as processes send each other. */
export interface RungReport {
  rung: number;
  loss: number;
}

export class RungBoard {
  private readonly counts: Int32Array;
  private readonly losses: Float64Array;
  private readonly capacity: number;

  private readonly merged: Uint8Array;

  constructor(private readonly settings: PruneSettings) {
    this.counts = new Int32Array(settings.board, 0, HEADER_INTS);
    const slots = Math.floor((settings.board.byteLength - 4 * HEADER_INTS) / 9);
    this.losses = new Float64Array(settings.board, 4 * HEADER_INTS, slots);
    this.merged = new Uint8Array(settings.board, 4 * HEADER_INTS + 8 * slots, slots);
    this.capacity = Math.floor(slots / Math.max(1, settings.rungs.length));
  }

  /** A loss another process reported at rung k: compared with from now on, like this process's own. */
  merge(k: number, loss: number): void {
    const slot = Atomics.add(this.counts, k, 1);
    if (slot >= this.capacity) return;
    this.merged[k * this.capacity + slot] = 1;
    this.losses[k * this.capacity + slot] = loss;
  }

  /**
   * This process's own losses written since `sent` (per rung, the slots already gone through; advanced here): the ones
   * to send to the others. A slot taken but not yet written (a thread between the two steps) waits for the next call.
   */
  ownSince(sent: number[]): RungReport[] {
    const out: RungReport[] = [];
    for (let k = 0; k < this.settings.rungs.length; k++) {
      const filled = Math.min(Atomics.load(this.counts, k), this.capacity);
      for (; sent[k] < filled; sent[k]++) {
        const at = k * this.capacity + sent[k];
        if (this.merged[at]) continue;
        const loss = this.losses[at];
        if (Number.isNaN(loss)) break;
        out.push({ rung: k, loss });
      }
    }
    return out;
  }

  /** The rung an epoch (1-based) is, or −1. */
  rungOf(epoch: number): number {
    return this.settings.rungs.indexOf(epoch);
  }

  /**
   * Records a trial's loss at rung k and says whether it goes on: yes while fewer than `reduction` trials (itself
   * included) have reached the rung, else only if it is among the best ⌈count/reduction⌉ of them.
   */
  report(k: number, loss: number): boolean {
    const seen = Math.min(Atomics.load(this.counts, k), this.capacity);
    let better = 0;
    let others = 0;
    for (let i = 0; i < seen; i++) {
      const v = this.losses[k * this.capacity + i];
      if (Number.isNaN(v)) continue;
      others++;
      if (v < loss) better++;
    }
    const slot = Atomics.add(this.counts, k, 1);
    if (slot < this.capacity) this.losses[k * this.capacity + slot] = Number.isFinite(loss) ? loss : Infinity;
    const reached = others + 1;
    if (reached < this.settings.reduction) return true;
    return better < Math.ceil(reached / this.settings.reduction);
  }
}
