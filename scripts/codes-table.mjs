#!/usr/bin/env node
// Writes the README's list of diagnostic codes from src/diagnostics/codes.ts (built into dist/).
// `npm run gen:docs` builds first and runs this with --write.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { codesTable, CODES_BEGIN, CODES_END } = await import('../dist/src/diagnostics/codes.js');
if (process.argv.includes('--write')) {
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(CODES_BEGIN);
  const b = text.indexOf(CODES_END);
  if (a < 0 || b < 0) throw new Error('README.md has no codes markers');
  writeFileSync(readme, text.slice(0, a + CODES_BEGIN.length) + '\n' + codesTable() + text.slice(b));
} else {
  process.stdout.write(codesTable());
}
