// binomial: two classes, the logistic link; glmnet's IRLS path (point/glm.ts) or FISTA.
import { fistaPath } from '../solvers/fista.js';
import { binomialPath } from '../solvers/glm.js';
import { binomialMeasures } from '../shared/measures.js';
import { accuracyAndAuc, logLoss } from '../shared/metrics.js';
import type { FamilySpec } from './types.js';

export const binomial: FamilySpec = {
  name: 'binomial',
  predictors: () => 1,
  solve: ({ context, problem, settings }) => (settings.model.kind !== 'mlp' && settings.model.solver === 'fista' ? fistaPath(problem, 'binomial') : binomialPath(context, problem)),
  loss: ({ y, eta }, w, clip) => logLoss(y, eta, w, clip),
  measures: ({ y, eta }, w) => binomialMeasures(y, eta, w),
  /** Accuracy and AUC on the training and validation rows. */
  metrics: ({ rows: { y, eta }, train, validation, nVal }) => {
    const trained = accuracyAndAuc(y, eta, train);
    const m: Record<string, number> = { train_accuracy: trained.accuracy, train_auc: trained.auc };
    if (nVal > 0) {
      const validated = accuracyAndAuc(y, eta, validation);
      m.val_accuracy = validated.accuracy;
      m.val_auc = validated.auc;
    }
    return m;
  },
  classifier: true,
  groupsLambdas: true,
  addsOffset: false,
};
