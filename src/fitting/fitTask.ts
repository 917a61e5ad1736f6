// A task (one warm-started λ path on one fold) → the path solver its model and shape call for → figures per trial.
// Pure: the shared data and a kernel context in, results out.
import { packRows } from '../util/coefficientRows.js';
import { FitStatus, settingsOf, type Batch, type FoldId, type HeldOutPredictions, type Task, type TaskResult, type TrialFigures } from '../domain.js';
import type { KernelContext } from './context.js';
import { featureGroups, type Design, type FeaturePenalty, type PathProblem, type PathSolution, type PathStop } from './path/types.js';
import { releasePathCoefficients } from './path/driver.js';
import { RungBoard } from './shared/rungBoard.js';
import { networkPath } from './solvers/network.js';
import { columnStats } from './shared/columnStats.js';
import { LazyGram } from './shared/lazyGram.js';
import { sparsity } from './shared/metrics.js';
import { familyOf } from './family/index.js';
import type { FamilySpec, Rows } from './family/types.js';
import { pathPredictions } from './shared/predict.js';
import { STOP_PROBABILITY_FLOOR } from './solvers/glm.js';
import { filledDesign } from '../data/imputation.js';
import { relaxedPath } from './relaxed.js';

import type { FitSettings, ModelSettings, SharedData } from './settings.js';

export type { FitSettings, SharedData } from './settings.js';

/** The path a task fits: the shared design with the fold's training weights, the settings' penalties and tolerance. */
function pathProblem(data: SharedData, task: Task, settings: FitSettings, train: Float64Array): PathProblem {
  const { model, standardize } = settings;
  if (model.kind === 'mlp') throw new Error('a network is not a penalized path');
  const featurePenalty = featurePenaltyOf(settings);
  return {
    design: pathDesign(data, task.fold),
    y: data.y,
    weights: train,
    standardize,
    l1Ratio: task.l1Ratio,
    lambdas: Float64Array.from(task.lambdas),
    tol: model.tol,
    maxIter: model.max_iter,
    ...(data.offset ? { offset: data.offset } : {}),
    ...(featurePenalty ? { featurePenalty } : {}),
    ...(settings.groups ? { groups: featureGroups(settings.groups, data.p) } : {}),
  };
}

/** The shared data's design matrix, dense or sparse. */
function designOf(data: SharedData): Design {
  return { X: data.X, n: data.n, p: data.p, ...(data.sparse ? { sparse: data.sparse } : {}) };
}

/** The design a fold's path is fitted on: a sparse design grouped by fold is read without the held-out block. */
function pathDesign(data: SharedData, fold: FoldId): Design {
  const design = designOf(data);
  if (!data.sparse?.foldGroups || fold === 'all' || fold >= data.foldsPerRepeat) return design;
  return { ...design, sparse: { ...data.sparse, heldOutGroup: fold + 1 } };
}

/** With observation weights the folds are averaged by their weight sums (cv.glmnet): each trial says its fold's. */
function validationWeight(data: SharedData, validation: Float64Array, nVal: number): Record<string, number> {
  return data.weights && nVal > 0 ? { val_weight: validation.reduce((a, b) => a + b, 0) } : {};
}

/** The settings' per-feature penalty as the solvers take it. */
function featurePenaltyOf(settings: FitSettings): FeaturePenalty | undefined {
  const given = settings.featurePenalty;
  if (!given) return undefined;
  const array = (values: number[] | null) => (values ? Float64Array.from(values) : null);
  return { factor: array(given.factor), lower: array(given.lower), upper: array(given.upper) };
}

/** One call to a worker: a batch of paths, run one after the other (several when they share a fold's Gram). */
export interface BatchMessage extends FitSettings {
  tasks: Batch;
  /** Split Gram blocks with a helper thread: the sweep has fewer batches than cores (workers/gramHelper.ts). */
  gramHelper: boolean;
}

/**
 * Training and validation weights for one fold (of one repeat): the row's observation weight (1 without data.weights)
 * where it is in that part, 0 elsewhere.
 */
function foldWeights(data: Pick<SharedData, 'foldOf' | 'foldsPerRepeat' | 'n'> & { weights?: Float64Array | null }, fold: FoldId): { train: Float64Array; validation: Float64Array } {
  const { n, foldOf } = data;
  const train = new Float64Array(n);
  const validation = new Float64Array(n);
  const perRepeat = Math.max(1, data.foldsPerRepeat);
  const from = fold === 'all' ? 0 : Math.floor(fold / perRepeat) * n;
  const within = fold === 'all' ? -2 : fold % perRepeat;
  const w = data.weights;
  for (let i = 0; i < n; i++) {
    if (foldOf[from + i] === within) validation[i] = w ? w[i] : 1;
    else train[i] = w ? w[i] : 1;
  }
  return { train, validation };
}

