// The command line: a thin shell over the library (runSweep, bestTrials, listSweeps, runSql, exportRows, writeReport).
// Each command imports what it uses when it runs: start-up time is what a short command mostly costs.
import yargs from 'yargs';
import { EXIT, OutsideError, UserError } from './errors.js';
import { displayPath } from './util/paths.js';
import { settingsLabel, type Selection } from './domain.js';
import type { RunResult, runSweep } from './pool/coordinator.js';
import type { WorkerOptions } from './pool/worker.js';
import { EXPORT_TABLES, type ExportTable } from './results/tables.js';
import { selectionRecord, sweepRecord } from './results/records.js';
import { countsLine } from './select/counts.js';
import { fmt } from './select/cv.js';
import { metricNamed, parsePenalty, parseSelectRule, ruleLabel, type ModelRequest, type SelectRule } from './select/model.js';
import type { SweepSelector } from './store/contract.js';
import type { Comparison } from './results/compare.js';
import { packageVersion } from './builtFile.js';
import { refuseProtectedOutput, storeFiles, writeFileAtomic } from './util/files.js';
import { printable } from './util/format.js';

export async function main(argv: string[]): Promise<void> {
  // A closed pipe (`regsweep export … | head`) ends the command quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  let exitCode: number = EXIT.ok;
  try {
    exitCode = await dispatch(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`regsweep: ${printable(e.message)}\n`);
      exitCode = EXIT.badInput;
    } else if (e instanceof OutsideError) {
      process.stderr.write(`regsweep: ${printable(e.message)}\n`);
      exitCode = EXIT.failed;
    } else {
      process.stderr.write(`regsweep: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      exitCode = EXIT.failed;
    }
  }
  process.exitCode = exitCode;
}

/** --sweep NAME (NAME@K for the K-th of that name) or --sweep-id N. */
function selectorOf(args: { sweep?: string; 'sweep-id'?: number }): SweepSelector | undefined {
  if (args['sweep-id'] !== undefined && args.sweep !== undefined) throw new UserError('--sweep and --sweep-id: give one');
  if (args['sweep-id'] !== undefined) {
    if (!Number.isInteger(args['sweep-id'])) throw new UserError('--sweep-id: expected a whole number (see query --list)');
    return { id: args['sweep-id'] };
  }
  return args.sweep !== undefined ? { name: args.sweep } : undefined;
}

const sweepOptions = {
  sweep: { type: 'string', describe: 'sweep name (default: the latest); NAME@K for the K-th sweep of that name' },
  'sweep-id': { type: 'number', describe: 'sweep id (see query --list)' },
} as const;

const modelOptions = {
  penalty: { type: 'string', describe: 'the model\'s penalty: l1, l2, elasticnet or none (default: the best by validation loss)' },
  'l1-ratio': { type: 'number', describe: 'the elastic net\'s l1 ratio (default: its best)' },
  select: { type: 'string', describe: 'the λ: min, 1se (default: the largest λ within one standard error of the best) or lambda=VALUE (the nearest grid λ)' },
  metric: { type: 'string', alias: 'type-measure', default: 'val_loss', describe: 'what λ_min and λ_1se are taken by, as cv.glmnet\'s type.measure: val_loss (the loss fitted), deviance, mse, mae, class (misclassification), auc or accuracy' },
} as const;

/** --penalty, --l1-ratio and --select as a model request. */
function modelRequest(args: { penalty?: string; 'l1-ratio'?: number; select?: string; metric?: string }): ModelRequest {
  if (args['l1-ratio'] !== undefined && !(Number.isFinite(args['l1-ratio']) && args['l1-ratio'] >= 0 && args['l1-ratio'] <= 1)) throw new UserError('--l1-ratio: expected a number in [0, 1]');
  return {
    ...(args.penalty !== undefined ? { penalty: parsePenalty(args.penalty) } : {}),
    ...(args['l1-ratio'] !== undefined ? { l1Ratio: args['l1-ratio'] } : {}),
    ...(args.select !== undefined ? { select: parseSelectRule(args.select) } : {}),
    ...(args.metric !== undefined && args.metric !== 'val_loss' ? { metric: metricNamed(args.metric).name } : {}),
  };
}

function describeModel(m: { penalty: string; l1Ratio: number; lambda: number; rule: SelectRule }): string {
  return `${m.penalty === 'elasticnet' ? `elasticnet l1_ratio ${fmt(m.l1Ratio)}` : m.penalty}, λ ${m.lambda} by --select ${ruleLabel(m.rule)}`;
}

const partialOption = {
  'allow-partial': { type: 'boolean', default: false, describe: 'use a sweep that is not finished (the model is chosen from the trials it has; the output says so)' },
} as const;

const queueOptions = {
  lease: { type: 'number', default: 30, describe: 'seconds a claimed task is held without renewal (renewed every third of it)' },
  'max-attempts': { type: 'number', default: 3, describe: 'attempts a task that throws gets before it is recorded as failed' },
  'reconnect-timeout': { type: 'number', default: 600, describe: 'seconds a lost (or, for worker, not yet reachable) database is waited for before giving up' },
} as const;

/** Seconds a lease may be: long enough to renew over a slow link, short enough that a dead worker's task comes back. */
const LEASE_SECONDS = { min: 2, max: 3600 };

function checkQueueOptions(args: { lease: number; 'max-attempts': number; 'reconnect-timeout': number }): void {
  positiveNumber('--reconnect-timeout', args['reconnect-timeout']);
  if (!(Number.isFinite(args.lease) && args.lease >= LEASE_SECONDS.min && args.lease <= LEASE_SECONDS.max))
    throw new UserError(`--lease ${args.lease}: expected seconds from ${LEASE_SECONDS.min} to ${LEASE_SECONDS.max} (a task of a worker that dies comes back after its lease)`);
  if (!(Number.isInteger(args['max-attempts']) && args['max-attempts'] > 0 && args['max-attempts'] <= 100))
    throw new UserError(`--max-attempts ${args['max-attempts']}: expected a whole number from 1 to 100 (a task that always throws is tried that often)`);
}

function positiveNumber(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new UserError(`${name}: expected a positive number`);
}

/** The part of yargs 18's internals the start-up skips (its version is pinned). */
interface YargsInternals {
  getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } };
}

async function dispatch(argv: string[]): Promise<number> {
  let result: number = EXIT.ok;
  // yargs builds the whole help page before it awaits a handler that returns a promise, so handlers start their
  // work and return; the work is awaited after parsing.
  let work: Promise<void> | undefined;
  const later =
    <A>(handler: (args: A) => Promise<void>) =>
    (args: A) => {
      work = handler(args);
    };
  const parser = yargs(argv)
    .scriptName('regsweep')
    .strict()
    .demandCommand(1, 'name a command: run, worker, query, status, export, predict, compare, report or serve')
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
          .option('out', { type: 'string', describe: 'database path or store URL (default: the config output)' })
          .option('store', { type: 'string', describe: 'a shared store to run the sweep in: postgres://user@host:5432/db (the same as --out)' })
          .option('resume', { type: 'boolean', default: false, describe: 'continue the sweep already in the database (the default when the config is unchanged)' })
          .option('new', { type: 'boolean', default: false, describe: 'start a new sweep even if the database holds one of the same name' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output (the results are still printed)' })
          .option('max-trials', { type: 'number', describe: 'refuse sweeps with more trials (default 10 000 000)' })
          .option('max-db-gb', { type: 'number', describe: 'refuse sweeps whose database would be larger (default 8)' })
          .option('lock-timeout', { type: 'number', default: 10, describe: 'seconds a write waits for a lock held by another process' })
          .options(queueOptions)
          .option('retry-failed', { type: 'boolean', default: false, describe: 'queue again the tasks that failed in an earlier run, and those claimed by a process that stopped renewing its lease' }),
      later(async (args) => {
        if (args.workers !== undefined && !(Number.isInteger(args.workers) && args.workers > 0)) throw new UserError('--workers: expected a positive integer');
        if (args.resume && args.new) throw new UserError('--resume and --new contradict each other; give one');
        positiveNumber('--max-trials', args['max-trials']);
        positiveNumber('--max-db-gb', args['max-db-gb']);
        positiveNumber('--lock-timeout', args['lock-timeout']);
        checkQueueOptions(args);
        if (args.store !== undefined && args.out !== undefined) throw new UserError('--store and --out name the same thing; give one');
        result = await runCommand(args.config, {
          workers: args.workers,
          out: args.store ?? args.out,
          leaseMs: args.lease * 1000,
          maxAttempts: args['max-attempts'],
          reconnectMs: args['reconnect-timeout'] * 1000,
          retryFailed: args['retry-failed'],
          resume: args.resume,
          fresh: args.new,
          quiet: args.quiet,
          limits: {
            ...(args['max-trials'] !== undefined ? { maxTrials: args['max-trials'] } : {}),
            ...(args['max-db-gb'] !== undefined ? { maxBytes: args['max-db-gb'] * 2 ** 30 } : {}),
          },
          lockTimeoutMs: args['lock-timeout'] * 1000,
        });
      }),
    )
    .command(
      'worker <store>',
      'join the sweeps of a shared store (postgres://…) with this machine\'s cores until they are complete',
      (y) =>
        y
          .positional('store', { type: 'string', demandOption: true, describe: 'postgres://user@host:5432/db' })
          .options(sweepOptions)
          .option('workers', { type: 'number', describe: 'worker threads (default: the sweep\'s workers, else the number of cores)' })
          .option('wait', { type: 'boolean', default: false, describe: 'wait for sweeps to come: with --sweep, for that sweep to be made (then work on it until it is complete); without, for new sweeps after the ones there are complete' })
          .option('data', { type: 'string', describe: 'the sweep\'s data file on this machine (checked against the sweep\'s hash) instead of fetching it' })
          .options(queueOptions)
          .option('quiet', { type: 'boolean', default: false }),
      later(async (args) => {
        if (args.workers !== undefined && !(Number.isInteger(args.workers) && args.workers > 0)) throw new UserError('--workers: expected a positive integer');
        checkQueueOptions(args);
        result = await workerCommand(args.store, {
          sweep: selectorOf(args),
          workers: args.workers,
          wait: args.wait,
          dataPath: args.data,
          leaseMs: args.lease * 1000,
          maxAttempts: args['max-attempts'],
          reconnectMs: args['reconnect-timeout'] * 1000,
          quiet: args.quiet,
        });
      }),
    )
    .command(
      'query <db>',
      'read a results database',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .option('best', { type: 'boolean', default: false, describe: 'best λ (and λ_1se) per penalty and l1_ratio (what query shows without an option)' })
          .option('list', { type: 'boolean', default: false, describe: 'every sweep in the database, with id, status and trial counts' })
          .option('metric', { type: 'string', alias: 'type-measure', default: 'val_loss', describe: 'what λ_min and λ_1se are taken by, as cv.glmnet\'s type.measure: val_loss (the loss fitted), deviance, mse, mae, class (misclassification), auc or accuracy' })
          .option('sql', { type: 'string', describe: 'a read-only SQL statement' })
          .option('timeout', { type: 'number', default: 30, describe: 'seconds a --sql statement may run' })
          .options(sweepOptions)
          .option('json', { type: 'boolean', default: false }),
      later(async (args) => {
        if ([args.best, args.list, args.sql !== undefined].filter(Boolean).length > 1) throw new UserError('query: give one of --best, --list or --sql');
        const { bestTrials, listSweeps, runSql } = await import('./results/best.js');
        if (args.sql !== undefined) {
          positiveNumber('--timeout', args.timeout);
          await print(await runSql(args.db, args.sql, args.timeout * 1000), args.json);
          return;
        }
        if (args.list) {
          const sweeps = await listSweeps(args.db);
          await print(sweeps.map(({ sweep, trialsDone, tasks }) => sweepRecord(sweep, trialsDone, tasks)), args.json);
          if (!args.json)
            for (const { sweep, tasks } of sweeps.filter((s) => s.tasks.stale > 0))
              await write(
                `note: sweep ${sweep.name} (id ${sweep.id}): ${tasks.stale} claimed task(s) whose owner stopped renewing its lease (a process that died or is paused); they go back to the queue when the lease ends, or now with: regsweep run <sweep file> --store ${displayPath(args.db)} --retry-failed\n`,
              );
          return;
        }
        // Without an option: the commonest question, the best λ per penalty (--best).
        const best = await bestTrials(args.db, { sweep: selectorOf(args), metric: args.metric });
        if (args.json) {
          await write(JSON.stringify({ sweep: best.sweep.name, sweep_id: best.sweep.id, status: best.sweep.status, metric: best.metric, best: best.selections.map((s) => selectionRecord(best.sweep, s)), notes: best.notes }, null, 2) + '\n');
        } else {
          await write(`sweep ${best.sweep.name} (id ${best.sweep.id}, ${best.sweep.status}), metric ${best.metric}\n`);
          if (best.selections.length) await write(selectionTable(best.selections));
          for (const note of best.notes) await write(`note: ${printable(note)}\n`);
        }
      }),
    )
    .command(
      'export <db>',
      'write a table as CSV or JSON, or the chosen model as a model card (json), a scikit-learn or an R script',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .option('table', { choices: EXPORT_TABLES, describe: 'the table to write' })
          .option('model', { type: 'boolean', default: false, describe: 'write the chosen model instead of a table (see --select)' })
          .option('fold', { type: 'string', describe: '"all" (the fit on all rows) or a fold index' })
          .option('format', { choices: ['csv', 'json', 'sklearn', 'glmnet'] as const, describe: 'tables: csv (default) or json; --model: json (default), sklearn or glmnet' })
          .options(sweepOptions)
          .options(modelOptions)
          .options(partialOption)
          .option('out', { type: 'string', describe: 'file to write (default: standard output)' }),
      later(async (args) => {
        if (args.out !== undefined) refuseProtectedOutput(args.out, storeFiles(args.db), '--out');
        if (args.model === (args.table !== undefined)) throw new UserError('export: give --table NAME or --model');
        let parts: Iterable<string>;
        if (args.model) {
          if (args.fold !== undefined) throw new UserError('--fold applies to --table; the model is the fit on all rows');
          const format = args.format ?? 'json';
          if (format === 'csv') throw new UserError('--model --format csv: a model is written as json, sklearn (Python) or glmnet (R); the coefficients as CSV are in --table coefficients');
          const { exportModel } = await import('./model/export.js');
          const { text, model } = await exportModel(args.db, format, { sweep: selectorOf(args), ...modelRequest(args), allowPartial: args['allow-partial'] });
          for (const n of model.notes) process.stderr.write(`note: ${printable(n)}\n`);
          parts = [text];
        } else {
          const format = args.format ?? 'csv';
          if (format !== 'csv' && format !== 'json') throw new UserError(`--format ${format}: applies to --model; a table is csv or json`);
          if (args.penalty !== undefined || args['l1-ratio'] !== undefined || args.select !== undefined) throw new UserError('--penalty, --l1-ratio and --select choose a model: they apply to --model (use --sql or the CSV to filter a table)');
          const { csvLines, exportRows } = await import('./results/export.js');
          const rows = await exportRows(args.db, { table: args.table as ExportTable, fold: args.fold, sweep: selectorOf(args) });
          parts = format === 'json' ? [JSON.stringify(rows, null, 1) + '\n'] : csvLines(rows);
        }
        if (args.out !== undefined) writeFileAtomic(args.out, parts);
        else for (const part of parts) await write(part);
      }),
    )
    .command(
      'predict <db>',
      'apply the chosen model to the rows of a CSV (features by name) and write the predictions as CSV',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .option('data', { type: 'string', demandOption: true, describe: 'CSV with the model\'s feature columns (any order; others ignored)' })
          .option('out', { type: 'string', describe: 'file to write (default: standard output)' })
          .option('keep', { type: 'string', array: true, describe: 'a column of the data to copy to the output (an id); may be repeated' })
          .option('unknown-level', {
            choices: ['error', 'zero'] as const,
            default: 'error' as const,
            describe: 'a category level not seen in training: refuse the row, or encode it as all zeros',
          })
          .options(sweepOptions)
          .options(modelOptions)
          .options(partialOption),
      later(async (args) => {
        const { predict } = await import('./model/predict.js');
        const result = await predict(args.db, {
          data: args.data,
          out: args.out,
          keep: args.keep,
          unknownLevel: args['unknown-level'],
          output: write,
          sweep: selectorOf(args),
          ...modelRequest(args),
          allowPartial: args['allow-partial'],
          onNote: (n) => process.stderr.write(`note: ${printable(n)}\n`),
        });
        if (args.out !== undefined) process.stderr.write(`predictions: ${result.rows} rows → ${args.out} (${describeModel(result.model)})\n`);
      }),
    )
    .command(
      'compare <first> [second]',
      'two sweeps side by side (two databases, or two sweeps of one): the best of each penalty, and a report with their validation curves overlaid',
      (y) =>
        y
          .positional('first', { type: 'string', demandOption: true, describe: 'database (or store URL) of sweep A' })
          .positional('second', { type: 'string', describe: 'database of sweep B (default: the same as A)' })
          .option('sweep', { type: 'string', array: true, describe: 'sweep name, once per sweep (A then B); default: the latest (the two latest with one database)' })
          .option('sweep-id', { type: 'number', array: true, describe: 'sweep id instead of a name, once per sweep' })
          .option('metric', { type: 'string', alias: 'type-measure', default: 'val_loss', describe: 'what λ_min and λ_1se are taken by, as cv.glmnet\'s type.measure: val_loss (the loss fitted), deviance, mse, mae, class (misclassification), auc or accuracy' })
          .option('json', { type: 'boolean', default: false })
          .option('out', { type: 'string', describe: 'report folder (default: A-vs-B-compare beside the first database)' })
          .option('report', { type: 'boolean', default: true, describe: 'write the report (--no-report: the table only)' })
          .option('png', { type: 'boolean', default: true, describe: 'also write PNG files' }),
      later(async (args) => {
        if (args.sweep !== undefined && args['sweep-id'] !== undefined) throw new UserError('--sweep and --sweep-id: give one kind');
        const selectors = args['sweep-id'] !== undefined ? args['sweep-id'].map((id) => selectorOf({ 'sweep-id': id })!) : (args.sweep ?? []).map((name) => ({ name }));
        const { compareSweeps } = await import('./results/compare.js');
        const c = await compareSweeps(args.first, args.second, { sweeps: selectors, metric: args.metric });
        let page: string | undefined;
        if (args.report) {
          const { writeCompareReport, defaultCompareDir } = await import('./report/compare.js');
          page = await writeCompareReport(c, args.out ?? defaultCompareDir(args.first, c), [args.first, ...(args.second ? [args.second] : [])], args.png);
        }
        if (args.json) {
          await write(JSON.stringify(comparisonRecord(c, page), null, 1) + '\n');
          return;
        }
        for (const s of c.sweeps) await write(`${s.label}: sweep ${s.sweep.name} (id ${s.sweep.id}) in ${s.location}; ${s.sweep.modelKind}, ${s.sweep.n} × ${s.sweep.p}, data ${s.sweep.dataHash.slice(0, 12)}…\n`);
        await write(comparisonTable(c));
        for (const n of c.notes) await write(`note: ${printable(n)}\n`);
        if (page) await write(`report: ${page}\n`);
      }),
    )
    .command(
      'report <db>',
      'write the charts (Vega-Lite, SVG, PNG) and an offline HTML page',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true })
          .options(sweepOptions)
          .options(modelOptions)
          .option('out', { type: 'string', describe: 'folder (default: <db name>-report beside the database)' })
          .option('png', { type: 'boolean', default: true, describe: 'also write PNG files' })
          .option('y', { choices: ['auto', 'log', 'linear'] as const, default: 'auto' as const, describe: 'the loss axis (auto: log when the curve spans more than two decades)' })
          .option('coef-scale', { choices: ['standardized', 'original'] as const, default: 'standardized' as const, describe: 'the coefficient paths: × each feature\'s sd (as glmnet fits) or in the data\'s units' })
          .option('path-x', { choices: ['lambda', 'l1-norm', 'deviance'] as const, default: 'lambda' as const, describe: 'the coefficient paths\' x axis: log λ, the L1 norm, or the fraction of deviance explained' }),
      later(async (args) => {
        const { writeReport } = await import('./report/write.js');
        const report = await writeReport(args.db, { sweep: selectorOf(args), outDir: args.out, png: args.png, model: modelRequest(args), y: args.y, coefScale: args['coef-scale'], pathX: args['path-x'] });
        for (const note of report.notes) await write(`note: ${printable(note)}\n`);
        await write(`report: ${report.htmlPath}\n`);
      }),
    )
    .command(
      'status <db>',
      'who works on a store\'s sweeps: each process with its host, pid, threads, last report and counts; the tasks by state',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true, describe: 'database path or store URL' })
          .options(sweepOptions)
          .option('json', { type: 'boolean', default: false }),
      later(async (args) => {
        const { sweepStatuses, isSilent } = await import('./results/status.js');
        const statuses = await sweepStatuses(args.db, selectorOf(args));
        if (args.json) {
          await write(JSON.stringify(statuses.map(({ sweep, tasks, processes }) => ({ ...sweepRecord(sweep, tasks.trialsRecorded, tasks), tasks, processes: processes.map((p) => ({ ...p, silent: isSilent(p) })) })), null, 1) + '\n');
          return;
        }
        for (const { sweep, tasks, processes } of statuses) {
          await write(
            `sweep ${sweep.name} (id ${sweep.id}, ${sweep.status}): ${tasks.done} of ${tasks.total} tasks done, ${tasks.running} claimed${tasks.stale ? ` (${tasks.stale} stale)` : ''}, ${tasks.pending} pending, ${tasks.failed} failed\n`,
          );
          if (processes.length === 0) {
            await write('(no process has reported on it)\n');
            continue;
          }
          await write(
            table(
              processes.map((p) => ({
                host: p.host, pid: p.pid, command: p.command, threads: p.threads, state: isSilent(p) ? 'silent' : p.state,
                'last report': `${p.silentFor < 10 ? p.silentFor.toFixed(1) : Math.round(p.silentFor)} s ago`, done: p.tasksDone, failed: p.tasksFailed,
                retries: p.retries, fenced: p.fenced, 'leases lost': p.leasesLost, 'taken over': p.takenOver,
              })),
            ),
          );
        }
      }),
    )
    .command(
      'serve <db>',
      'serve live pages of the database\'s sweeps (read-only): progress, running and failed tasks, the charts as trials arrive',
      (y) =>
        y
          .positional('db', { type: 'string', demandOption: true, describe: 'database path or store URL' })
          .option('port', { type: 'number', default: 8765, describe: 'port (0: a free one)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on; any other than 127.0.0.1, ::1 or localhost needs a token' })
          .option('token', { type: 'string', describe: 'the token every request must carry, 22 characters at least (default: generated when --host is not local)' })
          .option('allow-host', { type: 'string', array: true, describe: 'a name of this machine that requests may be sent to, besides its addresses (may be repeated)' }),
      later(async (args) => {
        result = await serveCommand(args.db, { port: args.port, host: args.host, token: args.token, allowHosts: args['allow-host'] });
      }),
    )
    .help()
    .version(packageVersion());
  // yargs renders the whole help page before it runs any command, in case the command asks for it; none of ours does.
  (parser as unknown as YargsInternals).getInternalMethods().getUsageInstance().cacheHelpMessage = () => undefined;
  await parser.parseAsync();
  await work;
  return result;
}

async function runCommand(config: string, opts: Parameters<typeof runSweep>[1] & { quiet: boolean }): Promise<number> {
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write(`\nstopping (${signal}): finished tasks are saved; run the same command again to resume${signal === 'SIGINT' ? ' (Ctrl-C again to quit now)' : ''}\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = await makeProgress(opts.quiet);
  const { runSweep } = await import('./pool/coordinator.js');
  let result: RunResult | undefined;
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
      onProgress: ({ done, total }) => progress.update(done, total),
    }).catch(stoppedWhileDown(abort.signal));
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (result === undefined) return EXIT.interrupted;
  const db = displayPath(result.location);
  if (result.interrupted) {
    process.stderr.write(`interrupted: ${db} holds every finished task; rerun to resume\n`);
    return EXIT.interrupted;
  }
  const { counts } = result;
  const noneUsable = counts.total > 0 && counts.usable === 0;
  // --quiet silences the progress only: the results are what the command is for.
  const out = noneUsable ? process.stderr : process.stdout;
  out.write(`results: ${db}${result.tasksSkipped ? ` (${result.tasksSkipped} tasks were already done)` : ''}\n`);
  if (result.selections.length) out.write(selectionTable(result.selections));
  for (const note of result.notes) if (!noneUsable || note !== countsLine(counts)) out.write(`note: ${printable(note)}\n`);
  if (result.tasksFailed) out.write(`${result.tasksFailed} task(s) failed; their trials are recorded with status failed and run again on resume\n`);
  if (noneUsable) out.write(`regsweep: ${countsLine(counts)}\n`);
  else out.write(`next: regsweep query ${db}   |   regsweep report ${db}\n`);
  return noneUsable ? EXIT.failed : EXIT.ok;
}

