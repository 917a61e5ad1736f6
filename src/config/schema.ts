import * as z from 'zod';
import { availableParallelism } from 'node:os';
import { MISSING_RULES, NA_VALUES, PENALTIES } from '../domain.js';

// Messages here are the user's: each names what was expected, the loader adds file and key path.
const posInt = z
  .number({ error: 'expected a positive integer' })
  .int({ error: 'expected a positive integer' })
  .positive({ error: 'expected a positive integer' });
const nonNegInt = z
  .number({ error: 'expected a non-negative integer' })
  .int({ error: 'expected a non-negative integer' })
  .nonnegative({ error: 'expected a non-negative integer' });
const posNumber = z
  .number({ error: 'expected a positive number' })
  .positive({ error: 'expected a positive number' })
  .finite({ error: 'expected a positive number' });
const unitInterval = z
  .number({ error: 'expected a number in [0, 1]' })
  .min(0, { error: 'expected a number in [0, 1]' })
  .max(1, { error: 'expected a number in [0, 1]' });
/**
 * A key's entry in docs/config.md (written from this schema by src/config/reference.ts): what it means, and the default
 * in words where the value alone would not say it.
 */
const doc = (description: string, shownDefault?: string) => ({ description, ...(shownDefault !== undefined ? { shownDefault } : {}) });

const seed = nonNegInt.default(0).meta(doc('seed of the random draws (folds, points, data)'));

const ascendingPair = (what: string) =>
  z
    .tuple([posNumber, posNumber], { error: `expected [low, high], two positive numbers` })
    .refine(([lo, hi]) => lo < hi, { error: `${what}: low must be below high` });

const syntheticSchema = z.strictObject({
  kind: z.enum(['regression', 'classification', 'counts'], { error: 'expected regression, classification or counts' }).meta(doc('what is generated: `regression`, `classification` or `counts` (poisson)')),
  classes: posInt.refine((k) => k >= 2, { error: 'expected an integer of at least 2' }).default(2).meta(doc('classes of classification data (more than two: a multinomial target)')),
  n: posInt.meta(doc('rows')),
  p: posInt.meta(doc('features')),
  nonzero: nonNegInt.optional().meta(doc('features with a nonzero true coefficient', 'all')),
  rho: z
    .number({ error: 'expected a number in [0, 1)' })
    .min(0, { error: 'expected a number in [0, 1)' })
    .lt(1, { error: 'expected a number in [0, 1)' })
    .default(0)
    .meta(doc('correlation between neighbouring features (AR(1))')),
  snr: posNumber.default(3).meta(doc('signal-to-noise ratio of the target')),
  noise_sd: z.number({ error: 'expected a non-negative number' }).nonnegative({ error: 'expected a non-negative number' }).optional().meta(doc('a fixed noise sd instead of one set by `snr`')),
  outputs: posInt.default(1).meta(doc('target columns (several: mgaussian)')),
  seed,
});

