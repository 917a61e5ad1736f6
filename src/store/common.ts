// What every store shares: picking a sweep by selector, and figures as a database can hold them.
import type { BaselineHazard, Penalty, Sweep, TrialFigures, TrialPredictions, TrialTally } from '../domain.js';
import { UserError } from '../errors.js';
import { parseSweepName, type ProcessState, type SweepSelector, type TaskState } from './contract.js';
import type { CoefficientRows } from '../domain.js';
import { rowBytes, unpackRow } from '../util/coefficientRows.js';

/** The sweep a selector means, or one line saying which sweeps there are. */
export function pickSweep(location: string, sweeps: Sweep[], selector: SweepSelector): Sweep {
  const available = () => {
    const counts = new Map<string, number>();
    for (const s of sweeps) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    const seen = new Map<string, number>();
    return sweeps.map((s) => {
      const k = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, k);
      return counts.get(s.name)! > 1 ? `${s.name}@${k} (id ${s.id})` : `${s.name} (id ${s.id})`;
    }).join(', ') || 'none';
  };
  if (selector.id !== undefined) {
    const hit = sweeps.find((s) => s.id === selector.id);
    if (!hit) throw new UserError(`${location}: no sweep with id ${selector.id} (sweeps: ${available()})`);
    return hit;
  }
  if (selector.name !== undefined) {
    const { name, ordinal } = parseSweepName(selector.name);
    const named = sweeps.filter((s) => s.name === name);
    const hit = ordinal !== undefined ? named[ordinal - 1] : named.at(-1);
    if (!hit) throw new UserError(`${location}: no sweep ${ordinal !== undefined ? `"${name}" number ${ordinal}` : `named "${name}"`} (sweeps: ${available()})`);
    return hit;
  }
  const latest = sweeps.at(-1);
  if (!latest) throw new UserError(`${location}: the database holds no sweep yet`);
  return latest;
}


/**
 * A trial's figures as stored: a loss that is not finite (a diverged fit) is stored as missing; a norm that is not
 * finite stays NaN (read back as NaN from a store that cannot hold it).
 */
export function storableFigures(t: TrialFigures): TrialFigures {
  const finite = (x: number | null) => x === null || Number.isFinite(x);
  if (finite(t.trainLoss) && finite(t.valLoss)) return t;
  return { ...t, trainLoss: finite(t.trainLoss) ? t.trainLoss : null, valLoss: finite(t.valLoss) ? t.valLoss : null };
}

/** Metrics with their keys in one order, whichever store kept them (PostgreSQL's jsonb reorders keys). */
function sortedMetrics(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(metrics).sort().map((k) => [k, metrics[k]]));
}

/** A trial's metrics as stored (JSON text), keys in order. */
export function metricsFromText(text: string): Record<string, number> {
  return text === '{}' ? {} : sortedMetrics(JSON.parse(text) as Record<string, number>);
}

/** A tasks row (SQLite or PostgreSQL) as the live page shows it. */
export function taskStateFromRow(r: Record<string, unknown>): TaskState {
  return {
    taskId: String(r.task_id),
    penalty: String(r.penalty),
    l1Ratio: Number(r.l1_ratio),
    settings: String(r.settings ?? ''),
    fold: String(r.fold),
    status: r.status as TaskState['status'],
    owner: (r.owner as string | null) ?? null,
    attempt: Number(r.attempt),
    error: (r.error as string | null) ?? null,
  };
}

/** A trialTally row (SQLite or PostgreSQL: counts may come as text). */
export function tallyFromRow(r: Record<string, unknown>): TrialTally {
  const n = (v: unknown) => Number(v ?? 0);
  return {
    total: n(r.total),
    diverged: n(r.diverged),
    failed: n(r.failed),
    pruned: n(r.pruned),
    firstError: (r.first_error as string | null) ?? null,
    firstDivergedEpoch: r.first_epoch === null || r.first_epoch === undefined ? null : Number(r.first_epoch),
  };
}

