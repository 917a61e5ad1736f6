// Generated scripts are programs built from data: every value from the data or the file system (labels, column names,
// the database path) reaches model.py / model.R only through an emitter for its context — a string or number literal,
// a list or dict of them, or the text of a comment line — and the code around them is a fixed template file.
import { readFileSync } from 'node:fs';
import { packagePath } from '../builtFile.js';
import { UserError } from '../errors.js';
import type { Model } from './load.js';

/** A value a script holds as data: a literal, or a list or a record of them. */
export type Literal = string | number | boolean | null | readonly Literal[] | { readonly [key: string]: Literal };

export interface Emitter {
  /** A string literal that reads back as `s` (lone surrogates as U+FFFD: neither language keeps them in source). */
  string(s: string): string;
  /** A number literal that reads back as the same double; NaN and ±Inf as expressions, never a bare name. */
  number(v: number): string;
  /** The text of one comment line: no character that could end the line or change how the file is read. */
  comment(text: string): string;
  /** Any Literal, built from the two above. */
  literal(v: Literal): string;
  /** Statements that leave `value` in the variable `name` (an identifier of the template's, never of the data's). */
  assign(name: string, value: Literal): string[];
}

/**
 * Characters escaped in string literals and comments: C0 and C1 controls, DEL, the Unicode line and paragraph
 * separators, the byte order mark and the bidirectional overrides (which make a line read differently than it runs).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');
/** Lone surrogates (a name decoded from bad bytes) become U+FFFD: UTF-8 source cannot hold them. */
const wellFormed = (s: string) => (s as string & { toWellFormed(): string }).toWellFormed();

