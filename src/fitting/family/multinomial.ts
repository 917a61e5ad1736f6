// multinomial: several classes, one linear predictor each, the softmax; glmnet's path (point/multinomial.ts),
// ungrouped or grouped across the classes.
import { multinomialPath } from '../solvers/multinomial.js';
import { multinomialMeasures } from '../shared/measures.js';
import { multinomialLogLoss } from '../shared/metrics.js';
import { nonzeroFeatures } from './shared.js';
import type { FamilySpec, Rows } from './types.js';

/** Accuracy on the training and validation rows, and the validation confusion counts (val_confusion_<true>_<predicted>). */
function multinomialMetrics({ y, eta, m, K }: Rows, train: Float64Array, validation: Float64Array, nVal: number): Record<string, number> {
  const predicted = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (eta[k * m + i] > eta[best * m + i]) best = k;
    predicted[i] = best;
  }
  const accuracyOn = (w: Float64Array) => {
    let right = 0;
    let total = 0;
    for (let i = 0; i < m; i++)
      if (w[i] !== 0) {
        total += w[i];
        if (predicted[i] === y[i]) right += w[i];
      }
    return right / total;
  };
  const figures: Record<string, number> = { train_accuracy: accuracyOn(train) };
  if (nVal > 0) {
    figures.val_accuracy = accuracyOn(validation);
    for (let t = 0; t < K; t++) for (let q = 0; q < K; q++) figures[`val_confusion_${t}_${q}`] = 0;
    for (let i = 0; i < m; i++) if (validation[i] !== 0) figures[`val_confusion_${y[i]}_${predicted[i]}`] += 1;
  }
  return figures;
}

export const multinomial: FamilySpec = {
  name: 'multinomial',
  predictors: (data) => data.classes,
  solve: ({ context, problem, data, settings }) => multinomialPath(context, problem, data.classes, settings.model.kind !== 'mlp' && (settings.model.grouped ?? false)),
  loss: ({ y, eta, m, K }: Rows, w: Float64Array, clip: number) => multinomialLogLoss(y, eta, m, K, w, clip),
  measures: ({ y, eta, m, K }, w) => multinomialMeasures(y, eta, m, K, w),
  metrics: ({ rows, coefs, p, train, validation, nVal }) => ({ ...multinomialMetrics(rows, train, validation, nVal), ...nonzeroFeatures(coefs, p, rows.K) }),
  classifier: true,
  groupsLambdas: false,
  addsOffset: true,
};
