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
const seed = nonNegInt.default(0);

const ascendingPair = (what: string) =>
  z
    .tuple([posNumber, posNumber], { error: `expected [low, high], two positive numbers` })
    .refine(([lo, hi]) => lo < hi, { error: `${what}: low must be below high` });

const syntheticSchema = z.strictObject({
  kind: z.enum(['regression', 'classification', 'counts'], { error: 'expected regression, classification or counts' }),
  /** Classes of classification data (more than two: a multinomial target). */
  classes: posInt.refine((k) => k >= 2, { error: 'expected an integer of at least 2' }).default(2),
  n: posInt,
  p: posInt,
  nonzero: nonNegInt.optional(),
  rho: z
    .number({ error: 'expected a number in [0, 1)' })
    .min(0, { error: 'expected a number in [0, 1)' })
    .lt(1, { error: 'expected a number in [0, 1)' })
    .default(0),
  snr: posNumber.default(3),
  /** A fixed noise sd instead of one set by snr. */
  noise_sd: z.number({ error: 'expected a non-negative number' }).nonnegative({ error: 'expected a non-negative number' }).optional(),
  outputs: posInt.default(1),
  seed,
});

const dataSchema = z
  .strictObject({
    path: z.string({ error: 'expected a file path' }).min(1).optional(),
    synthetic: syntheticSchema.optional(),
    target: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: 'expected a column name or a list of column names',
      })
      .optional(),
    standardize: z.boolean({ error: 'expected true or false' }).default(true),
    /**
     * For classification: the labels in the order of the coded classes ([negative, positive] for two); default: the
     * labels sorted (numeric 0/1 keep their meaning).
     */
    classes: z.array(z.string(), { error: 'expected a list of labels, e.g. [negative, positive]' }).min(2, { error: 'expected at least two labels' }).optional(),
    /** For poisson models: a column added to the linear predictor (log exposure); not a feature. */
    offset: z.string({ error: 'expected a column name' }).min(1).optional(),
    /** A column of non-negative observation weights (glmnet's weights); not a feature. */
    weights: z.string({ error: 'expected a column name' }).min(1).optional(),
    /**
     * Feature columns read as categories, one indicator column per level: auto (every text column), none (text is an
     * error), or a list of names (integer-coded columns too).
     */
    categorical: z
      .union([z.enum(['auto', 'none']), z.array(z.string().min(1)).min(1)], { error: 'expected auto, none or a list of column names' })
      .default('auto'),
    /** none: an indicator for every level (a penalized model wants them all); first: the first level has none, as R's model.matrix. */
    drop: z.enum(['none', 'first'], { error: 'expected none or first' }).default('none'),
    /** The most levels a categorical column may have. */
    max_levels: posInt.default(100),
    /** Columns of the file that are not features (an id, free text, a leak): read past. */
    ignore: z.array(z.string().min(1), { error: 'expected a list of column names' }).optional(),
    /** Cells read as missing. */
    na_values: z.array(z.string(), { error: 'expected a list of strings' }).default([...NA_VALUES]),
    /** error, drop (rows with a missing target or feature), or fill a feature's gaps from each fold's training rows. */
    missing: z.enum(MISSING_RULES, { error: 'expected error, drop, mean, median or most_frequent' }).default('error'),
    /** With a fill rule: an indicator column (1 = missing) for each feature column that has gaps. */
    missing_indicator: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .superRefine((d, ctx) => {
    if ((d.path === undefined) === (d.synthetic === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of data.path or data.synthetic', path: [] });
  });

/** cv.glmnet's keep: every validation fit's out-of-fold predictions stored (export --table predictions). */
const keep = z.boolean({ error: 'expected true or false' }).default(false);

const validationSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('kfold'),
      folds: posInt.refine((k) => k >= 2, { error: 'expected an integer of at least 2' }).default(5),
      shuffle: z.boolean({ error: 'expected true or false' }).default(true),
      /** Keep each class's share in every fold (classification), as scikit-learn's StratifiedKFold. */
      stratify: z.boolean({ error: 'expected true or false' }).default(false),
      /** Repeated cross-validation: the folds drawn again this many times with seeds seed, seed + 1, …. */
      repeats: posInt.default(1),
      seed,
      keep,
    }),
    z.strictObject({
      kind: z.literal('column'),
      /** A column of the data holding each row's fold (integers or strings); it is not a feature. */
      column: z.string({ error: 'expected a column name' }).min(1),
      keep,
    }),
    z.strictObject({
      kind: z.literal('holdout'),
      /** false: the last fraction of the rows (in file order) is held out, e.g. for time-ordered data. */
      shuffle: z.boolean({ error: 'expected true or false' }).default(true),
      fraction: z
        .number({ error: 'expected a number in (0, 1)' })
        .gt(0, { error: 'expected a number in (0, 1)' })
        .lt(1, { error: 'expected a number in (0, 1)' })
        .default(0.2),
      seed,
      keep,
    }),
    z.strictObject({ kind: z.literal('none') }),
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
  .optional();
