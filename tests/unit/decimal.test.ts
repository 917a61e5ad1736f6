// parseDecimal against Number(), which V8 rounds correctly: every number it returns must be Number()'s, bit for bit.
import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../../src/data/decimal.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');
/** parseDecimal's answer, or undefined when it leaves the text to Number(). */
function parsed(s: string): number | undefined {
  const b = bytes(s);
  const v = parseDecimal(b, 0, b.length);
  return Number.isNaN(v) ? undefined : v;
}

/** A deterministic generator (xorshift), so that a failure can be reproduced. */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('decimal text to double', () => {
  it('equals Number() on the shortest text of 300 000 random doubles, and decides nearly all of them itself', () => {
    const next = random(7);
    const view = new DataView(new ArrayBuffer(8));
    let decided = 0;
    const total = 300_000;
    for (let k = 0; k < total; k++) {
      // Values of every magnitude a data column holds: random bits in the exponent range 1e-12 … 1e12, and uniform draws.
      let v: number;
      if (k % 2 === 0) {
        view.setUint32(0, (0x3d7 + Math.floor(next() * (0x428 - 0x3d7))) << 20 | Math.floor(next() * 2 ** 20));
        view.setUint32(4, Math.floor(next() * 2 ** 32));
        v = view.getFloat64(0) * (next() < 0.5 ? -1 : 1);
      } else v = (next() - 0.5) * 10 ** Math.floor(next() * 8);
      const text = String(v);
      const got = parsed(text);
      if (got !== undefined) {
        decided++;
        if (!Object.is(got, Number(text))) throw new Error(`${text}: ${got} against Number()'s ${Number(text)}`);
      }
    }
    expect(decided / total).toBeGreaterThan(0.95);
  });

  it('equals Number() on random digit strings of 1 to 19 digits, with points and exponents', () => {
    const next = random(11);
    let decided = 0;
    for (let k = 0; k < 200_000; k++) {
      const length = 1 + Math.floor(next() * 19);
      let digits = '';
      for (let d = 0; d < length; d++) digits += String(Math.floor(next() * 10));
      const at = Math.floor(next() * (length + 1));
      let text = next() < 0.7 ? `${digits.slice(0, at)}.${digits.slice(at)}` : digits;
      if (text === '.') text = '0.';
      if (next() < 0.3) text += `e${Math.floor(next() * 120) - 60}`;
      if (next() < 0.3) text = '-' + text;
      const got = parsed(text);
      if (got !== undefined) {
        decided++;
        if (!Object.is(got, Number(text))) throw new Error(`${text}: ${got} against Number()'s ${Number(text)}`);
      }
    }
    expect(decided).toBeGreaterThan(150_000);
  });

  it('rounds halfway cases to even and keeps the sign of zero', () => {
    // 2^53 + 1 lies halfway between two doubles; 2^53 + 3 too (rounds up to even).
    for (const text of ['9007199254740993', '9007199254740995', '9007199254740993.0000001', '0.1', '0.3', '1e22', '1e-22', '4.35', '2.675', '123456789012345678e-3', '-0', '-0.000', '+0', '0.000001234500000', ' 1.5 ', '\t-2e3'])
      if (parsed(text) !== undefined) expect(Object.is(parsed(text), Number(text)), text).toBe(true);
    expect(Object.is(parsed('-0.0'), -0)).toBe(true);
    // A true halfway case is left to Number(); a digit past it decides.
    expect(parsed('9007199254740993')).toBeUndefined();
    expect(parsed('9007199254740993.1')).toBe(9007199254740994);
  });

  it('leaves anything that is not a plain decimal to Number() and the checks around it', () => {
    for (const text of ['', ' ', '.', '-', '+', 'e5', '1e', '1e+', '0x10', '1_000', 'NaN', 'inf', '1,5', '1.2.3', '12345678901234567890', '1e-70', '1e70', '--1', '5 5'])
      expect(parsed(text), JSON.stringify(text)).toBeUndefined();
  });
});
