// Which fit is "the model": a penalty, an l1 ratio and a λ chosen by a rule, and the fit that is kept for it — the
// fit on all rows (as cv.glmnet keeps), or the training fit where a holdout sweep has none on all rows.
import type { CvPoint, Penalty, Selection, Trial } from '../domain.js';
import { PENALTIES, settingsLabel } from '../domain.js';
import { UserError } from '../errors.js';
import { METRICS, fmt, relaxedChoice, selectLambdas, selectionName, summarize, type Metric } from './cv.js';

/** How λ is chosen: the best mean, the largest λ within one standard error of it (glmnet's default), or a given value. */
export type SelectRule = { kind: 'min' } | { kind: '1se' } | { kind: 'lambda'; value: number };

export interface ModelRequest {
  penalty?: Penalty;
  l1Ratio?: number;
  select?: SelectRule;
  /** What λ_min and λ_1se are taken by (a METRICS name, cv.glmnet's type.measure); default val_loss. */
  metric?: string;
}

/** A --metric name as its metric, or a UserError that lists them. */
export function metricNamed(name = 'val_loss'): Metric {
  const metric = METRICS[name];
  if (!metric) throw new UserError(`--metric: unknown metric "${name}" (metrics: ${Object.keys(METRICS).join(', ')})`);
  return metric;
}

export interface ModelChoice {
  penalty: Penalty;
  l1Ratio: number;
  /** The model settings of the chosen fit, for a sweep that varies them (a settings key, else ""). */
  settings: string;
  lambda: number;
  rule: SelectRule;
  /** The stored trial whose coefficients are the model. */
  trial: Trial;
  /** λ_min and λ_1se of the chosen (penalty, l1 ratio), when the sweep has validation losses. */
  selection: Selection | null;
  /** The cross-validated loss at the chosen λ. */
  cv: CvPoint | null;
  /** What the user should know about the choice ("the nearest grid λ is …", "fit on the training rows only"). */
  notes: string[];
}

/** `--select min`, `1se` or `lambda=VALUE`. */
export function parseSelectRule(text: string): SelectRule {
  if (text === 'min' || text === '1se') return { kind: text };
  const m = /^lambda=(.*)$/.exec(text);
  if (m) {
    const value = Number(m[1]);
    if (m[1].trim() === '' || !Number.isFinite(value) || value < 0) throw new UserError(`--select ${text}: expected lambda=VALUE with a non-negative number`);
    return { kind: 'lambda', value };
  }
  throw new UserError(`--select ${text}: expected min, 1se or lambda=VALUE`);
}

export function ruleLabel(rule: SelectRule): string {
  return rule.kind === 'lambda' ? `lambda=${rule.value}` : rule.kind;
}

export function parsePenalty(text: string): Penalty {
  if ((PENALTIES as readonly string[]).includes(text)) return text as Penalty;
  throw new UserError(`--penalty ${text}: expected one of ${PENALTIES.join(', ')}`);
}

const sameRatio = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

/**
 * The model a request names in a sweep's trials. `modelFold` is the fold whose fits are kept ("all", or "0" for a
 * holdout sweep). Every way the request cannot be met is a UserError that says what the sweep has.
 */