/** What every path of one fold shares: its weights, their counts, its validation rows, and what depends on them alone. */
interface FoldParts {
  train: Float64Array;
  validation: Float64Array;
  nTrain: number;
  nVal: number;
  validationRows: Int32Array;
  /** The validation rows' targets (first output) and weights, gathered once. */
  validationY: Float64Array;
  validationWeights: Float64Array;
  /** The intercept-only fit's training loss, by family, outputs and clip (pathStopFor). */
  nullLosses: Map<string, number>;
}

/**
 * The last fold a kernel context saw, with the arrays it was made from: a fold's paths for every l1 ratio and setting
 * come one after the other. Read only: every path of the fold gets the same arrays.
 */
type FoldSource = Pick<SharedData, 'foldOf' | 'foldsPerRepeat' | 'n' | 'weights' | 'y' | 'offset'>;
const foldPartsCache = new WeakMap<KernelContext, { of: FoldSource; fold: FoldId; parts: FoldParts }>();
function foldPartsFor(context: KernelContext, data: SharedData, fold: FoldId): FoldParts {
  const hit = foldPartsCache.get(context);
  const same = (a: FoldSource) => a.foldOf === data.foldOf && a.foldsPerRepeat === data.foldsPerRepeat && a.n === data.n && a.weights === data.weights && a.y === data.y && a.offset === data.offset;
  if (hit && hit.fold === fold && same(hit.of)) return hit.parts;
  const { train, validation } = foldWeights(data, fold);
  const validationRows = rowsWhere(validation);
  const parts: FoldParts = {
    train,
    validation,
    nTrain: count(train),
    nVal: validationRows.length,
    validationRows,
    validationY: Float64Array.from(validationRows, (i) => data.y[i]),
    validationWeights: Float64Array.from(validationRows, (i) => validation[i]),
    nullLosses: new Map(),
  };
  // Not the design: a finished sweep's X is not kept alive, and a fold's filled copy compares as the same fold.
  const { foldOf, foldsPerRepeat, n, weights, y, offset } = data;
  foldPartsCache.set(context, { of: { foldOf, foldsPerRepeat, n, weights, y, offset }, fold, parts });
  return parts;
}

/**
 * The Gram columns of the last (fold, standardization) pair a kernel context saw: the paths for other l1 ratios on
 * the same fold reuse them instead of recomputing the p × p products (the coordinator sends a fold's paths as one
 * batch, so one entry is enough; each more would cost up to p² · 8 bytes per worker).
 */
const gramCache = new WeakMap<KernelContext, { key: string; gram: LazyGram }>();
function gramFor(context: KernelContext, design: Design, fold: FoldId, train: Float64Array, standardize: boolean): LazyGram {
  const key = `${fold}/${standardize}/${design.n}x${design.p}`;
  const hit = gramCache.get(context);
  if (hit && hit.key === key && hit.gram.design.X === design.X) return hit.gram;
  hit?.gram.dispose();
  const gram = new LazyGram(context, design, train, columnStats(design, train, standardize));
  gramCache.set(context, { key, gram });
  return gram;
}

/**
 * The design of one fold with its gaps filled from the fold's training rows: its validation rows are filled with the
 * same values and do not move them. The last fold's copy is kept per kernel context (a fold's paths come together).
 */
const filledCache = new WeakMap<KernelContext, { key: string; source: Float64Array; X: Float64Array }>();
function withFills(context: KernelContext, data: SharedData, fold: FoldId): SharedData {
  if (data.fills.length === 0) return data;
  const key = String(fold);
  const hit = filledCache.get(context);
  if (hit && hit.key === key && hit.source === data.X) return { ...data, X: hit.X, fills: [] };
  const X = filledDesign(data.X, data.n, data.fills, foldPartsFor(context, data, fold).train, (length) => new Float64Array(length));
  filledCache.set(context, { key, source: data.X, X });
  return { ...data, X, fills: [] };
}

/**
 * A thread's room for a path's predictions, kept from one path to the next up to the context's prediction budget: a
 * group's 8 MB allocated afresh for each group was garbage the thread's heap held until its next collection.
 */
