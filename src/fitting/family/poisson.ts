// poisson: counts, the log link, an optional offset (log exposure); glmnet's IRLS path (point/glm.ts).
import { poissonPath } from '../solvers/glm.js';
import { regressionMeasures } from '../shared/measures.js';
import { poissonDeviance } from '../shared/metrics.js';
import type { FamilySpec } from './types.js';

export const poisson: FamilySpec = {
  name: 'poisson',
  predictors: () => 1,
  solve: ({ context, problem }) => poissonPath(context, problem),
  /** Mean Poisson deviance 2[y log(y/μ) − (y − μ)] (y log y = 0 at y = 0). */
  loss: ({ y, eta, m }, w) => poissonDeviance(y, eta.subarray(0, m), w),
  measures: ({ y, eta }, w) => regressionMeasures(y, (i) => Math.exp(eta[i]), w),
  metrics: () => ({}),
  classifier: false,
  groupsLambdas: false,
  addsOffset: true,
};