const dataSchema = z
  .strictObject({
    path: z.string({ error: 'expected a file path' }).min(1).optional().meta(doc('a data file, relative to the sweep file ([input formats](data.md#input-formats)); give it or `data.synthetic`', 'one of path and synthetic')),
    synthetic: syntheticSchema.optional().meta(doc('generated data instead of a file', 'one of path and synthetic')),
    target_path: z
      .string({ error: 'expected a file path' })
      .min(1)
      .optional()
      .meta(doc("a Matrix Market `.mtx` design's target: a CSV with a row per matrix row holding the target (`data.target`, else its last column) and any fold, weights or offset column, relative to the sweep file ([sparse data](data.md#sparse-data))")),
    feature_names: z
      .string({ error: 'expected a file path' })
      .min(1)
      .optional()
      .meta(doc("a sparse design's feature names: a text file with one per line, one per column, relative to the sweep file", '`f` and the index in the file (`f1`, `f2`, …)')),
    target: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: 'expected a column name or a list of column names',
      })
      .optional()
      .meta(doc('the target column; a list of columns for several outputs (linear: glmnet\'s mgaussian; networks)', 'the last column')),
    standardize: z
      .boolean({ error: 'expected true or false' })
      .default(true)
      .meta(doc('scale features by their population sd (fitted on each fold\'s training rows) while fitting; coefficients are reported on the original scale')),
    compress_columns: z
      .enum(['auto', 'never'], { error: 'expected auto or never' })
      .default('auto')
      .meta(
        doc(
          "`auto`: a dense file with at most 5% nonzero values is fitted on its compressed columns, as a sparse file is, by logistic, multinomial and poisson models (the run says so; the numbers agree to rounding); `never`: always on the dense columns. No effect on a sparse file ([sparse data](data.md#sparse-data))",
        ),
      ),
    classes: z
      .array(z.string(), { error: 'expected a list of labels, e.g. [negative, positive]' })
      .min(2, { error: 'expected at least two labels' })
      .optional()
      .meta(doc('the labels of a classifier\'s target in class order (`[negative, positive]` for two; at most 100 classes)', 'the labels sorted (numbers numerically)')),
    offset: z.string({ error: 'expected a column name' }).min(1).optional().meta(doc('poisson: a column added to the linear predictor (log exposure); not a feature')),
    time: z.string({ error: 'expected a column name' }).min(1).optional().meta(doc('cox: the column of survival or censoring times (> 0); not a feature', 'required for cox')),
    status: z
      .string({ error: 'expected a column name' })
      .min(1)
      .optional()
      .meta(doc('cox: the column saying whether the time is a death (1, the event) or a censoring (0); not a feature', 'required for cox')),
    weights: z
      .string({ error: 'expected a column name' })
      .min(1)
      .optional()
      .meta(
        doc(
          'a column of observation weights (≥ 0; 0 leaves a row out of every fit), not a feature: glmnet\'s `weights` in every family but networks — each fit minimizes the weighted objective, validation losses are weighted means, and folds are averaged by their weight sums with cv.glmnet\'s standard error',
        ),
      ),
    categorical: z
      .union([z.enum(['auto', 'none']), z.array(z.string().min(1)).min(1)], { error: 'expected auto, none or a list of column names' })
      .default('auto')
      .meta(
        doc(
          'feature columns read as categories, one indicator column per level named `column=level` (levels sorted; integer codes by value): `auto` (every text column), `none` (text is an error), or a list of names (which makes integer-coded columns categories too)',
        ),
      ),
    drop: z
      .enum(['none', 'first'], { error: 'expected none or first' })
      .default('none')
      .meta(doc('`none`: an indicator for every level (scikit-learn\'s `OneHotEncoder(drop=None)`, what a penalized model wants); `first`: the first level has none (treatment coding, as R\'s `model.matrix`)')),
    max_levels: posInt.default(100).meta(doc('the most levels a categorical column may have')),
    ignore: z.array(z.string().min(1), { error: 'expected a list of column names' }).optional().meta(doc('columns that are not features (an id, free text, a leak): read past')),
    na_values: z.array(z.string(), { error: 'expected a list of strings' }).default([...NA_VALUES]).meta(doc('cells read as missing')),
    missing: z
      .enum(MISSING_RULES, { error: 'expected error, drop, mean, median or most_frequent' })
      .default('error')
      .meta(
        doc(
          'a gap in a feature: `error` (one line naming the column and row), `drop` (rows with a gap in the target or any feature; the count is reported), `mean` / `median` / `most_frequent` (a category: its most frequent level) — fill values fitted on each fold\'s training rows only, and on all rows for the model you keep; a gap in the target, offset or fold column is only dropped',
        ),
      ),
    missing_indicator: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .meta(doc('with a fill rule: an indicator column `column=NA` (1 = the cell was missing) after each column that has gaps')),
  })
  .superRefine((d, ctx) => {
    if ((d.path === undefined) === (d.synthetic === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of data.path or data.synthetic', path: [] });
  });

/** cv.glmnet's keep: every validation fit's out-of-fold predictions stored (export --table predictions). */
const keep = z
  .boolean({ error: 'expected true or false' })
  .default(false)
  .meta(doc("store every validation fit's out-of-fold predictions (cv.glmnet's `keep`) for `export --table predictions`: a row per λ and data row with its target, linear predictor and probability or prediction"));

const validationSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('kfold').meta(doc('K-fold cross-validation')),
      folds: posInt.refine((k) => k >= 2, { error: 'expected an integer of at least 2' }).default(5).meta(doc('folds')),
      shuffle: z
        .boolean({ error: 'expected true or false' })
        .default(true)
        .meta(doc("rows shuffled before they are dealt into folds; `false` gives scikit-learn `KFold`'s folds (with `stratify`, `StratifiedKFold`'s)")),
      stratify: z.boolean({ error: 'expected true or false' }).default(false).meta(doc("each class's share kept in every fold (classification; for cox, the share of deaths — on unless set to `false`), as scikit-learn's `StratifiedKFold`")),
      repeats: posInt.default(1).meta(doc('the folds drawn again this many times with seeds seed, seed + 1, …; mean ± se over all')),
      seed,
      keep,
    }),
    z.strictObject({
      kind: z.literal('column').meta(doc('folds given by a column of the data')),
      column: z
        .string({ error: 'expected a column name' })
        .min(1)
        .meta(doc("the column holding each row's fold, integers or strings, not a feature — a scikit-learn split or a glmnet `foldid`")),
      keep,
    }),
    z.strictObject({
      kind: z.literal('holdout').meta(doc('one held-out part of the rows')),
      shuffle: z.boolean({ error: 'expected true or false' }).default(true).meta(doc('`false`: the last fraction of the rows (in file order) is held out, e.g. for time-ordered data')),
      fraction: z
        .number({ error: 'expected a number in (0, 1)' })
        .gt(0, { error: 'expected a number in (0, 1)' })
        .lt(1, { error: 'expected a number in (0, 1)' })
        .default(0.2)
        .meta(doc('the share of rows held out')),
      seed,
      keep,
    }),
    z.strictObject({ kind: z.literal('none').meta(doc('no held-out rows: training losses only, no λ_min')) }),
  ],
  { error: 'expected kind: kfold, holdout, column or none' },
);

