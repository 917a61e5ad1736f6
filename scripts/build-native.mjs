// `npm run build` ends here: compiles native/gram.c (the AVX2 kernels) into dist/native/gram.node with the
// machine's C compiler and Node's headers. Optional: where either is missing, or the compile fails, it says so and
// the WebAssembly kernels run instead (the same results to within rounding, about two thirds of the speed here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'gram.c');
const target = join(root, 'dist', 'native', 'gram.node');

const headerDirs = [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(dirname(process.execPath)), 'include', 'node'),
  join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
].filter(Boolean);
const headers = headerDirs.find((dir) => existsSync(join(dir, 'node_api.h')));

if (existsSync(target) && statSync(target).mtimeMs > statSync(source).mtimeMs) process.exit(0);
if (!headers) {
  console.log(`native kernels not built (no node_api.h in ${headerDirs.join(', ')}): the WebAssembly kernels are used`);
  process.exit(0);
}
mkdirSync(dirname(target), { recursive: true });
const cc = process.env.CC || 'cc';
const r = spawnSync(cc, ['-O3', '-ffp-contract=off', '-shared', '-fPIC', '-Wall', '-o', target, source, `-I${headers}`], { encoding: 'utf8' });
if (r.error || r.status !== 0) {
  const why = r.error ? `${cc}: ${r.error.message}` : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`);
  console.log(`native kernels not built (${why}): the WebAssembly kernels are used`);
}
