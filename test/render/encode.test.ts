import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { base64Length, checkCloudLimit, encodeUserdata, mimeMultipart } from '../../src/render/encode.js';
import { cloudInitSchema, missing } from '../helpers/tools.js';
import { EXAMPLE, run } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';

const dir = useTempDir('lbbake-ux-enc');

const TEXT = '#cloud-config\npackages: [haproxy]\nwrite_files:\n  - path: /etc/x\n    content: "hello"\n';

describe('encodeUserdata round-trips', () => {
  it('plain is the text itself', () => {
    const e = encodeUserdata(TEXT, { encoding: 'plain' });
    expect(e.output).toBe(TEXT);
    expect(e.payload.toString()).toBe(TEXT);
  });
  it('gzip gunzips to the text, deterministically', () => {
    const a = encodeUserdata(TEXT, { encoding: 'gzip' });
    const b = encodeUserdata(TEXT, { encoding: 'gzip' });
    expect(Buffer.isBuffer(a.output)).toBe(true);
    expect(gunzipSync(a.output as Buffer).toString()).toBe(TEXT);
    expect(Buffer.compare(a.output as Buffer, b.output as Buffer)).toBe(0);
  });
  it('base64 decodes to the text', () => {
    const e = encodeUserdata(TEXT, { encoding: 'base64' });
    expect(typeof e.output).toBe('string');
    expect(e.output).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(Buffer.from(e.output as string, 'base64').toString()).toBe(TEXT);
  });
  it('gzip+base64 decodes and gunzips to the text', () => {
    const e = encodeUserdata(TEXT, { encoding: 'gzip+base64' });
    expect(gunzipSync(Buffer.from(e.output as string, 'base64')).toString()).toBe(TEXT);
    expect((e.output as string).length).toBe(base64Length(e.payload.length));
  });
});

describe('cloud limits', () => {
  it('AWS counts raw bytes: 16384 fits, 16385 does not', () => {
    expect(checkCloudLimit(Buffer.alloc(16384, 'a'), 'aws')).toBeUndefined();
    const d = checkCloudLimit(Buffer.alloc(16385, 'a'), 'aws');
    expect(d?.code).toBe('USERDATA_TOO_LARGE');
    expect(d?.message).toMatch(/16385 bytes .* at most 16384/);
  });
  it('OpenStack counts base64 characters: 49149 raw bytes fit, 49152 do not', () => {
    expect(checkCloudLimit(Buffer.alloc(49149, 'a'), 'openstack')).toBeUndefined();
    expect(checkCloudLimit(Buffer.alloc(49152, 'a'), 'openstack')?.message).toMatch(/65536 base64 characters/);
  });
  it('Azure 65535 raw bytes, GCE 262144 bytes of text', () => {
    expect(checkCloudLimit(Buffer.alloc(65535, 'a'), 'azure')).toBeUndefined();
    expect(checkCloudLimit(Buffer.alloc(65536, 'a'), 'azure')).toBeDefined();
    expect(checkCloudLimit(Buffer.alloc(262144, 'a'), 'gce')).toBeUndefined();
    expect(checkCloudLimit(Buffer.alloc(262145, 'a'), 'gce')).toBeDefined();
  });
});

