#!/usr/bin/env node
// Writes the README's table of lbbake's metrics from src/render/metrics.ts (built into dist/).
// `npm run gen:docs` builds first and runs this with --write.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { metricsTable, METRICS_BEGIN, METRICS_END } = await import('../dist/src/render/metrics.js');
if (process.argv.includes('--write')) {
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(METRICS_BEGIN);
  const b = text.indexOf(METRICS_END);
  if (a < 0 || b < 0) throw new Error('README.md has no metrics markers');
  writeFileSync(readme, text.slice(0, a + METRICS_BEGIN.length) + '\n' + metricsTable() + text.slice(b));
} else {
  process.stdout.write(metricsTable());
}
