import { FitStatus, type FitStatusCode } from '../../domain.js';
import { symmetricEigen } from '../../util/eigen.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { centerTarget, columnStats, type ColumnStats } from '../shared/columnStats.js';

/**
 * The ridge path (l1 ratio 0) when the training rows are fewer than the features, in the row space: with Z the
 * centered, scaled training rows (times √w) and t the centered target (times √w), the solution of
 * (1/2W)‖t − Zβ‖² + λ/2‖β‖² is β = Zᵀ(ZZᵀ + Wλ·I)⁻¹t. One eigen-decomposition ZZᵀ = U·diag(d)·Uᵀ per fold gives every
 * λ of the path at m·p cost each (m training rows), where coordinate descent needs thousands of passes over p
 * features (ridge never leaves a feature at zero, and wide designs are ill-conditioned).
 */
export function gaussianRidgeDualPath(problem: PathProblem): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter, stop }, new GaussianRidgeDual(problem));
}

/** Whether the row-space ridge applies: pure L2 at positive λ, fewer training rows than features. */
export function ridgeDualApplies(problem: Pick<PathProblem, 'l1Ratio' | 'lambdas' | 'design'>, trainingRows: number): boolean {
  return problem.l1Ratio === 0 && trainingRows < problem.design.p && problem.lambdas.every((lambda) => lambda > 0);
}

class GaussianRidgeDual implements LambdaSolver {
  readonly stats: ColumnStats;
  readonly beta: Float64Array;
  private readonly rows: Int32Array;
  /** √w of each training row. */
  private readonly rootWeight: Float64Array;
  /** Eigenvectors of ZZᵀ as columns (m × m, row-major) and their eigenvalues. */
  private readonly vectors: Float64Array;
  private readonly values: Float64Array;
  /** Uᵀt. */
  private readonly projected: Float64Array;
  private readonly yMean: number;

  constructor(private readonly problem: PathProblem) {
    const { design, y, weights, standardize } = problem;
    const { X, n, p } = design;
    const stats = (this.stats = columnStats(design, weights, standardize));
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (weights[i] > 0) rows.push(i);
    const m = rows.length;
    this.rows = Int32Array.from(rows);
    this.rootWeight = Float64Array.from(rows, (i) => Math.sqrt(weights[i]));
    this.beta = new Float64Array(p);
    const target = centerTarget(y, weights, stats.weightSum);
    this.yMean = target.mean;
    // ZZᵀ, one feature at a time (the lower triangle, mirrored after).
    const gram = new Float64Array(m * m);
    const z = new Float64Array(m);
    for (let j = 0; j < p; j++) {
      if (stats.constant[j]) continue;
      const off = j * n;
      const mean = stats.mean[j];
      const scale = stats.scale[j];
      for (let r = 0; r < m; r++) z[r] = (this.rootWeight[r] * (X[off + this.rows[r]] - mean)) / scale;
      for (let r = 0; r < m; r++) {
        const zr = z[r];
        if (zr === 0) continue;
        for (let s = 0; s <= r; s++) gram[r * m + s] += zr * z[s];
      }
    }
    for (let r = 0; r < m; r++) for (let s = 0; s < r; s++) gram[s * m + r] = gram[r * m + s];
    this.values = symmetricEigen(gram, m);
    this.vectors = gram;
    // t = √w (y − ȳ); centerTarget gives w (y − ȳ).
    this.projected = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      let sum = 0;
      for (let r = 0; r < m; r++) {
        const w = weights[this.rows[r]];
        sum += this.vectors[r * m + k] * (target.centered[this.rows[r]] / Math.sqrt(w));
      }
      this.projected[k] = sum;
    }
  }

  intercepts(): number[] {
    return [this.yMean];
  }

  warmStart(): void {}

  solve({ l2 }: PathStep): { passes: number; status: FitStatusCode } {
    const { rows, rootWeight, vectors, values, projected, stats, beta } = this;
    const { X, n, p } = this.problem.design;
    const m = rows.length;
    const shift = stats.weightSum * l2;
    // a = U·diag(1/(d + Wλ))·Uᵀt, then weighted by √w: the combination of training rows that β is.
    // ZZᵀ is positive semi-definite: an eigenvalue rounded below zero is zero.
    const scaled = Float64Array.from(projected, (q, k) => q / (Math.max(values[k], 0) + shift));
    const rowWeights = new Float64Array(m);
    let total = 0;
    for (let r = 0; r < m; r++) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += vectors[r * m + k] * scaled[k];
      rowWeights[r] = rootWeight[r] * sum;
      total += rowWeights[r];
    }
    for (let j = 0; j < p; j++) {
      if (stats.constant[j]) {
        beta[j] = 0;
        continue;
      }
      const off = j * n;
      let sum = 0;
      for (let r = 0; r < m; r++) sum += X[off + rows[r]] * rowWeights[r];
      beta[j] = (sum - stats.mean[j] * total) / stats.scale[j];
    }
    return { passes: 1, status: beta.every(Number.isFinite) ? FitStatus.converged : FitStatus.diverged };
  }

  release(): void {}
}