async function workerCommand(store: string, opts: WorkerOptions & { quiet: boolean }): Promise<number> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nstopping (${signal}): claimed tasks go back to the queue\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { runWorker } = await import('./pool/worker.js');
    const r = await runWorker(store, { ...opts, signal: abort.signal, log: (m) => (!opts.quiet || m.startsWith('warning') ? process.stderr.write(printable(m) + '\n') : undefined) }).catch(
      stoppedWhileDown(abort.signal),
    );
    if (r === undefined) return EXIT.interrupted;
    for (const run of r.results) {
      if (run.interrupted) continue;
      if (!opts.quiet) {
        process.stdout.write(`sweep ${run.sweep.name} (id ${run.sweep.id}): ${run.sweep.status}\n`);
        if (run.selections.length) process.stdout.write(selectionTable(run.selections));
      }
    }
    return r.interrupted ? EXIT.interrupted : EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * A store that failed after the user stopped the command (a database that is down, whose reconnection wait the
 * signal ended): said in one line, and the command counts as interrupted.
 */
function stoppedWhileDown(signal: AbortSignal) {
  return (e: unknown): undefined => {
    if (!(signal.aborted && e instanceof OutsideError)) throw e;
    process.stderr.write(`interrupted: ${printable(e.message)}\n`);
    return undefined;
  };
}

