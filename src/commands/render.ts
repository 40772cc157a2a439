import { join } from 'node:path';
import type { Argv } from 'yargs';
import { renderNode } from '../render.js';
import { writeTree } from '../write.js';
import { type Common, EXIT, findNode, type Io, loadModel } from './common.js';

export const command = 'render <file>';
export const describe = 'write the files one node ends up with, as a root-relative tree (default output/<name>/<node>/)';
export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('node', { type: 'string', demandOption: true, describe: 'node name from nodes[]' })
    .option('o', { alias: 'output', type: 'string', describe: 'output directory' });

export function handler(a: Common & { node: string; o?: string }, io: Io): number {
  const m = loadModel(a, io, { keepSecrets: true });
  if (typeof m === 'number') return m;
  const node = findNode(m, a.node);
  const dir = a.o ?? join(io.cwd, 'output', m.name, node.name);
  const written = writeTree(dir, renderNode(m, node));
  if (!a.json) io.stderr(`wrote ${written.length} files for ${node.name} (${node.state}, priority ${node.priority}) under ${dir}\n`);
  return EXIT.OK;
}
