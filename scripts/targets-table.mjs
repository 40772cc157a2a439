#!/usr/bin/env node
// Writes the README's target table from src/facts/os.ts (built into dist/).
// `npm run gen:docs` builds first and runs this with --write.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { targetsTable, TARGETS_BEGIN, TARGETS_END } = await import('../dist/src/facts/targets-table.js');
if (process.argv.includes('--write')) {
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(TARGETS_BEGIN);
  const b = text.indexOf(TARGETS_END);
  if (a < 0 || b < 0) throw new Error('README.md has no targets markers');
  writeFileSync(readme, text.slice(0, a + TARGETS_BEGIN.length) + '\n' + targetsTable() + text.slice(b));
} else {
  process.stdout.write(targetsTable());
}
