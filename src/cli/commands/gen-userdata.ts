import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { parse } from 'yaml';
import { secretsUserdata } from '../../render/agent.js';
import { checkDrift } from '../../io/drift.js';
import { CLOUDS, ENCODINGS, encodeForCloud, type UserdataFlags } from '../../render/encode.js';
import { userdataForMetadata, userdataForNode } from '../../render/userdata.js';
import { writeFileAtomic } from '../../io/write.js';
import { type Common, findNode, type Io, loadModel, report, reportDrift, verifyOrFail } from '../common.js';
import { EXIT, UsageError } from '../../diagnostics/errors.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('node', { type: 'string', describe: "fix this node's role in the user-data (else: roles from instance metadata)" })
    .option('secrets-only', {
      type: 'boolean',
      default: false,
      describe: 'only the secrets file /etc/lbbake/secrets.json (user-data for a baked image)',
    })
    .option('o', { alias: 'output', type: 'string', describe: 'output file (default: stdout)' })
    .option('encoding', { choices: ENCODINGS, describe: 'plain (default), gzip (binary, needs -o), base64, gzip+base64. With --cloud and no --encoding: plain if it fits the limit, else gzip' })
    .option('mime', { type: 'boolean', default: false, describe: 'wrap the #cloud-config in a MIME multipart message' })
    .option('cloud', { choices: CLOUDS, describe: "fail (exit 1) when the result exceeds that cloud's user-data limit" })
    .option('verify', { type: 'boolean', default: false, describe: 'check the user-data and the files in it with cloud-init schema, haproxy -c, keepalived -t, shellcheck before writing (exit 3 if rejected)' })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 with a diff if -o FILE differs from what lb.yaml generates (for CI)' });

export async function handler(
  a: Common & UserdataFlags & { node?: string; secretsOnly?: boolean; o?: string; verify: boolean; check: boolean },
  io: Io,
): Promise<number> {
  if (a.secretsOnly && a.node !== undefined) {
    throw new UsageError('--secrets-only and --node exclude each other: secrets-only user-data serves every node');
  }
  if (a.encoding === 'gzip' && !a.o) throw new UsageError('--encoding gzip is binary; pass -o FILE, or use --encoding gzip+base64 for text');
  if (a.check && !a.o) throw new UsageError('--check compares with a committed file: pass -o FILE');
  const m = loadModel(a, io, { keepSecrets: !a.check });
  if (typeof m === 'number') return m;
  const text = a.secretsOnly ? secretsUserdata(m) : a.node === undefined ? userdataForMetadata(m) : userdataForNode(m, findNode(m, a.node));
  let enc = encodeForCloud(text, a);
  if (enc.diagnostics.length > 0 && a.cloud && a.encoding === undefined && a.o) {
    // no encoding asked for: compress to fit, as cloud-init unpacks gzip user-data itself
    enc = encodeForCloud(text, { ...a, encoding: 'gzip' });
    if (enc.diagnostics.length === 0 && !a.json) {
      io.stderr(`lbbake: plain user-data is ${Buffer.byteLength(text)} bytes, over the ${a.cloud} limit; wrote it gzip-compressed (cloud-init unpacks it). Pass it as a binary file, e.g. aws ec2 run-instances --user-data fileb://${a.o}\n`);
    }
  }
  if (enc.diagnostics.length > 0) {
    report(a, io, enc.diagnostics, undefined);
    return EXIT.INVALID;
  }
  const out = enc.output;
  if (a.verify) {
    const files = new Map<string, string>([['user-data', text]]);
    for (const w of (parse(text) as { write_files?: Array<{ path: string; content: string }> }).write_files ?? []) {
      if (!w.content.includes('@@LBBAKE_SECRET_')) files.set(w.path, w.content);
    }
    const rejected = await verifyOrFail(files, m, io);
    if (rejected !== undefined) return rejected;
  }
  if (a.check && a.o) {
    if (typeof out !== 'string') throw new UsageError('--check works on text output: use --encoding plain, base64 or gzip+base64');
    return reportDrift(checkDrift(new Map([[resolve(a.o), out]]), '/'), io);
  }
  if (a.o) {
    writeFileAtomic(a.o, out, 0o600);
    if (!a.json) io.stderr(`wrote ${a.o} (${Buffer.byteLength(out)} bytes)\n`);
  } else {
    io.stdout(typeof out === 'string' && !out.endsWith('\n') ? out + '\n' : String(out));
  }
  return EXIT.OK;
}
