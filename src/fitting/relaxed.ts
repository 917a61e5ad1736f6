// The relaxed lasso (glmnet's relax = TRUE, Meinshausen 2007): at each λ of a solved path, the unpenalized fit on the
// features the path has nonzero there, blended γ·(path's fit) + (1 − γ)·(refit). Pure: the shared data in, a path
// solution out.
import { FitStatus, type FoldId, type Task } from '../domain.js';
import type { KernelContext } from './context.js';
import type { FamilySpec } from './family/types.js';
import type { PathProblem, PathSolution } from './path/types.js';
import { denseColumn } from './shared/design.js';
import type { FitSettings, SharedData } from './settings.js';

interface Refit {
  coefs: Float64Array;
  intercept: number;
  status: number;
}

/** How bad a status is, to keep the worse of a path's fit and its refit. */
const SEVERITY: Record<number, number> = { [FitStatus.converged]: 0, [FitStatus.maxIter]: 1, [FitStatus.diverged]: 2 };

/**
 * The path blended with its refits. Each distinct active set is refitted once (as glmnet does); a set of more than
 * nTrain − 3 features is not refitted (glmnet's maxp) and its λ takes the last refit before it. A λ with no feature in
 * the model is left as it is (its refit is the null model, which the path's fit already is).
 */
export function relaxedPath(
  input: { context: KernelContext; data: SharedData; task: Task; fold: FoldId; settings: FitSettings; nTrain: number },
  family: FamilySpec,
  problem: PathProblem,
  solution: PathSolution,
  gamma: number,
): PathSolution {
  const { data, nTrain } = input;
  const { p } = data;
  const fitted = solution.stopped ? solution.stopped.index + 1 : solution.status.length;
  const coefs = solution.coefs.slice();
  const intercepts = solution.intercepts.slice();
  const status = solution.status.slice();
  const refits = new Map<string, Refit>();
  let last: Refit | undefined;
  for (let l = 0; l < fitted; l++) {
    if (solution.status[l] === FitStatus.diverged) continue;
    const row = solution.coefs.subarray(l * p, (l + 1) * p);
    const active: number[] = [];
    for (let j = 0; j < p; j++) if (row[j] !== 0) active.push(j);
    if (active.length === 0) continue;
    let refit = last;
    if (active.length <= nTrain - 3) {
      const key = active.join(',');
      refit = refits.get(key);
      if (!refit) refits.set(key, (refit = refitOn(input, family, problem, active)));
    }
    if (!refit) continue;
    last = refit;
    for (let j = 0; j < p; j++) coefs[l * p + j] = gamma * row[j] + (1 - gamma) * refit.coefs[j];
    intercepts[l] = gamma * solution.intercepts[l] + (1 - gamma) * refit.intercept;
    if (SEVERITY[refit.status] > SEVERITY[status[l]]) status[l] = refit.status;
  }
  // The solver's own training MSE is the path's, not the blend's: the trials measure the blend from its predictions.
  const { trainMse: _path, ...rest } = solution;
  return { ...rest, coefs, intercepts, status };
}

/** The unpenalized fit (λ = 0) of the family on the active features, its coefficients placed among all p. */
function refitOn(input: Parameters<typeof relaxedPath>[0], family: FamilySpec, problem: PathProblem, active: number[]): Refit {
  const { data } = input;
  const { n } = data;
  const X = new Float64Array(n * active.length);
  active.forEach((j, a) => X.set(denseColumn(problem.design, j), a * n));
  const bounds = problem.featurePenalty;
  const pick = (values: Float64Array | null | undefined) => (values ? Float64Array.from(active, (j) => values[j]) : null);
  const subproblem: PathProblem = {
    ...problem,
    design: { X, n, p: active.length },
    lambdas: Float64Array.of(0),
    ...(bounds ? { featurePenalty: { factor: null, lower: pick(bounds.lower), upper: pick(bounds.upper) } } : {}),
  };
  delete subproblem.stop;
  const solved = family.solve({ ...input, problem: subproblem, data: { ...data, X, p: active.length, sparse: undefined, fills: [] }, gram: () => undefined });
  const coefs = new Float64Array(data.p);
  active.forEach((j, a) => (coefs[j] = solved.coefs[a]));
  return { coefs, intercept: solved.intercepts[0], status: solved.status[0] };
}
