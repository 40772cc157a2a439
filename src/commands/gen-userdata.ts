import type { Argv } from 'yargs';
import { userdataForNode } from '../userdata.js';
import { writeFileAtomic } from '../write.js';
import { type Common, EXIT, findNode, type Io, loadModel, report, UsageError } from './common.js';
// --- issue 6: encodings and cloud limits (all logic in src/encode.ts) ---
import { CLOUDS, ENCODINGS, encodeForCloud, type UserdataFlags } from '../encode.js';

export const command = 'gen-userdata <file>';
export const describe = 'write cloud-init user-data (#cloud-config) to stdout or -o FILE';
export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('node', { type: 'string', describe: "fix this node's role in the user-data (else: roles from instance metadata)" })
    .option('o', { alias: 'output', type: 'string', describe: 'output file (default: stdout)' })
    // --- issue 6: encodings and cloud limits ---
    .option('encoding', { choices: ENCODINGS, default: 'plain', describe: 'plain, gzip (binary, needs -o), base64, gzip+base64' })
    .option('mime', { type: 'boolean', default: false, describe: 'wrap the #cloud-config in a MIME multipart message' })
    .option('cloud', { choices: CLOUDS, describe: "fail (exit 1) when the result exceeds that cloud's user-data limit" });

export function handler(a: Common & UserdataFlags & { node?: string; o?: string }, io: Io): number {
  const m = loadModel(a, io, { keepSecrets: true });
  if (typeof m === 'number') return m;
  if (a.node === undefined) {
    throw new UsageError('gen-userdata without --node (roles from instance metadata) is not available yet; pass --node NAME');
  }
  const text = userdataForNode(m, findNode(m, a.node));
  // --- issue 6: encodings and cloud limits ---
  if (a.encoding === 'gzip' && !a.o) throw new UsageError('--encoding gzip is binary; pass -o FILE, or use --encoding gzip+base64 for text');
  const enc = encodeForCloud(text, a);
  if (enc.diagnostics.length > 0) {
    report(a, io, enc.diagnostics, undefined);
    return EXIT.INVALID;
  }
  const out = enc.output;
  // --- end issue 6 ---
  if (a.o) {
    writeFileAtomic(a.o, out, 0o600);
    if (!a.json) io.stderr(`wrote ${a.o} (${Buffer.byteLength(out)} bytes)\n`);
  } else {
    io.stdout(typeof out === 'string' && !out.endsWith('\n') ? out + '\n' : String(out));
  }
  return EXIT.OK;
}
