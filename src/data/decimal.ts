// Decimal text to double, straight from bytes, rounded exactly as Number() rounds (to nearest, ties to even). A CSV
// cell is read here without making a string of it; what this cannot decide (more than 19 significant digits, an
// exponent beyond ±66, a value within 2^-95 of a rounding boundary, any other character) is left to Number().

/** 10^0 … 10^22: every one exactly a double. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Dekker's splitter for double-precision products without a fused multiply-add: 2^27 + 1. */
const SPLITTER = 134217729;
/** The relative error bound of the double-double arithmetic below, with room to spare (~2^-104 a step, 4 steps). */
const RELATIVE_ERROR = 2 ** -95;
/** Exponents the double-double steps take (10^±22 at a time); beyond, Number(). */
const MAX_EXPONENT = 66;

/** Dekker's split of each power of ten: POW10[k] = POW10_HIGH[k] + POW10_LOW[k], each half with 26 bits. */
const POW10_HIGH = POW10.map((p) => SPLITTER * p - (SPLITTER * p - p));
const POW10_LOW = POW10.map((p, k) => p - POW10_HIGH[k]);

let wordsBuffer: ArrayBufferLike | undefined;
let wordsOffset = -1;
let wordsView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/** A DataView on the bytes' buffer (kept while the caller reads the same buffer), for four bytes at a time. */
function wordsOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
  if (bytes.buffer !== wordsBuffer || bytes.byteOffset !== wordsOffset) {
    wordsBuffer = bytes.buffer;
    wordsOffset = bytes.byteOffset;
    wordsView = new DataView(bytes.buffer, bytes.byteOffset, bytes.buffer.byteLength - bytes.byteOffset);
  }
  return wordsView;
}

/**
 * digits × 10^exponent rounded to nearest, where digits = head × 10^tailDigits + tail (head < 10^15, tail < 10^4)
 * and |exponent| ≤ MAX_EXPONENT, or NaN when that cannot be decided cheaply. The value is carried as a double-double
 * hi + lo; products are split exactly with Dekker's method (no fused multiply-add in JavaScript). Written out with
 * locals only: this runs once per cell.
 */
function scaled(head: number, tail: number, tailDigits: number, exponent: number, negative: boolean, out: Float64Array, at: number): boolean {
  // The significand exactly: head × 10^tailDigits (Dekker's two-product) + tail.
  let bh = POW10_HIGH[tailDigits];
  let bl = POW10_LOW[tailDigits];
  let p = head * POW10[tailDigits];
  let t = SPLITTER * head;
  let ah = t - (t - head);
  let al = head - ah;
  let e = ah * bh - p + ah * bl + al * bh + al * bl;
  const s = p + tail;
  e += tail - (s - p);
  let hi = s + e;
  let lo = e - (hi - s);
  for (let rest = exponent; rest !== 0; ) {
    const k = rest > 22 ? 22 : rest < -22 ? 22 : rest > 0 ? rest : -rest;
    const power = POW10[k];
    bh = POW10_HIGH[k];
    bl = POW10_LOW[k];
    if (rest > 0) {
      // (hi + lo) × 10^k
      p = hi * power;
      t = SPLITTER * hi;
      ah = t - (t - hi);
      al = hi - ah;
      e = ah * bh - p + ah * bl + al * bh + al * bl + lo * power;
      hi = p + e;
      lo = e - (hi - p);
      rest -= k;
    } else {
      // (hi + lo) / 10^k: a quotient, then the remainder's share
      const q = hi / power;
      p = q * power;
      t = SPLITTER * q;
      ah = t - (t - q);
      al = q - ah;
      e = ah * bh - p + ah * bl + al * bh + al * bl;
      const r = (hi - p - e + lo) / power;
      hi = q + r;
      lo = r - (hi - q);
      rest += k;
    }
  }
  // The exact value lies within hi · RELATIVE_ERROR of hi + lo. Rounding is monotonic, so when both ends of that
  // interval round to the same double, so does the exact value; otherwise it is too close to a midpoint to tell.
  const r = hi + lo;
  const margin = RELATIVE_ERROR * hi;
  if (hi + (lo - margin) !== r || hi + (lo + margin) !== r) return false;
  out[at] = negative ? -r : r;
  return true;
}