const bound = z.union([z.number(), z.null()], { error: 'expected a number or null (no bound)' });
/**
 * Validation losses of a classifier with each predicted probability clipped to [c, 1 − c] (cv.glmnet's deviance clips
 * at 1e-5): set 1e-5 to reproduce cv.glmnet's curve where probabilities get that close to 0 or 1.
 */
const clipSchema = z
  .number({ error: 'expected a number in [0, 0.5), e.g. 1e-5 as cv.glmnet' })
  .min(0, { error: 'expected a number in [0, 0.5), e.g. 1e-5 as cv.glmnet' })
  .lt(0.5, { error: 'expected a number in [0, 0.5), e.g. 1e-5 as cv.glmnet' })
  .optional()
  .meta(doc("validation losses with each predicted probability clipped to [c, 1 − c]; `1e-5` reproduces cv.glmnet's deviance curve on nearly separable data", 'none (unclipped)'));
const solverSettings = {
  tol: posNumber
    .default(1e-5)
    .meta(
      doc(
        "relative accuracy of the coefficients (glmnet's `thresh` is its square); the default is the loosest whose objective at the last λ is no worse than scikit-learn's default on every bench path — tighten it (e.g. `1e-9`) to compare coefficients to 1e-6",
      ),
    ),
  max_iter: posInt.default(100000).meta(doc('passes over the features per λ; a trial that hits it is stored with `converged = 0`')),
  solver: z.enum(['cd', 'fista'], { error: 'expected cd or fista' }).default('cd').meta(doc('`cd` (coordinate descent) or `fista` (a cross-check; linear and two-class logistic)')),
  /**
   * Per feature (or per categorical column: all its indicators), a factor on its penalty (glmnet's penalty.factor,
   * rescaled to sum to the number of features); 0 leaves it unpenalized. Features not named: 1.
   */
  penalty_factor: z
    .record(z.string(), z.number({ error: 'expected a non-negative number' }).nonnegative({ error: 'expected a non-negative number' }).finite({ error: 'expected a non-negative number' }), {
      error: 'expected a map of feature name to factor, e.g. {age: 0, bmi: 2}',
    })
    .optional()
    .meta(
      doc(
        "per feature, a factor on its penalty (glmnet's `penalty.factor`, rescaled to sum to the number of features as glmnet does); `0` leaves a feature unpenalized, and λ_max of an automatic grid is computed after fitting those; a categorical column's name stands for all its indicators: `{age: 0, island: 2}` (linear with one target, two-class logistic, poisson; `cd`)",
        'every factor 1',
      ),
    ),
  /** Per feature (or categorical column), [lower, upper] on its coefficient, original scale (glmnet's lower.limits / upper.limits). */
  limits: z
    .record(
      z.string(),
      z
        .tuple([bound, bound], { error: 'expected [lower, upper], e.g. [0, null]' })
        .refine(([lo, hi]) => (lo ?? -Infinity) <= 0 && (hi ?? Infinity) >= 0, { error: 'lower must be at most 0 and upper at least 0 (as glmnet), e.g. [0, null]' }),
      { error: 'expected a map of feature name to [lower, upper]' },
    )
    .optional()
    .meta(doc("per feature (or categorical column), `[lower, upper]` on its coefficient, original scale, with lower ≤ 0 ≤ upper; `null` for no bound: `{bp: [0, null], bmi: [null, 0.5]}` (glmnet's `lower.limits` / `upper.limits`)")),
  nonnegative: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .meta(doc("every coefficient ≥ 0 (glmnet's `lower.limits = 0`); `model.limits` still bounds single features", '`false`')),
  group_categorical: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .meta(
      doc(
        "each categorical column's indicators penalized as one group — the group lasso, λ·(r·√|g|·‖β_g‖₂ + (1−r)/2·‖β_g‖²) — so a factor enters or leaves the model whole; drawn as one line (its group norm) in the path chart (linear with one target, two-class logistic, poisson)",
        '`false`',
      ),
    ),
};

