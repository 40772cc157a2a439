/**
 * Test harness for the boot agent: fake metadata services that speak each cloud's protocol
 * (and refuse requests without the token/header, as the real ones do), PATH stubs for
 * systemctl/ip/cloud-init/sysctl that record their calls, and a temp root populated from the
 * generated user-data's write_files.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { gunzipSync } from 'node:zlib';
import { compile } from '../../src/compile/compile.js';
import type { Model } from '../../src/compile/model.js';
import { PKG_ROOT } from '../../src/io/paths.js';

/** A write_files entry's content as cloud-init writes it (plain, or decoded from gz+b64). */
export function writeFileContent(f: { content: string; encoding?: string }): string {
  if (f.encoding === undefined) return f.content;
  if (f.encoding !== 'gz+b64') throw new Error(`write_files encoding ${f.encoding} is not one lbbake writes`);
  return gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8');
}

export const EXAMPLE = join(PKG_ROOT, 'examples', 'k8s-apiserver.yaml');

export function modelOf(text: string): Model {
  const r = compile(text);
  if (!r.model) throw new Error(`example does not compile: ${JSON.stringify(r.diagnostics)}`);
  return r.model;
}

export function exampleText(): string {
  return readFileSync(EXAMPLE, 'utf8');
}

export type Cloud = 'ec2' | 'gce' | 'azure' | 'openstack';
export const CLOUDS: Cloud[] = ['ec2', 'gce', 'azure', 'openstack'];

/** How one cloud's fake endpoint behaves. 'absent' = this is not that cloud (404 for everything). */
export type Behaviour =
  | { kind: 'value'; value: string }
  | { kind: 'missing' }
  | { kind: 'error' }
  | { kind: 'hang' }
  | { kind: 'absent' }
  /** Something that is not HTTP listens there: a banner, then the connection closes. */
  | { kind: 'garbage' }
  /** HTTP 200 announcing the value plus more bytes, but the connection closes after the value. */
  | { kind: 'truncated'; value: string; missing: number };

export interface Seen {
  cloud: Cloud | 'other';
  method: string;
  url: string;
  status: number | 'hung';
}

/** One HTTP server answering all four clouds' metadata paths, each with its own behaviour. */
export class FakeMetadata {
  behaviour: Record<Cloud, Behaviour> = { ec2: { kind: 'absent' }, gce: { kind: 'absent' }, azure: { kind: 'absent' }, openstack: { kind: 'absent' } };
  seen: Seen[] = [];
  readonly key: string;
  private server: Server;
  private sockets = new Set<Socket>();
  private tokens = new Set<string>();
  url = '';