const predictionRoom = new WeakMap<KernelContext, Float64Array>();
function predictionRoomFor(context: KernelContext, length: number): Float64Array | undefined {
  if (length > context.limits.predictionDoubles) return undefined;
  let room = predictionRoom.get(context);
  if (!room || room.length < length) predictionRoom.set(context, (room = new Float64Array(length)));
  return room;
}

/** Runs one task and measures every trial on it; a task that warm-starts from a λ solves that one first, unrecorded. */
export function fitTask(context: KernelContext, shared: SharedData, task: Task, given: FitSettings): TaskResult {
  const data = withFills(context, shared, task.fold);
  // A task of a sweep that varies model settings fits with them in place of the sweep file's.
  const settings = task.settings ? { ...given, model: { ...given.model, ...settingsOf(task.settings) } as ModelSettings } : given;
  if (task.warmFrom === undefined) return packed(fitPath(context, data, task, settings));
  const r = fitPath(context, data, { ...task, lambdas: [task.warmFrom, ...task.lambdas] }, settings);
  // The λ fitted (fewer than given when a stopping rule ended the path), the first of them the one warmed from.
  const steps = r.trials.length;
  return packed({
    taskId: task.id,
    trials: r.trials.slice(1),
    coefs: r.coefs.subarray(r.coefs.length / steps),
    intercepts: r.intercepts.slice(r.intercepts.length / steps),
    ...(r.heldOut ? { heldOut: { ...r.heldOut, link: r.heldOut.link.slice(r.heldOut.link.length / steps) } } : {}),
    ...(r.baseline ? { baseline: { times: r.baseline.times, hazard: r.baseline.hazard.slice(r.baseline.hazard.length / steps) } } : {}),
  });
}

/** A task's result as fitted: its coefficients as the dense λ × (p · outputs) matrix of the path. */
type DenseResult = Omit<TaskResult, 'coefficients'> & { coefs: Float64Array };

/**
 * The result as it leaves the thread: the coefficients packed per λ (a wide lasso path's nonzeros only); the dense
 * matrix is given back to the path driver for the thread's next path.
 */
function packed({ coefs, ...rest }: DenseResult): TaskResult {
  const result = { ...rest, coefficients: packRows(coefs, rest.trials.length) };
  releasePathCoefficients(coefs);
  return result;
}

/** validation.keep: the validation rows' linear predictors at each λ of a task, with the rows and their targets. */
class HeldOut {
  readonly rows: Int32Array;
  private readonly link: Float64Array;

  constructor(
    private readonly data: SharedData,
    validation: Float64Array,
    lambdas: number,
    private readonly K: number,
  ) {
    this.rows = rowsWhere(validation);
    this.link = new Float64Array(lambdas * K * this.rows.length);
  }

  /** λ index l's predictors: K blocks of `stride` values, row `rows[r]` at `at(rows[r], r)` in each. */
  record(l: number, eta: Float64Array, stride: number, at: (row: number, index: number) => number): void {
    const m = this.rows.length;
    for (let k = 0; k < this.K; k++) for (let r = 0; r < m; r++) this.link[(l * this.K + k) * m + r] = eta[k * stride + at(this.rows[r], r)];
  }

  /** The predictors of the first `fitted` λ (all of them unless a stopping rule ended the path). */
  result(fitted: number): HeldOutPredictions {
    const { y, n, outputs } = this.data;
    const m = this.rows.length;
    const observed = new Float64Array(m * outputs);
    for (let c = 0; c < outputs; c++) for (let r = 0; r < m; r++) observed[c * m + r] = y[c * n + this.rows[r]];
    const size = fitted * this.K * m;
    return { rows: this.rows, observed, link: size === this.link.length ? this.link : this.link.slice(0, size) };
  }
}

/** A held-out collector when the settings keep predictions and the task has validation rows. */
function heldOutFor(settings: FitSettings, data: SharedData, validation: Float64Array, nVal: number, lambdas: number, K: number): HeldOut | undefined {
  return settings.keep && nVal > 0 ? new HeldOut(data, validation, lambdas, K) : undefined;
}

