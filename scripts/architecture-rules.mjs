// The import rules as docs/architecture.md lists them, written from .dependency-cruiser.cjs (the rules the check
// enforces), so that the page cannot say other than the check does. `node scripts/architecture-rules.mjs` rewrites the
// block between the page's rules markers; tests/unit/architectureDoc.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const START = '<!-- rules: written by scripts/architecture-rules.mjs from .dependency-cruiser.cjs -->';
export const END = '<!-- rules end -->';

const paths = (p) => (Array.isArray(p) ? p : [p]).map((x) => `\`${x}\``).join(', ');

/** The rules block of the page. */
export function rulesBlock() {
  const { forbidden } = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs'));
  const lines = forbidden.map((r) =>
    r.to.circular ? `- **${r.name}**: no import cycle among ${paths(r.from.path)}.` : `- **${r.name}**: ${r.comment} From ${paths(r.from.path)}, no import of ${paths(r.to.path)}.`,
  );
  return [START, ...lines, END].join('\n');
}

/** The page with its rules block as the config says. */
export function pageWithRules(page) {
  const a = page.indexOf(START);
  const b = page.indexOf(END);
  if (a < 0 || b < 0) throw new Error('docs/architecture.md has no rules markers');
  return page.slice(0, a) + rulesBlock() + page.slice(b + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = join(root, 'docs', 'architecture.md');
  writeFileSync(file, pageWithRules(readFileSync(file, 'utf8')));
  console.log('docs/architecture.md: rules written');
}
