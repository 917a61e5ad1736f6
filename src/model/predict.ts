// `regsweep predict`: the chosen model applied to new rows, read and written a chunk at a time so that a file larger
// than memory works. Features are found by name; the coefficients are on the original scale, so the rows are used as
// they are (the standardization of the fit is folded into the coefficients and the intercept).
import { headerIndex } from '../data/columns.js';
import { parseCell } from '../data/cells.js';
import { streamCsv } from '../data/csvRows.js';
import { columnarFormat, streamColumnarRecords } from '../data/columnar.js';
import { UserError } from '../errors.js';
import { csvCell } from '../results/export.js';
import { displayPath } from '../util/paths.js';
import { openAtomicFile, refuseProtectedOutput, storeFiles, type ProtectedFile } from '../util/files.js';
import { loadModel, type Model, type ModelOptions } from './load.js';
import { rowEncoder, type UnknownLevel } from './encodeRow.js';
import { readSparseDesign, sparseFormat, type SparseFormat } from '../data/sparse.js';

export interface PredictOptions extends ModelOptions {
  /** The CSV of rows to predict (a header with the model's feature names; other columns are ignored). */
  data: string;
  /** File to write; without it, every chunk goes to `output`. */
  out?: string;
  /** Where the CSV text goes when there is no `out` (standard output in the CLI); may return a promise to slow the reader. */
  output?: (text: string) => void | Promise<void>;
  /** Columns of the input copied to the output first (an id). */
  keep?: string[];
  /** Rows per chunk. */
  chunkRows?: number;
  /** Said once each: columns ignored, the choice of λ. */
  onNote?: (note: string) => void;
  /** A category's level not seen in training: refused (error, the default) or encoded as all zeros. */
  unknownLevel?: UnknownLevel;
  /** A Cox model: the times at which each row's survival probability is written. */
  times?: number[];
}

export interface PredictResult {
  model: Model;
  rows: number;
  columns: string[];
}

/**
 * The output columns of a model: one prediction per target (the expected count for poisson), the probability and
 * label of a binomial model, a probability per class and the label of a multinomial one, or a Cox model's linear
 * predictor, relative risk e^η and survival probability at each of `times`.
 */
export function predictionColumns(model: Pick<Model, 'family' | 'outputs'>, times: number[] = []): string[] {
  if (model.family === 'cox') return ['linear_predictor', 'relative_risk', ...times.map((t) => `survival:${t}`)];
  if (model.family === 'binomial') return ['probability', 'label'];
  if (model.family === 'multinomial') return [...model.outputs.map((c) => `probability:${c}`), 'label'];
  return model.outputs.length === 1 ? ['prediction'] : model.outputs.map((t) => `prediction:${t}`);
}

/** The prediction cells of one row from its linear predictors η (one per output, offset included). */
function predictionCells(model: Pick<Model, 'family' | 'classes'>, eta: Float64Array, hazards: Float64Array): string[] {
  switch (model.family) {
    case 'cox': {
      const risk = Math.exp(eta[0]);
      return [String(eta[0]), String(risk), ...Array.from(hazards, (h) => String(Math.exp(-h * risk)))];
    }
    case 'binomial':
      return [String(1 / (1 + Math.exp(-eta[0]))), csvCell(eta[0] > 0 ? model.classes![1] : model.classes![0])];
    case 'multinomial': {
      let top = 0;
      for (let k = 1; k < eta.length; k++) if (eta[k] > eta[top]) top = k;
      let sum = 0;
      for (let k = 0; k < eta.length; k++) sum += Math.exp(eta[k] - eta[top]);
      return [...Array.from(eta, (e) => String(Math.exp(e - eta[top]) / sum)), csvCell(model.classes![top])];
    }
    case 'poisson':
      return [String(Math.exp(eta[0]))];
    default:
      return Array.from(eta, String);
  }
}