function fitPath(context: KernelContext, data: SharedData, task: Task, settings: FitSettings): DenseResult {
  const { model, standardize } = settings;
  const fold = foldPartsFor(context, data, task.fold);
  const { train, validation, nTrain } = fold;
  if (model.kind === 'mlp') return fitNetworkTask(context, data, task, settings, train, validation);
  const family = familyOf(model.kind, data);
  const problem = pathProblem(data, task, settings, train);
  const stop = pathStopFor(context, data, task, settings, family, fold);
  if (stop) problem.stop = stop;
  const design = problem.design;
  const solution = family.solve({ context, problem, data, task, fold: task.fold, settings, nTrain, gram: () => gramFor(context, design, task.fold, train, standardize) });
  // A relaxed task (sweep.gamma): the path blended with its refits on each λ's active set.
  const gamma = model.gamma ?? 1;
  const fitted = gamma < 1 ? relaxedPath({ context, data, task, fold: task.fold, settings, nTrain }, family, problem, solution, gamma) : solution;
  return measurePath(context, data, task, settings, family, fitted, fold);
}

/**
 * glmnet's rules for ending the task's path early (FitSettings.pathStop, for an automatic grid): the fraction of the
 * null deviance its fit explains at a λ — from the solver's own loss where it keeps one (LambdaSolver.fittedLoss),
 * else covariance mode's training MSE, else the training rows' predictions — against the intercept-only fit's.
 */
function pathStopFor(context: KernelContext, data: SharedData, task: Task, settings: FitSettings, family: FamilySpec, { train, nullLosses }: FoldParts): PathStop | undefined {
  const rule = task.penalty === 'none' ? undefined : settings.pathStop?.[task.penalty];
  if (!rule) return undefined;
  const K = family.predictors(data);
  const { n } = data;
  const clip = family.name === 'binomial' ? STOP_PROBABILITY_FLOOR : 0;
  const loss = (eta: Float64Array) => family.loss({ y: data.y, eta, m: n, K }, train, clip);
  const nullKey = `${family.name}/${K}/${clip}`;
  let nullLoss = nullLosses.get(nullKey);
  if (nullLoss === undefined) nullLosses.set(nullKey, (nullLoss = loss(nullPredictors(family, data, train, K))));
  return {
    ...rule,
    change: family.name === 'gaussian' || family.name === 'mgaussian' ? 'relative' : family.name === 'poisson' ? 'window' : family.name === 'cox' ? 'coxWindow' : 'absolute',
    nullLoss,
    explained: (solution, l) => {
      const mse = solution.trainMse?.[l];
      if (mse !== undefined && !Number.isNaN(mse)) return 1 - mse / nullLoss;
      const eta = pathPredictions(context.heap, designOf(data), null, solution.coefs, solution.intercepts, l * K, (l + 1) * K, predictionRoomFor(context, K * n));
      if (family.addsOffset && data.offset) for (let i = 0; i < n; i++) eta[i] += data.offset[i];
      return 1 - loss(eta) / nullLoss;
    },
  };
}

/** The intercept-only fit on the training rows as linear predictors (K blocks of n): what glmnet's null deviance is of. */
function nullPredictors(family: FamilySpec, data: SharedData, train: Float64Array, K: number): Float64Array {
  const { n, y, offset } = data;
  const eta = new Float64Array(n * K);
  const total = train.reduce((a, b) => a + b, 0);
  const mean = (k: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += train[i] * y[k * n + i];
    return s / total;
  };
  if (family.name === 'multinomial') {
    const share = new Float64Array(K);
    for (let i = 0; i < n; i++) share[y[i]] += train[i];
    for (let k = 0; k < K; k++) eta.fill(Math.log(share[k] / total), k * n, (k + 1) * n);
  } else if (family.name === 'binomial') eta.fill(Math.log(mean(0) / (1 - mean(0))));
  else if (family.name === 'poisson') {
    let exposure = 0;
    for (let i = 0; i < n; i++) exposure += train[i] * Math.exp(offset?.[i] ?? 0);
    const intercept = Math.log((mean(0) * total) / exposure);
    for (let i = 0; i < n; i++) eta[i] = intercept + (offset?.[i] ?? 0);
  } else if (family.name !== 'cox') for (let k = 0; k < K; k++) eta.fill(mean(k), k * n, (k + 1) * n);
  // The Cox model without features: η = 0.
  return eta;
}

/**
 * Every trial of a solved path: per λ the family's loss on the training and the validation rows, its measures and
 * figures. Predictions come a group of λ at a time (one matrix product each, within the context's prediction budget)
 * for a family with one predictor per row, one λ at a time (K predictors per row, offsets added) for the others.
 * Covariance mode hands back the training MSE, so only the validation rows need predictions (a fifth of the work on 5
 * folds, none on the refit on all rows); elsewhere every row is predicted.
 */
