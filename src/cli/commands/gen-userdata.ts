import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Argv } from 'yargs';
import { parse } from 'yaml';
import type { Model } from '../../compile/model.js';
import { NODE_PLACEHOLDER_PREFIX, secretsUserdata } from '../../render/agent.js';
import { PLACEHOLDER_PREFIX } from '../../render/agent-secrets.js';
import { compareText, type Drift } from '../../io/drift.js';
import { CLOUDS, ENCODINGS, encodeForCloud, isGzip, mimeMultipart, type UserdataFlags } from '../../render/encode.js';
import { nodeTree } from '../../render/node.js';
import { dummySecretsModel, secretTemplate, type Slot } from '../../render/secret-template.js';
import { userdataForMetadata, userdataForNode } from '../../render/userdata.js';
import { readRegularFile, type ReadFailure } from '../../io/read.js';
import { readFailureReason, secretsFilePath } from '../../io/secrets-file.js';
import { writeFileAtomic } from '../../io/write.js';
import {
  type Common,
  findNode,
  generatedSlots,
  type Io,
  loadModel,
  printJson,
  report,
  reportDrift,
  secretStrings,
  verifyOrFail,
  type VerifyGroup,
} from '../common.js';
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
    .option('encoding', { choices: ENCODINGS, describe: 'plain (default), gzip (binary, needs -o), base64, gzip+base64. With --cloud, -o and no --encoding: plain if it fits the limit, else gzip' })
    .option('mime', { type: 'boolean', default: false, describe: 'wrap the #cloud-config in a MIME multipart message' })
    .option('cloud', { choices: CLOUDS, describe: "fail (exit 1) when the result exceeds that cloud's user-data limit" })
    .option('verify', { type: 'boolean', default: false, describe: "check the user-data with cloud-init schema and each node's files with haproxy -c, keepalived -t, shellcheck (dummy secrets) before writing (exit 3 if rejected)" })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 with a diff if -o FILE differs from what lb.yaml generates (secrets masked; for CI)' });

/** A committed user-data file of any encoding, decoded to its document text (undefined: not decodable). */
function decodeCommitted(buf: Buffer): string | undefined {
  const unzip = (b: Buffer) => {
    try {
      return gunzipSync(b, { maxOutputLength: 64 * 1024 * 1024 }).toString('utf8');
    } catch {
      return undefined;
    }
  };
  if (isGzip(buf)) return unzip(buf);
  const text = buf.toString('utf8');
  if (/^[A-Za-z0-9+/=\s]+$/.test(text) && !/^\s*$/.test(text)) {
    const raw = Buffer.from(text.replace(/\s+/g, ''), 'base64');
    return isGzip(raw) ? unzip(raw) : raw.toString('utf8');
  }
  return text;
}

export async function handler(
  a: Common & UserdataFlags & { node?: string; secretsOnly?: boolean; o?: string; verify: boolean; check: boolean },
  io: Io,
): Promise<number> {
  if (a.secretsOnly && a.node !== undefined) {
    throw new UsageError('--secrets-only and --node exclude each other: secrets-only user-data serves every node');
  }
  if (a.encoding === 'gzip' && !a.o) throw new UsageError('--encoding gzip is binary; pass -o FILE, or use --encoding gzip+base64 for text');
  if (a.check && !a.o) throw new UsageError('--check compares with a committed file: pass -o FILE');
  if (a.json && !a.o) throw new UsageError('--json prints the diagnostics as JSON on stdout, where the user-data goes without -o; pass -o FILE');
  const loaded = loadModel(a, io, { keepSecrets: !a.check });
  if (typeof loaded === 'number') return loaded;
  const m = loaded.model;
  const node = a.node === undefined ? undefined : findNode(m, a.node);
  // the metadata-mode agent travels gz+b64 in text user-data, plain in gzipped user-data
  const makeFor = (zipped: boolean) => (mm: Model): string =>
    a.secretsOnly
      ? secretsUserdata(mm)
      : node === undefined
        ? userdataForMetadata(mm, { agent: zipped ? 'plain' : 'gz+b64' })
        : userdataForNode(mm, mm.nodes.find((n) => n.name === node.name)!);
  let make = makeFor(a.encoding === 'gzip' || a.encoding === 'gzip+base64');
  let text = make(m);
  const zippedForm = !a.secretsOnly && node === undefined && a.cloud ? makeFor(true)(m) : undefined;
  let enc = encodeForCloud(text, { ...a, toFile: a.o !== undefined, zipped: zippedForm });
  let encoding = a.encoding ?? 'plain';
  if (enc.diagnostics.length > 0 && a.cloud && a.encoding === undefined && a.o) {
    // no encoding asked for: compress to fit, as cloud-init unpacks gzip user-data itself
    const plainBytes = Buffer.byteLength(text);
    make = makeFor(true);
    text = make(m);
    enc = encodeForCloud(text, { ...a, encoding: 'gzip', toFile: true });
    encoding = 'gzip';
    if (enc.diagnostics.length === 0 && !a.json && !a.check) {
      io.stderr(`lbbake: plain user-data is ${plainBytes} bytes, over the ${a.cloud} limit; wrote it gzip-compressed (cloud-init unpacks it). Pass it as a binary file, e.g. aws ec2 run-instances --user-data fileb://${a.o}\n`);
    }
  }
  if (enc.diagnostics.length > 0) {
    report(a, io, [...loaded.diagnostics, ...enc.diagnostics], undefined);
    return EXIT.INVALID;
  }
  const out = enc.output;
  if (a.verify) {
    const rejected = await verifyOrFail(a, io, verifyGroups(m, make, node?.name), m, secretStrings(m));
    if (rejected !== undefined) return rejected;
  }
  if (a.check && a.o) {
    const drift = checkUserdata(m, a, make, text, out, loaded.generated, encoding);
    return reportDrift(a, io, loaded, drift.drift ? [drift.drift] : [], drift.note ? [drift.note] : []);
  }
  if (a.o) {
    writeFileAtomic(a.o, out, 0o600);
    if (a.json) printJson(a, io, loaded.diagnostics, { wrote: [a.o], bytes: Buffer.byteLength(out), encoding });
    else io.stderr(`wrote ${a.o} (${Buffer.byteLength(out)} bytes)\n`);
  } else {
    io.stdout(typeof out === 'string' && !out.endsWith('\n') ? out + '\n' : String(out));
  }
  return EXIT.OK;
}