const solverSettings = {
  /** The loosest tolerance whose objective at the last λ is no worse than scikit-learn's default on every bench path. */
  tol: posNumber.default(1e-5),
  max_iter: posInt.default(100000),
  solver: z.enum(['cd', 'fista'], { error: 'expected cd or fista' }).default('cd'),
  /**
   * Per feature (or per categorical column: all its indicators), a factor on its penalty (glmnet's penalty.factor,
   * rescaled to sum to the number of features); 0 leaves it unpenalized. Features not named: 1.
   */
  penalty_factor: z
    .record(z.string(), z.number({ error: 'expected a non-negative number' }).nonnegative({ error: 'expected a non-negative number' }).finite({ error: 'expected a non-negative number' }), {
      error: 'expected a map of feature name to factor, e.g. {age: 0, bmi: 2}',
    })
    .optional(),
  /** Per feature (or categorical column), [lower, upper] on its coefficient, original scale (glmnet's lower.limits / upper.limits). */
  limits: z
    .record(
      z.string(),
      z
        .tuple([bound, bound], { error: 'expected [lower, upper], e.g. [0, null]' })
        .refine(([lo, hi]) => (lo ?? -Infinity) <= 0 && (hi ?? Infinity) >= 0, { error: 'lower must be at most 0 and upper at least 0 (as glmnet), e.g. [0, null]' }),
      { error: 'expected a map of feature name to [lower, upper]' },
    )
    .optional(),
  /** Every coefficient ≥ 0 (glmnet's lower.limits = 0); model.limits may still bound single features. */
  nonnegative: z.boolean({ error: 'expected true or false' }).optional(),
  /** Each categorical column's indicators penalized as one group (the group lasso, scaled by √(group size)). */
  group_categorical: z.boolean({ error: 'expected true or false' }).optional(),
};

const modelSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('linear'), ...solverSettings }),
    z.strictObject({
      kind: z.literal('logistic'),
      ...solverSettings,
      clip_probabilities: clipSchema,
      /** With more than two classes: one group per feature across the classes (glmnet's type.multinomial = "grouped"). */
      grouped: z.boolean({ error: 'expected true or false' }).default(false),
    }),
    z.strictObject({ kind: z.literal('multinomial'), ...solverSettings, grouped: z.boolean({ error: 'expected true or false' }).default(false), clip_probabilities: clipSchema }),
    z.strictObject({ kind: z.literal('poisson'), ...solverSettings }),
    z.strictObject({
      kind: z.literal('mlp'),
      hidden: z.array(posInt).default([]),
      optimizer: z.enum(['adam', 'sgd'], { error: 'expected adam or sgd' }).default('adam'),
      lr: posNumber.default(1e-3),
      batch: posInt.default(64),
      epochs: posInt.default(20),
      momentum: unitInterval.default(0),
      l2_method: z.enum(['coupled', 'decoupled'], { error: 'expected coupled or decoupled' }).default('coupled'),
      l1_method: z.enum(['subgradient', 'proximal'], { error: 'expected subgradient or proximal' }).default('proximal'),
      penalize_bias: z.boolean({ error: 'expected true or false' }).default(false),
      seed,
      /** Stop a trial whose validation loss has not improved for `patience` epochs; the best epoch's weights are kept. */
      early_stopping: z
        .strictObject({
          patience: posInt.default(5),
          min_delta: z.number({ error: 'expected a non-negative number' }).nonnegative({ error: 'expected a non-negative number' }).default(0),
        })
        .optional(),
    }),
  ],
  { error: 'expected kind: linear, logistic, multinomial, poisson or mlp' },
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

const sweepKinds = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('grid'),
      penalty: listOf(penaltySchema).default(['l1', 'l2', 'elasticnet']),
      lambda: lambdaSchema,
      l1_ratio: listOf(unitInterval).default([0.5]),
      /** When λ_min sits on an edge of the grid after a run, extend the grid past it by a decade, up to this many times. */
      extend: nonNegInt.default(2),
      /** Network settings as sweep dimensions: every combination is swept (those a penalty can use). */
      model: gridSettingsSchema.optional(),
    }),
    z.strictObject({
      kind: z.literal('random'),
      /** Points of the sweep to draw; each is fitted once per fold (`trials:` is the old name). */
      points: posInt,
      seed,
      penalty: listOf(penaltySchema).default(['elasticnet']),
      lambda: z.strictObject({ log_uniform: ascendingPair('log_uniform') }),
      l1_ratio: z
        .strictObject({
          uniform: z
            .tuple([unitInterval, unitInterval], { error: 'expected [low, high] in [0, 1]' })
            .refine(([lo, hi]) => lo <= hi, { error: 'low must not be above high' }),
        })
        .default({ uniform: [0, 1] }),
      /** Network settings drawn per point. */
      model: randomSettingsSchema.optional(),
      /**
       * Successive halving for networks: at epochs min_epochs·reduction^k a trial whose validation loss is not among
       * the best 1/reduction of those that reached that epoch before it stops there (status pruned).
       */
      prune: z
        .strictObject({
          min_epochs: posInt.default(5),
          reduction: posInt.refine((r) => r >= 2, { error: 'expected an integer of at least 2' }).default(3),
        })
        .optional(),
    }),
  ],
  { error: 'expected kind: grid or random' },
);
const sweepSchema = renamed('trials', 'points', sweepKinds);

export const configSchema = z.strictObject({
  name: z
    .string({ error: 'expected a name' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected letters, digits, ".", "_" or "-"' }),
  data: dataSchema,
  validation: validationSchema.default({ kind: 'kfold', folds: 5, shuffle: true, stratify: false, repeats: 1, seed: 0, keep: false }),
  model: modelSchema.default({ kind: 'linear', tol: 1e-5, max_iter: 100000, solver: 'cd' }),
  sweep: sweepSchema,
  /** |w| below this counts as near zero in the sparsity figures. */
  near_zero: posNumber.default(1e-3),
  workers: posInt.default(() => availableParallelism()),
  output: z.string({ error: 'expected a file path' }).min(1).optional(),
});

export type SweepConfig = z.infer<typeof configSchema>;
export type ModelConfig = SweepConfig['model'];
export type ValidationConfig = SweepConfig['validation'];
export type SweepSpec = SweepConfig['sweep'];
export type LambdaGrid = z.infer<typeof lambdaGridSchema>;