/** multinomial: one group per feature across the classes (glmnet's type.multinomial = "grouped"). */
const grouped = () =>
  z.boolean({ error: 'expected true or false' }).default(false).meta(doc('more than two classes: one group per feature across the classes (glmnet\'s `type.multinomial = "grouped"`)'));

const modelSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('linear').meta(doc('least squares; several targets: mgaussian ([models](models.md#linear))')), ...solverSettings }),
    z.strictObject({
      kind: z.literal('logistic').meta(doc('two classes; more than two labels: multinomial ([models](models.md#logistic))')),
      ...solverSettings,
      clip_probabilities: clipSchema,
      grouped: grouped(),
    }),
    z.strictObject({ kind: z.literal('multinomial').meta(doc('several classes ([models](models.md#multinomial))')), ...solverSettings, grouped: grouped(), clip_probabilities: clipSchema }),
    z.strictObject({ kind: z.literal('poisson').meta(doc('counts, log link ([models](models.md#poisson))')), ...solverSettings }),
    z.strictObject({
      kind: z.literal('cox').meta(doc("survival times with censoring, proportional hazards (glmnet's `family = \"cox\"`, Breslow ties, no intercept; [models](models.md#cox)); the data name `data.time` and `data.status`")),
      ...solverSettings,
    }),
    z.strictObject({
      kind: z.literal('mlp').meta(doc("a network trained by Adam or SGD, the penalty on its weights ([models](models.md#mlp))")),
      hidden: z.array(posInt).default([]).meta(doc('hidden layer sizes; `[]` is a linear model trained by the optimizer')),
      optimizer: z.enum(['adam', 'sgd'], { error: 'expected adam or sgd' }).default('adam').meta(doc('`adam` or `sgd`')),
      lr: posNumber.default(1e-3).meta(doc('learning rate')),
      batch: posInt.default(64).meta(doc('minibatch rows')),
      epochs: posInt.default(20).meta(doc('passes over the training rows')),
      momentum: unitInterval.default(0).meta(doc('SGD momentum')),
      l2_method: z
        .enum(['coupled', 'decoupled'], { error: 'expected coupled or decoupled' })
        .default('coupled')
        .meta(doc("`coupled`: torch's `weight_decay`; `decoupled`: AdamW")),
      l1_method: z
        .enum(['subgradient', 'proximal'], { error: 'expected subgradient or proximal' })
        .default('proximal')
        .meta(doc('`subgradient`: `lam * w.abs().sum()` in the loss; `proximal`: after each step soft-threshold by λ·r times the step taken — `lr` for SGD, `lr/(√v̂+ε)` per weight for Adam — which gives exact zeros')),
      penalize_bias: z.boolean({ error: 'expected true or false' }).default(false).meta(doc('biases penalized too')),
      seed,
      early_stopping: z
        .strictObject({
          patience: posInt.default(5).meta(doc('epochs without improvement before a trial stops')),
          min_delta: z
            .number({ error: 'expected a non-negative number' })
            .nonnegative({ error: 'expected a non-negative number' })
            .default(0)
            .meta(doc('the least fall in validation loss that counts as improvement')),
        })
        .optional()
        .meta(doc("stop a trial whose validation loss has not improved for `patience` epochs; the best epoch's weights are kept", 'off')),
    }),
  ],
  { error: 'expected kind: linear, logistic, multinomial, poisson, cox or mlp' },
);

