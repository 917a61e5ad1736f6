// The sweep file's reference (docs/config.md), read off the schema: every key with its meaning (the schema's
// `meta({ description })`) and its default, so that the schema is the one place a key is defined. scripts/config-doc.mjs
// writes the file; a unit test fails when it differs from what the schema says.
import * as z from 'zod';
import { configSchema } from './schema.js';

export interface ConfigKey {
  /** "data.standardize", "validation.folds". */
  key: string;
  /** For a key of one kind of a union: "kfold", "mlp". */
  kind: string | null;
  meaning: string;
  default: string;
}

type Schema = z.ZodType;
interface Meta {
  description?: string;
  shownDefault?: string;
}

const metaOf = (s: Schema): Meta => (z.globalRegistry.get(s) as Meta | undefined) ?? {};

/** A default as the reference writes it: `true`, `1e-5`, `[l1, l2]`. */
function shown(value: unknown): string {
  const plain = (v: unknown): string =>
    typeof v === 'number' ? (v !== 0 && Math.abs(v) <= 1e-3 ? v.toExponential().replace(/e([+-])(\d)$/, 'e$1$2') : String(v)) : Array.isArray(v) ? `[${v.map(plain).join(', ')}]` : typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v);
  return `\`${plain(value)}\``;
}

/** Keys the schema has no description for (each must have one: docs/config.md is written from them). */
const undocumented: string[] = [];

/** Every documented key under `schema`, in the schema's order; a key's own meta wins over what its wrappers say. */
function walk(schema: Schema, path: string[], kind: string | null, rows: ConfigKey[], inherited: Meta = {}, fallback?: string, asKey = true): void {
  const meta = { ...inherited, ...metaOf(schema) };
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'default': {
      const value = typeof def.defaultValue === 'function' ? undefined : def.defaultValue;
      return walk(def.innerType as Schema, path, kind, rows, meta, value === undefined ? fallback : shown(value), asKey);
    }
    case 'optional':
      return walk(def.innerType as Schema, path, kind, rows, meta, fallback ?? 'none', asKey);
    case 'pipe':
      // A preprocess (old spellings, one value as a list) or a transform: the schema that reads the value.
      return walk(((def.in as Schema)._zod.def.type === 'transform' ? def.out : def.in) as Schema, path, kind, rows, meta, fallback, asKey);
  }
  if (asKey && meta.description && path.length) rows.push({ key: path.join('.'), kind, meaning: meta.description, default: meta.shownDefault ?? fallback ?? 'required' });
  else if (asKey && path.length) undocumented.push(path.join('.'));
  if (def.type === 'object') {
    const before = { rows: rows.length, undocumented: undocumented.length };
    for (const [name, field] of Object.entries(def.shape as Record<string, Schema>)) if (name !== 'kind' || kind === null) walk(field, [...path, name], kind, rows);
    // A value whose description says what goes in it ({log_uniform: [lo, hi]}, network settings): its parts are not keys.
    if (rows.length === before.rows) undocumented.length = before.undocumented;
  }
  if (def.type === 'union' && typeof def.discriminator === 'string') {
    // A union of kinds: a row per kind, then each kind's own keys.
    for (const option of def.options as Schema[]) {
      const shape = (option._zod.def as unknown as { shape: Record<string, Schema> }).shape;
      const literal = shape[def.discriminator as string];
      const name = String((literal._zod.def as unknown as { values: unknown[] }).values[0]);
      rows.push({ key: [...path, def.discriminator].join('.'), kind: name, meaning: metaOf(literal).description ?? '', default: '' });
      walk(option, path, name, rows, {}, undefined, false);
    }
  }
}

/**
 * The sweep file's keys, as docs/config.md lists them: a key the same in several kinds (model.tol in linear, logistic,
 * …) once, with its kinds.
 */
export function configReference(): ConfigKey[] {
  const rows: ConfigKey[] = [];
  undocumented.length = 0;
  walk(configSchema, [], null, rows);
  if (undocumented.length) throw new Error(`config keys without a description (meta in src/config/schema.ts): ${undocumented.join(', ')}`);
  const merged: ConfigKey[] = [];
  const seen = new Map<string, ConfigKey>();
  for (const r of rows) {
    const same = r.default === '' ? undefined : `${r.key}\u0000${r.meaning}\u0000${r.default}`;
    const first = same === undefined ? undefined : seen.get(same);
    if (first) first.kind = `${first.kind}, ${r.kind}`;
    else {
      const row = { ...r };
      if (same !== undefined) seen.set(same, row);
      merged.push(row);
    }
  }
  return merged;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/config.md. */
export function configMarkdown(): string {
  const rows = configReference().map((r) =>
    r.default === '' ? `| \`${r.key}: ${r.kind}\` | ${cell(r.meaning)} | |` : `| \`${r.key}\`${r.kind ? ` (${r.kind})` : ''} | ${cell(r.meaning)} | ${cell(r.default)} |`,
  );
  return `# The sweep file

<!-- Written by scripts/config-doc.mjs from src/config/schema.ts (every key's meta); do not edit by hand. -->

A sweep file is YAML (or JSON). Paths in it are relative to the file. An unknown key, a wrong value or a missing one is
refused with one line naming the file, the line and the key (exit 2).

\`\`\`yaml
name: diabetes-enet
data:
  path: ../data/diabetes.csv   # or synthetic: {kind: regression, n: 1000, p: 50, nonzero: 5, rho: 0.5, snr: 3, seed: 1}
  target: progression          # default: the last column
validation: {kind: kfold, folds: 5, seed: 0}
model: {kind: linear}
sweep:
  kind: grid
  penalty: [l1, l2, elasticnet]
  lambda: {auto: 50, ratio: 1e-3}    # glmnet's path from λ_max down; or {log_range: [1e-3, 10], num: 50}, or a list
  l1_ratio: [0.2, 0.5, 0.8]          # used by elasticnet
output: ../results/diabetes-enet.db
\`\`\`

A key marked with a kind, e.g. \`validation.folds\` (kfold), belongs to that kind only.

| key | meaning | default |
|---|---|---|
${rows.join('\n')}
`;
}
