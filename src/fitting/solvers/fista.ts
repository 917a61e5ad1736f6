import { FitStatus, type Family, type FitStatusCode } from '../../domain.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathProblem, PathSolution, LambdaSolver } from '../path/types.js';
import { centerTarget, columnStats, featureProducts, type ColumnStats } from '../shared/columnStats.js';
import { softThreshold } from '../shared/penalty.js';

export type FistaFamily = Extract<Family, 'gaussian' | 'binomial'>;

/**
 * A second solver, for cross-checks: FISTA (accelerated proximal gradient, Beck & Teboulle 2009) with adaptive
 * restart (O'Donoghue & Candès 2015), on the same objective as coordinate descent. The smooth part is the loss plus
 * the ridge term; the prox of the L1 term is soft-thresholding; the intercept is unpenalized. Step 1/L with L from a
 * power iteration on X̃ᵀWX̃/W (a quarter of it for the logistic loss). Stops when the prox-gradient step — a measure
 * of how far the KKT conditions are from holding — is below tol (in units of sd(y) for the gaussian family).
 * Each λ starts from the last solution.
 */
export function fistaPath(problem: PathProblem, family: FistaFamily): PathSolution {
  const { lambdas, l1Ratio, maxIter, stop } = problem;
  return solvePath({ lambdas, l1Ratio, maxIter, stop }, new Fista(problem, family));
}

class Fista implements LambdaSolver {
  readonly stats: ColumnStats;
  readonly beta: Float64Array;
  private b0: number;
  private readonly lipschitz: number;
  private readonly scaleOfChange: number;
  private readonly eta: Float64Array;
  private readonly resid: Float64Array;
  private readonly z: Float64Array;
  private readonly g: Float64Array;
  private readonly next: Float64Array;

  constructor(
    private readonly problem: PathProblem,
    private readonly family: FistaFamily,
  ) {
    const { design, y, weights, standardize } = problem;
    const { n, p } = design;
    this.stats = columnStats(design, weights, standardize);
    const target = centerTarget(y, weights, this.stats.weightSum);
    this.eta = new Float64Array(n);
    this.resid = new Float64Array(n);
    this.lipschitz = this.largestEigenvalue();
    this.beta = new Float64Array(p);
    this.b0 = family === 'gaussian' ? target.mean : Math.log(target.mean / (1 - target.mean));
    this.scaleOfChange = family === 'gaussian' ? Math.sqrt(target.variance) : 1;
    this.z = new Float64Array(p);
    this.g = new Float64Array(p);
    this.next = new Float64Array(p);
  }

  intercepts(): number[] {
    return [this.b0];
  }

  warmStart(): void {
    // Each λ starts from the last solution.
  }

  release(): void {}

  /** η = b0 + Σ β_j (x_j − m_j)/s_j */
  private predict(b0: number, beta: Float64Array, out: Float64Array): void {
    const { X, n, p } = this.problem.design;
    const { mean, scale } = this.stats;
    let base = b0;
    for (let j = 0; j < p; j++) if (beta[j] !== 0) base -= (beta[j] * mean[j]) / scale[j];
    out.fill(base);
    for (let j = 0; j < p; j++) {
      const f = beta[j] / scale[j];
      if (f === 0) continue;
      const off = j * n;
      for (let i = 0; i < n; i++) out[i] += f * X[off + i];
    }
  }

  /** Gradient of the mean loss with respect to (b0, β) into `out`; returns the intercept's component. */
  private gradient(b0: number, beta: Float64Array, out: Float64Array): number {
    const { design, y, weights } = this.problem;
    const { eta, resid } = this;
    const n = design.n;
    this.predict(b0, beta, eta);
    let rsum = 0;
    for (let i = 0; i < n; i++) {
      const mu = this.family === 'gaussian' ? eta[i] : 1 / (1 + Math.exp(-eta[i]));
      resid[i] = weights[i] * (mu - y[i]);
      rsum += resid[i];
    }
    featureProducts(design, this.stats, resid, out);
    return rsum / this.stats.weightSum;
  }

  /** Largest eigenvalue of the (intercept-augmented, centered) weighted Gram matrix, by power iteration. */
  private largestEigenvalue(): number {
    const { design, weights } = this.problem;
    const { n, p } = design;
    const W = this.stats.weightSum;
    let lipschitz = 1;
    let v = new Float64Array(p).fill(1 / Math.sqrt(p));
    const Av = new Float64Array(p);
    const u = new Float64Array(n);
    for (let it = 0; it < 50; it++) {
      this.predict(0, v, u);
      let mu = 0;
      for (let i = 0; i < n; i++) mu += weights[i] * u[i];
      mu /= W;
      for (let i = 0; i < n; i++) u[i] = weights[i] * (u[i] - mu);
      featureProducts(design, this.stats, u, Av);
      // A loop, not Math.hypot(...Av): spreading p arguments overflows the stack for large p.
      let sq = 0;
      for (let j = 0; j < p; j++) sq += Av[j] * Av[j];
      const norm = Math.sqrt(sq);
      if (norm === 0) break;
      lipschitz = norm;
      v = Av.map((a) => a / norm);
    }
    // 5% margin for the power iteration's underestimate; the intercept direction has curvature 1 (or 1/4).
    lipschitz = Math.max(lipschitz * 1.05, 1);
    if (this.family === 'binomial') lipschitz /= 4;
    return lipschitz;
  }

  solve({ l1, l2 }: PathStep, maxIter: number): { passes: number; status: FitStatusCode } {
    const { beta, z, g, next } = this;
    const { constant } = this.stats;
    const p = beta.length;
    const tol = this.problem.tol;
    const L = this.lipschitz + l2;
    const step = 1 / L;
    z.set(beta);
    let b0 = this.b0;
    let z0 = b0;
    let t = 1;
    let status: FitStatusCode = FitStatus.maxIter;
    let it = 0;
    while (it < maxIter) {
      it++;
      const g0 = this.gradient(z0, z, g);
      let moved = Math.abs(g0 * step);
      let restart = 0;
      const nb0 = z0 - step * g0;
      for (let j = 0; j < p; j++) {
        next[j] = constant[j] ? 0 : softThreshold(z[j] - step * (g[j] + l2 * z[j]), step * l1);
        moved = Math.max(moved, Math.abs(next[j] - z[j]));
        restart += (z[j] - next[j]) * (next[j] - beta[j]);
      }
      restart += (z0 - nb0) * (nb0 - b0);
      if (!Number.isFinite(moved)) {
        status = FitStatus.diverged;
        break;
      }
      // Converged when the prox-gradient step, scaled by L, is below tol: the KKT residual.
      if (moved * L <= tol * this.scaleOfChange) {
        beta.set(next);
        b0 = nb0;
        status = FitStatus.converged;
        break;
      }
      const tNext = restart > 0 ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      const momentum = restart > 0 ? 0 : (t - 1) / tNext;
      for (let j = 0; j < p; j++) {
        z[j] = next[j] + momentum * (next[j] - beta[j]);
        beta[j] = next[j];
      }
      z0 = nb0 + momentum * (nb0 - b0);
      b0 = nb0;
      t = tNext;
    }
    this.b0 = b0;
    return { passes: it, status };
  }
}
