// What several commands share: how a sweep, a model and the queue's settings are named on the command line, and how a
// command's work is started (see Later).
import { UserError } from '../errors.js';
import { fmt } from '../select/cv.js';
import { metricNamed, parsePenalty, parseSelectRule, ruleLabel, type ModelRequest, type SelectRule } from '../select/model.js';
import type { SweepSelector } from '../store/contract.js';

/**
 * Wraps a command's work: yargs builds the whole help page before it awaits a handler that returns a promise, so a
 * handler starts its work and returns, and the dispatcher awaits the work (and its exit code) after parsing.
 */
export type Later = <A>(work: (args: A) => Promise<number | void>) => (args: A) => void;

/** --sweep NAME (NAME@K for the K-th of that name) or --sweep-id N. */
export function selectorOf(args: { sweep?: string; 'sweep-id'?: number }): SweepSelector | undefined {
  if (args['sweep-id'] !== undefined && args.sweep !== undefined) throw new UserError('--sweep and --sweep-id: give one');
  if (args['sweep-id'] !== undefined) {
    if (!Number.isInteger(args['sweep-id'])) throw new UserError('--sweep-id: expected a whole number (see query --list)');
    return { id: args['sweep-id'] };
  }
  return args.sweep !== undefined ? { name: args.sweep } : undefined;
}

export const sweepOptions = {
  sweep: { type: 'string', describe: 'sweep name (default: the latest); NAME@K for the K-th sweep of that name' },
  'sweep-id': { type: 'number', describe: 'sweep id (see query --list)' },
} as const;

/** --metric (alias --type-measure): what λ_min and λ_1se are taken by. */
export const metricOption = {
  metric: { type: 'string', alias: 'type-measure', default: 'val_loss', describe: 'what λ_min and λ_1se are taken by, as cv.glmnet\'s type.measure: val_loss (the loss fitted), deviance, mse, mae, class (misclassification), auc, accuracy, or for cox C (Harrell\'s concordance) and deviance_ungrouped' },
} as const;

export const modelOptions = {
  penalty: { type: 'string', describe: 'the model\'s penalty: l1, l2, elasticnet or none (default: the best by validation loss)' },
  'l1-ratio': { type: 'number', describe: 'the elastic net\'s l1 ratio (default: its best)' },
  select: { type: 'string', describe: 'the λ: min, 1se (default: the largest λ within one standard error of the best) or lambda=VALUE (the nearest grid λ)' },
  ...metricOption,
} as const;

/** --penalty, --l1-ratio and --select as a model request. */
export function modelRequest(args: { penalty?: string; 'l1-ratio'?: number; select?: string; metric?: string }): ModelRequest {
  if (args['l1-ratio'] !== undefined && !(Number.isFinite(args['l1-ratio']) && args['l1-ratio'] >= 0 && args['l1-ratio'] <= 1)) throw new UserError('--l1-ratio: expected a number in [0, 1]');
  return {
    ...(args.penalty !== undefined ? { penalty: parsePenalty(args.penalty) } : {}),
    ...(args['l1-ratio'] !== undefined ? { l1Ratio: args['l1-ratio'] } : {}),
    ...(args.select !== undefined ? { select: parseSelectRule(args.select) } : {}),
    ...(args.metric !== undefined && args.metric !== 'val_loss' ? { metric: metricNamed(args.metric).name } : {}),
  };
}

export function describeModel(m: { penalty: string; l1Ratio: number; lambda: number; rule: SelectRule }): string {
  return `${m.penalty === 'elasticnet' ? `elasticnet l1_ratio ${fmt(m.l1Ratio)}` : m.penalty}, λ ${m.lambda} by --select ${ruleLabel(m.rule)}`;
}

export const partialOption = {
  'allow-partial': { type: 'boolean', default: false, describe: 'use a sweep that is not finished (the model is chosen from the trials it has; the output says so)' },
} as const;

export const queueOptions = {
  lease: { type: 'number', default: 30, describe: 'seconds a claimed task is held without renewal (renewed every third of it)' },
  'max-attempts': { type: 'number', default: 3, describe: 'attempts a task that throws gets before it is recorded as failed' },
  'reconnect-timeout': { type: 'number', default: 600, describe: 'seconds a lost (or, for worker, not yet reachable) database is waited for before giving up' },
} as const;

/** Seconds a lease may be: long enough to renew over a slow link, short enough that a dead worker's task comes back. */
const LEASE_SECONDS = { min: 2, max: 3600 };

export function checkQueueOptions(args: { lease: number; 'max-attempts': number; 'reconnect-timeout': number }): void {
  positiveNumber('--reconnect-timeout', args['reconnect-timeout']);
  if (!(Number.isFinite(args.lease) && args.lease >= LEASE_SECONDS.min && args.lease <= LEASE_SECONDS.max))
    throw new UserError(`--lease ${args.lease}: expected seconds from ${LEASE_SECONDS.min} to ${LEASE_SECONDS.max} (a task of a worker that dies comes back after its lease)`);
  if (!(Number.isInteger(args['max-attempts']) && args['max-attempts'] > 0 && args['max-attempts'] <= 100))
    throw new UserError(`--max-attempts ${args['max-attempts']}: expected a whole number from 1 to 100 (a task that always throws is tried that often)`);
}

export function positiveNumber(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new UserError(`${name}: expected a positive number`);
}
