// The TPE sampler (src/plan/tpe.ts) on known objectives: it finds the minimum faster than uniform draws, over seeds.
import { describe, expect, it } from 'vitest';
import { drawUniform, proposeTpe, type Dimension, type Observation } from '../../src/plan/tpe.js';
import { Rng } from '../../src/util/random.js';

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** The best loss after `trials` points: the first `startup` uniform, then TPE (or uniform throughout). */
function bestAfter(space: [string, Dimension][], objective: (p: Record<string, number>) => number, trials: number, seed: number, tpe: boolean, multivariate = false): number {
  const rng = new Rng(seed);
  const seen: Observation[] = [];
  for (let t = 0; t < trials; t++) {
    const point = tpe && t >= 10 ? proposeTpe(space, seen, rng, undefined, multivariate) : drawUniform(space, rng);
    seen.push({ values: point, loss: objective(point) });
  }
  return Math.min(...seen.map((o) => o.loss));
}

describe('the TPE sampler', () => {
  it('on a 2-D bowl (one axis on a log scale) it beats uniform draws at 40 trials, in the median over 15 seeds and in most seeds', () => {
    const space: [string, Dimension][] = [
      ['x', { kind: 'float', low: -5, high: 5, log: false }],
      ['lr', { kind: 'float', low: 1e-5, high: 1, log: true }],
    ];
    const objective = (p: Record<string, number>) => (p.x - 1.3) ** 2 + (Math.log10(p.lr) + 2.5) ** 2;
    const seeds = Array.from({ length: 15 }, (_, s) => s + 1);
    const tpe = seeds.map((s) => bestAfter(space, objective, 40, s, true));
    const uniform = seeds.map((s) => bestAfter(space, objective, 40, s, false));
    expect(median(tpe)).toBeLessThan(median(uniform) / 2);
    expect(tpe.filter((b, i) => b < uniform[i]).length).toBeGreaterThanOrEqual(11);
  });

  it('multivariate: on a narrow valley along x = y it beats the independent sampler (each axis alone cannot see the valley)', () => {
    const space: [string, Dimension][] = [
      ['x', { kind: 'float', low: -5, high: 5, log: false }],
      ['y', { kind: 'float', low: -5, high: 5, log: false }],
    ];
    const objective = (p: Record<string, number>) => 10 * (p.x - p.y) ** 2 + 0.1 * (p.x + p.y - 4) ** 2;
    const seeds = Array.from({ length: 25 }, (_, s) => s + 1);
    for (const trials of [30, 50]) {
      const joint = seeds.map((s) => bestAfter(space, objective, trials, s, true, true));
      const alone = seeds.map((s) => bestAfter(space, objective, trials, s, true, false));
      expect(median(joint)).toBeLessThan(0.7 * median(alone));
      expect(joint.filter((b, i) => b < alone[i]).length).toBeGreaterThanOrEqual(13);
    }
  });

  it('learns a categorical choice: the good one is proposed most once the startup has seen it', () => {
    const space: [string, Dimension][] = [
      ['method', { kind: 'choice', count: 3 }],
      ['x', { kind: 'float', low: 0, high: 1, log: false }],
    ];
    const objective = (p: Record<string, number>) => (p.method === 2 ? 0 : 1) + (p.x - 0.5) ** 2;
    const rng = new Rng(5);
    const seen: Observation[] = [];
    for (let t = 0; t < 40; t++) {
      const point = t >= 10 ? proposeTpe(space, seen, rng) : drawUniform(space, rng);
      seen.push({ values: point, loss: objective(point) });
    }
    const later = seen.slice(20).filter((o) => o.values.method === 2).length;
    expect(later).toBeGreaterThanOrEqual(15);
  });

  it('is deterministic for a seed, and a dimension that does not apply is left out', () => {
    const space: [string, Dimension][] = [
      ['penalty', { kind: 'choice', count: 2 }],
      ['l1_ratio', { kind: 'float', low: 0, high: 1, log: false }],
    ];
    const applies = (name: string, point: Record<string, number>) => name !== 'l1_ratio' || point.penalty === 1;
    const seen: Observation[] = Array.from({ length: 12 }, (_, i) => ({ values: { penalty: i % 2, ...(i % 2 ? { l1_ratio: i / 12 } : {}) }, loss: i }));
    for (const multivariate of [false, true]) {
      const a = proposeTpe(space, seen, new Rng(3), applies, multivariate);
      const b = proposeTpe(space, seen, new Rng(3), applies, multivariate);
      expect(a).toEqual(b);
      if (a.penalty === 0) expect(a).not.toHaveProperty('l1_ratio');
      else expect(a.l1_ratio).toBeGreaterThanOrEqual(0);
    }
    // Over many draws both penalties come up, and the l1 ratio only with the elastic net (its own group, as it is seen with penalty 1 only).
    const draws = Array.from({ length: 40 }, (_, k) => proposeTpe(space, seen, new Rng(100 + k), applies, true));
    expect(new Set(draws.map((d) => d.penalty)).size).toBe(2);
    for (const d of draws) expect('l1_ratio' in d).toBe(d.penalty === 1);
  });
});
