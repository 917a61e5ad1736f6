/** A byte count for a message: "1.5 GB", "2.0 TB". */
export function gigabytes(bytes: number): string {
  return bytes >= 2 ** 40 ? `${(bytes / 2 ** 40).toFixed(1)} TB` : `${(bytes / 2 ** 30).toFixed(1)} GB`;
}

/** A count for a message: "12 000 000", or "1.80e10" when it is huge. */
export function count(x: number): string {
  return x >= 1e9 ? x.toExponential(2).replace('e+', 'e') : Math.round(x).toLocaleString('en-US').replace(/,/g, ' ');
}

/**
 * A message as one line a terminal shows as written: control characters (a line break, an escape sequence that a
 * column name or a label could carry) as visible escapes.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
