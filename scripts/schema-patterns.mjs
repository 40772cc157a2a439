#!/usr/bin/env node
// Writes every `pattern` of schema/lb.schema.json from src/facts/alphabets.ts (SCHEMA_PATTERNS),
// the one source of the characters lbbake accepts and renders. Run after `npm run build`:
//   node scripts/schema-patterns.mjs --write
// Without --write it only lists the differences (exit 1 if any). test/facts/alphabets.test.ts
// fails while the schema and alphabets.ts disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { SCHEMA_PATTERNS } = await import(join(root, 'dist/src/facts/alphabets.js'));
const file = join(root, 'schema/lb.schema.json');
const schema = JSON.parse(readFileSync(file, 'utf8'));

const at = (ptr) => ptr.split('/').slice(1).reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], schema);
const diffs = [];
for (const [ptr, { source }] of Object.entries(SCHEMA_PATTERNS)) {
  const node = at(ptr);
  if (!node) diffs.push(`${ptr}: not in the schema (remove it from SCHEMA_PATTERNS)`);
  else if (node.pattern !== source) {
    diffs.push(`${ptr}: ${node.pattern} -> ${source}`);
    node.pattern = source;
  }
}
if (process.argv.includes('--write')) {
  writeFileSync(file, JSON.stringify(schema, null, 2) + '\n');
  for (const d of diffs) console.log(`wrote ${d}`);
} else {
  for (const d of diffs) console.log(d);
  process.exitCode = diffs.length ? 1 : 0;
}
