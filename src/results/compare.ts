// `regsweep compare`: two sweeps side by side — the best of each penalty in each, and the validation curves to overlay.
import type { CvPoint, Selection, Sweep } from '../domain.js';
import { UserError } from '../errors.js';
import { METRICS, bestPerPenalty, selectLambdas, summarize } from '../select/cv.js';
import type { SweepSelector } from '../store/contract.js';
import { openStore } from '../store/open.js';
import { displayPath } from '../util/paths.js';

export interface ComparedSweep {
  /** "A" or "B", in the order given. */
  label: string;
  location: string;
  sweep: Sweep;
  /** The best (penalty, l1 ratio) of each penalty with its λ_min and λ_1se. */
  best: Selection[];
  /** The cross-validated curve of each best (penalty, l1 ratio). */
  curves: CvPoint[];
}

interface ComparisonRow {
  penalty: string;
  a: Selection | null;
  b: Selection | null;
  /** Which is better at its λ_min, or "within 1 se" when the difference is smaller than either's standard error. */
  verdict: string;
}

export interface Comparison {
  metric: string;
  sweeps: [ComparedSweep, ComparedSweep];
  sameData: boolean;
  /** Why the two sweeps' figures are not on one scale (no verdict is given then), or null. */
  incomparable: string | null;
  rows: ComparisonRow[];
  notes: string[];
}

export interface CompareOptions {
  /** Up to two selectors: one per database, or both for one database. */
  sweeps?: SweepSelector[];
  metric?: string;
}

async function readSweep(location: string, selector: SweepSelector | undefined, label: string, metricName: string, latestBut = 0): Promise<ComparedSweep> {
  const store = await openStore(location, { mode: 'read' });
  try {
    let sweep: Sweep;
    if (selector) sweep = await store.findSweep(selector);
    else {
      const all = await store.listSweeps();
      if (all.length <= latestBut)
        throw new UserError(`${displayPath(location)} holds ${all.length} sweep${all.length === 1 ? '' : 's'}; compare needs two: give a second database, or two sweeps with --sweep NAME --sweep NAME`);
      sweep = all[all.length - 1 - latestBut];
    }
    const metric = METRICS[metricName];
    const points = summarize(await store.trials(sweep.id), metric);
    const best = bestPerPenalty(selectLambdas(points, metric), metric).sort((x, y) => x.penalty.localeCompare(y.penalty));
    const curves = points.filter((p) => best.some((s) => s.penalty === p.penalty && s.l1Ratio === p.l1Ratio));
    return { label, location: displayPath(location), sweep, best, curves };
  } finally {
    await store.close();
  }
}

export async function compareSweeps(first: string, second: string | undefined, options: CompareOptions = {}): Promise<Comparison> {
  const metricName = options.metric ?? 'val_loss';
  const metric = METRICS[metricName];
  if (!metric) throw new UserError(`--metric: unknown metric "${metricName}" (metrics: ${Object.keys(METRICS).join(', ')})`);
  const selectors = options.sweeps ?? [];
  if (selectors.length > 2) throw new UserError('compare: at most two sweeps (--sweep or --sweep-id, once per sweep)');
  let a: ComparedSweep;
  let b: ComparedSweep;
  if (second === undefined) {
    if (selectors.length === 1) throw new UserError('compare with one database: name both sweeps (--sweep A --sweep B), or none for its two latest');
    // One database: the two sweeps named, or its two latest (older first).
    a = await readSweep(first, selectors[0], 'A', metricName, 1);
    b = await readSweep(first, selectors[1], 'B', metricName, 0);
  } else {
    a = await readSweep(first, selectors[0], 'A', metricName);
    b = await readSweep(second, selectors.length === 2 ? selectors[1] : selectors[0], 'B', metricName);
  }
  if (a.location === b.location && a.sweep.id === b.sweep.id) throw new UserError(`compare: both sides are sweep "${a.sweep.name}" (id ${a.sweep.id}); name two different sweeps`);
  const notes: string[] = [];
  const sameData = a.sweep.dataHash === b.sweep.dataHash;
  const incomparable = whyIncomparable(a.sweep, b.sweep, metricName);
  if (incomparable) notes.push(`no verdict: ${incomparable}`);
  for (const s of [a, b]) if (s.best.length === 0) notes.push(`${s.label} (${s.sweep.name}) has no validation ${metricName} to compare`);
  const penalties = [...new Set([...a.best, ...b.best].map((s) => s.penalty))].sort();
  const rows = penalties.map((penalty) => {
    const sa = a.best.find((s) => s.penalty === penalty) ?? null;
    const sb = b.best.find((s) => s.penalty === penalty) ?? null;
    let verdict = '';
    if (sa && sb && !incomparable) {
      const diff = sb.meanMin - sa.meanMin;
      if (Math.abs(diff) <= Math.max(sa.seMin, sb.seMin)) verdict = 'within 1 se';
      else verdict = (diff < 0) === metric.lowerIsBetter ? 'B' : 'A';
    }
    return { penalty, a: sa, b: sb, verdict };
  });
  return { metric: metricName, sweeps: [a, b], sameData, incomparable, rows, notes };
}

/** What each model kind's validation loss is. */
const LOSS_OF: Record<string, string> = { linear: 'mean squared error', logistic: 'log-loss', multinomial: 'log-loss', poisson: 'Poisson deviance', mlp: 'mean squared error' };

/**
 * Why two sweeps' figures cannot be ranked, or null: a loss on other rows or of other targets, or another loss
 * altogether (an MSE against a log-loss), says nothing about which model is better.
 */
function whyIncomparable(a: Sweep, b: Sweep, metric: string): string | null {
  // A sweep that is not finished has figures from part of its folds: they may still change either way.
  for (const [label, s] of [['A', a], ['B', b]] as const)
    if (s.status !== 'done') return `${label} (sweep "${s.name}") is ${s.status}: its figures come from the trials recorded so far`;
  const family = (s: Sweep) => (s.modelKind === 'logistic' || s.modelKind === 'multinomial' ? `${(s.classes?.length ?? 2) > 2 ? 'multinomial' : 'binomial'} classification` : s.modelKind);
  if (family(a) !== family(b)) {
    const what = (s: Sweep) => `${s.modelKind}${metric === 'val_loss' ? ` (${LOSS_OF[s.modelKind] ?? s.modelKind})` : ''}`;
    return `A fits ${what(a)} and B ${what(b)}: their ${metric} are not on one scale`;
  }
  if (a.dataHash !== b.dataHash) return `the sweeps were run on different data (sha256 ${a.dataHash.slice(0, 12)}… and ${b.dataHash.slice(0, 12)}…): their losses are not on the same rows`;
  if (JSON.stringify(a.targetNames) !== JSON.stringify(b.targetNames)) return `the sweeps predict different targets (${a.targetNames.join(', ')} and ${b.targetNames.join(', ')})`;
  if (JSON.stringify([...(a.classes ?? [])].sort()) !== JSON.stringify([...(b.classes ?? [])].sort())) return `the sweeps have different classes (${(a.classes ?? []).join(', ')} and ${(b.classes ?? []).join(', ')})`;
  return null;
}
