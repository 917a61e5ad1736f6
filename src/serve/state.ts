// What the live page of a sweep shows, computed on the server from the store: progress, the tasks running now and
// the ones that failed, and the report's charts with their data aggregated per (penalty, l1 ratio, λ) — so that a
// sweep of 100 000 trials sends a few hundred rows per chart, not its trials.
import type { TopLevelSpec } from 'vega-lite';
import type { Sweep, Trial } from '../domain.js';
import { groupLabel, readReportData, type ReportData } from '../report/data.js';
import { buildCharts } from '../report/specs.js';
import type { Store, TaskState } from '../store/contract.js';

/** A chart as the page draws it: the spec with its data named "rows" (replaced by changesets), and the rows. */
export interface LiveChart {
  id: string;
  title: string;
  caption: string;
  guide: string;
  /** The spec without its rows; the page redraws a chart only when this changes. */
  spec: Record<string, unknown>;
  rows: unknown[];
}

export interface LiveState {
  sweep: { id: number; name: string; status: string; modelKind: string; n: number; p: number };
  /** The store's trial sequence at the time of this state: the SSE event id. */
  lastTrialId: number;
  progress: { done: number; total: number; etaSeconds: number | null; trialsPerSecond: number | null };
  running: TaskState[];
  /** Tasks that failed (with their error), and tasks with a diverged trial (with its error). */
  failed: { taskId: string; penalty: string; l1Ratio: number; fold: string; status: string; error: string }[];
  notes: string[];
  charts: LiveChart[];
}

/** Trials recorded over time, for the rate and the time left: the last minute of observations. */
export class ProgressClock {
  private samples: { at: number; done: number }[] = [];

  /** Trials per second over the last minute (null until it can be told). */
  observe(done: number, at = Date.now()): number | null {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[0].at > 60_000) this.samples.shift();
    const first = this.samples[0];
    const seconds = (at - first.at) / 1000;
    return seconds > 0.5 && done > first.done ? (done - first.done) / seconds : null;
  }
}

/** At most this many λ per line on the live page (a curve of 1 000 λ reads the same with 100, at a tenth of the data). */
const MAX_LAMBDAS_SHOWN = 100;

/**
 * The report data with each (penalty, l1 ratio, settings) group's λ thinned to MAX_LAMBDAS_SHOWN, evenly along the
 * grid, keeping the selected λ_min and λ_1se: what the page draws, not what the selections are computed from.
 */
function thinForDisplay(data: ReportData): ReportData {
  const lambdasOf = new Map<string, number[]>();
  for (const s of data.summary) {
    const key = groupLabel(s.penalty, s.l1Ratio, s.settings);
    if (!lambdasOf.has(key)) lambdasOf.set(key, []);
    lambdasOf.get(key)!.push(s.lambda);
  }
  if ([...lambdasOf.values()].every((l) => l.length <= MAX_LAMBDAS_SHOWN)) return data;
  const kept = new Map<string, Set<number>>();
  for (const [key, lambdas] of lambdasOf) {
    const sorted = [...new Set(lambdas)].sort((a, b) => a - b);
    const keep = new Set(sorted.length <= MAX_LAMBDAS_SHOWN ? sorted : Array.from({ length: MAX_LAMBDAS_SHOWN }, (_, k) => sorted[Math.round((k * (sorted.length - 1)) / (MAX_LAMBDAS_SHOWN - 1))]));
    kept.set(key, keep);
  }
  for (const s of data.selections) {
    const keep = kept.get(groupLabel(s.penalty, s.l1Ratio, s.settings));
    keep?.add(s.lambdaMin);
    keep?.add(s.lambda1se);
  }
  const shown = (penalty: string, l1Ratio: number, settings: string, lambda: number) => kept.get(groupLabel(penalty, l1Ratio, settings))?.has(lambda) ?? true;
  return {
    ...data,
    summary: data.summary.filter((s) => shown(s.penalty, s.l1Ratio, s.settings, s.lambda)),
    trials: data.trials.filter((t) => shown(t.penalty, t.l1Ratio, t.settings, t.lambda)),
    coefficients: data.coefficients.filter((c) => shown(c.penalty, c.l1Ratio, c.settings, c.lambda)),
  };
}

/** A live chart's spec with its rows inline: what the server draws to SVG for the page's first paint. */
export function specWithRows(chart: LiveChart): TopLevelSpec {
  const data = chart.spec.data as { name?: string } | undefined;
  return (data?.name === 'rows' ? { ...chart.spec, data: { values: chart.rows } } : chart.spec) as unknown as TopLevelSpec;
}

const trialKey = (t: Trial) => `${t.penalty}\u0000${t.l1Ratio}\u0000${t.settings}\u0000${t.lambda}\u0000${t.fold}`;
const byStoreOrder = (a: Trial, b: Trial) =>
  (a.penalty < b.penalty ? -1 : a.penalty > b.penalty ? 1 : 0) || a.l1Ratio - b.l1Ratio || (a.settings < b.settings ? -1 : a.settings > b.settings ? 1 : 0) || b.lambda - a.lambda || (a.fold < b.fold ? -1 : a.fold > b.fold ? 1 : 0);

