// mgaussian: several targets, one linear predictor each, a feature's coefficients across them penalized as a group
// (point/mgaussian.ts).
import { mgaussianPath } from '../solvers/mgaussian.js';
import { multiResponseMeasures } from '../shared/measures.js';
import { nonzeroFeatures } from './shared.js';
import type { FamilySpec } from './types.js';

export const mgaussian: FamilySpec = {
  name: 'mgaussian',
  predictors: (data) => data.outputs,
  solve: ({ context, problem, data }) => mgaussianPath(context, problem, data.outputs),
  /** Squared errors summed over the responses, averaged over rows (cv.glmnet's mse for mgaussian). */
  loss: ({ y, eta, m, K }, w) => {
    let s = 0;
    let total = 0;
    for (let i = 0; i < m; i++) {
      if (w[i] === 0) continue;
      let e = 0;
      for (let k = 0; k < K; k++) e += (y[k * m + i] - eta[k * m + i]) ** 2;
      s += w[i] * e;
      total += w[i];
    }
    return s / total;
  },
  measures: ({ y, eta, m, K }, w) => multiResponseMeasures(y, eta, m, K, w),
  metrics: ({ coefs, p, rows }) => nonzeroFeatures(coefs, p, rows.K),
  classifier: false,
  groupsLambdas: false,
  addsOffset: true,
};
