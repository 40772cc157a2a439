import { createHash } from 'node:crypto';
import { gzip as pakoGzip } from 'pako';
import type { Diagnostic } from '../diagnostics/diagnostic.js';

/** How user-data is handed to the cloud. gzip is binary; base64 forms are text. */
export type Encoding = 'plain' | 'gzip' | 'base64' | 'gzip+base64';
export const ENCODINGS: readonly Encoding[] = ['plain', 'gzip', 'base64', 'gzip+base64'];

export type Cloud = 'aws' | 'azure' | 'gce' | 'openstack';
export const CLOUDS: readonly Cloud[] = ['aws', 'azure', 'gce', 'openstack'];

export interface EncodeOptions {
  encoding: Encoding;
  /** Wrap the #cloud-config in a MIME multipart/mixed message (before any gzip/base64). */
  mime?: boolean;
}

/**
 * Each cloud's user-data limit, as its documentation states it:
 * - AWS EC2: "User data is limited to 16 KB, in raw form, before it is base64-encoded."
 * - Azure: custom data "can't exceed 64 KB"; the API says "Base64 encoding and with a maximum
 *   length of 87380 characters" = 65535 bytes before base64.
 * - GCE: a metadata value "must be less than or equal to 262144 bytes (256 KiB)"; binary
 *   (gzip) user-data has to be stored base64-encoded (user-data-encoding: base64).
 * - OpenStack nova: "The provided user data must be base64 encoded and is restricted to
 *   65535 bytes" (of base64 text).
 */
export const CLOUD_LIMITS: Record<Cloud, { label: string; limit: number; counts: 'raw' | 'base64' | 'value'; doc: string }> = {
  aws: { label: 'AWS EC2', limit: 16384, counts: 'raw', doc: '16 KB (16384 bytes) before base64' },
  azure: { label: 'Azure', limit: 65535, counts: 'raw', doc: '64 KB (65535 bytes before base64, 87380 base64 characters)' },
  gce: { label: 'GCE', limit: 262144, counts: 'value', doc: '256 KB (262144 bytes) per metadata value' },
  openstack: { label: 'OpenStack', limit: 65535, counts: 'base64', doc: '65535 characters of base64' },
};

/**
 * gzip, level 9, no timestamp. pako is zlib's own algorithm in JavaScript, so the bytes are the
 * same on every machine and Node version (node:zlib's bundled fork gives other bytes on other
 * builds), which keeps generated output deterministic for --check and golden files.
 */
export function gzipSync(data: Buffer): Buffer {
  return Buffer.from(pakoGzip(data, { level: 9 }));
}

/** Length of the base64 form of n bytes: ceil(n/3)*4. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Is this payload gzip data (magic 1f 8b)? */
export function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * A MIME multipart/mixed message with the #cloud-config as its one text/cloud-config part,
 * as `cloud-init devel make-mime` builds it. The boundary is derived from the content, so the
 * output is deterministic, and checked not to occur in it.
 */
export function mimeMultipart(cloudConfig: string, filename = 'lbbake.cfg'): string {
  const hash = createHash('sha256').update(cloudConfig).digest('hex').slice(0, 24);
  const boundary = `===============lbbake${hash}==`;
  if (cloudConfig.includes(boundary)) throw new Error('MIME boundary occurs in the content');
  const ascii = /^[\x00-\x7f]*$/.test(cloudConfig);
  const body = cloudConfig.endsWith('\n') ? cloudConfig : cloudConfig + '\n';
  return [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    'MIME-Version: 1.0',
    '',
    `--${boundary}`,
    `Content-Type: text/cloud-config; charset="${ascii ? 'us-ascii' : 'utf-8'}"`,
    'MIME-Version: 1.0',
    `Content-Transfer-Encoding: ${ascii ? '7bit' : '8bit'}`,
    `Content-Disposition: attachment; filename="${filename}"`,
    '',
    // the line break before a boundary belongs to the boundary (RFC 2046), so keep one more
    body + '\n' + `--${boundary}--`,
    '',
  ].join('\n');
}

export interface Encoded {
  /** What to write: a string for text encodings, a Buffer for gzip. */
  output: string | Buffer;
  /** The bytes the cloud stores before its own base64 transport (what its limit counts). */
  payload: Buffer;
}