const penaltySchema = z.enum(PENALTIES, { error: 'expected none, l1, l2 or elasticnet' });

/** A single value where a list is expected is read as a one-element list (`penalty: l1`). */
const listOf = <T extends z.ZodType>(item: T) => z.preprocess((v) => (v !== undefined && v !== null && !Array.isArray(v) ? [v] : v), z.array(item).min(1, { error: 'expected a non-empty list' }));

/** Renames an old key to its new name before validation (the old spelling stays accepted). */
const renamed = <T extends z.ZodType>(from: string, to: string, schema: T) =>
  z.preprocess((v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && from in v && !(to in v)) {
      const { [from]: value, ...rest } = v as Record<string, unknown>;
      return { ...rest, [to]: value };
    }
    return v;
  }, schema);

const lambdaGridSchema = z.union(
  [
    z.array(z.number({ error: 'expected a non-negative number' }).nonnegative()).min(1),
    z.strictObject({ log_range: ascendingPair('log_range'), num: posInt }),
    z.strictObject({
      auto: posInt,
      ratio: z
        .number({ error: 'expected a number in (0, 1)' })
        .gt(0, { error: 'expected a number in (0, 1)' })
        .lt(1, { error: 'expected a number in (0, 1)' })
        .default(1e-3),
      // glmnet.control's fdev and devmax: a path ends once its deviance explained stops changing or nears 1.
      fdev: z.number({ error: 'expected a number in [0, 1); 0 turns the rule off' }).min(0, { error: 'expected a number in [0, 1); 0 turns the rule off' }).lt(1, { error: 'expected a number in [0, 1); 0 turns the rule off' }).default(1e-5),
      devmax: z.number({ error: 'expected a number in (0, 1]; 1 turns the rule off' }).gt(0, { error: 'expected a number in (0, 1]; 1 turns the rule off' }).max(1, { error: 'expected a number in (0, 1]; 1 turns the rule off' }).default(0.999),
    }),
  ],
  { error: 'expected a list of numbers, {log_range: [low, high], num: N} or {auto: N, ratio: r}' },
);

