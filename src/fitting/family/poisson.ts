// poisson: counts, the log link, an optional offset (log exposure); glmnet's IRLS path (point/glm.ts).
import { poissonPath } from '../solvers/glm.js';
import { regressionMeasures } from '../shared/measures.js';
import type { FamilySpec } from './types.js';

export const poisson: FamilySpec = {
  name: 'poisson',
  predictors: () => 1,
  solve: ({ context, problem }) => poissonPath(context, problem),
  /** Mean Poisson deviance 2[y log(y/μ) − (y − μ)] (y log y = 0 at y = 0). */
  loss: ({ y, eta, m }, w) => {
    let s = 0;
    let total = 0;
    for (let i = 0; i < m; i++) {
      if (w[i] === 0) continue;
      const mu = Math.exp(eta[i]);
      const yi = y[i];
      s += w[i] * 2 * ((yi > 0 ? yi * (Math.log(yi) - eta[i]) : 0) - (yi - mu));
      total += w[i];
    }
    return s / total;
  },
  measures: ({ y, eta }, w) => regressionMeasures(y, (i) => Math.exp(eta[i]), w),
  metrics: () => ({}),
  classifier: false,
  groupsLambdas: false,
  addsOffset: true,
};