export function chooseModel(trials: Trial[], sweepName: string, modelFold: string, request: ModelRequest): ModelChoice {
  const rule = request.select ?? { kind: '1se' };
  const notes: string[] = [];
  const penalties = [...new Set(trials.map((t) => t.penalty))];
  if (penalties.length === 0) throw new UserError(`sweep "${sweepName}" has no trials recorded yet`);
  const metric = metricNamed(request.metric);
  const points = summarize(trials, metric);
  const selections = selectLambdas(points, metric);

  let penalty = request.penalty ?? (request.l1Ratio !== undefined ? 'elasticnet' : undefined);
  if (penalty !== undefined && !penalties.includes(penalty))
    throw new UserError(`--penalty ${penalty}: sweep "${sweepName}" has ${penalties.join(', ')}`);
  if (request.l1Ratio !== undefined && penalty !== 'elasticnet')
    throw new UserError(`--l1-ratio: applies to --penalty elasticnet (the l1 ratio of ${penalty} is fixed)`);
  const better = (a: number, b: number) => (metric.lowerIsBetter ? a < b : a > b);
  const best = (candidates: Selection[]) => candidates.reduce<Selection | undefined>((b, s) => (!b || better(s.meanMin, b.meanMin) ? s : b), undefined);

  if (penalty === undefined) {
    const top = best(selections);
    if (top) penalty = top.penalty;
    else if (penalties.length === 1) penalty = penalties[0];
    else throw new UserError(`sweep "${sweepName}" has no validation loss to choose a penalty by: name one with --penalty (${penalties.join(', ')})`);
  }
  const ratios = [...new Set(trials.filter((t) => t.penalty === penalty).map((t) => t.l1Ratio))].sort((a, b) => a - b);
  let l1Ratio: number;
  if (request.l1Ratio !== undefined) {
    const match = ratios.find((r) => sameRatio(r, request.l1Ratio!));
    if (match === undefined) throw new UserError(`--l1-ratio ${request.l1Ratio}: sweep "${sweepName}" has elasticnet with l1_ratio ${ratios.map(fmt).join(', ')}`);
    l1Ratio = match;
  } else if (ratios.length === 1) {
    l1Ratio = ratios[0];
  } else {
    const top = best(selections.filter((s) => s.penalty === penalty));
    if (!top) throw new UserError(`sweep "${sweepName}" has no validation loss to choose an l1 ratio by: name one with --l1-ratio (${ratios.map(fmt).join(', ')})`);
    l1Ratio = top.l1Ratio;
  }
  // A sweep that varies model settings: the best of them by validation loss; a relaxed one's λ and γ chosen together.
  const variants = [...new Set(trials.filter((t) => t.penalty === penalty && t.l1Ratio === l1Ratio).map((t) => t.settings))];
  let settings = variants[0] ?? '';
  const relaxed = rule.kind === 'lambda' ? undefined : relaxedChoice(points.filter((p) => p.penalty === penalty && p.l1Ratio === l1Ratio), metric);
  if (relaxed) {
    settings = (rule.kind === 'min' ? relaxed.min : relaxed.oneSe).settings;
    notes.push(`relaxed lasso: λ and γ chosen together by cross-validation (as cv.glmnet with relax = TRUE): ${settingsLabel(settings)}`);
  } else if (variants.length > 1) {
    const top = best(selections.filter((s) => s.penalty === penalty && s.l1Ratio === l1Ratio));
    if (!top) throw new UserError(`sweep "${sweepName}" has no validation loss to choose its model settings by (${variants.map(settingsLabel).join('; ')})`);
    settings = top.settings;
    notes.push(`model settings with the best validation loss: ${settingsLabel(settings)}`);
  }
  const mine = (t: { penalty: Penalty; l1Ratio: number; settings: string }) => t.penalty === penalty && t.l1Ratio === l1Ratio && t.settings === settings;
  const selection = selections.find(mine) ?? null;
  const what = selectionName({ penalty, l1Ratio, settings });

  const lambdas = [...new Set(trials.filter(mine).map((t) => t.lambda))].sort((a, b) => b - a);
  let lambda: number;
  if (rule.kind === 'lambda') {
    const hi = lambdas[0];
    const lo = lambdas[lambdas.length - 1];
    const slack = 1e-9;
    if (rule.value > hi * (1 + slack) || rule.value < lo * (1 - slack))
      throw new UserError(`--select lambda=${rule.value}: outside the grid of ${what}, which runs from λ ${fmt(lo)} to ${fmt(hi)}`);
    const distance = (l: number) => (l > 0 && rule.value > 0 ? Math.abs(Math.log(l / rule.value)) : Math.abs(l - rule.value));
    lambda = lambdas.reduce((b, l) => (distance(l) < distance(b) ? l : b));
    if (lambda !== rule.value) notes.push(`--select lambda=${rule.value}: the nearest grid λ is ${lambda}`);
  } else if (relaxed) {
    lambda = (rule.kind === 'min' ? relaxed.min : relaxed.oneSe).lambda;
  } else {
    if (!selection)
      throw new UserError(
        `sweep "${sweepName}" has no validation loss for ${what}, so --select ${rule.kind} has nothing to choose by; name a λ with --select lambda=VALUE (grid λ ${fmt(lambdas[lambdas.length - 1])} … ${fmt(lambdas[0])})`,
      );
    lambda = rule.kind === 'min' ? selection.lambdaMin : selection.lambda1se;
  }

  const fits = trials.filter((t) => mine(t) && t.lambda === lambda && t.fold === modelFold);
  const trial = fits.find((t) => t.status === 'ok');
  if (!trial) {
    const fitName = modelFold === 'all' ? 'fit on all rows' : 'training fit';
    const why = fits.length === 0 ? 'is not recorded (the sweep has not finished it)' : `${fits[0].status === 'failed' ? 'failed' : 'diverged'}${fits[0].error ? ` (${fits[0].error})` : ''}`;
    throw new UserError(`sweep "${sweepName}": the ${fitName} of ${what} at λ ${lambda} ${why}; run the sweep again to finish it${fits.length ? ' (regsweep run … --retry-failed)' : ''}, or choose another λ`);
  }
  if (modelFold !== 'all') notes.push(`the sweep has no fit on all rows (validation holdout): the model is the fit on the ${trial.nTrain} training rows`);
  if (!trial.converged) notes.push(`the fit at λ ${lambda} stopped at max_iter before converging`);
  const cv = points.find((p) => mine(p) && p.lambda === lambda) ?? null;
  return { penalty, l1Ratio, settings, lambda, rule, trial, selection, cv, notes };
}