const perPenaltyGridSchema = z
  .strictObject({ l1: lambdaGridSchema.optional(), l2: lambdaGridSchema.optional(), elasticnet: lambdaGridSchema.optional() })
  .refine((m) => Object.keys(m).length > 0, { error: 'expected a grid for at least one penalty' });

const isPerPenalty = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k === 'l1' || k === 'l2' || k === 'elasticnet');

/**
 * One grid for every penalty, or a grid per penalty ({l1: {auto: 100}, l2: {log_range: [1e-2, 1e4], num: 50}}): the
 * form is told by the keys, so a mistake is reported against the form that was meant.
 */
const lambdaSchema = z.unknown().transform((value, ctx): z.infer<typeof lambdaGridSchema> | z.infer<typeof perPenaltyGridSchema> => {
  const result = isPerPenalty(value) ? perPenaltyGridSchema.safeParse(value) : lambdaGridSchema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

/** Schemas reached only through a transform, for the key names "did you mean" knows. */
export const HIDDEN_SCHEMAS = [perPenaltyGridSchema];

/** The network settings a sweep may vary, each with the schema of one value. */
const NETWORK_SETTINGS = {
  hidden: z.array(posInt, { error: 'expected a list of layer sizes, e.g. [32]' }),
  optimizer: z.enum(['adam', 'sgd'], { error: 'expected adam or sgd' }),
  lr: posNumber,
  batch: posInt,
  epochs: posInt,
  momentum: unitInterval,
  l2_method: z.enum(['coupled', 'decoupled'], { error: 'expected coupled or decoupled' }),
  l1_method: z.enum(['subgradient', 'proximal'], { error: 'expected subgradient or proximal' }),
  penalize_bias: z.boolean({ error: 'expected true or false' }),
  seed: nonNegInt,
};
type NetworkSettingName = keyof typeof NETWORK_SETTINGS;

/** A grid varies each setting over a list of values (a single value is a list of one). */
const gridSettingsSchema = z.strictObject(
  Object.fromEntries(Object.entries(NETWORK_SETTINGS).map(([k, v]) => [k, (k === 'hidden' ? z.array(v).min(1, { error: 'expected a non-empty list' }) : listOf(v)).optional()])) as {
    [K in NetworkSettingName]: z.ZodOptional<z.ZodArray<(typeof NETWORK_SETTINGS)[K]>>;
  },
);

type RandomSetting<T> = { choice: T[] } | { uniform: [number, number] } | { log_uniform: [number, number] };

/** A random sweep draws each setting: {choice: [...]} (or a list), and numbers also {uniform: [a, b]} or {log_uniform: [a, b]}. */
const randomSettingSchema = <T extends z.ZodType>(value: T, numeric: boolean) => {
  const choice = z.strictObject({ choice: z.array(value).min(1, { error: 'expected a non-empty list' }) });
  const list = z.array(value).min(1, { error: 'expected a non-empty list' }).transform((values) => ({ choice: values }));
  return numeric
    ? z.union([choice, list, z.strictObject({ uniform: ascendingPair('uniform') }), z.strictObject({ log_uniform: ascendingPair('log_uniform') })], {
        error: 'expected {choice: [...]}, {uniform: [low, high]} or {log_uniform: [low, high]}',
      })
    : z.union([choice, list], { error: 'expected {choice: [...]} or a list of values' });
};
const randomSettingsSchema = z.strictObject(
  Object.fromEntries(Object.entries(NETWORK_SETTINGS).map(([k, v]) => [k, randomSettingSchema(v, k === 'lr' || k === 'momentum').optional()])) as unknown as {
    [K in NetworkSettingName]: z.ZodOptional<z.ZodType<RandomSetting<z.infer<(typeof NETWORK_SETTINGS)[K]>>>>;
  },
);

/** What a sweep that draws its points (random, tpe) says about them. */
const drawnFields = {
      points: posInt.meta(doc('points to draw')),
      seed,
      penalty: listOf(penaltySchema).default(['elasticnet']).meta(doc('the penalties points are drawn for')),
      lambda: z.strictObject({ log_uniform: ascendingPair('log_uniform') }).meta(doc('`{log_uniform: [lo, hi]}`', 'required')),
      l1_ratio: z
        .strictObject({
          uniform: z
            .tuple([unitInterval, unitInterval], { error: 'expected [low, high] in [0, 1]' })
            .refine(([lo, hi]) => lo <= hi, { error: 'low must not be above high' }),
        })
        .default({ uniform: [0, 1] })
        .meta(doc("the elastic net's l1 ratio, `{uniform: [lo, hi]}`", '`{uniform: [0, 1]}`')),
      model: randomSettingsSchema
        .optional()
        .meta(doc('network settings drawn per point: `{lr: {log_uniform: [1e-4, 1e-1]}, hidden: {choice: [[], [32]]}}` (numbers also `{uniform: [a, b]}`)')),
      prune: z
        .strictObject({
          min_epochs: posInt.default(5).meta(doc('the first rung')),
          reduction: posInt.refine((r) => r >= 2, { error: 'expected an integer of at least 2' }).default(3).meta(doc('1/reduction of the trials go on at each rung')),
        })
        .optional()
        .meta(
          doc(
            'random network sweeps: successive halving — at epochs min_epochs·reduction^k a trial whose validation loss is not among the best 1/reduction of those that reached that epoch before it stops there (status `pruned`, its curve kept, left out of the selection); on PostgreSQL the processes exchange their losses every 250 ms ([what differs](distributed.md#not-the-same-as-on-one-machine))',
            'off',
          ),
        ),
};

const sweepKinds = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('grid').meta(doc('every penalty × l1 ratio × λ (× network setting), each λ path warm-started as glmnet')),
      penalty: listOf(penaltySchema)
        .default(['l1', 'l2', 'elasticnet'])
        .meta(doc('any of `l1`, `l2`, `elasticnet` (at each `l1_ratio`), `none` (λ = 0); one name alone is a list of one')),
      lambda: lambdaSchema.meta(
        doc(
          "a list, `{log_range: [lo, hi], num}`, or `{auto: N, ratio: r}`: N values from λ_max (on all rows) down to r·λ_max (ridge: a grid spanning the effective degrees of freedom 0.5 … p − 0.5, [see models](models.md#automatic-λ-grids)); or one of these per penalty: `{l1: {auto: 100}, l2: {log_range: [1e-2, 1e4], num: 50}}`. An automatic path ends early as glmnet's do ([see models](models.md#where-a-path-stops)): after 5 λ, once its fraction of deviance explained changes by less than `fdev` between λ (default `1e-5`; relative for linear models, over 5 λ and 10× for poisson) or exceeds `devmax` (default `0.999`); `{auto: 100, fdev: 0, devmax: 1}` fits every λ",
          'required',
        ),
      ),
      l1_ratio: listOf(unitInterval).default([0.5]).meta(doc("the elastic net's mix of L1 in the penalty (scikit-learn's `l1_ratio`, glmnet's `alpha`)")),
      extend: nonNegInt
        .default(2)
        .meta(doc('when the best λ is on the edge of the grid, `run` extends the grid by a decade at its own spacing (warm-started from the edge) up to this many times; `0`: only say so')),
      gamma: listOf(unitInterval)
        .optional()
        .meta(
          doc(
            "the relaxed lasso (glmnet's `relax = TRUE`): for each λ of an `l1` or `elasticnet` path, the unpenalized refit on the features the path has nonzero there, blended γ·(penalized fit) + (1 − γ)·(refit) — each γ a sweep dimension (`gamma=0.5` in exports), chosen jointly with λ by cross-validation as `cv.glmnet(relax = TRUE)`; γ = 1 (the plain path) is always added. linear with one target, two-class logistic, poisson, cox ([models](models.md#the-relaxed-lasso))",
            'none (not relaxed)',
          ),
        ),
      model: gridSettingsSchema
        .optional()
        .meta(
          doc(
            "network settings as sweep dimensions (model.kind mlp): `{l1_method: [subgradient, proximal], l2_method: [coupled, decoupled], lr: [1e-3, 3e-3]}` — every combination a penalty can use (l1_method only with an L1 part, l2_method only with an L2 part); any of `hidden`, `optimizer`, `lr`, `batch`, `epochs`, `momentum`, `l2_method`, `l1_method`, `penalize_bias`, `seed`. Each becomes a column in exports and `query --best`; the report compares them",
          ),
        ),
    }),
    z.strictObject({
      kind: z.literal('random').meta(doc('points drawn at random, each fitted once per fold')),
      ...drawnFields,
    }),
    z.strictObject({
      kind: z
        .literal('tpe')
        .meta(doc("points proposed by the tree-structured Parzen estimator (Optuna's default sampler) from the points finished so far, after `startup` random ones ([models](models.md#tpe))")),
      ...drawnFields,
      startup: posInt.default(10).meta(doc('random points before the estimator proposes (Optuna\'s `n_startup_trials`)')),
      batch: posInt
        .optional()
        .meta(doc('points proposed at a time (the ones in flight count as bad while the next are chosen: a constant liar), so that the workers stay busy', 'workers')),
      multivariate: z
        .boolean()
        .default(true)
        .meta(
          doc(
            "draw the parameters seen together jointly, one product kernel per point (Optuna's `multivariate=True, group=True`), so a λ good with L1 is not mixed with one good with L2; `false`: each parameter on its own, as Optuna's default sampler ([models](models.md#tpe))",
          ),
        ),
    }),
  ],
  { error: 'expected kind: grid, random or tpe' },
);
const sweepSchema = renamed('trials', 'points', sweepKinds);