export async function predict(location: string, options: PredictOptions): Promise<PredictResult> {
  const dataName = displayPath(options.data);
  const protectedFiles: ProtectedFile[] = [{ path: options.data, what: 'the data file' }, ...storeFiles(location)];
  if (options.out !== undefined) refuseProtectedOutput(options.out, protectedFiles, '--out');
  const model = await loadModel(location, options);
  const note = options.onNote ?? (() => undefined);
  for (const n of model.notes) note(n);
  const p = model.features.length;
  const outputs = model.outputs.length;
  const chunkRows = options.chunkRows ?? 4096;
  const keep = options.keep ?? [];
  const hazards = baselineAt(model, options.times);
  const columns = [...keep, ...predictionColumns(model, options.times)];
  // A model fitted on a frame reads the frame's columns and encodes them; otherwise its features are columns.
  const encode = model.encoding ? rowEncoder(model.encoding, options.unknownLevel ?? 'error') : undefined;
  const inputs = model.encoding ? model.encoding.columns.map((c) => c.name) : model.features;

  let featureAt: number[] = [];
  let keepAt: number[] = [];
  let offsetAt = -1;
  const offsets = new Float64Array(chunkRows);
  let header: string[] = [];
  const X = new Float64Array(chunkRows * p);
  const kept: string[][] = [];
  let filled = 0;
  const eta = new Float64Array(outputs);

  const file = options.out !== undefined ? openAtomicFile(options.out) : undefined;
  const emit = (text: string) => (file ? file.write(text) : options.output?.(text));
  /** The chunk's predictions as CSV text (row by row: η = b0 + Σ x_j b_j, the sum in feature order). */
  const flush = () => {
    let text = '';
    for (let r = 0; r < filled; r++) {
      const row = X.subarray(r * p, (r + 1) * p);
      for (let k = 0; k < outputs; k++) {
        const b = model.coefs[k];
        let s = model.intercepts[k] + offsets[r];
        for (let j = 0; j < p; j++) s += row[j] * b[j];
        eta[k] = s;
      }
      text += [...kept[r], ...predictionCells(model, eta, hazards)].join(',') + '\n';
    }
    filled = 0;
    kept.length = 0;
    return emit(text);
  };

  const sparseFile = sparseFormat(options.data);
  if (sparseFile) {
    try {
      const rows = predictSparse(model, options, sparseFile, dataName, emit, columns, hazards);
      file?.commit();
      return { model, rows, columns };
    } catch (e) {
      file?.abort();
      throw e;
    }
  }

  try {
    emit(columns.map(csvCell).join(',') + '\n');
    const stream = columnarFormat(options.data) ? streamColumnarRecords : streamCsv;
    const rows = await stream(options.data, dataName, {
      header(names, where) {
        header = names;
        const index = headerIndex(names, where);
        const missing = inputs.filter((f) => !index.has(f));
        if (missing.length)
          throw new UserError(`${where}: the model's feature${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not a column (the model needs ${inputs.join(', ')})`);
        if (model.offset !== null) {
          if (!index.has(model.offset)) throw new UserError(`${where}: the model's offset column "${model.offset}" (data.offset) is not a column; it is added to every prediction's log`);
          offsetAt = index.get(model.offset)!;
        }
        const absentKeep = keep.filter((k) => !index.has(k));
        if (absentKeep.length) throw new UserError(`--keep ${absentKeep.join(', ')}: not a column of ${dataName} (columns: ${names.join(', ')})`);
        featureAt = inputs.map((f) => index.get(f)!);
        keepAt = keep.map((k) => index.get(k)!);
        const used = new Set([...featureAt, ...keepAt, offsetAt]);
        const targets = names.filter((n, j) => !used.has(j) && model.targets.includes(n));
        const others = names.filter((n, j) => !used.has(j) && !model.targets.includes(n));
        if (targets.length) note(`${dataName}: column ${targets.map((t) => `"${t}"`).join(', ')} is the model's target; predictions do not read it`);
        if (others.length) note(`${dataName}: ignored ${others.length} column${others.length > 1 ? 's' : ''} that the model does not use: ${others.join(', ')}`);
      },
      record(fields, line) {
        const row = X.subarray(filled * p, (filled + 1) * p);
        if (encode) encode(featureAt.map((j) => fields[j]), dataName, line, featureAt, row);
        else
          for (let f = 0; f < p; f++) {
            const j = featureAt[f];
            row[f] = parseCell(fields[j], dataName, () => line, j, header[j]);
          }
        offsets[filled] = offsetAt >= 0 ? parseCell(fields[offsetAt], dataName, () => line, offsetAt, header[offsetAt]) : 0;
        kept.push(keepAt.map((j) => csvCell(fields[j])));
        if (++filled === chunkRows) return flush() ?? undefined;
      },
    });
    if (filled > 0) await flush();
    file?.commit();
    return { model, rows, columns };
  } catch (e) {
    file?.abort();
    throw e;
  }
}

