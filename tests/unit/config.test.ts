import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { UserError } from '../../src/errors.js';

const valid = `
name: diabetes-enet
data:
  path: ../data/diabetes.csv
  target: progression
  standardize: true
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: linear, tol: 1e-7, max_iter: 100000}
sweep:
  kind: grid
  penalty: [l1, l2, elasticnet]
  lambda: {log_range: [1e-3, 10], num: 50}
  l1_ratio: [0.5]
workers: 2
output: ../results/diabetes-enet.db
`;

function errorOf(text: string, file = 'sweeps/x.yaml'): string {
  try {
    parseConfig(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('sweep config', () => {
  it('accepts the documented shape and resolves paths against the config file', () => {
    const { config, dataPath, outputPath } = parseConfig(valid, '/work/proj/sweeps/d.yaml');
    expect(config.sweep).toMatchObject({ kind: 'grid', penalty: ['l1', 'l2', 'elasticnet'] });
    expect(dataPath).toBe('/work/proj/data/diabetes.csv');
    expect(outputPath).toBe('/work/proj/results/diabetes-enet.db');
    expect(config.near_zero).toBe(1e-3);
  });

  it('accepts JSON too', () => {
    const { config } = parseConfig(JSON.stringify({ name: 'j', data: { synthetic: { kind: 'regression', n: 50, p: 5 } }, sweep: { kind: 'grid', lambda: [1, 0.1] } }), 'x.json');
    expect(config.validation).toEqual({ kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 1, seed: 0, keep: false });
    expect(config.model.kind).toBe('linear');
  });

  it('names the file, line and key path of a wrong value', () => {
    const msg = errorOf(valid.replace('num: 50', 'num: -3'));
    expect(msg).toBe('sweeps/x.yaml:12: sweep.lambda.num: expected a positive integer, found -3');
  });

  it('names an unknown key', () => {
    expect(errorOf(valid.replace('standardize: true', 'standardise: true'))).toBe('sweeps/x.yaml:6: data.standardise: unknown key; did you mean standardize?');
  });

  it('names a missing key', () => {
    expect(errorOf(valid.replace(/^sweep:[\s\S]*?l1_ratio: \[0.5\]\n/m, ''))).toMatch(/^sweeps\/x.yaml(:\d+)?: sweep: missing/);
  });

  it('names a wrong kind', () => {
    expect(errorOf(valid.replace('kind: kfold', 'kind: loo'))).toMatch(/^sweeps\/x.yaml:7: validation.kind: expected kind: kfold, holdout, column or none/);
    expect(errorOf(valid.replace('penalty: [l1, l2, elasticnet]', 'penalty: [l1, lasso]'))).toMatch(/sweep.penalty.1: expected none, l1, l2 or elasticnet/);
  });

  it('refuses a range given high to low and a fraction out of range', () => {
    expect(errorOf(valid.replace('[1e-3, 10]', '[10, 1e-3]'))).toMatch(/sweep.lambda.log_range: log_range: low must be below high/);
    expect(errorOf(valid.replace('validation: {kind: kfold, folds: 5, seed: 0}', 'validation: {kind: holdout, fraction: 1.5}'))).toMatch(/validation.fraction: expected a number in \(0, 1\)/);
  });

  it('needs exactly one data source', () => {
    expect(errorOf(valid.replace('  path: ../data/diabetes.csv\n', ''))).toMatch(/data: give exactly one of data.path or data.synthetic/);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorOf('name: x\ndata: {path: [\n')).toMatch(/^sweeps\/x.yaml:\d+:\d+: not valid YAML/);
  });
});
