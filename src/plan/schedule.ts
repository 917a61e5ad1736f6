/** Worker threads for a number of batches, and whether each splits its Gram blocks with a helper thread. */
export function threadsFor(batches: number, workers: number, covariance: boolean): { threads: number; gramHelper: boolean } {
  // Fewer batches than workers would leave cores idle: a worker then splits its Gram blocks with a helper thread
  // (when there is a core for each helper), and no more workers start than there are batches.
  return { threads: Math.max(1, Math.min(workers, batches)), gramHelper: covariance && batches > 0 && batches * 2 <= workers };
}