function measurePath(context: KernelContext, data: SharedData, task: Task, settings: FitSettings, family: FamilySpec, solution: PathSolution, fold: FoldParts): DenseResult {
  const { train, validation, nTrain, nVal } = fold;
  const { n, p } = data;
  const design = designOf(data);
  const K = family.predictors(data);
  // A path a stopping rule ended has trials up to the λ where it stopped.
  const stopped = solution.stopped;
  const lambdas = stopped ? task.lambdas.slice(0, stopped.index + 1) : task.lambdas;
  const trainMse = solution.trainMse;
  const validationOnly = trainMse !== undefined && !trainMse.some(Number.isNaN);
  const rows = validationOnly ? fold.validationRows : null;
  const m = rows ? rows.length : n;
  const y = rows ? fold.validationY : data.y;
  const trainWeights = rows ? null : train;
  const valWeights = rows ? fold.validationWeights : validation;
  const weightFigure = validationWeight(data, validation, nVal);
  const clip = clipOf(settings.model);
  const group = family.groupsLambdas ? Math.max(4, Math.floor(context.limits.predictionDoubles / Math.max(1, m)) & ~3) : 1;
  let predictions: Float64Array = new Float64Array(0);
  const trials: TrialFigures[] = [];
  const heldOut = heldOutFor(settings, data, validation, nVal, lambdas.length, K);
  // A Cox fit on all rows keeps its baseline hazard per λ: what survival predictions need besides the coefficients.
  const baselineOf = task.fold === 'all' && !rows && family.baseline ? family.baseline.bind(family) : undefined;
  let baseline: { times: Float64Array; hazard: Float64Array } | undefined;
  for (let l = 0; l < lambdas.length; l++) {
    const coefs = solution.coefs.subarray(l * p * K, (l + 1) * p * K);
    if (l % group === 0 && (nVal > 0 || trainWeights)) {
      const last = Math.min(lambdas.length, l + group) * K;
      predictions = pathPredictions(context.heap, design, rows, solution.coefs, solution.intercepts, l * K, last, predictionRoomFor(context, (last - l * K) * m));
      if (family.addsOffset && data.offset) for (let i = 0; i < n; i++) predictions[i] += data.offset[i];
    }
    const eta = predictions.subarray((l % group) * m * K, ((l % group) + 1) * m * K);
    heldOut?.record(l, eta, m, rows ? (_row, index) => index : (row) => row);
    const measured: Rows = { y, eta, m, K };
    const finite = solution.status[l] !== FitStatus.diverged;
    if (baselineOf) {
      const { times, hazard } = baselineOf(measured, train);
      baseline ??= { times, hazard: new Float64Array(lambdas.length * times.length) };
      baseline.hazard.set(hazard, l * times.length);
    }
    const trainLoss = !finite ? null : trainWeights ? family.loss(measured, trainWeights, 0) : trainMse![l];
    const valLoss = finite && nVal > 0 ? (family.validationLoss ? family.validationLoss(measured, train, valWeights) : family.loss(measured, valWeights, clip)) : null;
    const measures = valLoss === null ? {} : { ...family.measures(measured, valWeights), ...(family.classifier ? devianceOf(trainLoss, valLoss) : {}) };
    const stopFigures = stopped?.index === l ? stopMetrics(stopped) : {};
    trials.push(
      trialAt(solution, lambdas[l], l, coefs, settings, { nTrain, nVal }, {
        trainLoss,
        valLoss,
        metrics: { ...(finite ? family.metrics({ rows: measured, coefs, p, train, validation, nVal }) : {}), ...measures, ...weightFigure, ...stopFigures },
      }),
    );
  }
  const fitted = lambdas.length;
  return {
    taskId: task.id,
    trials,
    coefs: stopped ? solution.coefs.subarray(0, fitted * p * K) : solution.coefs,
    intercepts: stopped ? solution.intercepts.slice(0, fitted * K) : solution.intercepts,
    ...(heldOut ? { heldOut: heldOut.result(fitted) } : {}),
    ...(baseline ? { baseline } : {}),
  };
}

/**
 * The last trial of a path a stopping rule ended: which rule (path_stop 1: fdev, 2: devmax), the fraction of deviance
 * explained there and its change (as the rule measured it).
 */
function stopMetrics(stopped: NonNullable<PathSolution['stopped']>): Record<string, number> {
  return { path_stop: stopped.reason === 'fdev' ? 1 : 2, dev_ratio: stopped.explained, dev_change: stopped.change };
}

