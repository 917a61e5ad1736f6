import { FitStatus, type FitStatusCode } from '../../domain.js';
import { Rng } from '../../util/random.js';
import type { KernelContext } from '../context.js';
import type { WasmHeap } from '../kernels/heap.js';
import { solvePath } from '../path/driver.js';
import type { PathStep, PathSolution, LambdaSolver } from '../path/types.js';
import { softThreshold } from '../shared/penalty.js';
import type { NetworkSettings } from '../settings.js';

export interface NetworkProblem extends Omit<NetworkSettings, 'kind'> {
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
  /** Penalty λ·(r‖W‖₁ + (1−r)/2‖W‖²) (r the l1 ratio) as its two weights. */
  l1: number;
  l2: number;
  /** Successive halving: at each rung epoch the validation loss is reported; a trial told to stop is pruned there. */
  prune?: { rungOf: (epoch: number) => number; report: (rung: number, loss: number) => boolean };
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
  status: 'ok' | 'diverged' | 'pruned';
  /** 1-based epoch whose loss was not finite, or 0. */
  divergedEpoch: number;
  epochsRun: number;
  /** With early stopping: the 1-based epoch whose weights were kept; 0 without. */
  bestEpoch: number;
  /** The 1-based epoch at which successive halving stopped the trial, or 0. */
  prunedEpoch: number;
}

/** A layer's parameters, gradients and optimizer moments; weights in kernel memory, rows padded to `inStride`. */
interface Layer {
  in: number;
  out: number;
  inStride: number;
  outStride: number;
  w: Float64Array;
  b: Float64Array;
  gwView: Float64Array;
  wtView: Float64Array;
  /** Where Wᵀ lives in kernel memory (index into heap.f64). */
  wtAt: number;
  gb: Float64Array;
  mw: Float64Array;
  vw: Float64Array;
  mb: Float64Array;
  vb: Float64Array;
}

/** Row-major, standardized copies of some rows, as minibatches read them. */
interface RowSet {
  x: Float64Array;
  y: Float64Array;
  count: number;
}

/**
 * The network in kernel memory: its layers, the batch's activations and gradients, and the forward and backward
 * passes through the SIMD product kernel. Every layer width is padded to a multiple of 4 for the kernel; padding
 * weights, biases and activations are zero and stay zero (their gradients are zero, and every penalty and optimizer
 * step keeps 0 at 0).
 */
class Mlp {
  readonly layers: Layer[];
  private readonly padded: number[];
  /** The kernel takes batch rows in pairs. */
  private readonly rowsCap: number;
  private readonly F: Float64Array;
  private readonly zeros: number;
  private readonly acts: Float64Array[];
  private readonly grads: Float64Array[];
  private readonly transposedAt: number[];
  private readonly targets: Float64Array;
  private readonly blocks: [start: number, length: number][] = [];

  constructor(
    private readonly heap: WasmHeap,
    sizes: number[],
    readonly maxBatch: number,
    rng: Rng,
  ) {
    this.padded = sizes.map((units) => (units + 3) & ~3);
    this.rowsCap = (maxBatch + 1) & ~1;
    const { padded, rowsCap } = this;
    const take = (count: number) => {
      const start = heap.alloc(count);
      this.blocks.push([start, count]);
      return start;
    };
    this.zeros = take(Math.max(rowsCap, ...padded));
    const layerBlocks = sizes.slice(1).map((_, k) => ({
      w: take(padded[k + 1] * padded[k]),
      gw: take(padded[k + 1] * padded[k]),
      // Wᵀ, for the gradient flowing back to a hidden layer.
      wt: take(padded[k] * padded[k + 1]),
    }));
    const actBlocks = padded.map((units) => take(rowsCap * units));
    const gradBlocks = padded.map((units) => take(rowsCap * units));
    this.transposedAt = padded.map((units) => take(units * rowsCap));
    // Views only after the last allocation (growing the memory detaches them); all blocks start zeroed.
    this.F = heap.f64;
    for (const [start, length] of this.blocks) this.F.fill(0, start, start + length);
    const view = (start: number, length: number) => this.F.subarray(start, start + length);
    this.layers = sizes.slice(1).map((out, k) => {
      const fanIn = sizes[k];
      const inStride = padded[k];
      const bound = 1 / Math.sqrt(fanIn);
      // Drawn in nn.Linear's order (weights row by row, then biases), stored with padded rows.
      const w = view(layerBlocks[k].w, padded[k + 1] * inStride);
      for (let o = 0; o < out; o++) for (let i = 0; i < fanIn; i++) w[o * inStride + i] = (2 * rng.uniform() - 1) * bound;
      const b = new Float64Array(padded[k + 1]);
      for (let o = 0; o < out; o++) b[o] = (2 * rng.uniform() - 1) * bound;
      const size = w.length;
      return {
        in: fanIn, out, inStride, outStride: padded[k + 1], w, b,
        gwView: view(layerBlocks[k].gw, size), wtView: view(layerBlocks[k].wt, size), wtAt: layerBlocks[k].wt, gb: new Float64Array(padded[k + 1]),
        mw: new Float64Array(size), vw: new Float64Array(size), mb: new Float64Array(padded[k + 1]), vb: new Float64Array(padded[k + 1]),
      };
    });
    this.acts = padded.map((units, k) => view(actBlocks[k], rowsCap * units));
    this.grads = padded.map((units, k) => view(gradBlocks[k], rowsCap * units));
    this.targets = new Float64Array(maxBatch * sizes[sizes.length - 1]);
  }

