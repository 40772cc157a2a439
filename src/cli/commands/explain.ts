import type { Argv } from 'yargs';
import { buildPlan, formatPlan } from '../../render/plan.js';
import { type Common, type Io, loadModel } from '../common.js';
import { EXIT } from '../../diagnostics/errors.js';

export const builder = (y: Argv) => y.positional('file', { type: 'string', demandOption: true });

export function handler(a: Common, io: Io): number {
  const m = loadModel(a, io, { quiet: a.json });
  if (typeof m === 'number') return m;
  const plan = buildPlan(m);
  io.stdout(a.json ? JSON.stringify(plan, null, 2) + '\n' : formatPlan(plan));
  return EXIT.OK;
}
