import { basename, dirname, extname, join, resolve } from 'node:path';
import { displayPath, isStoreUrl } from '../util/paths.js';
import type { SweepSelector } from '../store/contract.js';
import type { ModelRequest } from '../select/model.js';
import { withResults } from '../results/open.js';
import { refuseProtectedOutput, storeFiles, writeFolderAtomic } from '../util/files.js';
import { readReportData } from './data.js';
import { reportHtml } from './html.js';
import { writeChartFiles } from './render.js';
import { buildCharts, type LossScale } from './specs.js';
import type { CoefScale, PathAxis } from './paths.js';

export interface ReportOptions {
  sweep?: SweepSelector;
  /** Folder to write into; default: "<db name>-report" beside the database (or in the working folder for a URL). */
  outDir?: string;
  png?: boolean;
  /** The model the summary names (--penalty, --l1-ratio, --select). */
  model?: ModelRequest;
  /** The loss axis: log, linear, or auto (log when the curve spans more than two decades). */
  y?: LossScale;
  /** The coefficient paths: on the standardized (default) or the original scale, against log λ (default), L1 norm or deviance explained. */
  coefScale?: CoefScale;
  pathX?: PathAxis;
}

export interface ReportResult {
  htmlPath: string;
  files: string[];
  charts: string[];
  notes: string[];
}

/** The folder a report goes to when none is given. */
function defaultReportDir(location: string): string {
  if (isStoreUrl(location)) return resolve('regsweep-report');
  return join(dirname(location), `${basename(location, extname(location))}-report`);
}

/**
 * Writes report.html plus <chart>.vl.json / .svg / .png for every chart, from the store alone. The folder must not
 * be the database (or its companion files); each file is written beside its place and renamed into it.
 */
export async function writeReport(location: string, options: ReportOptions = {}): Promise<ReportResult> {
  const outDir = resolve(options.outDir ?? defaultReportDir(location));
  refuseProtectedOutput(outDir, storeFiles(location), '--out', options.outDir);
  const data = await withResults(location, options.sweep, ({ store, sweep }) => readReportData(store, sweep, options.model));
  const charts = buildCharts(data, { y: options.y, coefScale: options.coefScale, pathX: options.pathX });
  const files = await writeFolderAtomic(outDir, '--out', options.outDir ?? displayPath(outDir), async (write) => {
    const drawn = await writeChartFiles(charts, write, options.png !== false);
    write('report.html', reportHtml(data, charts, displayPath(location), drawn));
  });
  return { htmlPath: displayPath(join(outDir, 'report.html')), files, charts: charts.map((c) => c.id), notes: data.notes };
}
