import type { Argv } from 'yargs';
import { userdataForNode } from '../userdata.js';
import { writeFileAtomic } from '../write.js';
import { type Common, EXIT, findNode, type Io, loadModel, UsageError } from './common.js';

export const command = 'gen-userdata <file>';
export const describe = 'write cloud-init user-data (#cloud-config) to stdout or -o FILE';
export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('node', { type: 'string', describe: "fix this node's role in the user-data (else: roles from instance metadata)" })
    .option('o', { alias: 'output', type: 'string', describe: 'output file (default: stdout)' });

export function handler(a: Common & { node?: string; o?: string }, io: Io): number {
  const m = loadModel(a, io, { keepSecrets: true });
  if (typeof m === 'number') return m;
  if (a.node === undefined) {
    throw new UsageError('gen-userdata without --node (roles from instance metadata) is not available yet; pass --node NAME');
  }
  const text = userdataForNode(m, findNode(m, a.node));
  if (a.o) {
    writeFileAtomic(a.o, text, 0o600);
    if (!a.json) io.stderr(`wrote ${a.o} (${Buffer.byteLength(text)} bytes)\n`);
  } else {
    io.stdout(text);
  }
  return EXIT.OK;
}
