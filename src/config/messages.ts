// A validation issue → the key path it is about and one sentence a user can act on, with what was found there.
import type { z } from 'zod';

export type KeyPath = (string | number)[];

/** Old or common names for keys, and the key that is meant. */
const SYNONYMS: Record<string, string> = {
  alpha: 'l1_ratio',
  alphas: 'l1_ratio',
  l1_ratios: 'l1_ratio',
  lambdas: 'lambda',
  penalties: 'penalty',
  nfolds: 'folds',
  n_folds: 'folds',
  k: 'folds',
  learning_rate: 'lr',
  batch_size: 'batch',
  n_epochs: 'epochs',
  max_iterations: 'max_iter',
  maxit: 'max_iter',
  thresh: 'tol',
  tolerance: 'tol',
  standardise: 'standardize',
  normalize: 'standardize',
  file: 'path',
  csv: 'path',
  label: 'target',
  y: 'target',
  type: 'kind',
  seeds: 'seed',
  n_trials: 'points',
  threads: 'workers',
  n_jobs: 'workers',
  db: 'output',
  database: 'output',
};

/** Every key name the schema knows, for "did you mean" on a misspelled one. */
let knownKeys: string[] | undefined;
function allKeys(schema: unknown, into = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return into;
  seen.add(schema);
  if (Array.isArray(schema)) {
    for (const s of schema) allKeys(s, into, seen);
    return into;
  }
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (!def) return into;
  if (def.shape && typeof def.shape === 'object') {
    for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
      into.add(k);
      allKeys(v, into, seen);
    }
  }
  for (const field of ['innerType', 'element', 'in', 'out', 'schema']) allKeys(def[field], into, seen);
  for (const field of ['options', 'items']) if (Array.isArray(def[field])) for (const o of def[field] as unknown[]) allKeys(o, into, seen);
  return into;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The key a misspelled or foreign one most likely means, if any. */
function suggestKey(key: string, schema: unknown): string | undefined {
  if (SYNONYMS[key]) return SYNONYMS[key];
  knownKeys ??= [...allKeys(schema)];
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3));
  for (const k of knownKeys) {
    const d = distance(key.toLowerCase(), k);
    if (d <= bestDistance && d > 0) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** What a value is, in the words of a message: `the string "100"`, `.inf`, `a list`. */
function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return Number.isNaN(value) ? '.nan' : value === Infinity ? '.inf' : value === -Infinity ? '-.inf' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function valueAt(raw: unknown, path: KeyPath): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** One issue → the key path it is about and a sentence: what was expected and what was found (`schema`: for "did you mean"). */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown, schema: unknown): { path: KeyPath; message: string } {
  const path = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const suggestion = suggestKey(key, schema);
    const also = issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : '';
    return { path: [...path, key], message: `unknown key${also}${suggestion ? `; did you mean ${suggestion}?` : ''}` };
  }
  // A renamed key is validated under its new name: the value is found under either.
  const value = valueAt(raw, path) ?? (path.at(-1) === 'points' ? valueAt(raw, [...path.slice(0, -1), 'trials']) : undefined);
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return { path, message: 'missing' + (issue.message.startsWith('expected') ? `: ${issue.message}` : '') };
  }
  const found = value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value) && issue.code !== 'invalid_type') ? '' : `, found ${describeValue(value)}`;
  return { path, message: `${issue.message}${found}` };
}
