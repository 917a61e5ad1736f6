import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { displayPath } from '../config/load.js';
import { withResults } from '../results.js';
import { readReportData } from './data.js';
import { reportHtml } from './html.js';
import { renderSvg, svgToPng } from './render.js';
import { buildCharts } from './specs.js';

export interface ReportOptions {
  sweep?: string;
  /** Folder to write into; default: "<db name>-report" beside the database. */
  outDir?: string;
  png?: boolean;
}

export interface ReportResult {
  htmlPath: string;
  files: string[];
  charts: string[];
  warnings: string[];
}

/** Writes report.html plus <chart>.vl.json / .svg / .png for every chart, from the database alone. */
export async function writeReport(dbPath: string, options: ReportOptions = {}): Promise<ReportResult> {
  const data = withResults(dbPath, options.sweep, ({ store, sweep }) => readReportData(store, sweep));
  const charts = buildCharts(data);
  const outDir = resolve(options.outDir ?? join(dirname(dbPath), `${basename(dbPath, extname(dbPath))}-report`));
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, content: string | Buffer) => {
    const path = join(outDir, name);
    writeFileSync(path, content);
    files.push(path);
  };
  for (const chart of charts) {
    write(`${chart.id}.vl.json`, JSON.stringify(chart.spec, null, 1));
    const svg = await renderSvg(chart.spec);
    write(`${chart.id}.svg`, svg);
    if (options.png !== false) write(`${chart.id}.png`, svgToPng(svg));
  }
  write('report.html', reportHtml(data, charts));
  return { htmlPath: displayPath(join(outDir, 'report.html')), files, charts: charts.map((c) => c.id), warnings: data.warnings };
}
