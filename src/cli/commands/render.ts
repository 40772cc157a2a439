import { basename, join } from 'node:path';
import type { Argv } from 'yargs';
import { nodeTree } from '../../render/node.js';
import type { FileSet } from '../../render/files.js';
import { dummySecretsModel } from '../../render/secret-template.js';
import { writeTree } from '../../io/write.js';
import { checkDrift } from '../../io/drift.js';
import { type Common, findNode, generatedSlots, type Io, loadModel, printJson, reportDrift, secretStrings, verifyOrFail, wantsOf } from '../common.js';
import { EXIT } from '../../diagnostics/errors.js';
import { secretsFilePath } from '../../io/secrets-file.js';
import { INTERFACE_FILE } from '../../facts/node.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('node', { type: 'string', demandOption: true, describe: 'node name from nodes[]' })
    .option('o', { alias: 'output', type: 'string', describe: 'output directory' })
    .option('verify', { type: 'boolean', default: false, describe: 'check the files with haproxy -c, keepalived -t, … before writing (exit 3 if rejected)' })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 with a diff if DIR differs from what lb.yaml generates (secrets masked; for CI)' });

const contents = (f: FileSet) => new Map([...f].map(([k, e]) => [k, e.content]));

export async function handler(a: Common & { node: string; o?: string; check: boolean; verify: boolean }, io: Io): Promise<number> {
  const loaded = loadModel(a, io, { keepSecrets: !a.check });
  if (typeof loaded === 'number') return loaded;
  const m = loaded.model;
  const node = findNode(m, a.node);
  const dir = a.o ?? join(io.cwd, 'output', m.name, node.name);
  const files = nodeTree(m, node);
  if (a.check) {
    const wants = wantsOf(m, contents(files), contents(nodeTree(dummySecretsModel(m), node)));
    const { drifts, notes } = checkDrift(wants, dir, { generated: generatedSlots(loaded.generated), storeName: basename(secretsFilePath(a.file)) });
    return reportDrift(a, io, loaded, drifts, notes);
  }
  if (a.verify) {
    const rejected = await verifyOrFail(a, io, [{ label: '', files: contents(files) }], m, secretStrings(m));
    if (rejected !== undefined) return rejected;
  }
  const written = writeTree(dir, files);
  if (a.json) printJson(a, io, loaded.diagnostics, { wrote: written });
  else {
    io.stderr(`wrote ${written.length} files for ${node.name} (${node.state}, priority ${node.priority}) under ${dir}\n`);
    if (!m.vip.interface) {
      io.stderr(`vip.interface is not set: keepalived.conf includes ${INTERFACE_FILE}, which ${node.name} writes at boot as "interface <the NIC holding ${node.address}>" (lbbake explain says how)\n`);
    }
  }
  return EXIT.OK;
}
