import { centerTarget, columnStats, featureProducts } from './columnStats.js';
import { LazyGram } from './gram.js';
import { extrapolated, FitStatus, penaltyWeights, softThreshold, stepRatio, type Design, type PathProblem, type PathSolution } from './types.js';

/** Kernel memory per path for the compact copy of the active set's Gram block (bytes). Settable for tests. */
export const compactSettings = { bytes: 8 * 2 ** 20 };

export interface GaussianPathProblem extends PathProblem {
  /**
   * Gram columns already computed for the same design, weights and standardization (another α on the same
   * fold): reused, and extended in place. Made here when not given.
   */
  gram?: LazyGram;
}

/**
 * Elastic-net path for (1/2W)Σ w_i (y_i − b0 − x_i·b)² + λ(α‖b‖₁ + (1−α)/2‖b‖²) by coordinate descent
 * with covariance updates (glmnet's "covariance" mode): the gradient of every feature is kept up to date,
 * so a pass over inactive features and the KKT check cost O(p), and a Gram column ⟨x_j, x_k⟩ is computed
 * only when feature j first becomes nonzero (see LazyGram for how the training rows are read). Features are scaled
 * when standardizing through their column statistics, not by rewriting the data.
 */
export function gaussianPath(problem: GaussianPathProblem): PathSolution {
  const { design, y, weights, standardize, alpha, lambdas, tol, maxIter } = problem;
  const { p } = design;
  const ownGram = problem.gram === undefined;
  const gram = problem.gram ?? new LazyGram(design, weights, columnStats(design, weights, standardize));
  const stats = gram.stats;
  const { weightSum, mean, scale, variance, constant } = stats;
  const target = centerTarget(y, weights, weightSum);

  // The solver's state lives in kernel memory beside the Gram columns, where the SIMD kernels and the active-set
  // pass (cdPass) work on it: gradients, 1/0 for inactive/active features, β, the feature variances, the active
  // list and each active feature's Gram column offset (both i32), pending gradient changes. No allocation happens
  // until the end, so these views stay valid.
  const heap = gram.heap;
  const stride = p + (p & 1); // keeps each array 16-byte aligned for the SIMD loads
  // Then the compact copy of the active set (see fillCompact): gradients, β, variances and β before the cycle, the
  // identity list and compact column offsets (i32), room for syncInactive (one value per active feature), the block
  // itself, capped at compactSettings.bytes (pages not written cost nothing).
  const cap = Math.min(stride, Math.floor(Math.sqrt(compactSettings.bytes / 8)) & ~1);
  const state = heap.alloc(12 * stride + cap * cap);
  const [gradStart, keepStart, betaStart, varianceStart, pendingStart, indexStart] = [0, 1, 2, 3, 4, 5].map((k) => state + k * stride);
  const [gradA, betaA, varianceA, beforeA, compactIndex, pendingA, compactStart] = [6, 7, 8, 9, 10, 11, 12].map((k) => state + k * stride);
  const { axpy, cdPass, gatherDot } = heap.kernels;
  const C = heap.f64;
  // g_j = (1/W) Σ w_i x̃_ij r_i with r the current residual; at b = 0, r = y − ȳ.
  const initialGrad = gram.initialGradient(y, target.centered);
  const grad = C.subarray(gradStart, gradStart + p);
  grad.set(initialGrad);
  const inactive = C.subarray(keepStart, keepStart + p).fill(1);

  // The likeliest features to enter next are those with the largest gradients: their columns come in the same block.
  const likelyNext = () => Array.from({ length: p }, (_, k) => k).sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]));

  const beta = C.subarray(betaStart, betaStart + p).fill(0);
  C.set(variance, varianceStart);
  const pending = C.subarray(pendingStart, pendingStart + p).fill(0);
  // Two i32 arrays in the last p doubles.
  const activeList = new Int32Array(C.buffer, indexStart * 8, p);
  const colOf = new Int32Array(C.buffer, indexStart * 8 + p * 4, p);
  let activeCount = 0;
  // For the compact cycle: the identity list 0..cap−1 and the byte offset of each compact column (i32 each).
  const identity = new Int32Array(C.buffer, compactIndex * 8, p);
  const compactColOf = new Int32Array(C.buffer, compactIndex * 8 + p * 4, p);
  for (let q = 0; q < cap; q++) {
    identity[q] = q;
    compactColOf[q] = (compactStart + q * cap) * 8;
  }
  let compactFilled = 0;
  const threshold = tol * Math.sqrt(target.variance);
  let candidates = 0;
  for (let j = 0; j < p; j++) if (!constant[j]) candidates++;

  const nLambda = lambdas.length;
  const solution: PathSolution = {
    intercepts: new Float64Array(nLambda),
    coefs: new Float64Array(nLambda * p),
    iterations: new Int32Array(nLambda),
    status: new Uint8Array(nLambda),
    seconds: new Float64Array(nLambda),
    trainMse: new Float64Array(nLambda),
  };

  // The current λ's penalty weights, read by update() and passed to cdPass.
  let l1 = 0;
  let l2 = 0;
  /**
   * One coordinate update with every gradient kept current (the KKT check over the features never active); returns
   * the weighted squared change (glmnet's convergence measure). A feature that becomes nonzero joins the active
   * list, its Gram column computed here if it is new. The active-set cycle makes the same updates in the kernel
   * (cdPass), on the compact copy of the active block or, with pending changes, on the active gradients alone.
   */
  const update = (j: number): number => {
    const bj = beta[j];
    const vj = variance[j];
    const bNew = softThreshold(grad[j] + vj * bj, l1) / (vj + l2);
    if (bNew === bj) return 0;
    const col = gram.column(j, likelyNext);
    const d = bNew - bj;
    beta[j] = bNew;
    if (inactive[j]) {
      inactive[j] = 0;
      colOf[j] = col * 8;
      activeList[activeCount++] = j;
    }
    axpy(gradStart * 8, col * 8, d, 0, p);
    return vj * d * d;
  };
  /**
   * Brings the gradients of the features never active up to date with the pending changes of the active ones. Either
   * each changed active feature's Gram column moves every gradient (masked to the inactive ones), or, when fewer
   * features are inactive than active ones changed and all have their columns, each inactive feature's own column is
   * read at the active positions (C is symmetric): the cost is min(|A|, |I|) columns instead of |A|.
   */
  // Whether every feature never active has its Gram column (read across the other columns, an entry costs a cache miss).
  let allColumns = false;
  const inactiveHaveColumns = () => {
    if (!allColumns) {
      allColumns = true;
      for (let k = 0; k < p && allColumns; k++) if (inactive[k] && !constant[k] && gram.computedColumn(k) < 0) allColumns = false;
    }
    return allColumns;
  };
  const syncInactive = () => {
    let changed = 0;
    for (let a = 0; a < activeCount; a++) if (pending[activeList[a]] !== 0) changed++;
    if (changed === 0) return;
    if (candidates - activeCount < changed && inactiveHaveColumns()) {
      for (let a = 0; a < activeCount; a++) {
        C[pendingA + a] = pending[activeList[a]];
        pending[activeList[a]] = 0;
      }
      for (let k = 0; k < p; k++) {
        if (inactive[k] && !constant[k]) grad[k] -= gatherDot(gram.computedColumn(k) * 8, activeList.byteOffset, pendingA * 8, activeCount);
      }
      return;
    }
    // Plain axpys move every gradient; the active ones, current already, are put back after (cheaper than a mask).
    for (let a = 0; a < activeCount; a++) C[pendingA + a] = grad[activeList[a]];
    for (let a = 0; a < activeCount; a++) {
      const j = activeList[a];
      const d = pending[j];
      if (d === 0) continue;
      pending[j] = 0;
      axpy(gradStart * 8, colOf[j], d, 0, p);
    }
    for (let a = 0; a < activeCount; a++) grad[activeList[a]] = C[pendingA + a];
  };


  /**
   * The active-set cycle can run on a compact copy of the active set's Gram block (entry (q, r) = C between the
   * q-th and r-th active features, in active-list order) with their gradients, β and variances gathered beside it:
   * each update then reads |A| contiguous entries instead of a Gram column of p (or |A| scattered ones), which is
   * most of a cycle's memory traffic once the active set is a sizeable part of p; the other gradients are brought
   * up to date once, after the cycle. The active list only grows, so the block is extended, never rebuilt.
   */
  const fillCompact = () => {
    const F = C;
    // New columns whole, then the new rows of the old columns (read from the symmetric Gram entries).
    for (let q = compactFilled; q < activeCount; q++) {
      const col = colOf[activeList[q]] / 8;
      const out = compactStart + q * cap;
      for (let r = 0; r < activeCount; r++) F[out + r] = F[col + activeList[r]];
    }
    for (let r = 0; r < compactFilled; r++) {
      const col = colOf[activeList[r]] / 8;
      const out = compactStart + r * cap;
      for (let q = compactFilled; q < activeCount; q++) F[out + q] = F[col + activeList[q]];
    }
    compactFilled = activeCount;
  };
  const gatherCompact = () => {
    for (let q = 0; q < activeCount; q++) {
      const j = activeList[q];
      C[gradA + q] = grad[j];
      C[betaA + q] = C[beforeA + q] = beta[j];
      C[varianceA + q] = variance[j];
    }
  };
  /** Back from the compact copy: β and the active gradients; each feature's total change left pending for syncInactive. */
  const scatterCompact = () => {
    for (let q = 0; q < activeCount; q++) {
      const j = activeList[q];
      const d = C[betaA + q] - C[beforeA + q];
      grad[j] = C[gradA + q];
      if (d === 0) continue;
      beta[j] = C[betaA + q];
      pending[j] += d;
    }
  };

  /**
   * A better warm start than the last solution: on an unchanged active set and signs the lasso path is linear in
   * λ (and the elastic net's nearly so), so the last two solutions extrapolated to the next λ land close to it
   * and coordinate descent starts orders of magnitude nearer. A coefficient that would change sign stops at 0.
   */
  const previousBeta = new Float64Array(p);
  const previousGrad = new Float64Array(p);
  /** The last solution and its gradients become the one before. */
  const rememberSolution = () => {
    previousBeta.set(beta);
    previousGrad.set(grad);
  };
  /**
   * Moves β from the last solution towards the next; `previousBeta` and `previousGrad` hold the one before and become
   * the last. The gradient is linear in β, so moving every β_j by ratio·(β_j − before_j) moves the gradients by
   * ratio·(g − g_before): O(p), where a Gram column per active feature costs O(|A|·p). Only the coefficients that
   * stop at 0 instead (see extrapolated) take their Gram column, for the part of the move they do not make.
   */
  const extrapolateStart = (ratio: number) => {
    for (let k = 0; k < p; k++) {
      const g = grad[k];
      grad[k] = g + ratio * (g - previousGrad[k]);
      previousGrad[k] = g;
    }
    for (let a = 0; a < activeCount; a++) {
      const j = activeList[a];
      const b = beta[j];
      const before = previousBeta[j];
      previousBeta[j] = b;
      const onLine = b + ratio * (b - before);
      const target = extrapolated(b, before, ratio);
      beta[j] = target;
      if (target !== onLine) axpy(gradStart * 8, colOf[j], target - onLine, 0, p);
    }
  };

  try {
    for (let l = 0; l < nLambda; l++) {
      const started = performance.now();
      ({ l1, l2 } = penaltyWeights(lambdas[l], alpha));
      const ratio = stepRatio(lambdas, l);
      if (ratio > 0) extrapolateStart(ratio);
      else rememberSolution();
      let passes = 0;
      let status: number = FitStatus.maxIter;
      // Whether the active set has been cycled to convergence since the last feature entered.
      let activeConverged = false;
      while (passes < maxIter) {
        // The KKT check over the features never active (their gradients are current): one that violates it
        // enters, its update made here. With none entering and the active set converged, λ is done.
        let entered = 0;
        if (activeCount < candidates) {
          for (let j = 0; j < p; j++) if (inactive[j] && !constant[j]) entered = Math.max(entered, update(j));
          passes++;
        }
        if (Math.sqrt(entered) <= threshold && activeConverged) {
          status = FitStatus.converged;
          break;
        }
        // Cycle the active set until the estimated distance to its solution is below tol, then check again.
        const estimate = new DistanceEstimate();
        activeConverged = false;
        // The compact copy pays while the active set leaves a good part of p out; near p, the Gram columns do.
        const compact = activeCount <= cap && activeCount * 10 < p * 9;
        // Past the compact copy's size, gathering |A| gradients still beats the sweep over p while |A| < p/3.
        const activeOnly = !compact && activeCount * 3 < p ? 1 : 0;
        if (compact) {
          fillCompact();
          gatherCompact();
        }
        while (!activeConverged && passes < maxIter) {
          const change = compact
            ? cdPass(identity.byteOffset, activeCount, betaA * 8, gradA * 8, varianceA * 8, compactColOf.byteOffset, l1, l2, activeCount, 0, 0)
            : cdPass(activeList.byteOffset, activeCount, betaStart * 8, gradStart * 8, varianceStart * 8, colOf.byteOffset, l1, l2, p, activeOnly, pendingStart * 8);
          passes++;
          if (!Number.isFinite(change)) {
            status = FitStatus.diverged;
            break;
          }
          activeConverged = estimate.next(Math.sqrt(change)) <= threshold;
        }
        // The gradients of the features never active, before the KKT check reads them.
        if (compact) scatterCompact();
        syncInactive();
        if (status === FitStatus.diverged) break;
      }

      // Back to the original scale: b_j = β_j / s_j, b0 = ȳ − Σ m_j b_j.
      const row = l * p;
      let intercept = target.mean;
      for (let j = 0; j < p; j++) {
        const b = beta[j] / scale[j];
        solution.coefs[row + j] = b;
        intercept -= mean[j] * b;
      }
      solution.intercepts[l] = intercept;
      solution.trainMse![l] = trainMse(target.variance, initialGrad, grad, beta, activeList, activeCount);
      solution.iterations[l] = passes;
      solution.status[l] = status;
      solution.seconds[l] = (performance.now() - started) / 1000;
    }
  } finally {
    heap.release(state);
    if (ownGram) gram.dispose();
  }
  return solution;
}