/** A processes row (SQLite or PostgreSQL) with the seconds since its last report. */
export function processFromRow(r: Record<string, unknown>, silentFor: number): ProcessState {
  const time = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  return {
    sweepId: Number(r.sweep_id),
    owner: String(r.owner),
    host: String(r.host),
    pid: Number(r.pid),
    command: r.command as ProcessState['command'],
    threads: Number(r.threads),
    leaseMs: Number(r.lease_ms),
    state: r.state as ProcessState['state'],
    startedAt: time(r.started_at),
    heartbeatAt: time(r.heartbeat_at),
    silentFor,
    tasksDone: Number(r.tasks_done),
    tasksFailed: Number(r.tasks_failed),
    retries: Number(r.retries),
    fenced: Number(r.fenced),
    leasesLost: Number(r.leases_lost),
    takenOver: Number(r.taken_over),
  };
}

/** A typed array (or `length` values of it from `offset`) as the bytes a BLOB / bytea column holds. */
export function bytesOf(values: Float64Array | Int32Array, offset = 0, length = values.length - offset): Buffer {
  return Buffer.from(values.buffer, values.byteOffset + offset * values.BYTES_PER_ELEMENT, length * values.BYTES_PER_ELEMENT);
}

/** The bytes of a BLOB / bytea column back as a typed array, copied out of the driver's buffer pool (for alignment). */
function arrayOf<T extends Float64Array | Int32Array>(bytes: Buffer, make: (buffer: ArrayBuffer) => T): T {
  return make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

/** A BLOB / bytea of doubles (coefficients, predictions) as a Float64Array. */
const float64Of = (bytes: Buffer) => arrayOf(bytes, (b) => new Float64Array(b));

/** Row l of a task's packed coefficients as the bytes a BLOB / bytea column holds (a view, not a copy). */
export function coefficientBytes(rows: CoefficientRows, l: number): Buffer {
  const bytes = rowBytes(rows, l);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A stored coefficient vector (either form, src/util/coefficientRows.ts) as a Float64Array. */
export const coefficientsOf = (bytes: Buffer): Float64Array => unpackRow(bytes);

/** A row of trials joined with predictions (columns id, task_id, penalty, lambda, l1_ratio, settings, fold, link, rows, observed). */
export function predictionsFromRow(r: Record<string, unknown>): TrialPredictions {
  const head = { trialId: Number(r.id), taskId: r.task_id as string, penalty: r.penalty as Penalty, lambda: r.lambda as number, l1Ratio: r.l1_ratio as number, settings: r.settings as string, fold: r.fold as string };
  return predictionsOf(head, r.link as Buffer, r.rows as Buffer | null, r.observed as Buffer | null);
}

/** A trial's held-out predictions from their stored bytes (copied out: for alignment, and to let the rows read go). */
export function predictionsOf(head: Omit<TrialPredictions, 'link' | 'rows' | 'observed'>, link: Buffer, rows: Buffer | null, observed: Buffer | null): TrialPredictions {
  return { ...head, link: float64Of(link), rows: rows ? arrayOf(rows, (b) => new Int32Array(b)) : null, observed: observed ? float64Of(observed) : null };
}

/** A baseline hazard as stored with its coefficients: the times, then the cumulative hazards (float64, little-endian). */
export function baselineBytes(baseline: { times: Float64Array; hazard: Float64Array }, l: number): Buffer {
  const T = baseline.times.length;
  const values = new Float64Array(2 * T);
  values.set(baseline.times);
  values.set(baseline.hazard.subarray(l * T, (l + 1) * T), T);
  return Buffer.from(values.buffer);
}

export function baselineOf(bytes: Buffer | null): BaselineHazard | undefined {
  if (!bytes) return undefined;
  const values = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const T = values.length / 2;
  return { times: values.slice(0, T), hazard: values.slice(T) };
}
