// Fill values of data.missing, computed plainly here: mean, median (even and odd counts), most frequent (ties to the
// smallest, as scikit-learn's SimpleImputer), and a category's most frequent level with and without its first level.
import { describe, expect, it } from 'vitest';
import { applyFill, fillValue, numericFill, type FillGroup } from '../../src/data/imputation.js';

describe('fill values', () => {
  it('mean, median and most frequent of the present values', () => {
    expect(numericFill([1, 2, 6], 'mean')).toBe(3);
    expect(numericFill([5, 1, 3], 'median')).toBe(3);
    expect(numericFill([4, 1, 3, 2], 'median')).toBe(2.5);
    expect(numericFill([7, 2, 7, 2, 9], 'most_frequent')).toBe(2);
    expect(numericFill([], 'mean')).toBe(0);
  });

  it("a category's most frequent level among the rows of positive weight, then written into its gaps", () => {
    // 3 levels, the first dropped (drop: first): columns are levels 1 and 2; a row of zeros is level 0.
    const n = 6;
    const X = new Float64Array([
      // level 1 column
      1, 0, 0, NaN, 0, 1,
      // level 2 column
      0, 0, 0, NaN, 1, 0,
    ]);
    const group: FillGroup = { rule: 'most_frequent', kind: 'categorical', columns: [0, 1], dropFirst: true, rows: Int32Array.from([3]) };
    // Rows 0..5: levels 1, 0, 0, gap, 2, 1. All rows: level 0 and 1 tie (2 each): the first, 0.
    expect(fillValue(group, X, n, null)).toBe(0);
    // Without rows 1 and 2 (weight 0), level 1 is the most frequent.
    expect(fillValue(group, X, n, Float64Array.from([1, 0, 0, 1, 1, 1]))).toBe(1);
    const filled = Float64Array.from(X);
    applyFill(group, filled, n, 2);
    expect([filled[3], filled[n + 3]]).toEqual([0, 1]);
    applyFill(group, filled, n, 0);
    expect([filled[3], filled[n + 3]]).toEqual([0, 0]);
  });
});
