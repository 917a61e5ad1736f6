import { Rng } from '../util/random.js';
import { softThreshold } from './types.js';

export interface NetworkProblem {
  /** Column-major n × p inputs and n × outputs targets. */
  X: Float64Array;
  Y: Float64Array;
  n: number;
  p: number;
  outputs: number;
  trainRows: Int32Array;
  valRows: Int32Array;
  /** Input centering and scaling (fitted on the training rows by the caller); identity when not standardizing. */
  mean: Float64Array;
  scale: Float64Array;
  hidden: number[];
  optimizer: 'adam' | 'sgd';
  lr: number;
  batch: number;
  epochs: number;
  momentum: number;
  seed: number;
  /** Penalty λ·(α‖W‖₁ + (1−α)/2‖W‖²) as its two weights. */
  l1: number;
  l2: number;
  /** coupled: l2·w added to the gradient (torch Adam weight_decay); decoupled: AdamW's w ← w − lr·l2·w. */
  l2Method: 'coupled' | 'decoupled';
  /** subgradient: l1·sign(w) added to the gradient; proximal: soft-threshold by lr·l1 after each step (exact zeros). */
  l1Method: 'subgradient' | 'proximal';
  penalizeBias: boolean;
}

export interface NetworkResult {
  /** Per layer, row-major (units out × units in). */
  weights: Float64Array[];
  biases: Float64Array[];
  trainLoss: number;
  valLoss: number;
  /** Mean training batch loss and validation loss after each epoch. */
  epochTrain: Float64Array;
  epochVal: Float64Array;
  status: 'ok' | 'diverged';
  /** 1-based epoch whose loss was not finite, or 0. */
  divergedEpoch: number;
  epochsRun: number;
}

/**
 * A multilayer perceptron (ReLU hidden layers, linear output, MSE averaged over outputs as nn.MSELoss) trained by
 * minibatch Adam or SGD on the training rows, with L1 and L2 penalties on the weights (biases too when asked).
 * Initialization as torch.nn.Linear: U(−1/√fan_in, 1/√fan_in). A loss that stops being finite ends the run as
 * diverged (so does one that grows ten orders of magnitude). Pure: everything it needs comes in the problem.
 */
