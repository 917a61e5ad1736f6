// The import rules (.dependency-cruiser.cjs) hold for the code, and a deliberate bad import is caught; no export is
// left that nothing imports (knip.json), and a forgotten one is caught.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';

const depcruise = (cwd: string) =>
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'), 'src', 'workers', '--config', '.dependency-cruiser.cjs'], { cwd, encoding: 'utf8' });

describe('import rules', () => {
  it('the code keeps them', () => {
    const r = depcruise(ROOT);
    expect(r.stdout + r.stderr).toMatch(/no dependency violations found/);
    expect(r.status).toBe(0);
  });

  it('catch a solver that reads a file, a selection that opens SQLite, a report that bypasses the store contract', () => {
    const dir = tempDir('regsweep-rules-');
    copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    file('workers/entry.ts', "export const w = 1;\n");
    file('src/store/sqlite/store.ts', 'export const store = 1;\n');
    file('src/fitting/solvers/solver.ts', "import { readFileSync } from 'node:fs';\nexport const s = readFileSync;\n");
    file('src/select/cv.ts', "import { store } from '../store/sqlite/store.js';\nexport const c = store;\n");
    file('src/report/write.ts', "import { store } from '../store/sqlite/store.js';\nexport const r = store;\n");
    const r = depcruise(dir);
    expect(r.status).not.toBe(0);
    const output = r.stdout + r.stderr;
    expect(output).toMatch(/fitting-is-pure: src\/fitting\/solvers\/solver\.ts → (node:)?fs/);
    expect(output).toMatch(/select-is-pure: src\/select\/cv\.ts → src\/store\/sqlite\/store\.ts/);
    expect(output).toMatch(/readers-use-the-contract: src\/report\/write\.ts → src\/store\/sqlite\/store\.ts/);
  });
});

const knip = (cwd: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules', 'knip', 'bin', 'knip.js'), '--no-progress'], { cwd, encoding: 'utf8' });

describe('dead code (knip)', () => {
  it('no file, dependency or export that nothing uses', () => {
    const r = knip(ROOT);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('an export nothing imports fails', () => {
    const dir = tempDir('regsweep-knip-');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', type: 'module' }));
    writeFileSync(join(dir, 'knip.json'), JSON.stringify({ entry: ['src/cli.ts'], project: ['src/**/*.ts'] }));
    writeFileSync(join(dir, 'src', 'cli.ts'), "import { used } from './lib.js';\nconsole.log(used);\n");
    writeFileSync(join(dir, 'src', 'lib.ts'), 'export const used = 1;\nexport function forgotten(): number {\n  return 2;\n}\n');
    const r = knip(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Unused exports \(1\)\s+forgotten\s+function\s+src\/lib\.ts:2:17/);
  });
});
