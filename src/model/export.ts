// `export --model`: the chosen model as a model card (JSON), a scikit-learn script or an R script.
import { displayPath } from '../util/paths.js';
import { modelCard } from './card.js';
import { glmnetScript } from './glmnet.js';
import { loadModel, type Model, type ModelOptions } from './load.js';
import { sklearnScript } from './sklearn.js';

export type ModelFormat = 'json' | 'sklearn' | 'glmnet';

/** The text of the model in a format, and the model (its notes say how it was chosen). */
export async function exportModel(location: string, format: ModelFormat, options: ModelOptions = {}): Promise<{ text: string; model: Model }> {
  const model = await loadModel(location, options);
  const shown = displayPath(location);
  const text = format === 'json' ? JSON.stringify(modelCard(model, shown), null, 1) + '\n' : format === 'sklearn' ? sklearnScript(model, shown) : glmnetScript(model, shown);
  return { text, model };
}
