import { readFileSync } from 'node:fs';
import { dirname, resolve, relative, isAbsolute } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { configSchema, type SweepConfig } from './schema.js';

export interface LoadedConfig {
  config: SweepConfig;
  /** The config file as given (for messages). */
  file: string;
  /** Absolute path of the CSV, when the data come from a file. */
  dataPath?: string;
  /** Absolute path of the SQLite database. */
  outputPath: string;
}

/** Shown path: relative to the working directory when that is shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Reads, parses and validates a sweep file (YAML or JSON); every problem becomes one UserError naming file, line and key. */
export function loadConfig(file: string, overrides: { output?: string; workers?: number } = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read the sweep file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseConfig(text, file, overrides);
}

export function parseConfig(text: string, file: string, overrides: { output?: string; workers?: number } = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const { line, col } = lineCounter.linePos(err.pos[0]);
    throw new UserError(`${file}:${line}:${col}: not valid YAML: ${err.message.split('\n')[0]}`);
  }
  const raw = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UserError(`${file}: expected a mapping with name, data, sweep, ...`);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const { path, message } = describeIssue(issue);
    const where = lineOf(doc, lineCounter, path);
    const key = path.length ? path.join('.') : '(top level)';
    throw new UserError(`${file}${where ? `:${where}` : ''}: ${key}: ${message}`);
  }
  const config = parsed.data;
  if (overrides.workers !== undefined) config.workers = overrides.workers;

  const base = dirname(resolve(file));
  const dataPath = config.data.path !== undefined ? resolve(base, config.data.path) : undefined;
  const outputPath = overrides.output
    ? resolve(overrides.output)
    : config.output
      ? resolve(base, config.output)
      : resolve('results', `${config.name}.db`);
  return { config, file, dataPath, outputPath };
}

/** One issue → the key path it is about and a sentence; unknown keys name themselves and what is allowed. */
function describeIssue(issue: z.core.$ZodIssue): { path: (string | number)[]; message: string } {
  const path = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  if (issue.code === 'unrecognized_keys') {
    return { path: [...path, issue.keys[0]], message: `unknown key${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}` };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return { path, message: 'missing' + (issue.message.startsWith('expected') ? `: ${issue.message}` : '') };
  }
  return { path, message: issue.message };
}

/** Line number of the deepest node of the path that exists in the document. */
function lineOf(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
