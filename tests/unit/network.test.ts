import { describe, expect, it } from 'vitest';
import { syntheticDataset } from '../../src/data/synthetic.js';
import { trainNetwork as train, type NetworkProblem } from '../../src/fitting/solvers/network.js';
import { SEEDS_SPEC } from '../../bench/data.js';
import { createRungBoard, RungBoard } from '../../src/fitting/shared/rungBoard.js';
import { kernels, readFixture } from '../helpers.js';

const trainNetwork = (problem: NetworkProblem) => train(kernels.heap, problem);

type TorchFixture = Record<'none' | 'l2' | 'l1' | 'l1_subgradient' | 'l1_proximal', { lambda: number; val_mse: number[]; exact_zero_fraction: number[] }>;
const torch = readFixture<TorchFixture>('torch_seeds.json');
const seeds = syntheticDataset(SEEDS_SPEC);
const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);
const base: NetworkProblem = {
  X: seeds.X, Y: seeds.y, n: seeds.n, p: 50, outputs: 20, trainRows: range(0, 8000), valRows: range(8000, 10000),
  mean: new Float64Array(50), scale: new Float64Array(50).fill(1), hidden: [], optimizer: 'adam', lr: 1e-3, batch: 64,
  epochs: 20, momentum: 0, seed: 0, l1: 0, l2: 0, l2_method: 'coupled', l1_method: 'subgradient', penalize_bias: false,
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the seeds' network case against PyTorch (nn.Linear(50, 20), Adam lr 1e-3, batch 64, 20 epochs)", () => {
  it('no penalty, L2 as weight_decay and L1 added to the loss: validation MSE within 5% of PyTorch', () => {
    for (const [kind, settings] of [
      ['none', {}],
      ['l2', { l2: torch.l2.lambda, l2_method: 'coupled' }],
      ['l1', { l1: torch.l1.lambda, l1_method: 'subgradient' }],
    ] as const) {
      const r = trainNetwork({ ...base, ...settings });
      const reference = mean(torch[kind].val_mse);
      expect(Math.abs(r.valLoss - reference) / reference, kind).toBeLessThan(0.05);
      expect(r.epochVal).toHaveLength(20);
      expect(r.epochVal[19]).toBeLessThan(r.epochVal[0]);
    }
  });
});

describe('proximal L1 under Adam (the prox in Adam\'s metric: threshold lr·λ/(√v̂+ε) per weight), at λ = 1e-2', () => {
  const zeros = (w: Float64Array) => w.filter((x) => x === 0).length / w.length;
  const lambda = torch.l1_proximal.lambda;
  const prox = trainNetwork({ ...base, l1: lambda, l1_method: 'proximal' });
  const sub = trainNetwork({ ...base, l1: lambda, l1_method: 'subgradient' });

  it('gives ≥ 60% exact zeros and ≥ 95% of the true zeros; the subgradient gives none', () => {
    expect(zeros(prox.weights[0])).toBeGreaterThanOrEqual(0.6);
    expect(zeros(sub.weights[0])).toBe(0);
    const truth = seeds.trueCoefficients!;
    let trueZeros = 0;
    let recovered = 0;
    prox.weights[0].forEach((w, t) => {
      if (truth[Math.floor(t / 50) * 50 + (t % 50)] !== 0) return;
      trueZeros++;
      if (w === 0) recovered++;
    });
    expect(recovered / trueZeros).toBeGreaterThanOrEqual(0.95);
  });

  it('solves the same problem as the subgradient: validation MSEs within 15%', () => {
    expect(Math.abs(prox.valLoss - sub.valLoss) / sub.valLoss).toBeLessThan(0.15);
  });

  it('matches a PyTorch Adam loop with the same proximal step: validation MSE within 5%, zero fraction within 0.05', () => {
    for (const [ours, kind] of [
      [prox, 'l1_proximal'],
      [sub, 'l1_subgradient'],
    ] as const) {
      const reference = mean(torch[kind].val_mse);
      expect(Math.abs(ours.valLoss - reference) / reference, kind).toBeLessThan(0.05);
      expect(Math.abs(zeros(ours.weights[0]) - mean(torch[kind].exact_zero_fraction)), kind).toBeLessThan(0.05);
    }
  });
});