/** Serves until Ctrl-C or SIGTERM, then closes the server and the store. */
async function serveCommand(db: string, options: { port: number; host: string; token?: string; allowHosts?: string[] }): Promise<number> {
  const { serve } = await import('./serve/server.js');
  const server = await serve(db, options);
  process.stdout.write(`regsweep: serving ${displayPath(db)} at ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return EXIT.ok;
}

/** A bar on a terminal; plain lines (every 10%) in logs and CI. */
async function makeProgress(quiet: boolean) {
  const tty = process.stderr.isTTY && !quiet;
  const cliProgress = tty ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress
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
    update(done: number, t: number) {
      // An extended grid adds trials to the total while the sweep runs.
      if (t !== total) {
        total = t;
        bar?.setTotal(t);
      }
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
      process.stderr.write((bar?.isActive ? '\r\x1b[2K' : '') + printable(message) + '\n');
    },
    stop() {
      bar?.stop();
    },
  };
}

function selectionTable(rows: Selection[]): string {
  const varied = rows.some((s) => s.settings);
  // Several classes or responses: coefficients and, as glmnet counts them, the features in the model.
  const byFeature = rows.some((s) => s.featuresMin !== undefined);
  const lines = rows.map((s) => ({
    penalty: s.penalty,
    l1_ratio: s.penalty === 'elasticnet' ? fmt(s.l1Ratio) : '',
    ...(varied ? { settings: settingsLabel(s.settings) } : {}),
    lambda_min: fmt(s.lambdaMin),
    // One validation set (a holdout) has no standard error.
    [s.metric]: `${fmt(s.meanMin)} ± ${s.seMin > 0 ? fmt(s.seMin) : '—'}`,
    nnz: s.nnzMin ?? '',
    ...(byFeature ? { features: s.featuresMin ?? '' } : {}),
    lambda_1se: fmt(s.lambda1se),
    nnz_1se: s.nnz1se ?? '',
    ...(byFeature ? { features_1se: s.features1se ?? '' } : {}),
    note: s.edge ? `λ_min on the ${s.edge === 'largest' ? 'upper' : 'lower'} edge of the grid` : '',
  }));
  return table(lines);
}

function comparisonTable(c: Comparison): string {
  const side = (label: string, sel: Selection | null) => ({
    [`${label}: lambda_min`]: sel ? fmt(sel.lambdaMin) + (sel.penalty === 'elasticnet' ? ` (l1_ratio ${fmt(sel.l1Ratio)})` : '') : '—',
    [`${label}: ${c.metric}`]: sel ? `${fmt(sel.meanMin)} ± ${sel.seMin > 0 ? fmt(sel.seMin) : '—'}` : '—',
    [`${label}: nnz`]: sel?.nnzMin ?? '',
  });
  return table(c.rows.map((r) => ({ penalty: r.penalty, ...side('A', r.a), ...side('B', r.b), better: r.verdict })));
}

function comparisonRecord(c: Comparison, report: string | undefined): Record<string, unknown> {
  return {
    metric: c.metric,
    same_data: c.sameData,
    comparable: c.incomparable === null,
    sweeps: c.sweeps.map((s) => ({ label: s.label, database: s.location, name: s.sweep.name, id: s.sweep.id, model: s.sweep.modelKind, rows: s.sweep.n, features: s.sweep.p, data_hash: s.sweep.dataHash })),
    best: c.rows.map((r) => ({ penalty: r.penalty, A: r.a && selectionRecord(c.sweeps[0].sweep, r.a), B: r.b && selectionRecord(c.sweeps[1].sweep, r.b), better: r.verdict || null })),
    notes: c.notes,
    ...(report ? { report } : {}),
  };
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const cols = Object.keys(rows[0]);
  const text = rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = cols.map((c, k) => Math.max(c.length, ...text.map((t) => t[k].length)));
  const line = (cells: string[]) => cells.map((s, k) => s.padEnd(widths[k])).join('  ').trimEnd();
  return [line(cols), ...text.map(line)].join('\n') + '\n';
}

/** Writes to standard output, waiting when the reader is slower (a large export is not buffered whole). */
function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

async function print(rows: Record<string, unknown>[], json: boolean) {
  const shown = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? `<${v.length} bytes>` : v])));
  if (json) await write(JSON.stringify(shown, null, 1) + '\n');
  else await write(table(shown));
}
