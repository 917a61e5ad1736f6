// docs/architecture.md lists the import rules the check enforces, written from .dependency-cruiser.cjs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script, without types
import { pageWithRules } from '../../scripts/architecture-rules.mjs';
import { ROOT } from '../helpers.js';

describe('docs/architecture.md', () => {
  it('lists the import rules as .dependency-cruiser.cjs has them (node scripts/architecture-rules.mjs)', () => {
    const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    expect(page).toBe((pageWithRules as (page: string) => string)(page));
    expect(page).toContain('- **fitting-is-pure**:');
  });
});