describe('early stopping', () => {
  // 100 training rows for 1 000 weights: the validation loss turns up after a few epochs.
  const small = { ...base, trainRows: range(0, 100), valRows: range(8000, 9000), lr: 1e-2, batch: 16, epochs: 200 };

  it('stops `patience` epochs after the best validation loss and keeps that epoch\'s weights', () => {
    const stopped = trainNetwork({ ...small, early_stopping: { patience: 5, min_delta: 0 } });
    const curve = Array.from(stopped.epochVal);
    const best = curve.indexOf(Math.min(...curve)) + 1;
    expect(stopped.epochsRun).toBeLessThan(200);
    expect(stopped.bestEpoch).toBe(best);
    expect(stopped.epochsRun).toBe(best + 5);
    expect(stopped.valLoss).toBe(curve[best - 1]);
    // The same run cut at the best epoch, without early stopping: the same weights to the bit.
    const cut = trainNetwork({ ...small, epochs: best });
    expect(cut.epochsRun).toBe(best);
    expect(Array.from(stopped.weights[0])).toEqual(Array.from(cut.weights[0]));
    expect(Array.from(stopped.biases[0])).toEqual(Array.from(cut.biases[0]));
  });

  it('min_delta: an improvement smaller than it does not count; without validation rows every epoch runs', () => {
    const strict = trainNetwork({ ...small, early_stopping: { patience: 3, min_delta: 1e9 } });
    expect(strict.bestEpoch).toBe(1);
    expect(strict.epochsRun).toBe(4);
    const blind = trainNetwork({ ...small, epochs: 12, valRows: new Int32Array(0), early_stopping: { patience: 1, min_delta: 0 } });
    expect(blind.epochsRun).toBe(12);
    expect(blind.bestEpoch).toBe(0);
  });
});

describe('successive halving (pruning)', () => {
  it('the rung board keeps a trial while fewer than `reduction` have reached the rung, then only the best 1/reduction', () => {
    const board = new RungBoard({ rungs: [2, 6], reduction: 3, board: createRungBoard(2, 100) });
    expect(board.rungOf(2)).toBe(0);
    expect(board.rungOf(6)).toBe(1);
    expect(board.rungOf(3)).toBe(-1);
    // Losses arrive 5, 4, 6, 1, 7, 3: a trial goes on when it is among the best ⌈count/3⌉ of those reported so far
    // (6: third of 3, 2 better; 7: fifth of 5, 4 better; 3: 1 better of 6, within the best 2).
    expect([5, 4, 6, 1, 7, 3].map((loss) => board.report(0, loss))).toEqual([true, true, false, true, false, true]);
    // Rungs are separate.
    expect(board.report(1, 100)).toBe(true);
  });

  it('a pruned network stops at its rung with the curve so far; the same run unpruned goes on to the end', () => {
    const small = { ...base, trainRows: range(0, 400), valRows: range(8000, 8400), epochs: 12 };
    const asked: number[] = [];
    const pruned = trainNetwork({ ...small, prune: { rungOf: (e) => (e === 4 ? 0 : -1), report: (_, loss) => (asked.push(loss), false) } });
    expect(pruned.status).toBe('pruned');
    expect(pruned.prunedEpoch).toBe(4);
    expect(pruned.epochsRun).toBe(4);
    expect(pruned.epochVal).toHaveLength(4);
    expect(asked).toEqual([pruned.epochVal[3]]);
    const full = trainNetwork(small);
    expect(full.status).toBe('ok');
    expect(full.epochsRun).toBe(12);
    expect(Array.from(full.epochVal.slice(0, 4))).toEqual(Array.from(pruned.epochVal));
  });
});

