// The family table: which family a task fits (from the model kind and the data's shape) and what that family is.
import type { Family } from '../../domain.js';
import type { SharedData } from '../settings.js';
import { binomial } from './binomial.js';
import { cox } from './cox.js';
import { gaussian } from './gaussian.js';
import { mgaussian } from './mgaussian.js';
import { multinomial } from './multinomial.js';
import { poisson } from './poisson.js';
import type { FamilySpec } from './types.js';

const FAMILIES: Record<Family, FamilySpec> = { gaussian, mgaussian, binomial, multinomial, poisson, cox };

/** The family a task fits, from the model kind and the data's shape. */
export function familyOf(kind: 'linear' | 'logistic' | 'multinomial' | 'poisson' | 'cox', data: Pick<SharedData, 'outputs' | 'classes'>): FamilySpec {
  return FAMILIES[kind === 'poisson' || kind === 'multinomial' || kind === 'cox' ? kind : kind === 'logistic' ? (data.classes > 2 ? 'multinomial' : 'binomial') : data.outputs > 1 ? 'mgaussian' : 'gaussian'];
}
