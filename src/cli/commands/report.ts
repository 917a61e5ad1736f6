import type { Argv } from 'yargs';
import { modelOptions, modelRequest, selectorOf, sweepOptions, type Later } from '../options.js';
import { write } from '../output.js';
import { printable } from '../../util/format.js';

export function reportCommand(parser: Argv, later: Later): Argv {
  return parser.command(
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
      const { writeReport } = await import('../../report/write.js');
      const report = await writeReport(args.db, { sweep: selectorOf(args), outDir: args.out, png: args.png, model: modelRequest(args), y: args.y, coefScale: args['coef-scale'], pathX: args['path-x'] });
      for (const note of report.notes) await write(`note: ${printable(note)}\n`);
      await write(`report: ${report.htmlPath}\n`);
    })
  );
}