describe('network training', () => {
  it('full-batch gradient descent on one linear layer converges to least squares (closed form)', () => {
    const n = 60;
    const X = Float64Array.from({ length: 2 * n }, (_, t) => Math.sin(1.3 * t) + (t < n ? 0 : 0.5 * Math.cos(t)));
    const Y = Float64Array.from({ length: n }, (_, i) => 1.5 * X[i] - 2 * X[n + i] + 0.3 + 0.1 * Math.sin(7 * i));
    const r = trainNetwork({ ...base, X, Y, n, p: 2, outputs: 1, trainRows: range(0, n), valRows: range(0, 0), mean: new Float64Array(2), scale: Float64Array.of(1, 1), optimizer: 'sgd', lr: 0.3, batch: n, epochs: 4000 });
    // Normal equations for [1, x1, x2].
    const cols = [Array(n).fill(1), Array.from(X.subarray(0, n)), Array.from(X.subarray(n))];
    const A = cols.map((a) => cols.map((b) => a.reduce((s, v, i) => s + v * b[i], 0)));
    const rhs = cols.map((a) => a.reduce((s, v, i) => s + v * Y[i], 0));
    for (let c = 0; c < 3; c++)
      for (let r2 = c + 1; r2 < 3; r2++) {
        const f = A[r2][c] / A[c][c];
        for (let k = c; k < 3; k++) A[r2][k] -= f * A[c][k];
        rhs[r2] -= f * rhs[c];
      }
    const sol = [0, 0, 0];
    for (let r2 = 2; r2 >= 0; r2--) sol[r2] = (rhs[r2] - A[r2].slice(r2 + 1).reduce((s, v, k) => s + v * sol[r2 + 1 + k], 0)) / A[r2][r2];
    expect(r.biases[0][0]).toBeCloseTo(sol[0], 6);
    expect(r.weights[0][0]).toBeCloseTo(sol[1], 6);
    expect(r.weights[0][1]).toBeCloseTo(sol[2], 6);
  });

  it('a hidden ReLU layer fits what a linear layer cannot (y = |x|)', () => {
    const n = 400;
    const X = Float64Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));
    const Y = X.map(Math.abs);
    const rows = range(0, n);
    const common = { ...base, X, Y, n, p: 1, outputs: 1, trainRows: rows, valRows: rows, mean: new Float64Array(1), scale: Float64Array.of(1), lr: 1e-2, batch: 32, epochs: 150 };
    const linear = trainNetwork(common);
    const relu = trainNetwork({ ...common, hidden: [16] });
    expect(relu.valLoss).toBeLessThan(0.02);
    expect(linear.valLoss).toBeGreaterThan(0.3);
  });

  it('back-propagation through two hidden ReLU layers equals finite differences of the loss', () => {
    // One full-batch SGD step with a tiny learning rate recovers the gradient: g = (w0 − w1) / lr. The loss is
    // recomputed here by hand (MSE averaged over outputs) and differentiated numerically.
    const n = 37;
    const p = 5;
    const outputs = 3;
    const hiddenUnits = [6, 7];
    const X = Float64Array.from({ length: n * p }, (_, t) => Math.sin(0.7 * t + 1) + 0.3 * Math.cos(2.1 * t));
    const Y = Float64Array.from({ length: n * outputs }, (_, t) => Math.cos(0.37 * t) - 0.5);
    const common = { ...base, X, Y, n, p, outputs, hidden: hiddenUnits, trainRows: range(0, n), valRows: range(0, 0), mean: new Float64Array(p), scale: new Float64Array(p).fill(1), optimizer: 'sgd' as const, batch: n };
    const lr = 1e-7;
    const w0 = trainNetwork({ ...common, epochs: 0 });
    const w1 = trainNetwork({ ...common, epochs: 1, lr });
    const loss = (weights: Float64Array[], biases: Float64Array[]) => {
      const sizes = [p, ...hiddenUnits, outputs];
      let sse = 0;
      for (let i = 0; i < n; i++) {
        let a = Array.from({ length: p }, (_, j) => X[j * n + i]);
        for (let k = 0; k < weights.length; k++) {
          const next = Array.from({ length: sizes[k + 1] }, (_, o) => biases[k][o] + a.reduce((s, v, j) => s + weights[k][o * sizes[k] + j] * v, 0));
          a = k < weights.length - 1 ? next.map((v) => Math.max(v, 0)) : next;
        }
        for (let o = 0; o < outputs; o++) sse += (a[o] - Y[o * n + i]) ** 2;
      }
      return sse / (n * outputs);
    };
    let checked = 0;
    for (let k = 0; k < 3; k++) {
      for (let t = 0; t < w0.weights[k].length; t += 5) {
        const h = 1e-6;
        const plus = w0.weights.map((w) => w.slice());
        const minus = w0.weights.map((w) => w.slice());
        plus[k][t] += h;
        minus[k][t] -= h;
        const numeric = (loss(plus, w0.biases) - loss(minus, w0.biases)) / (2 * h);
        const backprop = (w0.weights[k][t] - w1.weights[k][t]) / lr;
        expect(Math.abs(backprop - numeric)).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('a diverging run stops as diverged, with its epoch', () => {
    const r = trainNetwork({ ...base, trainRows: range(0, 2000), valRows: range(8000, 8500), optimizer: 'sgd', lr: 50, epochs: 5 });
    expect(r.status).toBe('diverged');
    expect(r.divergedEpoch).toBeGreaterThanOrEqual(1);
    expect(r.divergedEpoch).toBeLessThan(5);
    expect(r.epochsRun).toBe(r.divergedEpoch);
    expect(Number.isNaN(r.valLoss)).toBe(true);
  });
});
