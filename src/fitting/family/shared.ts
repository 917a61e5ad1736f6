/** Features with a nonzero coefficient for any class or response (glmnet's count of variables in the model). */
export function nonzeroFeatures(coefs: Float64Array, p: number, K: number): Record<string, number> {
  let count = 0;
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < K; k++)
      if (coefs[k * p + j] !== 0) {
        count++;
        break;
      }
  }
  return { nonzero_features: count };
}
