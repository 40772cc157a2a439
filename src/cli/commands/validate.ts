import type { Argv } from 'yargs';
import { type Common, type Io, loadModel } from '../common.js';
import { EXIT } from '../../diagnostics/errors.js';

export const builder = (y: Argv) => y.positional('file', { type: 'string', demandOption: true });

export function handler(a: Common, io: Io): number {
  const m = loadModel(a, io);
  if (typeof m === 'number') return m;
  if (!a.json) io.stderr(`${a.file}: valid (${m.nodes.length} nodes, ${m.services.length} services)\n`);
  return EXIT.OK;
}
