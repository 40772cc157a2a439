import type { Argv } from 'yargs';
import { buildPlan, formatPlan } from '../../render/plan.js';
import { type Common, type Io, loadModel } from '../common.js';
import { EXIT } from '../../diagnostics/errors.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: 'lb.yaml, or - for standard input' })
    .option('json', { type: 'boolean', default: false, describe: 'print the plan as JSON on stdout (diagnostics instead, when lb.yaml has errors)' });

export function handler(a: Common, io: Io): number {
  const loaded = loadModel(a, io, { quiet: a.json, stdin: true });
  if (typeof loaded === 'number') return loaded;
  const plan = buildPlan(loaded.model);
  io.stdout(a.json ? JSON.stringify(plan, null, 2) + '\n' : formatPlan(plan));
  return EXIT.OK;
}
