// The command line: a thin shell over the library (runSweep, bestTrials, runSql, exportRows, writeReport).
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import cliProgress from 'cli-progress';
import { EXIT, UserError } from './errors.js';
import { displayPath } from './config/load.js';
import { runSweep, type RunResult } from './pool/coordinator.js';
import { bestTrials, exportRows, runSql, toCsv, type ExportTable } from './results.js';
import { fmt } from './select/cv.js';
import type { SelectionRow } from './store/types.js';

export async function main(argv: string[]): Promise<void> {
  let exitCode: number = EXIT.ok;
  try {
    exitCode = await dispatch(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`regsweep: ${e.message}\n`);
      exitCode = EXIT.badInput;
    } else {
      process.stderr.write(`regsweep: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      exitCode = EXIT.internal;
    }
  }
  process.exitCode = exitCode;
}

async function dispatch(argv: string[]): Promise<number> {
  let result: number = EXIT.ok;
  const parser = yargs(argv)
    .scriptName('regsweep')
    .strict()
    .demandCommand(1, 'name a command: run, query, export or report')
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError(msg);
    })
    .command(
      'run <config>',
      'run (or resume) the sweep a config file describes',
      (y) =>
        y
          .positional('config', { type: 'string', demandOption: true, describe: 'sweep file (YAML or JSON)' })
          .option('workers', { type: 'number', describe: 'worker threads (default: config, else the number of cores)' })
          .option('out', { type: 'string', describe: 'database path (default: the config output)' })
          .option('resume', { type: 'boolean', default: false, describe: 'continue the sweep already in the database (the default when the config is unchanged)' })
          .option('new', { type: 'boolean', default: false, describe: 'start a new sweep even if the database holds one of the same name' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' }),
      async (args) => {
        if (args.workers !== undefined && !(Number.isInteger(args.workers) && args.workers > 0)) throw new UserError('--workers: expected a positive integer');
        if (args.resume && args.new) throw new UserError('--resume and --new contradict each other; give one');
        result = await runCommand(args.config, { workers: args.workers, out: args.out, resume: args.resume, fresh: args.new, quiet: args.quiet });
      },
    )
    .command(
      'query <db>',
      'read a results database',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .option('best', { type: 'boolean', default: false, describe: 'best λ (and λ_1se) per penalty and l1_ratio' })
          .option('metric', { type: 'string', default: 'val_loss', describe: 'val_loss, accuracy or auc' })
          .option('sql', { type: 'string', describe: 'a read-only SQL statement' })
          .option('sweep', { type: 'string', describe: 'sweep name (default: the latest)' })
          .option('json', { type: 'boolean', default: false }),
      (args) => {
        if (args.sql !== undefined) {
          print(runSql(args.db, args.sql), args.json);
          return;
        }
        if (!args.best) throw new UserError('query: give --best or --sql "SELECT ..."');
        const best = bestTrials(args.db, { sweep: args.sweep, metric: args.metric });
        if (args.json) {
          process.stdout.write(JSON.stringify({ sweep: best.sweep.name, metric: best.metric, best: best.selections, warnings: best.warnings }, null, 2) + '\n');
        } else {
          process.stdout.write(`sweep ${best.sweep.name} (${best.sweep.status}), metric ${best.metric}\n`);
          process.stdout.write(selectionTable(best.selections));
        }
        for (const w of best.warnings) process.stderr.write(`warning: ${w}\n`);
      },
    )
    .command(
      'export <db>',
      'write a table as CSV or JSON',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .option('table', { choices: ['trials', 'summary', 'selections', 'coefficients'] as const, demandOption: true })
          .option('fold', { type: 'string', describe: '"all" (the fit on all rows) or a fold index' })
          .option('format', { choices: ['csv', 'json'] as const, default: 'csv' as const })
          .option('sweep', { type: 'string', describe: 'sweep name (default: the latest)' })
          .option('out', { type: 'string', describe: 'file to write (default: standard output)' }),
      (args) => {
        const rows = exportRows(args.db, { table: args.table as ExportTable, fold: args.fold, sweep: args.sweep });
        const text = args.format === 'json' ? JSON.stringify(rows, null, 1) + '\n' : toCsv(rows);
        if (args.out) writeFileSync(args.out, text);
        else process.stdout.write(text);
      },
    )
    .command(
      'report <db>',
      'write the charts (Vega-Lite, SVG, PNG) and an offline HTML page',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .option('sweep', { type: 'string', describe: 'sweep name (default: the latest)' })
          .option('out', { type: 'string', describe: 'folder (default: <db name>-report beside the database)' })
          .option('png', { type: 'boolean', default: true, describe: 'also write PNG files' }),
      async (args) => {
        const { writeReport } = await import('./report/write.js');
        const report = await writeReport(args.db, { sweep: args.sweep, outDir: args.out, png: args.png });
        for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(`report: ${report.htmlPath}\n`);
      },
    )
    .help()
    .version(false);
  await parser.parseAsync();
  return result;
}

async function runCommand(config: string, opts: { workers?: number; out?: string; resume: boolean; fresh: boolean; quiet: boolean }): Promise<number> {
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write('\nstopping: finished tasks are saved; run the same command again to resume (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const progress = makeProgress(opts.quiet);
  let result: RunResult;
  try {
    result = await runSweep(config, {
      ...opts,
      signal: abort.signal,
      log: (m) => progress.log(m),
      onStart: ({ sweep, total, alreadyDone, tasks }) => {
        const resumed = alreadyDone > 0 ? `, resuming: ${alreadyDone} already done` : '';
        progress.log(`sweep ${sweep.name}: ${total} trials in ${sweep.totalTasks} tasks (${tasks} to run${resumed})`);
        progress.start(total, alreadyDone);
      },
      onProgress: ({ done }) => progress.update(done),
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  const db = displayPath(result.dbPath);
  if (result.interrupted) {
    process.stderr.write(`interrupted: ${db} holds every finished task; rerun to resume\n`);
    return EXIT.interrupted;
  }
  if (!opts.quiet) {
    process.stdout.write(`results: ${db}${result.tasksSkipped ? ` (${result.tasksSkipped} tasks were already done)` : ''}\n`);
    if (result.selections.length) process.stdout.write(selectionTable(result.selections));
    if (result.tasksFailed) process.stdout.write(`${result.tasksFailed} task(s) failed; their trials are recorded with status failed and rerun on resume\n`);
    process.stdout.write(`next: regsweep query ${db} --best   |   regsweep report ${db}\n`);
  }
  return EXIT.ok;
}

/** A bar on a terminal; plain lines (every 10%) in logs and CI. */
function makeProgress(quiet: boolean) {
  const tty = process.stderr.isTTY && !quiet;
  const bar = tty
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'trials {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let total = 0;
  let lastDecile = -1;
  let started = 0;
  let startValue = 0;
  const rate = (done: number) => ((done - startValue) / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1);
  return {
    start(t: number, done: number) {
      total = t;
      started = Date.now();
      startValue = done;
      bar?.start(t, done, { rate: '0' });
    },
    update(done: number) {
      if (bar) bar.update(done, { rate: rate(done) });
      else if (!quiet) {
        const decile = Math.floor((10 * done) / Math.max(1, total));
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`trials ${done}/${total} (${rate(done)}/s)\n`);
        }
      }
    },
    log(message: string) {
      if (quiet && !message.startsWith('warning')) return;
      // On a terminal, clear the bar's line first; the bar redraws itself on the next update.
      process.stderr.write((bar?.isActive ? '\r\x1b[2K' : '') + message + '\n');
    },
    stop() {
      bar?.stop();
    },
  };
}

function selectionTable(rows: SelectionRow[]): string {
  const lines = rows.map((s) => ({
    penalty: s.penalty,
    l1_ratio: s.penalty === 'elasticnet' ? fmt(s.l1Ratio) : '',
    lambda_min: fmt(s.lambdaMin),
    [s.metric]: `${fmt(s.meanMin)} ± ${fmt(s.seMin)}`,
    nnz: s.nnzMin ?? '',
    lambda_1se: fmt(s.lambda1se),
    nnz_1se: s.nnz1se ?? '',
    note: s.edge ? `λ_min on the ${s.edge === 'largest' ? 'upper' : 'lower'} edge of the grid` : '',
  }));
  return table(lines);
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const cols = Object.keys(rows[0]);
  const text = rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = cols.map((c, k) => Math.max(c.length, ...text.map((t) => t[k].length)));
  const line = (cells: string[]) => cells.map((s, k) => s.padEnd(widths[k])).join('  ').trimEnd();
  return [line(cols), ...text.map(line)].join('\n') + '\n';
}

function print(rows: Record<string, unknown>[], json: boolean) {
  if (json) process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
  else process.stdout.write(table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? `<${v.length} bytes>` : v])))));
}
