// cox: survival times with censoring, the proportional-hazards model, glmnet's coxnet path (solvers/cox.ts). Its rows'
// target is two blocks, the times and then the statuses; its losses are glmnet's deviance per death.
import { coxPath } from '../solvers/cox.js';
import { breslowHazard, coxDeviance, harrellC } from '../shared/cox.js';
import type { FamilySpec, Rows } from './types.js';

/** The deviance of the weighted rows per weighted death (cv.glmnet's ungrouped measure of a fold), NaN without deaths. */
function deviancePerDeath({ y, eta, m }: Rows, w: Float64Array): number {
  const { deviance, deaths } = coxDeviance(y.subarray(0, m), y.subarray(m, 2 * m), eta.subarray(0, m), w);
  return deaths > 0 ? deviance / deaths : NaN;
}

/** The weighted deaths among the rows. */
function deathsOf({ y, m }: Rows, w: Float64Array): number {
  let d = 0;
  for (let i = 0; i < m; i++) if (w[i] > 0 && y[m + i] === 1) d += w[i];
  return d;
}

const concordance = ({ y, eta, m }: Rows, w: Float64Array) => harrellC(y.subarray(0, m), y.subarray(m, 2 * m), eta.subarray(0, m), w);

/** The training and validation rows of a fold together, made once per fold (its risk sets are then sorted once). */
const unions = new WeakMap<Float64Array, { validation: Float64Array; both: Float64Array }>();
function bothParts(train: Float64Array, validation: Float64Array): Float64Array {
  const hit = unions.get(train);
  if (hit && hit.validation === validation) return hit.both;
  const both = Float64Array.from(train, (t, i) => t + validation[i]);
  unions.set(train, { validation, both });
  return both;
}

export const cox: FamilySpec = {
  name: 'cox',
  predictors: () => 1,
  solve: ({ context, problem }) => coxPath(context, problem),
  loss: (rows, w) => deviancePerDeath(rows, w),
  /**
   * cv.glmnet's grouped measure (its default): the deviance of the training and validation rows together less that of
   * the training rows, both at the fold's fit, per validation death — a fold's risk sets keep every row at risk.
   */
  validationLoss: (rows, train, validation) => {
    const both = bothParts(train, validation);
    const { y, eta, m } = rows;
    const time = y.subarray(0, m);
    const status = y.subarray(m, 2 * m);
    const deaths = deathsOf(rows, validation);
    return deaths > 0 ? (coxDeviance(time, status, eta, both).deviance - coxDeviance(time, status, eta, train).deviance) / deaths : NaN;
  },
  baseline: ({ y, eta, m }, w) => breslowHazard(y.subarray(0, m), y.subarray(m, 2 * m), eta.subarray(0, m), w),
  /** The ungrouped deviance, Harrell's C and the deaths the deviances are per (a fold's weight in their CV mean). */
  measures: (rows, w) => ({ val_deviance_ungrouped: deviancePerDeath(rows, w), val_C: concordance(rows, w), val_deaths: deathsOf(rows, w) }),
  metrics: ({ rows, train }) => ({ train_C: concordance(rows, train) }),
  classifier: false,
  groupsLambdas: true,
  addsOffset: false,
};
