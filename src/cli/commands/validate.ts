import type { Argv } from 'yargs';
import { type Common, type Io, loadModel, printJson } from '../common.js';
import { EXIT } from '../../diagnostics/errors.js';

export const builder = (y: Argv) => y.positional('file', { type: 'string', demandOption: true, describe: 'lb.yaml, or - for standard input' });

export function handler(a: Common, io: Io): number {
  const loaded = loadModel(a, io, { stdin: true });
  if (typeof loaded === 'number') return loaded;
  const m = loaded.model;
  if (a.json) printJson(a, io, loaded.diagnostics);
  else io.stderr(`${a.file}: valid (${m.nodes.length} nodes, ${m.services.length} services)\n`);
  return EXIT.OK;
}
