// gaussian: least squares, the identity link. Solved by covariance updates while the p × p Gram is cheaper than passes
// over n rows, naive updates otherwise, the ridge path in the row space on fewer rows than features, or FISTA.
import { fistaPath } from '../solvers/fista.js';
import { gaussianCovariancePath } from '../solvers/gaussianCovariance.js';
import { gaussianNaivePath } from '../solvers/gaussianNaive.js';
import { gaussianRidgeDualPath, ridgeDualApplies } from '../solvers/gaussianRidgeDual.js';
import { regressionMeasures } from '../shared/measures.js';
import { meanSquaredError } from '../shared/metrics.js';
import type { FamilySpec } from './types.js';

export const gaussian: FamilySpec = {
  name: 'gaussian',
  predictors: () => 1,
  // glmnet's choice; per-feature penalties and bounds take naive updates (the covariance kernels and the ridge path
  // take one penalty for all), and so does a sparse design (its columns are read where they lie).
  solve: ({ context, problem, settings, nTrain, gram, data }) =>
    settings.model.kind !== 'mlp' && settings.model.solver === 'fista'
      ? fistaPath(problem, 'gaussian')
      : problem.featurePenalty || problem.groups || problem.design.sparse
        ? gaussianNaivePath(context, problem)
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