export const configSchema = z.strictObject({
  name: z
    .string({ error: 'expected a name' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected letters, digits, ".", "_" or "-"' })
    .meta(doc('the sweep\'s name (letters, digits, `.`, `_`, `-`)')),
  data: dataSchema.meta(doc('what is fitted')),
  validation: validationSchema
    .default({ kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 1, seed: 0, keep: false })
    .meta(doc('how rows are held out to measure each fit: `kind` `kfold`, `column`, `holdout` or `none`', '5-fold, shuffled')),
  model: modelSchema.default({ kind: 'linear', tol: 1e-5, max_iter: 100000, solver: 'cd' }).meta(doc('the model: `kind` `linear`, `logistic`, `multinomial`, `poisson`, `cox` or `mlp`', '`linear`')),
  sweep: sweepSchema.meta(doc('the hyperparameters swept: `kind` `grid`, `random` or `tpe`')),
  near_zero: posNumber
    .default(1e-3)
    .meta(doc("a coefficient counts as near zero in the sparsity figures when |w × its feature's sd| is below this (on the standardized scale, so a unit does not decide it; a network's weights as they are)")),
  workers: posInt.default(() => availableParallelism()).meta(doc('worker threads (a sweep with fewer paths than workers splits each Gram matrix with a helper thread instead)', 'the cores')),
  output: z
    .string({ error: 'expected a file path' })
    .min(1)
    .optional()
    .meta(doc('the database: a path relative to the sweep file, or a `postgres://` URL', '`results/<name>.db` beside the sweep file')),
});

export type SweepConfig = z.infer<typeof configSchema>;
export type ModelConfig = SweepConfig['model'];
export type ValidationConfig = SweepConfig['validation'];
export type SweepSpec = SweepConfig['sweep'];
export type LambdaGrid = z.infer<typeof lambdaGridSchema>;
