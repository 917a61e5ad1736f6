// docs/config.md is the schema's: every key has a description there, and the file is what the schema writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configMarkdown, configReference } from '../../src/config/reference.js';
import { parseConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers.js';

describe('the sweep file reference (docs/config.md)', () => {
  it('is the one the schema writes (npm run build && node scripts/config-doc.mjs)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'config.md'), 'utf8')).toBe(configMarkdown());
  });

  it('lists every key with the default the schema gives it', () => {
    const rows = configReference();
    const keys = new Set(rows.map((r) => r.key));
    for (const key of ['name', 'data.path', 'data.missing', 'validation.folds', 'validation.keep', 'model.tol', 'model.early_stopping.patience', 'sweep.lambda', 'sweep.prune.reduction', 'near_zero', 'workers', 'output'])
      expect(keys.has(key), key).toBe(true);
    // The defaults shown are the ones a parsed file gets.
    const { config } = parseConfig(JSON.stringify({ name: 'x', data: { path: 'a.csv' }, sweep: { kind: 'grid', lambda: [1] } }), 'x.json');
    const shown = (key: string, kind: string | null = null) => rows.find((r) => r.key === key && (kind === null || r.kind?.split(', ').includes(kind)))!.default;
    expect(shown('data.standardize')).toBe(`\`${config.data.standardize}\``);
    expect(shown('data.missing')).toBe(`\`${config.data.missing}\``);
    expect(shown('near_zero')).toBe('`1e-3`');
    expect(config.near_zero).toBe(1e-3);
    expect(shown('model.tol', 'linear')).toBe('`1e-5`');
    expect((config.model as { tol: number }).tol).toBe(1e-5);
    expect(shown('validation.folds', 'kfold')).toBe('`5`');
    expect(shown('sweep.penalty', 'grid')).toBe('`[l1, l2, elasticnet]`');
    expect((config.sweep as { penalty: string[] }).penalty).toEqual(['l1', 'l2', 'elasticnet']);
  });
});
