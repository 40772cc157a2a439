/** Prints the figures table (medians of all recorded runs) after the e2e suite. */
import { join } from 'node:path';
import { figuresTable } from './figures.js';

const WORK = process.env.LBE_WORK ?? '/var/cache/lbbake-e2e';

export default function setup(): () => void {
  return () => {
    console.log(`\ne2e figures (TCG, 1 vCPU, 1 GiB per VM; medians over ${join(WORK, 'figures.jsonl')}):\n`);
    console.log(figuresTable(join(WORK, 'figures.jsonl')));
  };
}
