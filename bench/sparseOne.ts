// One regsweep fit of the sparse bench in its own process, so that its time and peak RSS are its own: the lasso path
// (the λ given) or the whole 5-fold CV sweep; prints one JSON line.
// usage: node dist/bench/sparseOne.js path|cv FAMILY SVM MTX TARGETS LAMBDAS_JSON REPEATS
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { loadSparse } from '../src/data/sparse.js';
import { binomialPath } from '../src/fitting/solvers/glm.js';
import { gaussianNaivePath } from '../src/fitting/solvers/gaussianNaive.js';
import { runLoadedSweep } from '../src/pool/coordinator.js';
import { threadKernelContext } from '../workers/kernelContext.js';

const [what, family, svm, mtx, targets, lambdasFile, repeatsText] = process.argv.slice(2);
const lambdas = Float64Array.from(JSON.parse(readFileSync(lambdasFile, 'utf8')) as number[]);
const repeats = Number(repeatsText);
const binomial = family === 'binomial';
const times: number[] = [];
const median = () => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
const rss = () => process.resourceUsage().maxRSS / 1024;

if (what === 'path') {
  // The binomial path reads the svmlight file, the gaussian one the Matrix Market file and its targets: both readers.
  const data = binomial ? await loadSparse(svm, 'svmlight', { classification: true }) : await loadSparse(mtx, 'matrix-market', { targetPath: targets, target: 'response' });
  const { n, p } = data;
  const problem = { design: { X: data.X, n, p, sparse: data.sparse! }, y: data.y, weights: new Float64Array(n).fill(1), standardize: false, l1Ratio: 1, lambdas, tol: 1e-5, maxIter: 100_000 };
  const context = threadKernelContext();
  let solution!: ReturnType<typeof binomialPath>;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    solution = binomial ? binomialPath(context, problem) : gaussianNaivePath(context, problem);
    times.push((performance.now() - t) / 1000);
  }
  const last = lambdas.length - 1;
  console.log(
    JSON.stringify({
      seconds: median(),
      maxRssMb: rss(),
      passes: solution.passes.reduce((a, b) => a + b, 0),
      intercept: solution.intercepts[last],
      coef: Array.from(solution.coefs.subarray(last * p, (last + 1) * p)),
    }),
  );
} else {
  const data = await loadSparse(mtx, 'matrix-market', { classification: binomial, targetPath: targets, target: binomial ? 'label' : 'response', foldColumn: 'fold' });
  const yaml = `name: sparse-${family}-cv
data: {path: x, standardize: false}
model: {kind: ${binomial ? 'logistic' : 'linear'}}
validation: {kind: column, column: fold}
sweep: {kind: grid, penalty: [l1], lambda: [${Array.from(lambdas).join(', ')}], extend: 0}
workers: 1
`;
  let lambdaMin = NaN;
  for (let r = 0; r < repeats; r++) {
    const loaded = parseConfig(yaml, 'sparse-cv.yaml', { output: join(tmpdir(), `regsweep-sparse-cv-${process.pid}-${r}.db`) });
    const t = performance.now();
    const result = await runLoadedSweep(loaded, data, {});
    times.push((performance.now() - t) / 1000);
    lambdaMin = result.selections[0].lambdaMin;
  }
  console.log(JSON.stringify({ seconds: median(), maxRssMb: rss(), lambdaMin }));
}