/**
 * A sweep's trials kept between states: each state reads only the trials recorded since the last one (the store's
 * newTrials; a task run again replaces its trials under the same keys). When the store holds a different number than
 * kept (trials deleted and not replaced), everything is read again.
 */
export class TrialCache {
  /** Made on the first increment: a sweep that no longer changes is never keyed. */
  private byKey: Map<string, Trial> | undefined;
  private ordered: Trial[] = [];
  /** Where the store had got when last read. */
  private cursor: string | undefined;
  /** The largest trial id read: the state's event id. */
  lastId = 0;

  async refresh(store: Store, sweepId: number): Promise<Trial[]> {
    if (this.cursor === undefined) return this.readAll(store, sweepId);
    const { trials: newer, cursor } = await store.newTrials(sweepId, this.cursor);
    this.cursor = cursor;
    if (newer.length > 0) {
      this.byKey ??= new Map(this.ordered.map((t) => [trialKey(t), t]));
      for (const t of newer) {
        this.byKey.set(trialKey(t), t);
        if (t.id > this.lastId) this.lastId = t.id;
      }
    }
    const kept = this.byKey?.size ?? this.ordered.length;
    if ((await store.trialCount(sweepId)) !== kept) return this.readAll(store, sweepId);
    if (newer.length === 0) return this.ordered;
    // In the store's order (penalty, l1 ratio, settings, λ descending, fold), as a full read gives them.
    return (this.ordered = [...this.byKey!.values()].sort(byStoreOrder));
  }

  private async readAll(store: Store, sweepId: number): Promise<Trial[]> {
    ({ trials: this.ordered, cursor: this.cursor } = await store.newTrials(sweepId, undefined));
    this.byKey = undefined;
    this.lastId = this.ordered.reduce((m, t) => Math.max(m, t.id), 0);
    return this.ordered;
  }
}

/** The state of one sweep now. */
export async function liveState(store: Store, sweep: Sweep, clock: ProgressClock, cache = new TrialCache()): Promise<LiveState> {
  const trials = await cache.refresh(store, sweep.id);
  const lastTrialId = cache.lastId;
  const data = await readReportData(store, sweep, null, trials);
  const tasks = await store.runningAndFailedTasks(sweep.id);
  const done = data.trials.length;
  const total = Math.max(sweep.totalTrials, done);
  // Until the page has watched for a while, the rate since the sweep was made (a resumed sweep's is an underestimate).
  const sinceCreated = (Date.now() - Date.parse(sweep.createdAt)) / 1000;
  const trialsPerSecond = clock.observe(done) ?? (sweep.status === 'running' && done > 0 && sinceCreated > 1 ? done / sinceCreated : null);
  const running = sweep.status === 'running' ? tasks.filter((t) => t.status === 'running') : [];
  const failed: LiveState['failed'] = tasks.filter((t) => t.status === 'failed').map((t) => ({ taskId: t.taskId, penalty: t.penalty, l1Ratio: t.l1Ratio, fold: t.fold, status: 'failed', error: t.error ?? '' }));
  const seen = new Set(failed.map((f) => f.taskId));
  for (const t of data.trials) {
    if ((t.status === 'diverged' || t.status === 'failed') && !seen.has(t.taskId)) {
      seen.add(t.taskId);
      failed.push({ taskId: t.taskId, penalty: t.penalty, l1Ratio: t.l1Ratio, fold: t.fold, status: t.status, error: t.error ?? '' });
    }
  }
  const charts = buildCharts(thinForDisplay(data)).map((c) => {
    const { data: inline, ...rest } = c.spec as unknown as Record<string, unknown> & { data?: { values?: unknown[] } };
    // A faceted chart lays its panels out from the data it is drawn with: it is drawn again with its rows inline.
    const changeable = inline?.values && !('facet' in rest) && !('repeat' in rest);
    const text = { id: c.id, title: c.title, caption: c.caption, guide: c.guide ?? '' };
    // Laid out again on every update (vega lays out once by default: rows that come later would be clipped).
    return changeable ? { ...text, spec: { ...rest, data: { name: 'rows' }, autosize: { type: 'pad', resize: true } }, rows: inline.values! } : { ...text, spec: c.spec as unknown as Record<string, unknown>, rows: [] };
  });
  return {
    sweep: { id: sweep.id, name: sweep.name, status: sweep.status, modelKind: sweep.modelKind, n: sweep.n, p: sweep.p },
    lastTrialId,
    progress: { done, total, trialsPerSecond, etaSeconds: trialsPerSecond && sweep.status === 'running' ? (total - done) / trialsPerSecond : null },
    running,
    failed,
    notes: data.notes,
    charts,
  };
}
