import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { UserError } from '../errors.js';
import { requireRegularFile } from '../util/files.js';
import { isStoreUrl } from '../util/paths.js';
import { describeIssue, type KeyPath } from './messages.js';
import { HIDDEN_SCHEMAS, configSchema, type SweepConfig } from './schema.js';

export interface LoadedConfig {
  config: SweepConfig;
  /** The config file as given (for messages). */
  file: string;
  /** Absolute path of the data file, when the data come from a file. */
  dataPath?: string;
  /** Absolute paths of a sparse design's side files: its target (data.target_path) and feature names (data.feature_names). */
  targetPath?: string;
  featureNamesPath?: string;
  /** Where the results go: an absolute database path, or a store URL (postgres://…). */
  outputPath: string;
  /**
   * "file:line" of the deepest part of a key path that the file has (just "file" when none): for errors found
   * after parsing, which name the key they are about as parse errors do.
   */
  where(path: KeyPath): string;
  /** Whether the file gives a key (or takes its default). */
  gives(path: KeyPath): boolean;
}

/** Reads, parses and validates a sweep file (YAML or JSON); every problem becomes one UserError naming file, line and key. */
export function loadConfig(file: string, overrides: { output?: string; workers?: number } = {}): LoadedConfig {
  requireRegularFile(file, file, 'sweep file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read the sweep file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseConfig(text, file, overrides);
}

/** Aliases a YAML file may use before its expansion is refused (a "billion laughs" file expands exponentially). */
const MAX_ALIASES = 1000;

export function parseConfig(text: string, file: string, overrides: { output?: string; workers?: number } = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const { line, col } = lineCounter.linePos(err.pos[0]);
    throw new UserError(`${file}:${line}:${col}: not valid YAML: ${err.message.split('\n')[0]}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    const why = e instanceof ReferenceError && /alias/i.test(e.message) ? `more than ${MAX_ALIASES} YAML aliases to expand (an alias bomb?); write the values out` : (e as Error).message;
    throw new UserError(`${file}: not a usable sweep file: ${why}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UserError(`${file}: expected a mapping with name, data, sweep, ...`);
  const where = (path: KeyPath) => {
    const line = lineOf(doc, lineCounter, path);
    return `${file}${line ? `:${line}` : ''}`;
  };
  const gives = (path: KeyPath) => doc.hasIn(path);

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    // A misspelled key usually also leaves a required one missing: the misspelling is the thing to fix.
    const issues = parsed.error.issues;
    const { path, message } = describeIssue(issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0], raw, [configSchema, ...HIDDEN_SCHEMAS]);
    const key = path.length ? path.join('.') : '(top level)';
    throw new UserError(`${where(path)}: ${key}: ${message}`);
  }
  const config = parsed.data;
  if (overrides.workers !== undefined) config.workers = overrides.workers;
  // A Cox model's folds keep the share of deaths unless the file says otherwise (stored so, for workers and resumes).
  if (config.model.kind === 'cox' && config.validation.kind === 'kfold' && !gives(['validation', 'stratify'])) config.validation.stratify = true;

  const base = dirname(resolve(file));
  const dataPath = config.data.path !== undefined ? resolve(base, config.data.path) : undefined;
  const targetPath = config.data.target_path !== undefined ? resolve(base, config.data.target_path) : undefined;
  const featureNamesPath = config.data.feature_names !== undefined ? resolve(base, config.data.feature_names) : undefined;
  const output = overrides.output ?? config.output;
  // Paths in the sweep file are relative to its folder, the default one too; --out is relative to where it is typed.
  const outputPath =
    output === undefined
      ? resolve(base, 'results', `${config.name}.db`)
      : isStoreUrl(output)
        ? output
        : overrides.output !== undefined
          ? resolve(output)
          : resolve(base, output);
  return { config, file, dataPath, ...(targetPath ? { targetPath } : {}), ...(featureNamesPath ? { featureNamesPath } : {}), outputPath, where, gives };
}

/** Line number of the deepest node of the path that exists in the document (an old key spelling counts). */
function lineOf(doc: Document, lc: LineCounter, path: KeyPath): number | undefined {
  const aliases: Record<string, string> = { points: 'trials' };
  for (let depth = path.length; depth >= 1; depth--) {
    const part = path.slice(0, depth);
    let node = doc.getIn(part, true);
    const last = part.at(-1);
    if (!isNode(node) && typeof last === 'string' && aliases[last]) node = doc.getIn([...part.slice(0, -1), aliases[last]], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
