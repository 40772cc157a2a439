import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { ROOT } from '../helpers/cli.js';
// @ts-expect-error plain JS module
import { BEGIN, END, table } from '../../scripts/schema-table.mjs';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('config reference is generated from the current schema', () => {
    const a = readme.indexOf(BEGIN);
    const b = readme.indexOf(END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a + BEGIN.length + 1, b), 'run node scripts/schema-table.mjs --write').toBe(table());
  });

  it('every complete lb.yaml example in the docs validates', () => {
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /^version: 1$/m.test(b));
    for (const b of blocks) {
      const res = compile(b);
      expect(res.diagnostics.filter((d) => d.severity === 'error'), b).toEqual([]);
    }
  });

  it('names the two commands', () => {
    expect(readme).toContain('npm ci && npm run example');
    expect(readme).toContain('npm test');
  });
});