  constructor(key: string) {
    this.key = key;
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  set(b: Partial<Record<Cloud, Behaviour>>): void {
    this.behaviour = { ec2: { kind: 'absent' }, gce: { kind: 'absent' }, azure: { kind: 'absent' }, openstack: { kind: 'absent' }, ...b };
    this.seen = [];
  }

  private reply(cloud: Cloud | 'other', req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    this.seen.push({ cloud, method: req.method ?? '', url: req.url ?? '', status });
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    res.end(body);
  }

  /** Common failure behaviours; true if it answered (or hung). */
  private common(cloud: Cloud, req: IncomingMessage, res: ServerResponse, extra: Record<string, string> = {}): boolean {
    const b = this.behaviour[cloud];
    if (b.kind === 'absent') {
      this.reply(cloud, req, res, 404, '<html><body>404 Not Found</body></html>', { 'Content-Type': 'text/html' });
      return true;
    }
    if (b.kind === 'hang') {
      this.seen.push({ cloud, method: req.method ?? '', url: req.url ?? '', status: 'hung' });
      return true; // never answers; stop() destroys the socket
    }
    if (b.kind === 'error') {
      this.reply(cloud, req, res, 500, 'Internal Server Error', extra);
      return true;
    }
    if (b.kind === 'garbage') {
      this.seen.push({ cloud, method: req.method ?? '', url: req.url ?? '', status: 'hung' });
      req.socket.end('SSH-2.0-OpenSSH_9.2p1\r\n');
      return true;
    }
    if (b.kind === 'truncated') {
      this.seen.push({ cloud, method: req.method ?? '', url: req.url ?? '', status: 200 });
      const head = Object.entries({ ...extra, 'Content-Length': String(Buffer.byteLength(b.value) + b.missing) }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      req.socket.end(`HTTP/1.1 200 OK\r\n${head}\r\n${b.value}`);
      return true;
    }
    return false;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const h = req.headers;
    const path = u.pathname;
    if (path === '/latest/api/token') {
      // EC2 IMDSv2: PUT with a TTL header gives a token
      if (this.behaviour.ec2.kind === 'absent') return this.reply('ec2', req, res, 404, 'Not Found');
      if (req.method !== 'PUT') return this.reply('ec2', req, res, 405, 'Method Not Allowed');
      const ttl = Number(h['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return this.reply('ec2', req, res, 400, 'Bad Request');
      if (h['x-forwarded-for']) return this.reply('ec2', req, res, 403, 'Forbidden');
      if (this.common('ec2', req, res)) return;
      const token = randomBytes(24).toString('base64');
      this.tokens.add(token);
      return this.reply('ec2', req, res, 200, token, { 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds': String(ttl) });
    }
    if (path.startsWith('/latest/meta-data/')) {
      if (this.behaviour.ec2.kind === 'absent') return this.reply('ec2', req, res, 404, 'Not Found');
      const token = h['x-aws-ec2-metadata-token'];
      if (typeof token !== 'string' || !this.tokens.has(token)) return this.reply('ec2', req, res, 401, 'Unauthorized');
      if (this.common('ec2', req, res)) return;
      const b = this.behaviour.ec2;
      if (path === `/latest/meta-data/tags/instance/${this.key}` && b.kind === 'value') return this.reply('ec2', req, res, 200, b.value);
      return this.reply('ec2', req, res, 404, 'Not Found');
    }
    if (path.startsWith('/computeMetadata/v1/')) {
      if (this.behaviour.gce.kind === 'absent') return this.reply('gce', req, res, 404, 'Not Found');
      const flavor = { 'Metadata-Flavor': 'Google' };
      if (h['metadata-flavor'] !== 'Google' || h['x-forwarded-for']) {
        return this.reply('gce', req, res, 403, 'Missing Metadata-Flavor:Google header.', flavor);
      }
      if (this.common('gce', req, res, flavor)) return;
      const b = this.behaviour.gce;
      if (path === `/computeMetadata/v1/instance/attributes/${this.key}` && b.kind === 'value') return this.reply('gce', req, res, 200, b.value, flavor);
      return this.reply('gce', req, res, 404, 'Not Found', flavor);
    }
    if (path === '/metadata/instance/compute/tagsList') {
      if (this.behaviour.azure.kind === 'absent') return this.reply('azure', req, res, 404, 'Not Found');
      const json = { 'Content-Type': 'application/json; charset=utf-8' };
      if (h.metadata !== 'true') return this.reply('azure', req, res, 400, JSON.stringify({ error: 'Bad request. Required metadata header not specified' }), json);
      if (!u.searchParams.get('api-version')) return this.reply('azure', req, res, 400, JSON.stringify({ error: 'Bad request. api-version was not specified' }), json);
      if (this.common('azure', req, res, json)) return;
      const b = this.behaviour.azure;
      const tags = [{ name: 'env', value: 'prod' }, ...(b.kind === 'value' ? [{ name: this.key, value: b.value }] : [])];
      return this.reply('azure', req, res, 200, JSON.stringify(tags), json);
    }
    if (path === '/openstack/latest/meta_data.json') {
      if (this.behaviour.openstack.kind === 'absent') return this.reply('openstack', req, res, 404, 'Not Found');
      if (this.common('openstack', req, res)) return;
      const b = this.behaviour.openstack;
      const meta: Record<string, string> = { role: 'lb', ...(b.kind === 'value' ? { [this.key]: b.value } : {}) };
      const doc = { uuid: '0b6c0f4e-2d7a-4c1e-9d0b-5f9a3e1c2b7d', name: 'lb', availability_zone: 'nova', meta };
      return this.reply('openstack', req, res, 200, JSON.stringify(doc), { 'Content-Type': 'application/json' });
    }
    return this.reply('other', req, res, 404, 'Not Found');
  }
}

/** A 127.0.0.1 port nobody listens on (connection refused). */
export async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return `http://127.0.0.1:${port}`;
}

const STUBS: Record<string, string> = {
  systemctl: `#!/bin/sh
echo "systemctl $*" >> "$LBA_FAKE/calls.log"
if [ "$1" = "is-active" ]; then
  for unit in "$@"; do :; done
  if grep -qx "$unit" "$LBA_FAKE/active" 2>/dev/null; then exit 0; fi
  exit 3
fi
exit 0
`,
  ip: `#!/bin/sh
echo "ip $*" >> "$LBA_FAKE/calls.log"
if [ -f "$LBA_FAKE/ip.json" ]; then cat "$LBA_FAKE/ip.json"; exit 0; fi
echo "Cannot open netlink socket" >&2
exit 1
`,
  'cloud-init': `#!/bin/sh
echo "cloud-init $*" >> "$LBA_FAKE/calls.log"
if [ "$1 $2" = "query ds.meta_data" ] && [ -f "$LBA_FAKE/meta_data.json" ]; then cat "$LBA_FAKE/meta_data.json"; exit 0; fi
echo "ERROR: Missing instance-data file: /run/cloud-init/instance-data.json" >&2
exit 1
`,
  selinuxenabled: `#!/bin/sh
echo "selinuxenabled" >> "$LBA_FAKE/calls.log"
[ -f "$LBA_FAKE/selinux" ]
`,
  getsebool: `#!/bin/sh
echo "getsebool $*" >> "$LBA_FAKE/calls.log"
if grep -qx "$1" "$LBA_FAKE/sebool-on" 2>/dev/null; then echo "$1 --> on"; else echo "$1 --> off"; fi
`,
  setsebool: `#!/bin/sh
echo "setsebool $*" >> "$LBA_FAKE/calls.log"
echo "$2" >> "$LBA_FAKE/sebool-on"
`,
  sysctl: `#!/bin/sh
echo "sysctl $*" >> "$LBA_FAKE/calls.log"
exit 0
`,
};

/** The interpreter the unit uses (agentPython), else python3 from PATH. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** A node under test: a temp root, a fake dir (stub state and call log) and the stubs. */
export class Node {
  readonly dir: string;
  readonly root: string;
  readonly fake: string;
  readonly bin: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'lba-node-'));
    this.root = join(this.dir, 'root');
    this.fake = join(this.dir, 'fake');
    this.bin = join(this.dir, 'bin');
    for (const d of [this.root, this.fake, this.bin]) mkdirSync(d, { recursive: true });
    for (const [name, text] of Object.entries(STUBS)) {
      writeFileSync(join(this.bin, name), text);
      chmodSync(join(this.bin, name), 0o755);
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Writes every write_files entry of a #cloud-config under the root, as cloud-init would. */
  applyUserdata(text: string): void {
    const doc = parse(text) as { write_files: Array<{ path: string; content: string; permissions: string; owner: string; encoding?: string }> };
    for (const f of doc.write_files) {
      const p = join(this.root, f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, writeFileContent(f));
      chmodSync(p, Number.parseInt(f.permissions, 8));
    }
  }

  /** What `ip -j -4 addr` reports: eth0 with these addresses (plus lo). */
  setAddresses(addrs: string[]): void {
    this.setInterfaces({ eth0: addrs });
  }

  /** What `ip -j -4 addr` reports: these interfaces with their addresses (plus lo). */
  setInterfaces(nics: Record<string, string[]>): void {
    const ifaces = [
      { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      ...Object.entries(nics).map(([ifname, addrs], i) => ({ ifindex: i + 2, ifname, addr_info: addrs.map((a) => ({ family: 'inet', local: a, prefixlen: 24 })) })),
    ];
    writeFileSync(join(this.fake, 'ip.json'), JSON.stringify(ifaces));
  }

  setNoCloud(meta: Record<string, unknown> | undefined): void {
    const p = join(this.fake, 'meta_data.json');
    if (meta === undefined) rmSync(p, { force: true });
    else writeFileSync(p, JSON.stringify(meta, null, 1));
  }

  setActive(units: string[]): void {
    writeFileSync(join(this.fake, 'active'), units.map((u) => u + '\n').join(''));
  }

  calls(): string[] {
    const p = join(this.fake, 'calls.log');
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : [];
  }

  clearCalls(): void {
    rmSync(join(this.fake, 'calls.log'), { force: true });
  }

  read(rel: string): string | undefined {
    const p = join(this.root, rel);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }

  stat(rel: string) {
    return statSync(join(this.root, rel));
  }

  /** Runs the installed agent with python3; never throws, bounded by a timeout. */
  runAgent(env: Record<string, string>, args: string[] = [], timeoutMs = 30_000): Promise<AgentRun> {
    const agent = join(this.root, 'usr/local/sbin/lbbake-agent');
    const start = Date.now();
    return new Promise((ok) => {
      const child = spawn(PYTHON, [agent, ...args], {
        env: {
          PATH: `${this.bin}:${process.env.PATH}`,
          LBBAKE_ROOT: this.root,
          LBA_FAKE: this.fake,
          LBBAKE_TIMEOUT: '0.5',
          LBBAKE_ATTEMPTS: '2',
          LBBAKE_WINDOW: '0',
          LBBAKE_ROUND_PAUSE: '0',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        ok({ code: code ?? -1, stdout, stderr, log: stderr.split('\n').filter(Boolean), ms: Date.now() - start });
      });
    });
  }
}

export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
  log: string[];
  ms: number;
}

/** Metadata URLs of all four clouds pointing at one base. */
export function urls(base: string): Record<string, string> {
  return { LBBAKE_EC2_URL: base, LBBAKE_GCE_URL: base, LBBAKE_AZURE_URL: base, LBBAKE_OPENSTACK_URL: base };
}

const ids = new Map<string, number>();
function getent(db: 'group' | 'passwd', name: string): number {
  const k = `${db}:${name}`;
  if (!ids.has(k)) ids.set(k, Number(execFileSync('getent', [db, name], { encoding: 'utf8' }).split(':')[2]));
  return ids.get(k)!;
}

export const gidOf = (group: string): number => getent('group', group);
export const uidOf = (user: string): number => getent('passwd', user);
