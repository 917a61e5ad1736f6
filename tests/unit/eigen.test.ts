import { expect, it } from 'vitest';
import { symmetricEigen } from '../../src/util/eigen.js';
// The decomposition the wide-ridge path and the ridge grid rest on: A·v = d·v and VᵀV = I on random symmetric matrices.
it('symmetricEigen: A·v = d·v to 1e-12 and orthonormal vectors, for sizes 1 to 200', () => {
  for (const m of [1, 2, 3, 7, 50, 200]) {
    const A = new Float64Array(m * m);
    let s = 1;
    const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
    for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) A[i * m + j] = A[j * m + i] = r();
    const z = Float64Array.from(A);
    const d = symmetricEigen(z, m);
    let worst = 0;
    let orth = 0;
    for (let v = 0; v < m; v++) {
      for (let i = 0; i < m; i++) {
        let av = 0;
        for (let k = 0; k < m; k++) av += A[i * m + k] * z[k * m + v];
        worst = Math.max(worst, Math.abs(av - d[v] * z[i * m + v]));
      }
      for (let w = 0; w < m; w++) {
        let dot = 0;
        for (let k = 0; k < m; k++) dot += z[k * m + v] * z[k * m + w];
        orth = Math.max(orth, Math.abs(dot - (v === w ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-12);
    expect(orth).toBeLessThan(1e-12);
  }
});