/** A comment's text with every unsafe character shown as an escape (`\n`, `\u2028`): one line, read as written. */
function commentText(text: string): string {
  return wellFormed(text).replace(UNSAFE, (c: string) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${hex4(c)}`));
}

/**
 * A double as the shortest decimal that reads back to it (JavaScript's and Python's repr agree); a whole number as an
 * integer literal, which Python's parameters that must be integers (max_iter) accept and every float context reads.
 */
function decimal(v: number): string {
  return Object.is(v, -0) ? '-0.0' : String(v);
}

function isRecord(v: Literal): v is { readonly [key: string]: Literal } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const python: Emitter = {
  string: (s) =>
    '"' +
    wellFormed(s)
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(UNSAFE, (c: string) => `\\u${hex4(c)}`) +
    '"',
  number: (v) => (Number.isNaN(v) ? 'float("nan")' : v === Infinity ? 'float("inf")' : v === -Infinity ? '-float("inf")' : decimal(v)),
  comment: commentText,
  literal(v): string {
    if (v === null) return 'None';
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (typeof v === 'number') return python.number(v);
    if (typeof v === 'string') return python.string(v);
    if (Array.isArray(v)) return `[${v.map((x) => python.literal(x)).join(', ')}]`;
    if (isRecord(v)) return `{${Object.entries(v).map(([k, x]) => `${python.string(k)}: ${python.literal(x)}`).join(', ')}}`;
    throw new Error(`not a literal: ${String(v)}`);
  },
  assign: (name, value) => [`${name} = ${python.literal(value)}`],
};

/**
 * R source is kept to short lines and short statements. Rscript reads a file in 4096-byte pieces, and an escape split
 * between two pieces is misread ("nul character not allowed"): a long string is pasted together from short pieces. It
 * also parses a statement again from its start after every piece and every line, which is quadratic in the statement's
 * length: a long vector is assigned a part at a time (features <- c(features, …)).
 */
const R_PIECE = 400;
/** Characters of source a statement that appends to a vector has on one line. */
const R_STATEMENT = 3000;

/** An R string's escaped text in pieces of at most R_PIECE characters, no escape cut in two. */
function rPieces(escaped: string): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const token of escaped.match(/\\U\{[0-9a-f]+\}|\\u[0-9a-f]{4}|\\[\\"]|[^\\]/g) ?? []) {
    if (piece.length + token.length > R_PIECE) {
      pieces.push(piece);
      piece = '';
    }
    piece += token;
  }
  return [...pieces, piece];
}

export const r: Emitter = {
  string(s) {
    // An R string cannot hold NUL at all; such a name cannot be matched by R's CSV reader either.
    if (s.includes('\u0000')) throw new UserError(`export --model --format glmnet: the name ${JSON.stringify(s)} holds a NUL character, which R strings cannot hold`);
    const escaped = wellFormed(s)
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(UNSAFE, (c: string) => `\\u${hex4(c)}`)
      // Any other non-ASCII character as an escape too: R reads a script in the session's encoding (C in some shells).
      .replace(/[^\u0000-\u007f]/gu, (c: string) => `\\U{${c.codePointAt(0)!.toString(16)}}`);
    const pieces = rPieces(escaped).map((piece) => `"${piece}"`);
    return pieces.length === 1 ? pieces[0] : `paste0(\n  ${pieces.join(',\n  ')}\n)`;
  },
  number: (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Inf' : v === -Infinity ? '-Inf' : Object.is(v, -0) ? '-0' : String(v)),
  comment: commentText,
  literal(v): string {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number') return r.number(v);
    if (typeof v === 'string') return r.string(v);
    const items = Array.isArray(v) ? v.map((x) => r.literal(x)) : isRecord(v) ? Object.entries(v).map(([k, x]) => `${r.string(k)} = ${r.literal(x)}`) : undefined;
    if (!items) throw new Error(`not a literal: ${String(v)}`);
    // A list keeps its elements' types (c() would turn a mixed one into strings); vectors of one type use c().
    const list = Array.isArray(v) ? v : Object.values(v);
    const atomic = Array.isArray(v) && (v.every((x) => typeof x === 'string') || v.every((x) => typeof x === 'number') || v.every((x) => typeof x === 'boolean'));
    if (Array.isArray(v) && list.length === 0) return 'character(0)';
    const inline = items.join(', ');
    const body = inline.length <= 100 && !inline.includes('\n') ? inline : `\n  ${items.join(',\n  ')}\n`;
    return `${atomic ? 'c' : 'list'}(${body})`;
  },
  assign(name, value) {
    if (!Array.isArray(value) || value.length === 0) return [`${name} <- ${r.literal(value)}`];
    // Elements on one line up to R_STATEMENT characters of source (a pasted long string stands alone).
    const groups: string[][] = [[]];
    let size = 0;
    for (const item of value.map((x) => r.literal(x))) {
      if (groups.at(-1)!.length > 0 && (size + item.length > R_STATEMENT || item.includes('\n'))) {
        groups.push([]);
        size = 0;
      }
      groups.at(-1)!.push(item);
      size += item.length + 2;
    }
    // One type throughout (every element a string, or every one a number), so that c(name, …) keeps the vector's type.
    const vector = Array.isArray(value) && value.every((x) => typeof x !== 'object' || x === null) ? 'c' : 'list';
    return groups.map((group, k) => `${name} <- ${vector}(${k === 0 ? '' : `${name}, `}${group.join(', ')})`);
  },
};

/** Placeholders in a template: a whole word of capitals after REGSWEEP_ (an identifier in Python and in R). */
const PLACEHOLDER = /\bREGSWEEP_[A-Z0-9_]+\b/g;
/** A comment line that is only a placeholder: replaced by comment lines. */
const COMMENT_PLACEHOLDER = /^([ \t]*)#[ \t]*(REGSWEEP_[A-Z0-9_]+)[ \t]*$/;
/** A line that assigns a placeholder to a variable of the template (Python `=`, R `<-`): replaced by emit.assign. */
const ASSIGN_PLACEHOLDER = /^([A-Za-z][A-Za-z0-9_.]*)[ \t]*(?:=|<-)[ \t]*(REGSWEEP_[A-Z0-9_]+)[ \t]*$/;

export interface TemplateValues {
  /** Placeholders in code: each replaced by the value as a literal of the template's language. */
  values: Record<string, Literal>;
  /** Placeholders that are a comment line of their own: each replaced by these lines, one comment line each. */
  comments: Record<string, string[]>;
}

/** The model as the values both scripts hold: names, labels, coefficients (output after output) and how it was made. */
export function modelValues(model: Model, columns: string[]): Record<string, Literal> {
  return {
    REGSWEEP_FAMILY: model.family,
    REGSWEEP_FEATURES: model.features,
    REGSWEEP_TARGETS: model.targets,
    REGSWEEP_OUTPUTS: model.outputs,
    REGSWEEP_CLASSES: model.classes,
    REGSWEEP_OFFSET: model.offset,
    REGSWEEP_WEIGHTS: model.config.data.weights ?? null,
    REGSWEEP_COLUMNS: columns,
    REGSWEEP_COEF: model.coefs.flatMap((c) => Array.from(c)),
    REGSWEEP_INTERCEPT: model.intercepts,
    REGSWEEP_STANDARDIZE: model.config.data.standardize,
    REGSWEEP_PARTIAL: model.partial,
    REGSWEEP_ENCODING: model.encoding ? { columns: model.encoding.columns.map((c) => ({ ...c })), naValues: model.encoding.naValues, missing: model.encoding.missing } : null,
  };
}

/** The template file of a script (src/model/templates/), as shipped with the package. */
export function readTemplate(name: 'model.py' | 'model.R'): string {
  return readFileSync(packagePath(`src/model/templates/${name}`), 'utf8');
}

/**
 * A template with its placeholders filled in. Every placeholder must have a value and every value a placeholder: a
 * template and its filler that disagree are a bug, found by the first export.
 */
export function fillTemplate(template: string, emit: Emitter, { values, comments }: TemplateValues): string {
  const used = new Set<string>();
  const lines = template.split('\n').flatMap((line) => {
    const comment = COMMENT_PLACEHOLDER.exec(line);
    if (comment && comment[2] in comments) {
      used.add(comment[2]);
      return comments[comment[2]].map((text) => `${comment[1]}#${text === '' ? '' : ` ${emit.comment(text)}`}`);
    }
    const assignment = ASSIGN_PLACEHOLDER.exec(line);
    if (assignment && assignment[2] in values) {
      used.add(assignment[2]);
      return emit.assign(assignment[1], values[assignment[2]]);
    }
    return [
      line.replace(PLACEHOLDER, (name) => {
        if (!(name in values)) throw new Error(`template placeholder ${name} has no value`);
        used.add(name);
        return emit.literal(values[name]);
      }),
    ];
  });
  const unused = [...Object.keys(values), ...Object.keys(comments)].filter((k) => !used.has(k));
  if (unused.length) throw new Error(`template has no placeholder for ${unused.join(', ')}`);
  return lines.join('\n');
}