/**
 * Predictions for a sparse file (svmlight, Matrix Market): its columns are the model's features by position (a file
 * may have fewer columns than the model, never more); an svmlight file's labels are not read.
 */
function predictSparse(model: Model, options: PredictOptions, format: SparseFormat, dataName: string, emit: (text: string) => unknown, columns: string[], hazards: Float64Array): number {
  if ((options.keep ?? []).length) throw new UserError(`--keep: a sparse file (${dataName}) has no named columns to keep`);
  if (model.offset !== null) throw new UserError(`${dataName}: the model adds the offset column "${model.offset}", which a sparse file does not have`);
  if (model.encoding) throw new UserError(`${dataName}: the model reads a data frame's columns (${model.encoding.columns.map((c) => c.name).join(', ')}); give it a CSV, Parquet or Arrow file`);
  const { sparse, n, p } = readSparseDesign(options.data, format, dataName);
  const features = model.features.length;
  if (p > features) throw new UserError(`${dataName}: column ${p} has a value, but the model has ${features} features`);
  const outputs = model.outputs.length;
  const eta = new Float64Array(n * outputs);
  for (let k = 0; k < outputs; k++) {
    const b = model.coefs[k];
    eta.fill(model.intercepts[k], k * n, (k + 1) * n);
    for (let j = 0; j < p; j++) if (b[j] !== 0) for (let e = sparse.starts[j]; e < sparse.starts[j + 1]; e++) eta[k * n + sparse.rows[e]] += sparse.values[e] * b[j];
  }
  let text = columns.map(csvCell).join(',') + '\n';
  const row = new Float64Array(outputs);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < outputs; k++) row[k] = eta[k * n + i];
    text += predictionCells(model, row, hazards).join(',') + '\n';
    if (text.length > 1 << 20) {
      emit(text);
      text = '';
    }
  }
  emit(text);
  return n;
}

/**
 * The baseline cumulative hazard H0(t) at each time asked for (a Cox model's survival there is exp(−H0(t)·e^η)): the
 * Breslow estimate's step at the last death time not after t, 0 before the first; empty without times.
 */
function baselineAt(model: Model, times: number[] | undefined): Float64Array {
  if (!times?.length) return new Float64Array(0);
  if (model.family !== 'cox') throw new UserError(`--times: survival probabilities come from a cox model; sweep "${model.sweep.name}" fits ${model.family}`);
  const baseline = model.baseline;
  if (!baseline)
    throw new UserError(`--times: sweep "${model.sweep.name}" has no fit on all rows (its model is a holdout's training fit), so no baseline hazard was kept; its linear predictor and relative risk are written without --times`);
  for (const t of times) if (!(t >= 0) || !Number.isFinite(t)) throw new UserError(`--times: ${t} is not a time ≥ 0`);
  return Float64Array.from(times, (t) => {
    let lo = 0;
    let hi = baseline.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (baseline.times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : baseline.hazard[lo - 1];
  });
}
