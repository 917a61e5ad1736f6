import { centerTarget, columnStats, featureProducts } from './columnStats.js';
import { FitStatus, penaltyWeights, softThreshold, type PathProblem, type PathSolution } from './types.js';

/**
 * A second solver, for cross-checks: FISTA (accelerated proximal gradient, Beck & Teboulle 2009) with adaptive
 * restart (O'Donoghue & Candès 2015), on the same objective as the coordinate-descent kernels. The smooth part is the
 * loss plus the ridge term; the prox of the L1 term is soft-thresholding; the intercept is unpenalized. Step 1/L
 * with L from a power iteration on X̃ᵀWX̃/W (a quarter of it for the logistic loss). Stops when the prox-gradient
 * step — a measure of how far the KKT conditions are from holding — is below tol (in units of sd(y) for linear).
 */
export function fistaPath(problem: PathProblem, family: 'gaussian' | 'binomial'): PathSolution {
  const { design, y, weights, standardize, alpha, lambdas, tol, maxIter } = problem;
  const { X, n, p } = design;
  const stats = columnStats(design, weights, standardize);
  const { weightSum: W, mean, scale, constant } = stats;
  const target = centerTarget(y, weights, W);

  /** η = b0 + Σ β_j (x_j − m_j)/s_j */
  const predict = (b0: number, beta: Float64Array, out: Float64Array) => {
    let base = b0;
    for (let j = 0; j < p; j++) if (beta[j] !== 0) base -= (beta[j] * mean[j]) / scale[j];
    out.fill(base);
    for (let j = 0; j < p; j++) {
      const f = beta[j] / scale[j];
      if (f === 0) continue;
      const off = j * n;
      for (let i = 0; i < n; i++) out[i] += f * X[off + i];
    }
  };
  const eta = new Float64Array(n);
  const resid = new Float64Array(n);
  /** Gradient of the mean loss with respect to (b0, β); returns the intercept's component. */
  const gradient = (b0: number, beta: Float64Array, out: Float64Array): number => {
    predict(b0, beta, eta);
    let rsum = 0;
    for (let i = 0; i < n; i++) {
      const mu = family === 'gaussian' ? eta[i] : 1 / (1 + Math.exp(-eta[i]));
      resid[i] = weights[i] * (mu - y[i]);
      rsum += resid[i];
    }
    featureProducts(design, stats, resid, out);
    return rsum / W;
  };

  // Largest eigenvalue of the (intercept-augmented, centered) weighted Gram matrix, by power iteration.
  let lipschitz = 1;
  {
    let v = new Float64Array(p).fill(1 / Math.sqrt(p));
    const Av = new Float64Array(p);
    const u = new Float64Array(n);
    for (let it = 0; it < 50; it++) {
      predict(0, v, u);
      let mu = 0;
      for (let i = 0; i < n; i++) mu += weights[i] * u[i];
      mu /= W;
      for (let i = 0; i < n; i++) u[i] = weights[i] * (u[i] - mu);
      featureProducts(design, stats, u, Av);
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
    if (family === 'binomial') lipschitz /= 4;
  }

  const solution: PathSolution = {
    intercepts: new Float64Array(lambdas.length),
    coefs: new Float64Array(lambdas.length * p),
    iterations: new Int32Array(lambdas.length),
    status: new Uint8Array(lambdas.length),
    seconds: new Float64Array(lambdas.length),
  };
  const beta = new Float64Array(p);
  let b0 = family === 'gaussian' ? target.mean : Math.log(target.mean / (1 - target.mean));
  const scaleOfChange = family === 'gaussian' ? Math.sqrt(target.variance) : 1;
  const z = new Float64Array(p);
  const g = new Float64Array(p);
  const next = new Float64Array(p);

  for (let l = 0; l < lambdas.length; l++) {
    const started = performance.now();
    const { l1, l2 } = penaltyWeights(lambdas[l], alpha);
    const L = lipschitz + l2;
    const step = 1 / L;
    z.set(beta);
    let z0 = b0;
    let t = 1;
    let status: number = FitStatus.maxIter;
    let it = 0;
    while (it < maxIter) {
      it++;
      const g0 = gradient(z0, z, g);
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
      if (moved * L <= tol * scaleOfChange) {
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
    let intercept = b0;
    for (let j = 0; j < p; j++) {
      const b = beta[j] / scale[j];
      solution.coefs[l * p + j] = b;
      intercept -= b * mean[j];
    }
    solution.intercepts[l] = intercept;
    solution.iterations[l] = it;
    solution.status[l] = status;
    solution.seconds[l] = (performance.now() - started) / 1000;
  }
  return solution;
}
