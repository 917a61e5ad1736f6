// cv.glmnet's type.measure figures on the validation rows, stored with each trial (metrics val_mse, val_mae,
// val_class, val_deviance) so that curves and λ can be chosen by any of them later without fitting again. For the
// classifiers they are glmnet's: squared and absolute errors summed over the class indicators, misclassification
// with a probability of exactly 1/2 counted wrong, deviance twice the mean negative log-likelihood.

/** Weighted means over the rows with a nonzero weight of per-row terms. */
function weightedMean(weights: Float64Array, term: (i: number) => number): number {
  let s = 0;
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (w === 0) continue;
    s += w * term(i);
    total += w;
  }
  return s / total;
}

/** One response predicted by `mean` (the identity link's η, or exp(η) for counts): its mse and mae. */
export function regressionMeasures(y: Float64Array, mean: (i: number) => number, weights: Float64Array): Record<string, number> {
  return {
    val_mse: weightedMean(weights, (i) => (y[i] - mean(i)) ** 2),
    val_mae: weightedMean(weights, (i) => Math.abs(y[i] - mean(i))),
  };
}

/** Several responses (K blocks of n in y and η): errors summed over the responses, as cv.glmnet's mgaussian. */
export function multiResponseMeasures(y: Float64Array, eta: Float64Array, n: number, outputs: number, weights: Float64Array): Record<string, number> {
  const summed = (f: (d: number) => number) => (i: number) => {
    let s = 0;
    for (let k = 0; k < outputs; k++) s += f(y[k * n + i] - eta[k * n + i]);
    return s;
  };
  return { val_mse: weightedMean(weights, summed((d) => d * d)), val_mae: weightedMean(weights, summed(Math.abs)) };
}

/** 0/1 labels and log-odds η: glmnet's binomial mse, mae and misclassification. */
export function binomialMeasures(y: Float64Array, eta: Float64Array, weights: Float64Array): Record<string, number> {
  // The three weighted means in one pass, each row's probability computed once: they were a third of a wide path's trials.
  let squares = 0;
  let absolutes = 0;
  let wrong = 0;
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const p = 1 / (1 + Math.exp(-eta[i]));
    squares += w * (2 * (y[i] - p) ** 2);
    absolutes += w * (2 * Math.abs(y[i] - p));
    wrong += w * (y[i] === 1 ? (p <= 0.5 ? 1 : 0) : p >= 0.5 ? 1 : 0);
    total += w;
  }
  return { val_mse: squares / total, val_mae: absolutes / total, val_class: wrong / total };
}

/** Class codes and K linear predictors per row (K blocks of n): glmnet's multinomial mse, mae and misclassification. */
export function multinomialMeasures(y: Float64Array, eta: Float64Array, n: number, classes: number, weights: Float64Array): Record<string, number> {
  const probabilities = new Float64Array(classes);
  const rowTerms = (i: number) => {
    let top = -Infinity;
    for (let k = 0; k < classes; k++) top = Math.max(top, eta[k * n + i]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += probabilities[k] = Math.exp(eta[k * n + i] - top);
    let squares = 0;
    let absolutes = 0;
    let predicted = 0;
    for (let k = 0; k < classes; k++) {
      const d = (y[i] === k ? 1 : 0) - probabilities[k] / sum;
      squares += d * d;
      absolutes += Math.abs(d);
      if (probabilities[k] > probabilities[predicted]) predicted = k;
    }
    return { squares, absolutes, wrong: predicted === y[i] ? 0 : 1 };
  };
  let mse = 0;
  let mae = 0;
  let wrong = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const r = rowTerms(i);
    mse += w * r.squares;
    mae += w * r.absolutes;
    wrong += w * r.wrong;
    total += w;
  }
  return { val_mse: mse / total, val_mae: mae / total, val_class: wrong / total };
}