/** The figures of the trial at λ index l of a path: its status, the losses and metrics given, sparsity, passes, time. */
function trialAt(
  solution: Pick<PathSolution, 'status' | 'passes' | 'seconds'>,
  lambda: number,
  l: number,
  coefs: Float64Array,
  settings: Pick<FitSettings, 'nearZero' | 'featureScales'>,
  rows: { nTrain: number; nVal: number },
  figures: { trainLoss: number | null; valLoss: number | null; metrics: Record<string, number> },
): TrialFigures {
  const status = solution.status[l];
  const diverged = status === FitStatus.diverged;
  return {
    lambda,
    status: diverged ? 'diverged' : 'ok',
    converged: status === FitStatus.converged,
    error: diverged ? 'coefficients became non-finite' : null,
    ...figures,
    ...rows,
    ...sparsity(coefs, settings.nearZero, settings.featureScales),
    passes: solution.passes[l],
    epochsRun: 0,
    seconds: solution.seconds[l],
  };
}

/** A classifier's deviance as glmnet writes it: twice the mean negative log-likelihood (the loss stored). */
function devianceOf(trainLoss: number | null, valLoss: number): Record<string, number> {
  return { val_deviance: 2 * valLoss, ...(trainLoss !== null ? { train_deviance: 2 * trainLoss } : {}) };
}

/** A classifier's clip of predicted probabilities for its validation losses (model.clip_probabilities), or 0. */
function clipOf(model: ModelSettings): number {
  return 'clip_probabilities' in model ? (model.clip_probabilities ?? 0) : 0;
}

/** Each λ trains a network from the same initialization; L2 and L1 as the model settings say. */
function fitNetworkTask(context: KernelContext, data: SharedData, task: Task, settings: FitSettings, train: Float64Array, validation: Float64Array): DenseResult {
  const { model, standardize, nearZero } = settings;
  if (model.kind !== 'mlp') throw new Error('not a network task');
  const { kind: _kind, ...network } = model;
  if (data.sparse) throw new Error('a network takes a dense design');
  const { n, p, outputs } = data;
  const stats = columnStats({ X: data.X, n, p }, train, standardize);
  const mean = standardize ? stats.mean : new Float64Array(p);
  const trainRows = rowsWhere(train);
  const valRows = rowsWhere(validation);
  const { solution, results } = networkPath(context, {
    X: data.X, Y: data.y, n, p, outputs, trainRows, valRows, mean, scale: stats.scale,
    ...network, lambdas: Float64Array.from(task.lambdas), l1Ratio: task.l1Ratio,
    ...(settings.prune ? { prune: rungReporter(new RungBoard(settings.prune)) } : {}),
  });
  const trials: TrialFigures[] = results.map((r, l) => {
    const seconds = solution.seconds[l];
    return {
      lambda: task.lambdas[l],
      status: r.status,
      converged: r.status === 'ok',
      error: r.status === 'diverged' ? `loss not finite at epoch ${r.divergedEpoch}` : null,
      trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
      valLoss: valRows.length && Number.isFinite(r.valLoss) ? r.valLoss : null,
      nTrain: trainRows.length,
      nVal: valRows.length,
      ...sparsity(concat(r.weights), nearZero),
      passes: 0,
      epochsRun: r.epochsRun,
      seconds,
      metrics: {
        seconds_per_epoch: seconds / Math.max(1, r.epochsRun),
        ...(r.divergedEpoch ? { diverged_epoch: r.divergedEpoch } : {}),
        ...(r.bestEpoch ? { best_epoch: r.bestEpoch } : {}),
        ...(r.prunedEpoch ? { pruned_epoch: r.prunedEpoch } : {}),
      },
      epochs: Array.from(r.epochTrain, (trainLoss, e) => ({ epoch: e + 1, trainLoss, valLoss: valRows.length ? r.epochVal[e] : null })),
    };
  });
  return { taskId: task.id, trials, coefs: solution.coefs, intercepts: model.hidden.length === 0 ? solution.intercepts : new Float64Array(0) };
}

function rungReporter(board: RungBoard) {
  return { rungOf: (epoch: number) => board.rungOf(epoch), report: (rung: number, loss: number) => board.report(rung, loss) };
}

function rowsWhere(weights: Float64Array): Int32Array {
  const rows: number[] = [];
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0) rows.push(i);
  return Int32Array.from(rows);
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, a) => s + a.length, 0));
  let off = 0;
  for (const a of parts) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

function count(weights: Float64Array): number {
  let c = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0) c++;
  return c;
}
