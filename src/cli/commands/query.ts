import type { Argv } from 'yargs';
import { metricOption, positiveNumber, selectorOf, sweepOptions, type Later } from '../options.js';
import { write, print, selectionTable } from '../output.js';
import { UserError } from '../../errors.js';
import { printable } from '../../util/format.js';
import { displayPath } from '../../util/paths.js';
import { sweepRecord, selectionRecord } from '../../results/records.js';

export function queryCommand(parser: Argv, later: Later): Argv {
  return parser.command(
    'query <db>',
    'read a results database',
    (y) =>
      y
        .positional('db', { type: 'string', demandOption: true })
        .option('best', { type: 'boolean', default: false, describe: 'best λ (and λ_1se) per penalty and l1_ratio (what query shows without an option)' })
        .option('list', { type: 'boolean', default: false, describe: 'every sweep in the database, with id, status and trial counts' })
        .options(metricOption)
        .option('sql', { type: 'string', describe: 'a read-only SQL statement' })
        .option('timeout', { type: 'number', default: 30, describe: 'seconds a --sql statement may run' })
        .options(sweepOptions)
        .option('json', { type: 'boolean', default: false }),
    later(async (args) => {
      if ([args.best, args.list, args.sql !== undefined].filter(Boolean).length > 1) throw new UserError('query: give one of --best, --list or --sql');
      const { bestTrials, listSweeps, runSql } = await import('../../results/best.js');
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
        await write(JSON.stringify({ sweep: best.sweep.name, sweep_id: best.sweep.id, status: best.sweep.status, metric: best.metric, best: best.selections.map((s) => selectionRecord(best.sweep, s)), ...(best.relaxed.length ? { relaxed: best.relaxed.map((r) => ({ penalty: r.penalty, l1_ratio: r.l1Ratio, lambda_min: r.lambdaMin, gamma_min: r.gammaMin, lambda_1se: r.lambda1se, gamma_1se: r.gamma1se })) } : {}), notes: best.notes }, null, 2) + '\n');
      } else {
        await write(`sweep ${best.sweep.name} (id ${best.sweep.id}, ${best.sweep.status}), metric ${best.metric}\n`);
        if (best.selections.length) await write(selectionTable(best.selections));
        for (const note of best.notes) await write(`note: ${printable(note)}\n`);
      }
    })
  );
}
