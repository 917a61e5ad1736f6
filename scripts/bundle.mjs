// The command line as a few files (dist/cli/): Node 20 spends more time finding, reading and linking a hundred ES
// modules than running them, so bin/regsweep.js loads this bundle instead. What a command imports when it runs is a
// chunk of its own, and libraries a command needs only sometimes (charts, PostgreSQL, the thread pool, native
// addons) stay outside the bundle, loaded on first use. Then every command's --help is written to dist/help.json,
// so that `regsweep --help` answers without loading yargs.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const external = ['better-sqlite3', 'piscina', 'pg', 'pg-copy-streams', 'prom-client', 'vega', 'vega-lite', 'vega-embed', '@resvg/resvg-js'];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external,
  // The CommonJS libraries inside the bundle call require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  minify: true,
  keepNames: true,
  logLevel: 'warning',
};
const built = await build({ ...common, entryPoints: [join(root, 'dist/src/cli.js')], outdir: join(root, 'dist/cli'), splitting: true, metafile: true });
// The worker threads' entries (the fits', the CSV reader's) as one file each in place of the module it was built
// from: each thread loads it when it starts, and finding and linking its few dozen modules took longer than the fits
// of a small sweep.
for (const entry of ['piscinaEntry', 'csvChunk'])
  await build({ ...common, entryPoints: [join(root, `dist/workers/${entry}.js`)], outfile: join(root, `dist/workers/${entry}.js`), allowOverwrite: true });
// Which source modules each file of the bundle holds: the start-up test reads the module graph from it.
writeFileSync(join(root, 'dist/cli-modules.json'), JSON.stringify(Object.fromEntries(Object.entries(built.metafile.outputs).map(([file, o]) => [file, Object.keys(o.inputs)]))));

// Help pages as yargs prints them to a pipe or a terminal of 80 columns or more (it wraps at 80).
const bin = join(root, 'bin/regsweep.js');
const helpOf = (args) => execFileSync(process.execPath, [bin, ...args], { env: { ...process.env, REGSWEEP_LIVE_HELP: '1' }, encoding: 'utf8' });
const top = helpOf(['--help']);
const commands = [...top.matchAll(/^ {2}regsweep (\w+)/gm)].map((m) => m[1]);
const pages = { '': top };
for (const command of commands) pages[command] = helpOf([command, '--help']);
const version = helpOf(['--version']);
writeFileSync(join(root, 'dist/help.json'), JSON.stringify({ version, pages }));
