import { totalmem } from 'node:os';
import type { LoadedConfig } from '../config/load.js';
import { displayPath } from '../util/paths.js';
import { UserError } from '../errors.js';
import { gigabytes } from '../util/format.js';
import { loadCsv } from './csv.js';
import type { Dataset } from './dataset.js';
import { syntheticDataset } from './synthetic.js';

/** The share of the machine's memory generated data may take (the workers and the kernels need the rest). */
const MEMORY_SHARE = 0.75;

/** The data a sweep file names, checked against its model (labels for logistic, one target unless mlp). */
export async function loadData(loaded: LoadedConfig): Promise<Dataset> {
  const { config, where } = loaded;
  const classification = config.model.kind === 'logistic';
  let data: Dataset;
  if (loaded.dataPath) {
    data = await loadCsv(loaded.dataPath, {
      target: config.data.target,
      classification,
      classes: config.data.classes,
      displayName: displayPath(loaded.dataPath),
    });
  } else {
    const s = config.data.synthetic!;
    if (classification !== (s.kind === 'classification'))
      throw new UserError(`${where(['data', 'synthetic', 'kind'])}: data.synthetic.kind: a ${config.model.kind} model needs ${classification ? 'classification' : 'regression'} data`);
    if (s.kind === 'classification' && s.outputs !== 1)
      throw new UserError(`${where(['data', 'synthetic', 'outputs'])}: data.synthetic.outputs: classification data have one output`);
    const bytes = 8 * s.n * (s.p + s.outputs);
    if (bytes > MEMORY_SHARE * totalmem())
      throw new UserError(
        `${where(['data', 'synthetic', 'n'])}: data.synthetic: n × p = ${s.n} × ${s.p} needs ${gigabytes(bytes)} of memory; this machine has ${gigabytes(totalmem())}`,
      );
    data = syntheticDataset(s);
  }
  if (data.outputs > 1 && config.model.kind !== 'mlp')
    throw new UserError(`${where(['data', 'target'])}: data.target: several target columns need model.kind mlp (multi-output); ${config.model.kind} takes one`);
  return data;
}
