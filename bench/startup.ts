/**
 * Start-up and size bench (issue 6): cold-start wall time of `lbbake gen-userdata` on the
 * example against `node -e 0` in the same run (median of N runs each; target ratio <= 3), and
 * the example's user-data size plain and gzip against each cloud's limit.
 * Run: npm run bench:startup   (after npm run build)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOUD_LIMITS, CLOUDS, countedSize, encodeUserdata } from '../src/render/encode.js';
import { compile } from '../src/compile/compile.js';
import { userdataForNode } from '../src/render/userdata.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'bin.js');
const example = join(root, 'examples', 'k8s-apiserver.yaml');
const N = Number(process.env.BENCH_RUNS ?? 10);

function wall(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// interleave the two so machine load hits both alike
const bare: number[] = [];
const gen: number[] = [];
for (let i = 0; i < N; i++) {
  bare.push(wall(['-e', '0']));
  gen.push(wall([cli, 'gen-userdata', example, '--node', 'lb-0']));
}
const mb = median(bare);
const mg = median(gen);
console.log(`cold start, median of ${N}: node -e 0 ${mb.toFixed(0)} ms; lbbake gen-userdata ${mg.toFixed(0)} ms; ratio ${(mg / mb).toFixed(2)}x (target <= 3x)`);

const m = compile(readFileSync(example, 'utf8')).model!;
const text = userdataForNode(m, m.nodes[0]);
const plain = encodeUserdata(text, { encoding: 'plain' }).payload;
const gz = encodeUserdata(text, { encoding: 'gzip' }).payload;
console.log(`user-data for lb-0: plain ${plain.length} bytes, gzip ${gz.length} bytes`);
for (const c of CLOUDS) {
  const l = CLOUD_LIMITS[c];
  const p = countedSize(plain, c);
  const g = countedSize(gz, c);
  console.log(`  ${l.label.padEnd(10)} limit ${String(l.limit).padStart(6)} (${l.doc}): plain ${p} (${((100 * p) / l.limit).toFixed(1)}%), gzip ${g} (${((100 * g) / l.limit).toFixed(1)}%)`);
}