/** lb.yaml with two services (6443 and 443) of n backend servers each. */
function bigFixture(n: number): string {
  const doc = parse(readFileSync(EXAMPLE, 'utf8'));
  const servers = Array.from({ length: n }, (_, i) => ({
    name: `master-${i}`,
    address: `10.169.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  }));
  doc.services[0].servers = servers;
  doc.services.push({ name: 'ingress-https', port: 443, health: { type: 'tcp' }, servers });
  return stringify(doc);
}

describe('gen-userdata --encoding/--cloud', () => {
  const big = join(dir, 'big.yaml');
  writeFileSync(big, bigFixture(200));

  it('an oversized user-data fails --cloud aws with exit 1, the limit, the size and the fix', async () => {
    const r = await run(['gen-userdata', big, '--node', 'lb-0', '--cloud', 'aws']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/error\[USERDATA_TOO_LARGE\]/);
    expect(r.stderr).toMatch(/user-data is \d{5} bytes but AWS EC2 accepts at most 16384/);
    expect(r.stderr).toMatch(/--encoding gzip/);
  });
  it('the same user-data gzipped fits AWS', async () => {
    const out = join(dir, 'big.gz');
    const r = await run(['gen-userdata', big, '--node', 'lb-0', '--cloud', 'aws', '--encoding', 'gzip', '-o', out]);
    expect(r.code).toBe(0);
    const text = gunzipSync(readFileSync(out)).toString();
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(text).toContain('master-199');
  });
  it('the example fits every cloud plain', async () => {
    for (const cloud of ['aws', 'azure', 'gce', 'openstack']) {
      const r = await run(['gen-userdata', EXAMPLE, '--node', 'lb-0', '--cloud', cloud]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith('#cloud-config\n')).toBe(true);
    }
  });
  it('gzip without -o is a usage error (binary on stdout)', async () => {
    const r = await run(['gen-userdata', EXAMPLE, '--node', 'lb-0', '--encoding', 'gzip']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/binary; pass -o FILE/);
  });
  it('an unknown encoding or cloud is a usage error', async () => {
    expect((await run(['gen-userdata', EXAMPLE, '--node', 'lb-0', '--encoding', 'zip'])).code).toBe(2);
    expect((await run(['gen-userdata', EXAMPLE, '--node', 'lb-0', '--cloud', 'ibm'])).code).toBe(2);
  });
});

const skipCI = missing(['cloud-init', '/usr/bin/python3']);
describe.skipIf(skipCI)('MIME multipart is what cloud-init 22.4 accepts', () => {
  it('cloud-init splits it into one text/cloud-config part that passes its schema', async () => {
    const r = await run(['gen-userdata', EXAMPLE, '--node', 'lb-0', '--mime']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Content-Type: multipart\/mixed; boundary=/);
    const mime = join(dir, 'user-data.mime');
    writeFileSync(mime, r.stdout);
    // cloud-init's own user-data processor (the code that runs at boot) walks the message
    const py = `
import sys, json
from cloudinit.user_data import UserDataProcessor
from cloudinit.helpers import Paths
msg = UserDataProcessor(Paths({"cloud_dir": sys.argv[2], "run_dir": sys.argv[2]})).process(open(sys.argv[1], "rb").read())
parts = [p for p in msg.walk() if not p.is_multipart()]
out = [{"type": p.get_content_type(), "filename": p.get_filename(), "body": p.get_payload(decode=True).decode()} for p in parts]
print(json.dumps(out))
`;
    const res = spawnSync('/usr/bin/python3', ['-c', py, mime, dir], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const parts = JSON.parse(res.stdout) as Array<{ type: string; filename: string; body: string }>;
    expect(parts.map((p) => p.type)).toEqual(['text/cloud-config']);
    expect(parts[0].filename).toBe('lbbake.cfg');
    const plain = await run(['gen-userdata', EXAMPLE, '--node', 'lb-0']);
    expect(parts[0].body).toBe(plain.stdout);
    const cfg = join(dir, 'part.cfg');
    writeFileSync(cfg, parts[0].body);
    const schema = cloudInitSchema(cfg);
    expect(schema.status, schema.output).toBe(0);
    expect(schema.output).toMatch(/Valid cloud-config/);
  });
  it('gzip of the MIME form is also unpacked by cloud-init', () => {
    const e = encodeUserdata(mimeMultipart(TEXT), { encoding: 'gzip' });
    const f = join(dir, 'mime.gz');
    writeFileSync(f, e.output);
    const py = `
import sys
from cloudinit.user_data import UserDataProcessor
from cloudinit.helpers import Paths
msg = UserDataProcessor(Paths({"cloud_dir": sys.argv[2], "run_dir": sys.argv[2]})).process(open(sys.argv[1], "rb").read())
print([p.get_content_type() for p in msg.walk() if not p.is_multipart()])
`;
    const res = spawnSync('/usr/bin/python3', ['-c', py, f, dir], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe("['text/cloud-config']");
  });
});
