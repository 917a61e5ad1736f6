import type { KernelHelper } from './kernels/gramShare.js';
import type { WasmHeap } from './kernels/heap.js';

/** How much kernel memory the solvers may take; a thread's heap is one wasm32 memory (4 GB at most). */
export interface KernelLimits {
  /** Covariance mode keeps a p × p Gram matrix in kernel memory: at most 2 GB of it. */
  covarianceMaxFeatures: number;
  /** A centered copy of a fold's training rows, when it fits (else each Gram block copies its partners from X). */
  gramCacheBytes: number;
  /** The compact copy of the active set's Gram block, per covariance path. */
  compactBytes: number;
  /** Copied training columns in naive mode (and the logistic family); past it, columns are evicted and copied again. */
  columnCacheBytes: number;
  /** Predictions held at once when measuring a path's trials (doubles). */
  predictionDoubles: number;
}

export const DEFAULT_LIMITS: KernelLimits = {
  covarianceMaxFeatures: 16_384,
  gramCacheBytes: 128 * 2 ** 20,
  compactBytes: 8 * 2 ** 20,
  columnCacheBytes: 2 ** 30,
  predictionDoubles: 1 << 20,
};

/**
 * What every solver is given instead of reaching for globals: the thread's kernel heap, a helper thread for its
 * Gram blocks when the caller has a core to spare, and the memory limits. Made once per thread
 * (workers/kernelContext.ts), where the native kernels are loaded and the V8 flags set.
 */
export interface KernelContext {
  heap: WasmHeap;
  helper?: KernelHelper;
  limits: KernelLimits;
}