/**
 * What --verify checks, rendered with dummy secrets (no real secret reaches a validator): the
 * user-data itself (cloud-init schema) and the scripts in it (shellcheck), then each node's
 * files (only --node's node, else every node): keepalived.conf, haproxy.cfg, the hook.
 */
function verifyGroups(m: Model, make: (mm: Model) => string, only: string | undefined): VerifyGroup[] {
  const dm = dummySecretsModel(m);
  const ud = make(dm);
  const own = new Map<string, string>([['user-data', ud]]);
  const seen = new Set<string>();
  for (const n of dm.nodes) for (const [, f] of nodeTree(dm, n)) seen.add(f.content);
  for (const w of (parse(ud) as { write_files?: Array<{ path: string; content: string }> }).write_files ?? []) {
    // node files (with the agent's secret or node placeholders, or rendered per node below) are checked per node
    if (!w.content.includes(PLACEHOLDER_PREFIX) && !w.content.includes(NODE_PLACEHOLDER_PREFIX) && !seen.has(w.content)) own.set(w.path, w.content);
  }
  const groups: VerifyGroup[] = [{ label: '', files: own }];
  for (const n of dm.nodes) {
    if (only !== undefined && n.name !== only) continue;
    groups.push({ label: `${n.name} (dummy secrets): `, files: new Map([...nodeTree(dm, n)].map(([k, f]) => [k, f.content])) });
  }
  return groups;
}

/**
 * --check for user-data: the committed file is decoded (gzip, base64) and compared with the
 * generated document with secrets masked (see checkDrift); then the encoding is compared.
 */
function checkUserdata(
  m: Model,
  a: { o?: string; mime?: boolean; file: string },
  make: (mm: Model) => string,
  text: string,
  out: string | Buffer,
  generated: Parameters<typeof generatedSlots>[0],
  encoding: string,
): { drift?: Drift; note?: string } {
  const path = a.o!;
  let committed: Buffer;
  try {
    committed = readRegularFile(path, 64 * 1024 * 1024);
  } catch (err) {
    const e = err as ReadFailure;
    if (e.code === 'ENOENT') return { drift: { path, diff: `${path}: missing; generate it (the same command without --check) and commit it\n` } };
    return { drift: { path, diff: `${path}: cannot be read: ${readFailureReason(e, 64 * 1024 * 1024)}\n` } };
  }
  if (committed.equals(Buffer.from(out))) return {};
  const dummyText = make(dummySecretsModel(m));
  const wantDoc = a.mime ? mimeMultipart(text) : text;
  const dummyDoc = a.mime ? mimeMultipart(dummyText) : dummyText;
  const boundary = (t: string) => createHash('sha256').update(t).digest('hex').slice(0, 24);
  const extra: Record<string, [string, string, Slot]> = a.mime ? { mime_boundary: [boundary(text), boundary(dummyText), { label: '<MIME boundary>', pattern: '[0-9a-f]{24}', secret: false }] } : {};
  const template = secretTemplate(m, wantDoc, dummyDoc, extra);
  const haveDoc = decodeCommitted(committed);
  if (haveDoc === undefined) return { drift: { path, diff: `${path}: not user-data lbbake can read (a broken gzip stream?); regenerate it\n` } };
  const r = compareText(path, haveDoc, { content: wantDoc, template }, { generated: generatedSlots(generated), storeName: basename(secretsFilePath(a.file)) });
  if (r.drift || r.note) return r;
  return { drift: { path, diff: `${path}: the content is up to date but its encoding is not ${encoding}${a.mime ? ' (MIME)' : ''}; regenerate it\n` } };
}
