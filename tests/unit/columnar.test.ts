// Parquet and Arrow input, against the CSV the fixtures were made from (tests/fixtures/make_columnar_fixtures.mjs:
// DuckDB wrote the Parquet file, Apache Arrow's library the Arrow file).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadColumnar, streamColumnarRecords } from '../../src/data/columnar.js';
import { loadCsv } from '../../src/data/csv.js';
import { UserError } from '../../src/errors.js';
import { FIXTURES, ROOT } from '../helpers.js';

const options = { target: 'diagnosis', classification: true } as const;

describe('Parquet and Arrow files', () => {
  it.each(['breast_cancer.parquet', 'breast_cancer.arrow'])('%s: floats, int32, int64, booleans and a dictionary-encoded label, as the CSV reads them', async (file) => {
    const csv = await loadCsv(join(ROOT, 'data', 'breast_cancer.csv'), options);
    const data = await loadColumnar(join(FIXTURES, file), options);
    expect(data.X.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([data.n, data.p]).toEqual([569, 33]);
    expect(data.featureNames).toEqual([...csv.featureNames, 'visits', 'smoker', 'biopsy_id']);
    // The 30 float columns: the same doubles as this project's CSV parser reads (DuckDB's parser rounds correctly too).
    expect(Array.from(data.X.subarray(0, 30 * 569))).toEqual(Array.from(csv.X));
    const column = (name: string) => Array.from(data.X.subarray(data.featureNames.indexOf(name) * 569, (data.featureNames.indexOf(name) + 1) * 569));
    const rows = Array.from({ length: 569 }, (_, i) => i);
    expect(column('visits')).toEqual(rows.map((i) => (i + 1) % 7));
    expect(column('smoker')).toEqual(rows.map((i) => (csv.X[i] > 15 ? 1 : 0)));
    expect(column('biopsy_id')).toEqual(rows.map((i) => 1_000_000_000_001 + i));
    expect(data.classes).toEqual(csv.classes);
    expect(Array.from(data.y)).toEqual(Array.from(csv.y));
    expect(data.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the Parquet file and the Arrow file of the same table give the same arrays and the same content hash', async () => {
    const parquet = await loadColumnar(join(FIXTURES, 'breast_cancer.parquet'), options);
    const arrow = await loadColumnar(join(FIXTURES, 'breast_cancer.arrow'), options);
    expect(Array.from(arrow.X)).toEqual(Array.from(parquet.X));
    expect(arrow.featureNames).toEqual(parquet.featureNames);
  });

  it('a null is an error naming its column and row; text is not a feature; a missing target is named', async () => {
    const error = (p: Promise<unknown>) => p.then(() => 'loaded', (e: Error) => (e instanceof UserError ? e.message : `not a UserError: ${e.message}`));
    expect(await error(loadColumnar(join(FIXTURES, 'with_null.parquet'), { ...options, displayName: 'with_null.parquet' }))).toBe(
      "with_null.parquet: column \"mean_texture\", row 3: missing value (null); set data.missing to drop (drop such rows), or mean, median or most_frequent (fill a feature's gaps)",
    );
    expect(await error(loadColumnar(join(FIXTURES, 'breast_cancer.parquet'), { target: 'mean_radius', displayName: 'b.parquet', categorical: 'none' }))).toBe(
      'b.parquet: column "diagnosis" holds text; only a label (the target of a logistic or multinomial model), a fold column (validation.column) or a category (data.categorical is none) may',
    );
    // With data.categorical auto (the default) the text feature is a category: an indicator per label.
    const categories = await loadColumnar(join(FIXTURES, 'breast_cancer.parquet'), { target: 'mean_radius', displayName: 'b.parquet' });
    expect(categories.featureNames.filter((f) => f.startsWith('diagnosis='))).toEqual(['diagnosis=benign', 'diagnosis=malignant']);
    expect(await error(loadColumnar(join(FIXTURES, 'breast_cancer.arrow'), { target: 'label', classification: true, displayName: 'b.arrow' }))).toMatch(
      /^b\.arrow: target column "label" is not in the header \(columns: mean_radius, /,
    );
    expect(await error(loadColumnar(join(ROOT, 'data', 'breast_cancer.csv').replace(/\.csv$/, '.parquet'), options))).toMatch(/cannot read the data file \(no such file\)/);
    expect(await error(loadColumnar(join(FIXTURES, 'breast_cancer.csv').replace('breast_cancer.csv', 'glmnet_gaussian.json').replace('.json', '.parquet'), options))).toMatch(/no such file/);
  });

  it('a file that is not Parquet says so', async () => {
    const { writeFile, tempDir } = await import('../helpers.js');
    const fake = writeFile(tempDir(), 'fake.parquet', 'a,b\n1,2\n');
    await expect(loadColumnar(fake, { displayName: 'fake.parquet' })).rejects.toThrow(/^fake\.parquet: not a Parquet file \(it does not start with "PAR1"\)/);
    const fakeArrow = writeFile(tempDir(), 'fake.arrow', 'a,b\n1,2\n');
    await expect(loadColumnar(fakeArrow, { displayName: 'fake.arrow' })).rejects.toThrow(/^fake\.arrow: /);
    // predict reads through the same openers: the same one line, not a failure inside apache-arrow.
    const handlers = { header: () => undefined, record: () => undefined };
    await expect(streamColumnarRecords(fakeArrow, 'fake.arrow', handlers)).rejects.toThrow(new UserError('fake.arrow: not an Arrow IPC (Feather v2) file'));
    await expect(streamColumnarRecords(fake, 'fake.parquet', handlers)).rejects.toThrow(/^fake\.parquet: not a Parquet file \(it does not start with "PAR1"\)/);
  });
});
