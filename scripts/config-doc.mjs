// Writes docs/config.md from the built schema (npm run build first): the sweep file's reference, one row per key.
// tests/unit/configDoc.test.ts fails when the file and the schema disagree.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { configMarkdown } = await import(join(root, 'dist', 'src', 'config', 'reference.js'));
writeFileSync(join(root, 'docs', 'config.md'), configMarkdown());
console.log('docs/config.md written');
