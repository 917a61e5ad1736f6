import { describe, expect, it } from 'vitest';
import type { Penalty, Trial } from '../../src/domain.js';
import { UserError } from '../../src/errors.js';
import { chooseModel, parseSelectRule } from '../../src/select/model.js';

let nextId = 1;
/** A trial of one fold at one λ; validation losses are given per fold, the fit on all rows has none. */
function trial(penalty: Penalty, l1Ratio: number, lambda: number, fold: string, valLoss: number | null, status: Trial['status'] = 'ok'): Trial {
  return {
    id: nextId++, sweepId: 1, taskId: `${penalty}/a=${l1Ratio}/fold=${fold}`, penalty, l1Ratio, settings: '', fold, lambda, status,
    converged: status === 'ok', error: status === 'failed' ? 'boom' : null, trainLoss: 1, valLoss, nTrain: fold === 'all' ? 100 : 80, nVal: fold === 'all' ? 0 : 20,
    nnz: 3, zeroFraction: 0, nearZeroFraction: 0, l1Norm: 1, l2Norm: 1, passes: 3, epochsRun: 0, seconds: 0, metrics: {},
  };
}

/**
 * One path over λ = 1, 0.5, 0.25, 0.125 on two folds plus the fit on all rows. Fold losses (a, b) give the means
 * 4, 2.2, 2, 3 with se |a − b|/2 · … : λ_min = 0.25 and, within one se of it, λ_1se = 0.5.
 */
function path(penalty: Penalty, l1Ratio: number, shift = 0, allStatus: Trial['status'] = 'ok'): Trial[] {
  const losses: Record<number, [number, number]> = { 1: [4, 4], 0.5: [2.1, 2.3], 0.25: [1.7, 2.3], 0.125: [3, 3] };
  return Object.entries(losses).flatMap(([l, [a, b]]) => [
    trial(penalty, l1Ratio, Number(l), '0', a + shift),
    trial(penalty, l1Ratio, Number(l), '1', b + shift),
    trial(penalty, l1Ratio, Number(l), 'all', null, allStatus),
  ]);
}

const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
};

describe('choosing the model', () => {
  const trials = [...path('l1', 1, 0.5), ...path('elasticnet', 0.3, 0.2), ...path('elasticnet', 0.7), ...path('l2', 0, 1)];

  it('defaults to the best penalty and l1 ratio by validation loss, at λ_1se, on the fit on all rows', () => {
    const m = chooseModel(trials, 's', 'all', {});
    expect([m.penalty, m.l1Ratio, m.lambda, m.trial.fold]).toEqual(['elasticnet', 0.7, 0.5, 'all']);
    expect(m.cv!.mean).toBeCloseTo(2.2, 12);
    expect(m.selection!.lambdaMin).toBe(0.25);
  });

  it('takes --penalty, --l1-ratio and --select min', () => {
    expect(chooseModel(trials, 's', 'all', { penalty: 'l1', select: { kind: 'min' } }).lambda).toBe(0.25);
    const m = chooseModel(trials, 's', 'all', { l1Ratio: 0.3 });
    expect([m.penalty, m.l1Ratio]).toEqual(['elasticnet', 0.3]);
  });

  it('--select lambda=V takes the nearest grid λ on a log scale and says so', () => {
    const m = chooseModel(trials, 's', 'all', { penalty: 'l2', select: { kind: 'lambda', value: 0.2 } });
    expect(m.lambda).toBe(0.25);
    expect(m.notes.join()).toMatch(/nearest grid λ is 0.25/);
    expect(chooseModel(trials, 's', 'all', { penalty: 'l2', select: { kind: 'lambda', value: 0.5 } }).notes).toEqual([]);
  });

  it('says what the sweep has when a request cannot be met', () => {
    expect(message(() => chooseModel(trials, 's', 'all', { penalty: 'none' }))).toMatch(/--penalty none: sweep "s" has l1, elasticnet, l2/);
    expect(message(() => chooseModel(trials, 's', 'all', { l1Ratio: 0.5 }))).toMatch(/l1_ratio 0.3000, 0.7000/);
    expect(message(() => chooseModel(trials, 's', 'all', { penalty: 'l1', l1Ratio: 0.5 }))).toMatch(/applies to --penalty elasticnet/);
    expect(message(() => chooseModel(trials, 's', 'all', { penalty: 'l1', select: { kind: 'lambda', value: 5 } }))).toMatch(/outside the grid of l1, which runs from λ 0.1250 to 1/);
    expect(message(() => chooseModel(trials, 's', 'all', { penalty: 'l1', select: { kind: 'lambda', value: 0.1 } }))).toMatch(/outside the grid/);
  });

  it('refuses a model whose fit on all rows failed or is missing', () => {
    const failed = path('l1', 1, 0, 'failed');
    expect(message(() => chooseModel(failed, 's', 'all', {}))).toMatch(/the fit on all rows of l1 at λ 0.5 failed \(boom\).*--retry-failed/);
    const missing = path('l1', 1).filter((t) => !(t.fold === 'all' && t.lambda === 0.5));
    expect(message(() => chooseModel(missing, 's', 'all', {}))).toMatch(/is not recorded/);
  });

  it('without validation losses, asks for lambda=VALUE', () => {
    const none = path('l1', 1).filter((t) => t.fold === 'all');
    expect(message(() => chooseModel(none, 's', 'all', {}))).toMatch(/no validation loss for l1, so --select 1se has nothing to choose by; name a λ with --select lambda=VALUE/);
    expect(chooseModel(none, 's', 'all', { select: { kind: 'lambda', value: 1 } }).lambda).toBe(1);
  });

  it('uses the training fit where there is no fit on all rows, and says so', () => {
    const m = chooseModel(path('l1', 1), 's', '0', {});
    expect(m.trial.fold).toBe('0');
    expect(m.notes.join()).toMatch(/no fit on all rows/);
  });

  it('parses --select', () => {
    expect(parseSelectRule('min')).toEqual({ kind: 'min' });
    expect(parseSelectRule('1se')).toEqual({ kind: '1se' });
    expect(parseSelectRule('lambda=0.01')).toEqual({ kind: 'lambda', value: 0.01 });
    for (const bad of ['lambda=', 'lambda=abc', 'lambda=-1', 'best']) expect(() => parseSelectRule(bad)).toThrow(UserError);
  });
});
