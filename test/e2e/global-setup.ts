/**
 * Around the whole e2e run: removes leftovers of an interrupted run first, tears the lab down
 * (every VM, server and probe inside the lab namespace, then the namespace) when vitest is
 * interrupted (SIGINT/SIGTERM) and at the end, and prints the figures table (also written as
 * $WORK/results.json).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { figuresTable, writeResults } from './figures.js';

const WORK = process.env.LBE_WORK ?? '/var/cache/lbbake-e2e';
const NET = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'e2e/net.sh');

function labDown(): void {
  if (process.getuid?.() !== 0) return;
  spawnSync('bash', [NET, 'down'], { stdio: 'inherit', timeout: 60_000 });
}

export default function setup(): () => void {
  labDown();
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`e2e: ${sig}: tearing the lab down`);
    labDown();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    labDown();
    console.log(`\ne2e figures (TCG, 1 vCPU, 1 GiB per VM; medians over ${join(WORK, 'figures.jsonl')}):\n`);
    console.log(figuresTable(join(WORK, 'figures.jsonl')));
    writeResults(join(WORK, 'figures.jsonl'), join(WORK, 'results.json'));
    console.log(`(as {"<figure>": {median, min, max, n}}: ${join(WORK, 'results.json')})`);
  };
}
