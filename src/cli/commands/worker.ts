import type { Argv } from 'yargs';
import { checkQueueOptions, queueOptions, selectorOf, sweepOptions, type Later } from '../options.js';
import { selectionTable } from '../output.js';
import { stoppedWhileDown } from '../stopping.js';
import { UserError, EXIT } from '../../errors.js';
import { printable } from '../../util/format.js';
import type { WorkerOptions } from '../../pool/worker.js';

export function workerCommand(parser: Argv, later: Later): Argv {
  return parser.command(
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
      return await workFromCommandLine(args.store, {
        sweep: selectorOf(args),
        workers: args.workers,
        wait: args.wait,
        dataPath: args.data,
        leaseMs: args.lease * 1000,
        maxAttempts: args['max-attempts'],
        reconnectMs: args['reconnect-timeout'] * 1000,
        quiet: args.quiet,
      });
    })
  );
}

async function workFromCommandLine(store: string, opts: WorkerOptions & { quiet: boolean }): Promise<number> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nstopping (${signal}): claimed tasks go back to the queue\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { runWorker } = await import('../../pool/worker.js');
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
