/** Worker threads for a number of batches, and whether each splits its Gram blocks with a helper thread. */
export function threadsFor(batches: number, workers: number, covariance: boolean): { threads: number; gramHelper: boolean } {
  // Fewer batches than workers would leave cores idle: a worker then splits its Gram blocks with a helper thread
  // (when there is a core for each helper), and no more workers start than there are batches.
  return { threads: Math.max(1, Math.min(workers, batches)), gramHelper: covariance && batches > 0 && batches * 2 <= workers };
}

/** Below this many matrix cells to fit (trials × n × p × outputs; nonzeros for n × p of a sparse design), starting worker threads takes longer than the fits. */
const INLINE_CELLS = 5_000_000;
/**
 * With one worker a thread adds nothing but its start: up to this many cells the fits run on the main
 * thread, where a batch (one path) still ends within about a second, so progress and Ctrl-C get their turn.
 */
const INLINE_CELLS_ONE_WORKER = 50_000_000;

/**
 * Whether a sweep is small enough to fit on the main thread: starting a thread and loading its kernels takes longer
 * than a handful of linear-model fits. Networks always get threads.
 */
export function fitsInline(trials: number, data: { n: number; p: number; outputs: number; sparse?: { values: Float64Array } }, kind: string, workers: number): boolean {
  const cells = data.sparse ? data.sparse.values.length : data.n * data.p;
  return kind !== 'mlp' && trials * cells * Math.max(1, data.outputs) <= (workers <= 1 ? INLINE_CELLS_ONE_WORKER : INLINE_CELLS);
}