/** Encodes user-data text. Pure and deterministic (gzip without a timestamp). */
export function encodeUserdata(text: string, opts: EncodeOptions): Encoded {
  const doc = opts.mime ? mimeMultipart(text) : text;
  const zipped = opts.encoding === 'gzip' || opts.encoding === 'gzip+base64';
  const payload = zipped ? gzipSync(Buffer.from(doc, 'utf8')) : Buffer.from(doc, 'utf8');
  switch (opts.encoding) {
    case 'plain':
      return { output: doc, payload };
    case 'gzip':
      return { output: payload, payload };
    case 'base64':
    case 'gzip+base64':
      // one line, no newline: what Terraform's user_data_base64 and the cloud APIs take as is
      return { output: payload.toString('base64'), payload };
  }
}

/** Bytes the given cloud counts for this payload. */
export function countedSize(payload: Buffer, cloud: Cloud): number {
  const c = CLOUD_LIMITS[cloud];
  if (c.counts === 'raw') return payload.length;
  if (c.counts === 'base64') return base64Length(payload.length);
  // GCE: text is stored as is; binary must be stored base64-encoded
  return isGzip(payload) ? base64Length(payload.length) : payload.length;
}

/**
 * Checks a user-data payload (the bytes before the cloud's base64 transport) against that
 * cloud's limit. Returns an error diagnostic naming the limit, the size and the fix, or
 * undefined when it fits. `zipped`: the document lbbake would gzip instead, when it differs.
 */
export function checkCloudLimit(payload: Buffer, cloud: Cloud, how: { encoding?: Encoding; toFile?: boolean; zipped?: Buffer } = {}): Diagnostic | undefined {
  const c = CLOUD_LIMITS[cloud];
  const size = countedSize(payload, cloud);
  if (size <= c.limit) return undefined;
  const what = c.counts === 'raw' ? 'bytes' : c.counts === 'base64' ? 'base64 characters' : 'bytes in the metadata value';
  let fix: string;
  if (!isGzip(payload)) {
    // what lbbake would gzip (the metadata-mode user-data then carries its agent plain)
    const z = gzipSync(how.zipped ?? payload);
    const zsize = countedSize(z, cloud);
    // a fix that works as given: gzip is binary, so it needs -o (which then gzips by itself when no --encoding is given)
    const use = how.toFile
      ? '--encoding gzip (binary) or --encoding gzip+base64 (text)'
      : how.encoding === undefined
        ? `-o FILE (lbbake then writes it gzip-compressed) or --encoding gzip+base64 (text, on stdout)`
        : '--encoding gzip+base64 (text), or --encoding gzip with -o FILE (binary)';
    fix =
      zsize <= c.limit
        ? `use ${use}: cloud-init unpacks gzip, and it is ${zsize} ${what} compressed, which fits`
        : `even gzip gives ${zsize} ${what}; bake the configs into an image (lbbake gen-packer) and pass only the secrets as user-data (--secrets-only)`;
  } else {
    fix = 'bake the configs into an image (lbbake gen-packer) and pass only the secrets as user-data (--secrets-only), or split the services over several LB pairs';
  }
  return {
    severity: 'error',
    code: 'USERDATA_TOO_LARGE',
    path: '',
    message: `user-data is ${size} ${what} but ${c.label} accepts at most ${c.limit} (${c.doc}); ${fix}`,
  };
}

/** The gen-userdata flags this module serves. */
export interface UserdataFlags {
  encoding?: Encoding;
  /** The document lbbake gzips instead of this one (metadata mode: the agent plain inside). */
  zipped?: string;
  mime?: boolean;
  cloud?: Cloud;
  /** Written to a file (-o), so binary output is possible: shapes the fix a size error suggests. */
  toFile?: boolean;
}

/**
 * Encodes generated user-data as the flags ask and checks it against --cloud's limit.
 * Returns the output plus any diagnostics (an oversized payload is an error: exit 1).
 */
export function encodeForCloud(text: string, flags: UserdataFlags): Encoded & { diagnostics: Diagnostic[] } {
  const enc = encodeUserdata(text, { encoding: flags.encoding ?? 'plain', mime: flags.mime ?? false });
  const zipped = flags.zipped === undefined ? undefined : Buffer.from(flags.mime ? mimeMultipart(flags.zipped) : flags.zipped, 'utf8');
  const d = flags.cloud ? checkCloudLimit(enc.payload, flags.cloud, { encoding: flags.encoding, toFile: flags.toFile, zipped }) : undefined;
  return { ...enc, diagnostics: d ? [d] : [] };
}
