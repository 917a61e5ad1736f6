// Eigen-decomposition of a symmetric matrix: Householder reduction to tridiagonal form, then the QL algorithm with
// implicit shifts (the EISPACK tred2/tql2 pair; without vectors tred1/tql1). O(m³) for an m × m matrix.

/** The eigenvalues of the symmetric m × m matrix `a` (row-major, destroyed), in no particular order. */
export function symmetricEigenvalues(a: Float64Array, m: number): Float64Array {
  const d = new Float64Array(m);
  const e = new Float64Array(m);
  tridiagonalize(a, m, d, e, false);
  tridiagonalQl(d, e, m, null);
  return d;
}

/**
 * Eigenvalues and eigenvectors of the symmetric m × m matrix `a` (row-major): on return `a` holds the eigenvectors
 * as columns (a[k·m + i] is component k of vector i), orthonormal, and the result the eigenvalues in the same order.
 */
export function symmetricEigen(a: Float64Array, m: number): Float64Array {
  const d = new Float64Array(m);
  const e = new Float64Array(m);
  tridiagonalize(a, m, d, e, true);
  tridiagonalQl(d, e, m, a);
  return d;
}

/**
 * Householder: d gets the diagonal, e the subdiagonal (e[i] couples i − 1 and i) of a similar tridiagonal matrix;
 * with `vectors`, `a` becomes the orthogonal matrix of the reduction.
 */
function tridiagonalize(a: Float64Array, m: number, d: Float64Array, e: Float64Array, vectors: boolean): void {
  for (let i = m - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[i * m + k]);
      if (scale === 0) e[i] = a[i * m + l];
      else {
        for (let k = 0; k <= l; k++) {
          a[i * m + k] /= scale;
          h += a[i * m + k] ** 2;
        }
        let f = a[i * m + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[i * m + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          if (vectors) a[j * m + i] = a[i * m + j] / h;
          g = 0;
          for (let k = 0; k <= j; k++) g += a[j * m + k] * a[i * m + k];
          for (let k = j + 1; k <= l; k++) g += a[k * m + j] * a[i * m + k];
          e[j] = g / h;
          f += e[j] * a[i * m + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = a[i * m + j];
          g = e[j] = e[j] - hh * f;
          for (let k = 0; k <= j; k++) a[j * m + k] -= f * e[k] + g * a[i * m + k];
        }
      }
    } else e[i] = a[i * m + l];
    d[i] = h;
  }
  if (!vectors) {
    for (let i = 0; i < m; i++) d[i] = a[i * m + i];
    return;
  }
  // Accumulate the reflections into a.
  d[0] = 0;
  e[0] = 0;
  for (let i = 0; i < m; i++) {
    if (d[i] !== 0)
      for (let j = 0; j < i; j++) {
        let g = 0;
        for (let k = 0; k < i; k++) g += a[i * m + k] * a[k * m + j];
        for (let k = 0; k < i; k++) a[k * m + j] -= g * a[k * m + i];
      }
    d[i] = a[i * m + i];
    a[i * m + i] = 1;
    for (let j = 0; j < i; j++) a[j * m + i] = a[i * m + j] = 0;
  }
}

/** QL with implicit shifts on the tridiagonal (d, e): d becomes the eigenvalues; z (if given) is rotated along. */
function tridiagonalQl(d: Float64Array, e: Float64Array, m: number, z: Float64Array | null): void {
  for (let i = 1; i < m; i++) e[i - 1] = e[i];
  if (m > 0) e[m - 1] = 0;
  for (let l = 0; l < m; l++) {
    let iterations = 0;
    for (;;) {
      let k = l;
      for (; k < m - 1; k++) {
        const dd = Math.abs(d[k]) + Math.abs(d[k + 1]);
        if (Math.abs(e[k]) <= Number.EPSILON * dd) break;
      }
      if (k === l) break;
      if (iterations++ === 100) throw new Error('eigenvalues: no convergence');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[k] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = k - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[k] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z)
          for (let row = 0; row < m; row++) {
            const zi = row * m + i;
            const next = z[zi + 1];
            z[zi + 1] = s * z[zi] + c * next;
            z[zi] = c * z[zi] - s * next;
          }
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[k] = 0;
    }
  }
}
