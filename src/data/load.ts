import { UserError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import { displayPath } from '../config/load.js';
import { loadCsv } from './csv.js';
import { syntheticDataset } from './synthetic.js';
import type { Dataset } from './dataset.js';

/** The data a sweep file names, checked against its model (labels for logistic, one target unless mlp). */
export async function loadData(loaded: LoadedConfig): Promise<Dataset> {
  const { config, file } = loaded;
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
      throw new UserError(`${file}: data.synthetic.kind: a ${config.model.kind} model needs ${classification ? 'classification' : 'regression'} data`);
    if (s.kind === 'classification' && s.outputs !== 1)
      throw new UserError(`${file}: data.synthetic.outputs: classification data have one output`);
    data = syntheticDataset(s);
  }
  if (data.outputs > 1 && config.model.kind !== 'mlp')
    throw new UserError(`${file}: data.target: several target columns need model.kind mlp (multi-output); ${config.model.kind} takes one`);
  return data;
}
