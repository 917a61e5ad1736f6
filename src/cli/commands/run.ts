import type { Argv } from 'yargs';
import { checkQueueOptions, positiveNumber, queueOptions, type Later } from '../options.js';
import { selectionTable } from '../output.js';
import { makeProgress } from '../progress.js';
import { stoppedWhileDown } from '../stopping.js';
import { UserError, EXIT } from '../../errors.js';
import { printable } from '../../util/format.js';
import { displayPath } from '../../util/paths.js';
import { countsLine } from '../../select/counts.js';
import type { RunResult, runSweep } from '../../pool/coordinator.js';

export function runCommand(parser: Argv, later: Later): Argv {
  return parser.command(
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
      return await runFromCommandLine(args.config, {
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
    })
  );
}

async function runFromCommandLine(config: string, opts: Parameters<typeof runSweep>[1] & { quiet: boolean }): Promise<number> {
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
  const { runSweep } = await import('../../pool/coordinator.js');
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
      ...(progress.shows ? { onProgress: ({ done, total }: { done: number; total: number }) => progress.update(done, total) } : {}),
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