export function trainNetwork(problem: NetworkProblem): NetworkResult {
  const { p, outputs, hidden, trainRows, valRows, lr, epochs } = problem;
  const sizes = [p, ...hidden, outputs];
  const rng = new Rng(problem.seed);
  const layers = sizes.slice(1).map((out, k) => {
    const fanIn = sizes[k];
    const bound = 1 / Math.sqrt(fanIn);
    const w = Float64Array.from({ length: out * fanIn }, () => (2 * rng.uniform() - 1) * bound);
    const b = Float64Array.from({ length: out }, () => (2 * rng.uniform() - 1) * bound);
    return { in: fanIn, out, w, b, gw: new Float64Array(w.length), gb: new Float64Array(out), mw: new Float64Array(w.length), vw: new Float64Array(w.length), mb: new Float64Array(out), vb: new Float64Array(out) };
  });
  const maxBatch = Math.max(1, Math.min(problem.batch, trainRows.length));
  // Activations per layer (batch × units) and their gradients.
  const acts = sizes.map((units) => new Float64Array(maxBatch * units));
  const grads = sizes.map((units) => new Float64Array(maxBatch * units));
  const targets = new Float64Array(maxBatch * outputs);
  // Row-major, standardized copies of the training and validation rows: minibatches visit rows in random order,
  // and gathering a row from the column-major matrix would touch p + outputs cache lines per sample.
  const gather = (rows: Int32Array) => {
    const { X, Y, n, mean, scale } = problem;
    const x = new Float64Array(rows.length * p);
    const y = new Float64Array(rows.length * outputs);
    for (let j = 0; j < p; j++) for (let r = 0; r < rows.length; r++) x[r * p + j] = (X[j * n + rows[r]] - mean[j]) / scale[j];
    for (let k = 0; k < outputs; k++) for (let r = 0; r < rows.length; r++) y[r * outputs + k] = Y[k * n + rows[r]];
    return { x, y, count: rows.length };
  };
  const trainSet = gather(trainRows);
  const valSet = gather(valRows);
  type RowSet = typeof trainSet;
  /** Positions in trainSet, reshuffled every epoch. */
  const order = Int32Array.from({ length: trainRows.length }, (_, i) => i);

  const loadBatch = (set: RowSet, positions: Int32Array | null, start: number, count: number) => {
    for (let b = 0; b < count; b++) {
      const at = positions ? positions[start + b] : start + b;
      acts[0].set(set.x.subarray(at * p, (at + 1) * p), b * p);
      targets.set(set.y.subarray(at * outputs, (at + 1) * outputs), b * outputs);
    }
  };
  const forward = (count: number) => {
    for (let k = 0; k < layers.length; k++) {
      const L = layers[k];
      const input = acts[k];
      const output = acts[k + 1];
      const relu = k < layers.length - 1;
      for (let b = 0; b < count; b++) {
        for (let o = 0; o < L.out; o++) {
          let s = L.b[o];
          const wOff = o * L.in;
          const aOff = b * L.in;
          for (let i = 0; i < L.in; i++) s += L.w[wOff + i] * input[aOff + i];
          output[b * L.out + o] = relu && s < 0 ? 0 : s;
        }
      }
    }
  };
  /** Sum of squared errors over the batch (all outputs). */
  const batchSse = (count: number) => {
    const out = acts[layers.length];
    let s = 0;
    for (let t = 0; t < count * outputs; t++) s += (out[t] - targets[t]) ** 2;
    return s;
  };
  const evaluate = (set: RowSet): number => {
    if (set.count === 0) return NaN;
    let sse = 0;
    for (let start = 0; start < set.count; start += maxBatch) {
      const count = Math.min(maxBatch, set.count - start);
      loadBatch(set, null, start, count);
      forward(count);
      sse += batchSse(count);
    }
    return sse / (set.count * outputs);
  };

  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;
  const applyUpdate = (param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, penalized: boolean) => {
    const { l1, l2 } = problem;
    const coupledL2 = penalized && problem.l2Method === 'coupled' ? l2 : 0;
    const subgradientL1 = penalized && problem.l1Method === 'subgradient' ? l1 : 0;
    const decay = penalized && problem.l2Method === 'decoupled' ? 1 - lr * l2 : 1;
    const shrink = penalized && problem.l1Method === 'proximal' ? lr * l1 : 0;
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    for (let t = 0; t < param.length; t++) {
      let g = grad[t];
      if (coupledL2) g += coupledL2 * param[t];
      if (subgradientL1) g += subgradientL1 * Math.sign(param[t]);
      let w = param[t] * decay;
      if (problem.optimizer === 'adam') {
        m[t] = beta1 * m[t] + (1 - beta1) * g;
        v[t] = beta2 * v[t] + (1 - beta2) * g * g;
        w -= (lr * (m[t] / c1)) / (Math.sqrt(v[t] / c2) + eps);
      } else if (problem.momentum > 0) {
        m[t] = problem.momentum * m[t] + g;
        w -= lr * m[t];
      } else {
        w -= lr * g;
      }
      param[t] = shrink ? softThreshold(w, shrink) : w;
    }
  };

  const epochTrain = new Float64Array(epochs);
  const epochVal = new Float64Array(epochs);
  let divergedEpoch = 0;
  let epochsRun = 0;
  // Diverged: a loss that is not finite, or that grew ten orders of magnitude past where training started.
  let firstBatchLoss = NaN;
  let initialLoss = Infinity;
  const exploded = (loss: number) => !Number.isFinite(loss) || loss > 1e10 * initialLoss;
  for (let epoch = 0; epoch < epochs && !divergedEpoch; epoch++) {
    // Shuffle the training rows each epoch (Fisher–Yates with the run's own stream).
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let sse = 0;
    for (let start = 0; start < order.length; start += maxBatch) {
      const count = Math.min(maxBatch, order.length - start);
      loadBatch(trainSet, order, start, count);
      forward(count);
      const batchLoss = batchSse(count);
      if (Number.isNaN(firstBatchLoss)) firstBatchLoss = batchLoss / (count * outputs);
      sse += batchLoss;
      if (!Number.isFinite(batchLoss)) break;
      // d(mean squared error)/d(output)
      const top = layers.length;
      const scaleOut = 2 / (count * outputs);
      for (let t = 0; t < count * outputs; t++) grads[top][t] = scaleOut * (acts[top][t] - targets[t]);
      for (let k = layers.length - 1; k >= 0; k--) {
        const L = layers[k];
        const gOut = grads[k + 1];
        const input = acts[k];
        // Locals, not L's fields, in the hot loop: V8 reloads a field after every typed-array store.
        const { gw, gb, in: units, out: outs } = L;
        gw.fill(0);
        gb.fill(0);
        for (let b = 0; b < count; b++) {
          for (let o = 0; o < outs; o++) {
            const g = gOut[b * outs + o];
            if (g === 0) continue;
            gb[o] += g;
            const wOff = o * units;
            const aOff = b * units;
            for (let i = 0; i < units; i++) gw[wOff + i] += g * input[aOff + i];
          }
        }
        if (k > 0) {
          // Back through the weights and the ReLU of the layer below.
          const gIn = grads[k];
          for (let b = 0; b < count; b++) {
            for (let i = 0; i < L.in; i++) {
              if (input[b * L.in + i] <= 0) {
                gIn[b * L.in + i] = 0;
                continue;
              }
              let s = 0;
              for (let o = 0; o < L.out; o++) s += gOut[b * L.out + o] * L.w[o * L.in + i];
              gIn[b * L.in + i] = s;
            }
          }
        }
      }
      step++;
      for (const L of layers) {
        applyUpdate(L.w, L.gw, L.mw, L.vw, true);
        applyUpdate(L.b, L.gb, L.mb, L.vb, problem.penalizeBias);
      }
    }
    epochsRun = epoch + 1;
    epochTrain[epoch] = sse / (order.length * outputs);
    epochVal[epoch] = evaluate(valSet);
    if (epoch === 0) initialLoss = Math.max(firstBatchLoss, 1e-12);
    if (exploded(epochTrain[epoch]) || (valRows.length > 0 && exploded(epochVal[epoch]))) divergedEpoch = epoch + 1;
  }
  return {
    weights: layers.map((L) => L.w),
    biases: layers.map((L) => L.b),
    trainLoss: divergedEpoch ? NaN : evaluate(trainSet),
    valLoss: divergedEpoch ? NaN : evaluate(valSet),
    epochTrain: epochTrain.subarray(0, epochsRun),
    epochVal: epochVal.subarray(0, epochsRun),
    status: divergedEpoch ? 'diverged' : 'ok',
    divergedEpoch,
    epochsRun,
  };
}