/**
 * Reads the number that starts at bytes[start] (after spaces or tabs): a sign, digits with an optional point, an
 * optional exponent. Writes it to out[at] and returns where it stopped (the first byte that cannot continue it, past
 * trailing spaces or tabs; never at or past `end`), or returns −1, writing nothing, when there is no number there or
 * its rounding is left to Number(). (The value goes to an array, not a return value: a returned double would be
 * allocated on the heap once per cell.)
 */
export function readDecimal(bytes: Uint8Array, start: number, end: number, out: Float64Array, at: number): number {
  let k = start;
  while (k < end && (bytes[k] === 32 || bytes[k] === 9)) k++;
  let negative = false;
  if (k < end && (bytes[k] === 45 || bytes[k] === 43)) {
    negative = bytes[k] === 45;
    k++;
  }
  let head = 0;
  let tail = 0;
  let tailDigits = 0;
  let significant = 0;
  let digitsSeen = 0;
  let exponent = 0;
  let c = 0;
  // Integer digits: leading zeros skipped, 15 into head, 4 into tail, more is too long.
  for (; k < end; k++) {
    c = bytes[k] - 48;
    if (c < 0 || c > 9) break;
    digitsSeen++;
    if (significant === 0 && c === 0) continue;
    if (++significant <= 15) head = head * 10 + c;
    else if (significant <= 19) {
      tail = tail * 10 + c;
      tailDigits++;
    }
  }
  if (k < end && bytes[k] === 46) {
    // Fraction digits: each one more power of ten down.
    const words = wordsOf(bytes);
    for (k++; k < end; k++) {
      // Four digits at a time once past the leading zeros, while head has room for them.
      while (significant > 0 && significant <= 11 && k + 4 <= end) {
        const v = words.getUint32(k, true);
        if (((v & 0xf0f0f0f0) | (((v + 0x06060606) & 0xf0f0f0f0) >>> 4)) !== 0x33333333) break;
        const pairs = ((v - 0x30303030) * 10 + ((v - 0x30303030) >>> 8)) & 0x00ff00ff;
        head = head * 10000 + (pairs & 0xff) * 100 + (pairs >>> 16);
        significant += 4;
        digitsSeen += 4;
        exponent -= 4;
        k += 4;
      }
      if (k >= end) break;
      c = bytes[k] - 48;
      if (c < 0 || c > 9) break;
      digitsSeen++;
      exponent--;
      if (significant === 0 && c === 0) continue;
      if (++significant <= 15) head = head * 10 + c;
      else if (significant <= 19) {
        tail = tail * 10 + c;
        tailDigits++;
      }
    }
  }
  if (digitsSeen === 0) return -1;
  if (k < end && (bytes[k] === 101 || bytes[k] === 69)) {
    k++;
    let exponentNegative = false;
    if (k < end && (bytes[k] === 45 || bytes[k] === 43)) {
      exponentNegative = bytes[k] === 45;
      k++;
    }
    let e = 0;
    let exponentDigits = 0;
    for (; k < end; k++) {
      const d = bytes[k] - 48;
      if (d < 0 || d > 9) break;
      exponentDigits++;
      if (e < 10000) e = e * 10 + d;
    }
    if (exponentDigits === 0) return -1;
    exponent += exponentNegative ? -e : e;
  }
  while (k < end && (bytes[k] === 32 || bytes[k] === 9)) k++;
  if (significant > 19) return -1;
  if (significant === 0) {
    out[at] = negative ? -0 : 0;
    return k;
  }
  if (exponent < -MAX_EXPONENT || exponent > MAX_EXPONENT) return -1;
  // The significand is exact as one double when below 2^53 (always for 15 digits or fewer).
  const digits = tailDigits === 0 ? head : head * POW10[tailDigits] + tail;
  if (digits < 9007199254740992 && exponent >= -22 && exponent <= 22) {
    // Both operands exact: one correctly rounded operation (Clinger's fast path).
    const v = exponent >= 0 ? digits * POW10[exponent] : digits / POW10[-exponent];
    out[at] = negative ? -v : v;
    return k;
  }
  return scaled(head, tail, tailDigits, exponent, negative, out, at) ? k : -1;
}

const parsed = new Float64Array(1);
/** The number that is all of bytes[start, end) (spaces or tabs around it allowed), or NaN (see readDecimal). */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  return readDecimal(bytes, start, end, parsed, 0) === end ? parsed[0] : NaN;
}