/**
 * (1/W) Σ w_i r_i² without the residuals: with c = X̃ᵀỹ/W (the gradient at β = 0), g = c − Gβ the current gradient
 * and G the Gram matrix, ‖r‖²/W = var(y) − 2βᵀc + βᵀGβ = var(y) − βᵀ(c + g), an O(|A|) sum. NaN below
 * 1e-10·var(y), where the subtraction would leave fewer than six correct digits.
 */
function trainMse(varianceY: number, initialGrad: Float64Array, grad: Float64Array, beta: Float64Array, active: Int32Array, count: number): number {
  let explained = 0;
  for (let a = 0; a < count; a++) {
    const j = active[a];
    explained += beta[j] * (initialGrad[j] + grad[j]);
  }
  const mse = varianceY - explained;
  return mse > 1e-10 * varianceY ? mse : Number.NaN;
}

/**
 * Coordinate descent converges linearly: successive changes shrink by a rate r, and the distance still to go is
 * about change · r / (1 − r). On correlated features r is close to 1 and the last change alone understates the
 * error by two orders of magnitude (measured on the diabetes data), so the stopping test uses this estimate.
 */
export class DistanceEstimate {
  private previous = Number.POSITIVE_INFINITY;
  next(change: number): number {
    const rate = Number.isFinite(this.previous) && this.previous > 0 ? Math.min(change / this.previous, 0.999) : 0;
    this.previous = change;
    return change * Math.max(1, rate / (1 - rate));
  }
}

/**
 * Smallest λ at which every coefficient is zero: max_j |⟨x̃_j, y − ȳ⟩| / (W·α), with α floored at 1e-3 for
 * ridge as glmnet does (for α = 0 every λ gives nonzero coefficients).
 */
export function gaussianLambdaMax(design: Design, y: Float64Array, weights: Float64Array, standardize: boolean, alpha: number): number {
  const stats = columnStats(design, weights, standardize);
  const target = centerTarget(y, weights, stats.weightSum);
  let best = 0;
  for (const g of featureProducts(design, stats, target.centered, new Float64Array(design.p))) best = Math.max(best, Math.abs(g));
  return best / Math.max(alpha, 1e-3);
}
