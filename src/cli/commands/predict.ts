import type { Argv } from 'yargs';
import { describeModel, modelOptions, modelRequest, partialOption, selectorOf, sweepOptions, type Later } from '../options.js';
import { write } from '../output.js';
import { printable } from '../../util/format.js';
import { UserError } from '../../errors.js';

export function predictCommand(parser: Argv, later: Later): Argv {
  return parser.command(
    'predict <db>',
    'apply the chosen model to the rows of a CSV (features by name) and write the predictions as CSV',
    (y) =>
      y
        .positional('db', { type: 'string', demandOption: true })
        .option('data', { type: 'string', demandOption: true, describe: 'CSV with the model\'s feature columns (any order; others ignored)' })
        .option('out', { type: 'string', describe: 'file to write (default: standard output)' })
        .option('keep', { type: 'string', array: true, describe: 'a column of the data to copy to the output (an id); may be repeated' })
        .option('times', {
          type: 'string',
          describe: 'a cox model: times (comma-separated, the data\'s unit) at which to write each row\'s survival probability, from the Breslow baseline hazard',
        })
        .option('unknown-level', {
          choices: ['error', 'zero'] as const,
          default: 'error' as const,
          describe: 'a category level not seen in training: refuse the row, or encode it as all zeros',
        })
        .options(sweepOptions)
        .options(modelOptions)
        .options(partialOption),
    later(async (args) => {
      const { predict } = await import('../../model/predict.js');
      const result = await predict(args.db, {
        data: args.data,
        out: args.out,
        keep: args.keep,
        unknownLevel: args['unknown-level'],
        ...(args.times !== undefined ? { times: parseTimes(args.times) } : {}),
        output: write,
        sweep: selectorOf(args),
        ...modelRequest(args),
        allowPartial: args['allow-partial'],
        onNote: (n) => process.stderr.write(`note: ${printable(n)}\n`),
      });
      if (args.out !== undefined) process.stderr.write(`predictions: ${result.rows} rows → ${args.out} (${describeModel(result.model)})\n`);
    })
  );
}

/** --times 365,730: numbers ≥ 0, in the order given. */
function parseTimes(text: string): number[] {
  return text.split(',').map((part) => {
    const t = Number(part.trim());
    if (part.trim() === '' || !Number.isFinite(t) || t < 0) throw new UserError(`--times: "${part.trim()}" is not a time ≥ 0 (give e.g. --times 365,730)`);
    return t;
  });
}