  release(): void {
    for (const [start] of this.blocks) this.heap.release(start);
  }

  private get outputs(): number {
    return this.layers[this.layers.length - 1].out;
  }

  /** Rows `start … start + count` of a set (through `positions` when given) into the input activations and targets. */
  loadBatch(set: RowSet, positions: Int32Array | null, start: number, count: number): void {
    const stride = this.padded[0];
    const a0 = this.acts[0];
    const p = this.layers[0].in;
    const { outputs, targets } = this;
    const { x, y } = set;
    // Plain loops: rows are short, and a subarray per row would cost more than the copy.
    for (let b = 0; b < count; b++) {
      const at = positions ? positions[start + b] : start + b;
      for (let j = 0; j < p; j++) a0[b * stride + j] = x[at * p + j];
      for (let k = 0; k < outputs; k++) targets[b * outputs + k] = y[at * outputs + k];
    }
  }

  /** from (rows × cols, row-major) → its transpose at kernel-memory start `into`, rows `stride` apart. */
  private transpose(from: Float64Array, rows: number, cols: number, into: number, stride = this.rowsCap): void {
    const { F } = this;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) F[into + c * stride + r] = from[r * cols + c];
  }

  forward(count: number): void {
    const { gram } = this.heap.kernels;
    const pairs = (count + 1) & ~1;
    for (let k = 0; k < this.layers.length; k++) {
      const L = this.layers[k];
      const output = this.acts[k + 1];
      // Each row starts at the bias; the kernel adds Σ_i w_oi · a_bi (rows of W against rows of the batch).
      for (let b = 0; b < pairs; b++) output.set(L.b, b * L.outStride);
      gram(L.w.byteOffset, L.outStride, this.acts[k].byteOffset, pairs, this.zeros * 8, L.in, L.inStride, output.byteOffset);
      if (k < this.layers.length - 1) for (let t = 0; t < count * L.outStride; t++) if (output[t] < 0) output[t] = 0;
    }
  }

  /** Sum of squared errors over the batch (all outputs). */
  batchSse(count: number): number {
    const { outputs, targets } = this;
    const out = this.acts[this.layers.length];
    const stride = this.padded[this.layers.length];
    let s = 0;
    for (let b = 0; b < count; b++) for (let o = 0; o < outputs; o++) s += (out[b * stride + o] - targets[b * outputs + o]) ** 2;
    return s;
  }

  /** Mean squared error over a set (NaN for none). */
  evaluate(set: RowSet): number {
    if (set.count === 0) return NaN;
    let sse = 0;
    for (let start = 0; start < set.count; start += this.maxBatch) {
      const count = Math.min(this.maxBatch, set.count - start);
      this.loadBatch(set, null, start, count);
      this.forward(count);
      sse += this.batchSse(count);
    }
    return sse / (set.count * this.outputs);
  }

  /** The gradients of the batch's mean squared error, layer by layer, after forward(count). */
  backward(count: number): void {
    const { gram } = this.heap.kernels;
    const { layers, acts, grads, padded, outputs, targets, rowsCap } = this;
    // d(mean squared error)/d(output); padding outputs get 0.
    const top = layers.length;
    const topStride = padded[top];
    const scaleOut = 2 / (count * outputs);
    grads[top].fill(0);
    for (let b = 0; b < count; b++) for (let o = 0; o < outputs; o++) grads[top][b * topStride + o] = scaleOut * (acts[top][b * topStride + o] - targets[b * outputs + o]);
    for (let k = layers.length - 1; k >= 0; k--) {
      const L = layers[k];
      const gOut = grads[k + 1];
      // gW[o, i] = Σ_b gOut[b, o] · a[b, i]: columns of the batch against each other, so both go in transposed.
      this.transpose(acts[k], count, L.inStride, this.transposedAt[k]);
      this.transpose(gOut, count, L.outStride, this.transposedAt[k + 1]);
      L.gwView.fill(0);
      gram(this.transposedAt[k] * 8, L.inStride, this.transposedAt[k + 1] * 8, L.outStride, this.zeros * 8, count, rowsCap, L.gwView.byteOffset);
      L.gb.fill(0);
      for (let b = 0; b < count; b++) for (let o = 0; o < L.out; o++) L.gb[o] += gOut[b * L.outStride + o];
      if (k > 0) {
        // Back through the weights (rows of Wᵀ against rows of gOut) and the ReLU of the layer below.
        const gIn = grads[k];
        this.transpose(L.w, L.outStride, L.inStride, L.wtAt, L.outStride);
        gIn.fill(0);
        gram(L.wtView.byteOffset, L.inStride, gOut.byteOffset, (count + 1) & ~1, this.zeros * 8, L.outStride, L.outStride, gIn.byteOffset);
        const input = acts[k];
        for (let t = 0; t < count * L.inStride; t++) if (input[t] <= 0) gIn[t] = 0;
      }
    }
  }
}

