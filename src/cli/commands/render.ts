import { join } from 'node:path';
import type { Argv } from 'yargs';
import { renderNode } from '../../render/node.js';
import { writeTree } from '../../io/write.js';
import { checkDrift } from '../../io/drift.js';
import { type Common, findNode, type Io, loadModel, reportDrift, verifyOrFail } from '../common.js';
import { EXIT } from '../../diagnostics/errors.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('node', { type: 'string', demandOption: true, describe: 'node name from nodes[]' })
    .option('o', { alias: 'output', type: 'string', describe: 'output directory' })
    .option('verify', { type: 'boolean', default: false, describe: 'check the files with haproxy -c, keepalived -t, … before writing (exit 3 if rejected)' })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 with a diff if DIR differs from what lb.yaml generates (for CI)' });

export async function handler(a: Common & { node: string; o?: string; check: boolean; verify: boolean }, io: Io): Promise<number> {
  const m = loadModel(a, io, { keepSecrets: !a.check });
  if (typeof m === 'number') return m;
  const node = findNode(m, a.node);
  const dir = a.o ?? join(io.cwd, 'output', m.name, node.name);
  const files = renderNode(m, node);
  if (a.check) return reportDrift(checkDrift(new Map([...files].map(([k, f]) => [k, f.content])), dir), io);
  if (a.verify) {
    const rejected = await verifyOrFail(new Map([...files].map(([k, f]) => [k, f.content])), m, io);
    if (rejected !== undefined) return rejected;
  }
  const written = writeTree(dir, files);
  if (!a.json) io.stderr(`wrote ${written.length} files for ${node.name} (${node.state}, priority ${node.priority}) under ${dir}\n`);
  return EXIT.OK;
}
