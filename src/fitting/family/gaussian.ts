// gaussian: least squares, the identity link. Solved by covariance updates while the p × p Gram is cheaper than passes
// over n rows, naive updates otherwise, the ridge path in the row space on fewer rows than features, or FISTA.
import { fistaPath } from '../solvers/fista.js';
import { gaussianCovariancePath } from '../solvers/gaussianCovariance.js';
import { gaussianNaivePath } from '../solvers/gaussianNaive.js';
import { gaussianRidgeDualPath, ridgeDualApplies } from '../solvers/gaussianRidgeDual.js';
import { regressionMeasures } from '../shared/measures.js';
import { meanSquaredError } from '../shared/metrics.js';
import type { PathProblem } from '../path/types.js';
import type { FamilySpec } from './types.js';

/** Below this many features a sparse design is fitted in covariance mode (glmnet's rule for type.gaussian). */
const SPARSE_COVARIANCE_FEATURES = 500;
/**
 * From this share of nonzeros a sparse design with fewer features than rows takes covariance updates whatever p is:
 * a pass of naive updates reads every active column's nonzeros, and an ill-conditioned path takes many passes.
 */
const SPARSE_COVARIANCE_DENSITY = 0.02;

/** glmnet's rule for a sparse design, and covariance updates also where its columns are dense enough (p permitting). */
function sparseCovariance(design: PathProblem['design'], nTrain: number, covarianceMaxFeatures: number): boolean {
  const { n, p, sparse } = design;
  if (nTrain <= p) return false;
  if (p < SPARSE_COVARIANCE_FEATURES) return true;
  return p <= covarianceMaxFeatures && sparse!.values.length >= SPARSE_COVARIANCE_DENSITY * n * p;
}

export const gaussian: FamilySpec = {
  name: 'gaussian',
  predictors: () => 1,
  // glmnet's choice; per-feature penalties and bounds take naive updates (the covariance kernels and the ridge path
  // take one penalty for all). A sparse design takes covariance updates below glmnet's 500 features or at 2% nonzeros
  // and more (its Gram columns from the nonzeros), else naive ones on its compressed columns.
  solve: ({ context, problem, settings, nTrain, gram, data }) =>
    settings.model.kind !== 'mlp' && settings.model.solver === 'fista'
      ? fistaPath(problem, 'gaussian')
      : problem.featurePenalty || problem.groups
        ? gaussianNaivePath(context, problem)
        : problem.design.sparse
          ? sparseCovariance(problem.design, nTrain, context.limits.covarianceMaxFeatures)
            ? gaussianCovariancePath(context, problem, gram())
            : gaussianNaivePath(context, problem)
          : ridgeDualApplies(problem, nTrain)
            ? gaussianRidgeDualPath(problem)
            : nTrain > data.p && data.p <= context.limits.covarianceMaxFeatures
              ? gaussianCovariancePath(context, problem, gram())
              : gaussianNaivePath(context, problem),
  loss: ({ y, eta }, w) => meanSquaredError(y, eta, w),
  measures: ({ y, eta }, w) => regressionMeasures(y, (i) => eta[i], w),
  metrics: () => ({}),
  classifier: false,
  groupsLambdas: true,
  addsOffset: false,
};