/** Row-major, standardized copies of the given rows: minibatches visit rows in random order, and gathering a row from
 * the column-major matrix would touch p + outputs cache lines per sample. */
function gatherRows(problem: NetworkProblem, rows: Int32Array): RowSet {
  const { X, Y, n, p, outputs, mean, scale } = problem;
  const x = new Float64Array(rows.length * p);
  const y = new Float64Array(rows.length * outputs);
  for (let j = 0; j < p; j++) for (let r = 0; r < rows.length; r++) x[r * p + j] = (X[j * n + rows[r]] - mean[j]) / scale[j];
  for (let k = 0; k < outputs; k++) for (let r = 0; r < rows.length; r++) y[r * outputs + k] = Y[k * n + rows[r]];
  return { x, y, count: rows.length };
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/**
 * One optimizer step on a parameter block with the problem's penalty: coupled L2 and subgradient L1 in the gradient,
 * decoupled L2 as a decay, proximal L1 as a soft-threshold by λ times the step the optimizer just took — lr for SGD,
 * and for Adam its per-coordinate lr/(√v̂+ε) (the prox in Adam's metric), or the threshold is far too small to give
 * zeros. `step` counts the optimizer's steps from 1 (Adam's bias correction).
 */
function optimizerStep(problem: NetworkProblem, step: number, param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, penalized: boolean): void {
  const { l1, l2, lr } = problem;
  const coupledL2 = penalized && problem.l2_method === 'coupled' ? l2 : 0;
  const subgradientL1 = penalized && problem.l1_method === 'subgradient' ? l1 : 0;
  const decay = penalized && problem.l2_method === 'decoupled' ? 1 - lr * l2 : 1;
  const shrink = penalized && problem.l1_method === 'proximal' ? lr * l1 : 0;
  const c1 = 1 - Math.pow(BETA1, step);
  const c2 = 1 - Math.pow(BETA2, step);
  for (let t = 0; t < param.length; t++) {
    let g = grad[t];
    if (coupledL2) g += coupledL2 * param[t];
    if (subgradientL1) g += subgradientL1 * Math.sign(param[t]);
    let w = param[t] * decay;
    let threshold = shrink;
    if (problem.optimizer === 'adam') {
      m[t] = BETA1 * m[t] + (1 - BETA1) * g;
      v[t] = BETA2 * v[t] + (1 - BETA2) * g * g;
      const denominator = Math.sqrt(v[t] / c2) + EPS;
      w -= (lr * (m[t] / c1)) / denominator;
      threshold /= denominator;
    } else if (problem.momentum > 0) {
      m[t] = problem.momentum * m[t] + g;
      w -= lr * m[t];
    } else {
      w -= lr * g;
    }
    param[t] = threshold ? softThreshold(w, threshold) : w;
  }
}

/**
 * Early stopping: the best epoch's weights kept while the validation loss improves by more than min_delta, the run
 * stopped after `patience` epochs without, and those weights put back at the end.
 */
class EarlyStop {
  bestEpoch = 0;
  private bestLoss = Infinity;
  private readonly kept: { w: Float64Array; b: Float64Array }[];

  constructor(
    private readonly rule: { patience: number; min_delta: number },
    layers: Layer[],
  ) {
    this.kept = layers.map((L) => ({ w: new Float64Array(L.w.length), b: new Float64Array(L.b.length) }));
  }

  /** After 1-based `epoch` with this validation loss: whether to stop now. */
  shouldStop(epoch: number, loss: number, layers: Layer[]): boolean {
    if (loss < this.bestLoss - this.rule.min_delta) {
      this.bestLoss = loss;
      this.bestEpoch = epoch;
      layers.forEach((L, k) => {
        this.kept[k].w.set(L.w);
        this.kept[k].b.set(L.b);
      });
      return false;
    }
    return epoch - this.bestEpoch >= this.rule.patience;
  }

  restore(layers: Layer[]): void {
    if (this.bestEpoch === 0) return;
    layers.forEach((L, k) => {
      L.w.set(this.kept[k].w);
      L.b.set(this.kept[k].b);
    });
  }
}

/**
 * A multilayer perceptron (ReLU hidden layers, linear output, MSE averaged over outputs as nn.MSELoss) trained by
 * minibatch Adam or SGD on the training rows, with L1 and L2 penalties on the weights (biases too when asked).
 * Initialization as torch.nn.Linear: U(−1/√fan_in, 1/√fan_in). A loss that stops being finite ends the run as
 * diverged (so does one that grows ten orders of magnitude). Pure: everything it needs comes in the problem.
 */
export function trainNetwork(heap: WasmHeap, problem: NetworkProblem): NetworkResult {
  const { p, outputs, hidden, trainRows, valRows, epochs } = problem;
  const rng = new Rng(problem.seed);
  const net = new Mlp(heap, [p, ...hidden, outputs], Math.max(1, Math.min(problem.batch, trainRows.length)), rng);
  try {
    const { layers } = net;
    const trainSet = gatherRows(problem, trainRows);
    const valSet = gatherRows(problem, valRows);
    /** Positions in trainSet, reshuffled every epoch. */
    const order = Int32Array.from({ length: trainRows.length }, (_, i) => i);
    let step = 0;
    /** One epoch of minibatches in a fresh order: the sum of the batches' squared errors. */
    const trainEpoch = (onFirstBatch: (meanLoss: number) => void): number => {
      // Shuffle the training rows (Fisher–Yates with the run's own stream).
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      let sse = 0;
      for (let start = 0; start < order.length; start += net.maxBatch) {
        const count = Math.min(net.maxBatch, order.length - start);
        net.loadBatch(trainSet, order, start, count);
        net.forward(count);
        const batchLoss = net.batchSse(count);
        onFirstBatch(batchLoss / (count * outputs));
        sse += batchLoss;
        if (!Number.isFinite(batchLoss)) break;
        net.backward(count);
        step++;
        for (const L of layers) {
          optimizerStep(problem, step, L.w, L.gwView, L.mw, L.vw, true);
          optimizerStep(problem, step, L.b, L.gb, L.mb, L.vb, problem.penalize_bias);
        }
      }
      return sse;
    };

    const epochTrain = new Float64Array(epochs);
    const epochVal = new Float64Array(epochs);
    let divergedEpoch = 0;
    let epochsRun = 0;
    // Diverged: a loss that is not finite, or that grew ten orders of magnitude past where training started.
    let firstBatchLoss = NaN;
    let initialLoss = Infinity;
    const exploded = (loss: number) => !Number.isFinite(loss) || loss > 1e10 * initialLoss;
    const early = problem.early_stopping && valRows.length > 0 ? new EarlyStop(problem.early_stopping, layers) : undefined;
    const prune = problem.prune && valRows.length > 0 ? problem.prune : undefined;
    let prunedEpoch = 0;
    for (let epoch = 0; epoch < epochs && !divergedEpoch; epoch++) {
      const sse = trainEpoch((loss) => {
        if (Number.isNaN(firstBatchLoss)) firstBatchLoss = loss;
      });
      epochsRun = epoch + 1;
      epochTrain[epoch] = sse / (order.length * outputs);
      epochVal[epoch] = net.evaluate(valSet);
      if (epoch === 0) initialLoss = Math.max(firstBatchLoss, 1e-12);
      if (exploded(epochTrain[epoch]) || (valRows.length > 0 && exploded(epochVal[epoch]))) divergedEpoch = epoch + 1;
      const rung = prune && !divergedEpoch ? prune.rungOf(epoch + 1) : -1;
      if (rung >= 0 && !prune!.report(rung, epochVal[epoch])) {
        prunedEpoch = epoch + 1;
        break;
      }
      if (early && !divergedEpoch && early.shouldStop(epoch + 1, epochVal[epoch], layers)) break;
    }
    if (early && !divergedEpoch) early.restore(layers);
    return {
      // Without the padding: (units out × units in), row-major.
      weights: layers.map((L) => Float64Array.from({ length: L.out * L.in }, (_, t) => L.w[Math.floor(t / L.in) * L.inStride + (t % L.in)])),
      biases: layers.map((L) => L.b.slice(0, L.out)),
      trainLoss: divergedEpoch ? NaN : net.evaluate(trainSet),
      valLoss: divergedEpoch ? NaN : net.evaluate(valSet),
      epochTrain: epochTrain.slice(0, epochsRun),
      epochVal: epochVal.slice(0, epochsRun),
      status: divergedEpoch ? 'diverged' : prunedEpoch ? 'pruned' : 'ok',
      divergedEpoch,
      epochsRun,
      bestEpoch: early ? early.bestEpoch : 0,
      prunedEpoch,
    };
  } finally {
    net.release();
  }
}

/** A network path's settings: the problem without its penalty (set per λ) and the λ grid. */
export type NetworkPathProblem = Omit<NetworkProblem, 'l1' | 'l2'> & { lambdas: Float64Array; l1Ratio: number };

/**
 * One network per λ, each trained from the same seed (no warm start: a network's path is not smooth in λ). The
 * solutions hold the coefficients of a network without hidden layers (original scale, like a linear model's);
 * `results` has each λ's losses and learning curves.
 */
export function networkPath(context: KernelContext, problem: NetworkPathProblem): { solution: PathSolution; results: NetworkResult[] } {
  const solver = new NetworkPerLambda(context.heap, problem);
  const results: NetworkResult[] = [];
  const solution = solvePath({ lambdas: problem.lambdas, l1Ratio: problem.l1Ratio, maxIter: problem.epochs }, solver, {
    afterPoint: () => results.push(solver.last!),
  });
  return { solution, results };
}

class NetworkPerLambda implements LambdaSolver {
  readonly stats: { mean: Float64Array; scale: Float64Array };
  readonly outputs: number;
  /** The single layer's weights (outputs × p, row-major: p per output), or empty with hidden layers. */
  readonly beta: Float64Array;
  last: NetworkResult | undefined;

  constructor(
    private readonly heap: WasmHeap,
    private readonly problem: NetworkPathProblem,
  ) {
    this.stats = { mean: problem.mean, scale: problem.scale };
    this.outputs = problem.outputs;
    this.beta = new Float64Array(problem.hidden.length === 0 ? problem.p * problem.outputs : 0);
  }

  warmStart(): void {}

  solve({ l1, l2 }: PathStep): { passes: number; status: FitStatusCode } {
    const r = (this.last = trainNetwork(this.heap, { ...this.problem, l1, l2 }));
    if (this.beta.length) this.beta.set(r.weights[0]);
    return { passes: r.epochsRun, status: r.status === 'ok' ? FitStatus.converged : FitStatus.diverged };
  }

  intercepts(): Float64Array {
    return this.last!.biases.at(-1)!;
  }

  release(): void {}
}
