/**
 * A test network of Linux network namespaces for the live HA suite (test/live) and the benchmark
 * (bench/run.ts): two LB nodes running the keepalived + haproxy configs `lbbake render` writes,
 * three TLS apiserver stand-ins and a client, joined by a bridge in its own namespace. Nothing
 * is connected to the root namespace; every address is in 198.18.0.0/15.
 *
 *   lbl-<pid>-sw   br0 (fixed MAC, stp off, mcast_snooping 0) -- p-lb0 p-lb1 p-m0 p-m1 p-m2 p-cl
 *   lbl-<pid>-lb0  eth0 198.18.0.11   } VIP 198.18.0.100; each node also has its own PID and
 *   lbl-<pid>-lb1  eth0 198.18.0.12   } mount namespaces (private /run, /etc/keepalived, ...)
 *   lbl-<pid>-m0..m2  198.18.0.21-23  TLS :6443, /readyz 200 (500 while <state>/<name>.bad exists)
 *   lbl-<pid>-cl   198.18.0.50        probe (test/helpers/lab/probe.py)
 *   lbl-<pid>-md   198.18.0.254       fake metadata service, started on demand (lab/metadata.py)
 *   lbl-<pid>-m3   198.18.0.24        a fourth apiserver stand-in, started on demand (startBackend('m3'))
 *   lbl-<pid>-dns  198.18.0.53        dnsmasq serving DNS_NAME from a hosts file, started on demand
 *
 * A cloud lab (NetLab.create({ cloud: ... }), see test/helpers/cloudlab.ts) differs: the LB NICs are
 * named like a cloud's (ens5) with fixed MACs, the client sits in its own subnet behind a router
 *
 *   lbl-<pid>-rt   eth0 198.18.0.1/24 on br0 (+ .252 API, .253 metadata), eth1 198.18.1.1/24
 *   lbl-<pid>-cl   eth0 198.18.1.50/24, default via 198.18.1.1 (not on the bridge)
 *
 * and the router sends VIP traffic where the emulated cloud says (test/helpers/lab/cloud.py), so a
 * gratuitous ARP from a node moves nothing. In every lab, nodes see overlays of /etc and /usr whose
 * upper layers are their trees, so files under /etc/lbbake, /etc/systemd and /usr/local/libexec
 * (keepalived's scripts) are theirs too.
 *
 * Namespace names carry the owning process id, so labs of parallel test files never collide and
 * a lab whose owner died (interrupted run) is recognised and removed by the next one.
 * Every wait is bounded; destroy() is idempotent and also runs on exit/SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import { deterministicSources } from '../../src/compile/secrets.js';
import type { Model } from '../../src/compile/model.js';
import { PKG_ROOT } from '../../src/io/paths.js';
import { nodeTree } from '../../src/render/node.js';
import { HAPROXY_EVENT, VRRP_FIREWALL } from '../../src/facts/node.js';
import { type FileSet } from '../../src/render/files.js';
import { writeTree } from '../../src/io/write.js';
import { INTERFACE_SCRIPT } from '../../src/facts/node.js';

/** What the lab needs on the host (root too); suites and benches pass this to missing(). */
export const LAB_TOOLS = ['ip', 'keepalived', 'haproxy', 'openssl', 'python3', 'unshare', 'nsenter', 'bridge', 'pgrep', 'nft'];
/** What impairLink needs besides LAB_TOOLS (the bench's calm part). */
export const IMPAIR_TOOLS = ['iptables'];

export const PREFIX = 'lbl-';
export const VIP = '198.18.0.100';
export const PORT = 6443;
export const CLIENT = '198.18.0.50';
/** Fake cloud metadata service (GCE protocol) for the boot-agent scenario. */
export const METADATA = '198.18.0.254';
export const LB_NODES = [
  { name: 'lb-0', role: 'lb0', address: '198.18.0.11' },
  { name: 'lb-1', role: 'lb1', address: '198.18.0.12' },
] as const;
export const BACKENDS = [
  { name: 'm0', address: '198.18.0.21' },
  { name: 'm1', address: '198.18.0.22' },
  { name: 'm2', address: '198.18.0.23' },
] as const;
/** A fourth apiserver: its namespace always exists, its server runs only after startBackend('m3'). */
export const SPARE_BACKEND = { name: 'm3', address: '198.18.0.24' } as const;
const ALL_BACKENDS = [...BACKENDS, SPARE_BACKEND] as const;
/** The lab's DNS server (dnsmasq) and the name it serves for the apiservers. */
export const DNS_SERVER = '198.18.0.53';
export const DNS_NAME = 'api.lab.test';
export type LbName = (typeof LB_NODES)[number]['name'];
export type BackendName = (typeof ALL_BACKENDS)[number]['name'];

export const LAB_DIR = join(PKG_ROOT, 'test', 'helpers', 'lab');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const BRIDGE_MAC = '02:00:5e:18:00:01';
/** Where a node's tree holds haproxy.service drop-ins (root-relative). */
const HAPROXY_DROPIN_DIR = dirname(HAPROXY_EVENT.dropIn).slice(1);

// ---------------------------------------------------------------------------------------------
// lb.yaml for the lab

export interface LabVrrp {
  version?: 2 | 3;
  advertInterval?: number;
  downTimerAdverts?: number;
  firewall?: boolean;
  mode?: 'unicast' | 'multicast';
  preempt?: boolean;
  auth?: { pass: string } | null;
  check?: { interval?: number; fall?: number; rise?: number; onFailure?: 'fault' | 'lower-priority'; weight?: number; command?: string };
  readiness?: { enabled?: boolean; port?: number; interval?: number; fall?: number; rise?: number };
}

/**
 * lb.yaml text for the lab: the shape of examples/k8s-apiserver.yaml with lab addresses and
 * lbbake's defaults (VRRP version and adverts, no auth, preempt off, readiness on, leastconn). vrrp
 * keys given here are added; `auth: null` is the same as leaving auth out. `balance` overrides the
 * service's.
 */
export function labYaml(vrrp: LabVrrp = {}, opts: { dns?: { max?: number; nameservers?: string[] }; resolveInterface?: boolean; balance?: string; metrics?: { port?: number; bind?: string }; health?: Record<string, unknown> } = {}): string {
  const { auth, ...rest } = vrrp;
  const v: Record<string, unknown> = { routerId: 18, mode: 'unicast', ...rest };
  if (auth) v.auth = auth;
  return stringify({
    version: 1,
    name: 'lab',
    target: { os: 'debian12' },
    // resolveInterface: no vip.interface, each node finds its NIC at boot
    vip: { address: VIP, prefix: 32, ...(opts.resolveInterface ? {} : { interface: 'eth0' }) },
    vrrp: v,
    nodes: LB_NODES.map((n) => ({ name: n.name, address: n.address })),
    services: [
      {
        name: 'kubernetes-apiserver',
        port: PORT,
        ...(opts.balance ? { balance: opts.balance } : {}),
        health: { type: 'https', path: '/readyz', ...opts.health },
        ...(opts.dns
          ? { dns: { name: DNS_NAME, ...opts.dns } }
          : { servers: BACKENDS.map((b) => ({ name: b.name, address: b.address })) }),
      },
    ],
    stats: { port: 1080, bind: '127.0.0.1', user: 'admin' },
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
}

/** The normalized model of an lb.yaml; throws with the diagnostics when it does not compile. */
export function labModel(yamlText: string, opts: { baseDir?: string } = {}): Model {
  // file: references (health.clientCert) are read relative to baseDir, like lbbake does beside lb.yaml
  const sources = opts.baseDir === undefined ? undefined : {
    ...deterministicSources('lab'),
    readFile: (p: string) => readFileSync(isAbsolute(p) ? p : join(opts.baseDir!, p), 'utf8'),
  };
  const r = compile(yamlText, sources);
  if (!r.model) throw new Error(`lab lb.yaml does not compile: ${JSON.stringify(r.diagnostics)}`);
  return r.model;
}

/**
 * What `lbbake render --node X` writes for each lab node. `events: false` leaves out the
 * haproxy.service drop-in (haproxy's exit event), as on a node set up by hand or by the guide:
 * the lab then starts haproxy bare and only the polling check sees it die.
 */
export function renderLab(yamlText: string, opts: { events?: boolean; baseDir?: string } = {}): Record<LbName, FileSet> {
  const m = labModel(yamlText, { baseDir: opts.baseDir });
  const out = {} as Record<LbName, FileSet>;
  for (const n of m.nodes) {
    const files = nodeTree(m, n);
    if (opts.events === false) {
      // every haproxy.service drop-in (the event one, lbbake's restart one): haproxy started bare
      for (const rel of [...files.keys()]) if (rel.startsWith(dirname(HAPROXY_EVENT.dropIn).slice(1) + '/')) files.delete(rel);
    }
    out[n.name as LbName] = files;
  }
  return out;
}

/**
 * The install guide's settings: check every 3 s, 10 failures lower the priority by 2, multicast
 * adverts every second, preemption, no readiness check. With `check` the guide's timings keep
 * lbbake's working pgrep check.
 */
export const GUIDE_VRRP: LabVrrp = {
  mode: 'multicast',
  advertInterval: 1,
  // the guide's PASS auth (VRRPv2); lbbake's 8-character limit
  auth: { pass: 'k8sHA-18' },
  preempt: true,
  readiness: { enabled: false },
  check: { interval: 3, fall: 10, rise: 2, onFailure: 'lower-priority', weight: -2 },
};

/**
 * The guide verbatim: its check command `pidof haproxy`, which lbbake's validator rejects
 * (CHECK_PIDOF), so it is put into an already rendered keepalived.conf by replacing the script
 * line. Everything else stays as rendered.
 */
export function withGuideCheck(keepalivedConf: string): string {
  const out = keepalivedConf.replace(/^(\s*script )"[^"]*"$/m, '$1"pidof haproxy"');
  if (out === keepalivedConf) throw new Error('no vrrp_script line to replace');
  return out;
}

// ---------------------------------------------------------------------------------------------
// small process helpers

interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 20_000): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(cmd: string, args: string[], timeoutMs = 20_000): string {
  const r = run(cmd, args, timeoutMs);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/**
 * systemd starts haproxy.service with a hard open-files limit of 524288; the rendered
 * `maxconn 20000` needs about 40k descriptors and haproxy >= 2.3 refuses to start below that
 * (strict-limits). Where this process's hard limit is lower and cannot be raised (a container
 * without CAP_SYS_RESOURCE), the daemon gets `-n` (global maxconn) on its command line; the
 * config file itself stays unmodified.
 */
function maxconnOverride(): string {
  const hard = Number(run('sh', ['-c', 'ulimit -Hn']).stdout.trim());
  if (!Number.isFinite(hard) || hard >= 45_000) return '';
  return ` -n ${Math.max(256, Math.floor((hard - 1000) / 2))}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `fn` every `intervalMs` until it returns a truthy value (returned) or `timeoutMs` passes
 * (throws with `what`). Bounded in time and in attempts.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  const maxTries = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let i = 0; i < maxTries; i++) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function listNamespaces(): string[] {
  const r = run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);
}

/** SIGKILLs every process in the namespace (all of them were started by this lab) and deletes it. */
function removeNamespace(ns: string): void {
  for (let i = 0; i < 5; i++) {
    const pids = run('ip', ['netns', 'pids', ns])
      .stdout.split(/\s+/)
      .filter(Boolean)
      .map(Number);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    spawnSync('sleep', ['0.1']);
  }
  run('ip', ['netns', 'del', ns]);
}

/** Removes `lbl-<pid>-*` namespaces whose owning process no longer runs (an interrupted run). */
export function cleanStale(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = /^lbl-(\d+)-/.exec(ns);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      removeNamespace(ns);
      removed.push(ns);
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// the lab

export interface ProbeResult {
  t: number;
  ok: boolean;
  body?: string;
  err?: string;
}

/** Which backend answered and through which LB node, from a probe body "m1 via 198.18.0.11". */
export function parseBody(body: string | undefined): { backend: string; lb: LbName | undefined } | undefined {
  const m = /^(\S+) via (\S+)$/.exec(body ?? '');
  if (!m) return undefined;
  return { backend: m[1], lb: LB_NODES.find((n) => n.address === m[2])?.name };
}

interface NodeState {
  launcher?: ChildProcess;
  init?: number;
}

export interface Watcher {
  results: ProbeResult[];
  /** Resolves with every result so far once the probe has stopped. */
  stop(): Promise<ProbeResult[]>;
}

/** One long-lived stream of a StreamSet (test/helpers/lab/streams.py). */
export interface StreamInfo {
  id: number;
  backend: string;
  /** The LB node address it went through. */
  lb: string;
}

export interface BrokenStream extends StreamInfo {
  /** When the client noticed (epoch seconds). */
  t: number;
  why: string;
}

/** Long-lived, mostly idle streams through the VIP, held by one process in the client namespace. */
export interface StreamSet {
  opened: StreamInfo[];
  /** Pings every open stream; a stream without its pong within `seconds` counts as broken. */
  probe(seconds?: number): Promise<{ t: number; alive: number[]; broken: BrokenStream[] }>;
  /** The same without pinging: the streams the network or a peer ended by itself. */
  status(): Promise<{ t: number; alive: number[]; broken: BrokenStream[] }>;
  close(): Promise<void>;
}

const liveLabs = new Set<NetLab>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const all = () => {
    for (const l of liveLabs) l.destroy();
  };
  process.on('exit', all);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      all();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** How a lab differs from the LAN lab (defaults: eth0, client on the bridge). */
export interface LabOptions {
  /** Name of the LB nodes' NIC (default eth0). */
  lbNic?: string;
  /** Cloud lab: routed client behind the router namespace `rt` (see the header). */
  cloud?: boolean;
  /** The VIP the client probes (default VIP). */
  vip?: string;
}

/** Cloud lab addressing (LabOptions.cloud). */
export const CLOUD_NET = {
  router: '198.18.0.1',
  api: '198.18.0.252',
  metadata: '198.18.0.253',
  routerClientSide: '198.18.1.1',
  client: '198.18.1.50',
  clientSubnet: '198.18.1.0/24',
  /** What the lab's emulated VPC spans (the LB subnet and the client subnet). */
  vpcCidr: '198.18.0.0/23',
  lbSubnet: '198.18.0.0/24',
} as const;

/** The fixed MAC of a cloud-lab node's NIC (IMDS names interfaces by MAC). */
export function nodeMac(node: LbName): string {
  const last = LB_NODES.find((n) => n.name === node)!.address.split('.')[3];
  return `02:00:5e:18:00:${Number(last).toString(16).padStart(2, '0')}`;
}

export class NetLab {
  readonly dir: string;
  readonly lbNic: string;
  readonly cloud: boolean;
  readonly vip: string;
  /** Extra environment for keepalived (and so its scripts), e.g. URL overrides of a cloud lab. */
  keepalivedEnv: Record<string, string> = {};
  private readonly nodes = new Map<LbName, NodeState>();
  private backendProcs: ChildProcess[] = [];
  private watchers = new Set<ChildProcess>();
  private metadataProc?: ChildProcess;
  private dnsProc?: ChildProcess;
  private destroyed = false;
  /** When set, every node started afterwards gets this /etc/resolv.conf (else the host's). */
  resolvConf: string | undefined;

  private constructor(opts: LabOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'lbl-lab-'));
    this.lbNic = opts.lbNic ?? 'eth0';
    this.cloud = opts.cloud ?? false;
    this.vip = opts.vip ?? VIP;
  }

  /** Namespace name of a lab member: sw, lb0, lb1, m0..m2, cl. */
  ns(role: string): string {
    return `${PREFIX}${process.pid}-${role}`;
  }

  private roleOf(node: LbName): string {
    return LB_NODES.find((n) => n.name === node)!.role;
  }

  nodeNs(node: LbName): string {
    return this.ns(this.roleOf(node));
  }

  /** Builds the network and starts the backends; LB nodes are started with startNode(). */
  static async create(opts: LabOptions = {}): Promise<NetLab> {
    cleanStale();
    installExitHooks();
    const lab = new NetLab(opts);
    liveLabs.add(lab);
    try {
      lab.build();
      await lab.startBackends();
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  private build(): void {
    const sw = this.ns('sw');
    const members: Array<[string, string]> = [
      ...LB_NODES.map((n) => [n.role, n.address] as [string, string]),
      ...ALL_BACKENDS.map((b) => [b.name, b.address] as [string, string]),
      this.cloud ? ['rt', CLOUD_NET.router] : ['cl', CLIENT],
      ['md', METADATA],
      ['dns', DNS_SERVER],
    ];
    for (const [role] of [['sw'], ...members, ...(this.cloud ? [['cl']] : [])]) must('ip', ['netns', 'add', this.ns(role)]);
    must('ip', ['-n', sw, 'link', 'add', 'br0', 'address', BRIDGE_MAC, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0']);
    must('ip', ['-n', sw, 'link', 'set', 'br0', 'up']);
    must('ip', ['-n', sw, 'link', 'set', 'lo', 'up']);
    for (const [role, addr] of members) {
      const ns = this.ns(role);
      const lb = LB_NODES.find((n) => n.role === role);
      const nic = lb ? this.lbNic : 'eth0';
      must('ip', ['-n', sw, 'link', 'add', `p-${role}`, 'type', 'veth', 'peer', 'name', nic, 'netns', ns]);
      must('ip', ['-n', sw, 'link', 'set', `p-${role}`, 'master', 'br0', 'up']);
      if (lb && this.cloud) must('ip', ['-n', ns, 'link', 'set', nic, 'address', nodeMac(lb.name)]);
      must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      must('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', nic]);
      must('ip', ['-n', ns, 'link', 'set', nic, 'up']);
      if (lb && this.cloud) must('ip', ['-n', ns, 'route', 'replace', CLOUD_NET.clientSubnet, 'via', CLOUD_NET.router, 'dev', nic]);
    }
    if (this.cloud) this.buildRouter();
    // TLS material for the apiserver stand-ins
    must('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=lbbake-lab-apiserver', '-keyout', join(this.dir, 'key.pem'), '-out', join(this.dir, 'cert.pem'),
    ]);
    mkdirSync(join(this.dir, 'state'), { recursive: true });
  }

  /**
   * The cloud lab's router (VPC fabric): the client's only way to the LB subnet. Its VIP/32 route
   * is set by the cloud emulator running in it; until then the VIP is unreachable.
   */
  private buildRouter(): void {
    const rt = this.ns('rt');
    const cl = this.ns('cl');
    for (const a of [CLOUD_NET.api, CLOUD_NET.metadata]) must('ip', ['-n', rt, 'addr', 'add', `${a}/32`, 'dev', 'eth0']);
    must('ip', ['-n', rt, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cl]);
    must('ip', ['-n', rt, 'addr', 'add', `${CLOUD_NET.routerClientSide}/24`, 'dev', 'eth1']);
    must('ip', ['-n', rt, 'link', 'set', 'eth1', 'up']);
    must('ip', ['-n', cl, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', cl, 'addr', 'add', `${CLOUD_NET.client}/24`, 'dev', 'eth0']);
    must('ip', ['-n', cl, 'link', 'set', 'eth0', 'up']);
    must('ip', ['-n', cl, 'route', 'add', 'default', 'via', CLOUD_NET.routerClientSide]);
    must('ip', ['netns', 'exec', rt, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    // the VPC fabric never learns the VIP from ARP: only this route (set by the emulator) delivers it
    must('ip', ['-n', rt, 'route', 'replace', 'unreachable', `${this.vip}/32`]);
  }

  private async startBackends(): Promise<void> {
    for (const b of BACKENDS) await this.startBackend(b.name);
  }

  /** Makes a backend's /readyz answer 500 (ready=false) or 200 (ready=true). */
  setReady(backend: BackendName, ready: boolean): void {
    const f = join(this.dir, 'state', `${backend}.bad`);
    if (ready) rmSync(f, { force: true });
    else writeFileSync(f, '');
  }

  nodeRoot(node: LbName): string {
    return join(this.dir, node, 'root');
  }

  logFile(node: LbName, daemon: 'keepalived' | 'haproxy' | 'init'): string {
    return join(this.dir, node, `${daemon}.log`);
  }

  /** A daemon's log since the node last started. */
  readLog(node: LbName, daemon: 'keepalived' | 'haproxy' | 'init'): string {
    const f = this.logFile(node, daemon);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /**
   * Writes a node's rendered files exactly as `lbbake render -o ROOT` does (writeTree), plus the
   * owner each entry asks for. Replaces the node's previous files.
   */
  writeNodeFiles(node: LbName, files: FileSet): void {
    const root = this.nodeRoot(node);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, 'var', 'lib', 'haproxy'), { recursive: true });
    writeTree(root, files);
    for (const [rel, f] of files) must('chown', [f.owner, join(root, rel)]);
    // node-init.sh bind-mounts it over /etc/resolv.conf inside the node
    if (this.resolvConf !== undefined) writeFileSync(join(root, 'etc', 'resolv.conf'), this.resolvConf);
  }

  /** Replaces one file of a node's tree (used by the bench's "guide verbatim" transform). */
  patchNodeFile(node: LbName, rel: string, edit: (text: string) => string): void {
    const p = join(this.nodeRoot(node), rel);
    writeFileSync(p, edit(readFileSync(p, 'utf8')));
    chmodSync(p, 0o600);
  }

  /** Host PID of the node's PID-namespace init, if the node runs. */
  initPid(node: LbName): number | undefined {
    const s = this.nodes.get(node);
    return s?.init !== undefined && alive(s.init) ? s.init : undefined;
  }

  /**
   * Starts a node: fresh PID + mount namespaces in its netns, private /run and config dirs, the
   * net.* sysctls of its rendered drop-in, then haproxy and keepalived as the Debian units do.
   */
  async startNode(node: LbName, opts: { haproxy?: boolean; keepalived?: boolean } = {}): Promise<void> {
    if (this.initPid(node)) throw new Error(`${node} already runs`);
    const ns = this.nodeNs(node);
    const addr = LB_NODES.find((n) => n.name === node)!.address;
    const root = this.nodeRoot(node);
    if (opts.keepalived !== false && !existsSync(join(root, 'etc', 'keepalived', 'keepalived.conf'))) throw new Error(`${node}: no files written`);
    // a restarted node has no VIP left over from a killed keepalived
    must('ip', ['-n', ns, 'addr', 'flush', 'dev', this.lbNic]);
    must('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', this.lbNic]);
    if (this.cloud) must('ip', ['-n', ns, 'route', 'replace', CLOUD_NET.clientSubnet, 'via', CLOUD_NET.router, 'dev', this.lbNic]);
    this.applySysctls(node);
    this.applyFirewall(node);
    rmSync(join(root, 'ready'), { force: true });
    // readLog() shows this incarnation of the node only; the previous one is kept as *.log.prev
    for (const d of ['keepalived', 'haproxy'] as const) {
      const f = this.logFile(node, d);
      if (existsSync(f)) renameSync(f, `${f}.prev`);
    }
    const log = openSync(this.logFile(node, 'init'), 'a');
    const launcher = spawn(
      'ip',
      ['netns', 'exec', ns, 'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--mount', '--propagation', 'private',
        'sh', join(LAB_DIR, 'node-init.sh'), root, PYTHON, 'overlay'],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const state: NodeState = { launcher };
    this.nodes.set(node, state);
    await waitFor(`${node} init ready`, () => existsSync(join(root, 'ready')), { timeoutMs: 20_000, intervalMs: 50 });
    state.init = await waitFor(`${node} init pid`, () => {
      const pid = launcher.pid;
      if (!pid) return undefined;
      const f = `/proc/${pid}/task/${pid}/children`;
      const kids = existsSync(f) ? readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean) : [];
      return kids.length ? Number(kids[0]) : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    if (opts.haproxy !== false) this.startHaproxy(node);
    if (opts.keepalived !== false) this.startKeepalived(node);
  }

  private applySysctls(node: LbName): void {
    const dir = join(this.nodeRoot(node), 'etc', 'sysctl.d');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.conf')).sort() : [];
    for (const f of files) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const m = /^\s*([a-z0-9_.]+)\s*=\s*(\S+)\s*$/.exec(line);
        // only net.* keys are per network namespace; the others would change the host
        if (m && m[1].startsWith('net.')) must('ip', ['netns', 'exec', this.nodeNs(node), 'sysctl', '-q', '-w', `${m[1]}=${m[2]}`]);
      }
    }
  }

  /**
   * The node's VRRP firewall, as lbbake-vrrp-firewall.service loads it (`nft -f` of the rendered
   * file, in the node's network namespace); nothing when the node's tree has none. Loading the
   * file replaces the table, so a restarted node gets a fresh one.
   */
  private applyFirewall(node: LbName): void {
    const file = join(this.nodeRoot(node), VRRP_FIREWALL.file.slice(1));
    if (existsSync(file)) must('ip', ['netns', 'exec', this.nodeNs(node), 'nft', '-f', file]);
    // a node without the file boots without the table (the network namespace outlives the node)
    else run('ip', ['netns', 'exec', this.nodeNs(node), 'nft', 'delete', 'table', 'inet', VRRP_FIREWALL.table]);
  }

  /** Packets the node's VRRP firewall dropped so far (its counter), or undefined without the table. */
  vrrpDropped(node: LbName): number | undefined {
    const r = run('ip', ['netns', 'exec', this.nodeNs(node), 'nft', 'list', 'table', 'inet', VRRP_FIREWALL.table]);
    if (r.status !== 0) return undefined;
    const m = /counter packets (\d+) bytes \d+ drop/.exec(r.stdout);
    return m ? Number(m[1]) : undefined;
  }

  /** Sends VRRPv3 adverts from a lab member that is no LB node (lab/vrrp-send.py). */
  sendVrrp(from: { role: string; address: string }, to: string, opts: { vrid: number; priority: number; count: number }): string {
    return must('ip', ['netns', 'exec', this.ns(from.role), PYTHON, join(LAB_DIR, 'vrrp-send.py'), from.address, to, String(opts.vrid),
      String(opts.priority), this.vip, String(opts.count)]);
  }

  /** The python3 the lab uses (the agent runs with it too). */
  get python(): string {
    return PYTHON;
  }

  /** Runs a command inside the node (its net, mount and PID namespaces). */
  exec(node: LbName, argv: string[], timeoutMs = 20_000): RunResult {
    const pid = this.initPid(node);
    if (!pid) throw new Error(`${node} is not running`);
    return run('nsenter', ['-t', String(pid), '-n', '-m', '-p', '--', ...argv], timeoutMs);
  }

  /** Runs a command in one of the lab's plain namespaces (cl, m0, md, ...). */
  execNs(role: string, argv: string[], timeoutMs = 20_000): RunResult {
    return run('ip', ['netns', 'exec', this.ns(role), ...argv], timeoutMs);
  }

  /** Starts a long-running daemon in the node, detached, its output appended to a log file. */
  private daemon(node: LbName, logName: 'keepalived' | 'haproxy', cmd: string): void {
    const r = this.exec(node, ['sh', '-c', `${cmd} </dev/null >>'${this.logFile(node, logName)}' 2>&1 &`]);
    if (r.status !== 0) throw new Error(`${node}: could not start ${logName}: ${r.stderr}`);
  }

  /**
   * The node's haproxy.service drop-ins (host paths, systemd's order), as rendered into its tree.
   * Empty when the tree has none.
   */
  haproxyDropIns(node: LbName): string[] {
    const dir = join(this.nodeRoot(node), HAPROXY_DROPIN_DIR);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.conf')).sort().map((f) => join(dir, f)) : [];
  }

  /**
   * Starts haproxy as Debian's unit does. With the node's rendered haproxy.service drop-ins (the
   * default when its tree has them) it runs under lab/unit.py, which plays systemd's part: it
   * waits for READY=1 and runs the drop-ins' ExecStartPost= lines, and when haproxy exits or dies
   * it kills the rest of it and runs their ExecStopPost= lines. `unit: false` starts haproxy bare,
   * as if the drop-ins were absent (the event path missing; only the polling check remains).
   */
  startHaproxy(node: LbName, opts: { unit?: boolean } = {}): void {
    const chk = this.exec(node, ['haproxy', '-Ws', '-f', '/etc/haproxy/haproxy.cfg', '-c', '-q']);
    if (chk.status !== 0) throw new Error(`${node}: haproxy -c failed: ${chk.stdout}${chk.stderr}`);
    const cmd = `haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock${maxconnOverride()}`;
    const dropIns = opts.unit === false ? [] : this.haproxyDropIns(node);
    const q = (a: string) => `'${a}'`;
    this.daemon(node, 'haproxy', dropIns.length === 0 ? cmd : `${PYTHON} ${q(join(LAB_DIR, 'unit.py'))} haproxy ${dropIns.map(q).join(' ')} -- ${cmd}`);
    // keepalived's first check runs as soon as it starts: return only once haproxy runs, or a
    // keepalived started right after would begin in FAULT (a race systemd does not order either)
    for (let i = 0; i < 200 && this.pgrep(node, 'haproxy') !== 0; i++) spawnSync('sleep', ['0.05']);
  }

  /** `systemctl stop haproxy`: SIGTERM to the unit runner (lab/unit.py), else to haproxy itself. */
  stopHaproxy(node: LbName): void {
    const r = this.exec(node, ['pkill', '-TERM', '-f', '^\\S*python3\\S* \\S*/unit\\.py haproxy ']);
    if (r.status !== 0) this.exec(node, ['pkill', '-TERM', '-x', 'haproxy']);
  }

  startKeepalived(node: LbName): void {
    // --node user-data's ExecStartPre for keepalived (vip.interface not set): find the NIC
    const resolver = join(this.nodeRoot(node), INTERFACE_SCRIPT.slice(1));
    if (existsSync(resolver)) {
      const r = this.exec(node, ['sh', resolver]);
      if (r.status !== 0) throw new Error(`${node}: ${INTERFACE_SCRIPT} failed: ${r.stderr}`);
    }
    const env = Object.entries(this.keepalivedEnv).map(([k, v]) => `${k}='${v}' `).join('');
    this.daemon(node, 'keepalived', `${env ? `env ${env}` : ''}keepalived --dont-fork -l -D -f /etc/keepalived/keepalived.conf`);
  }

  /** SIGKILLs every haproxy process of the node (master and workers). */
  killHaproxy(node: LbName): void {
    this.exec(node, ['pkill', '-KILL', '-x', 'haproxy']);
  }

  /** SIGKILLs keepalived (no priority-0 advert). */
  killKeepalived(node: LbName): void {
    this.exec(node, ['pkill', '-KILL', '-x', 'keepalived']);
  }

  /** `pgrep -x NAME` inside the node: the exit status (0 = found). */
  pgrep(node: LbName, name: string): number {
    return this.exec(node, ['/usr/bin/pgrep', '-x', name]).status;
  }

  /** Node lost: SIGKILL to its PID-namespace init takes every process of the node at once. */
  async killNode(node: LbName): Promise<void> {
    const s = this.nodes.get(node);
    if (!s) return;
    if (s.init !== undefined && alive(s.init)) process.kill(s.init, 'SIGKILL');
    const l = s.launcher;
    if (l && l.exitCode === null && l.signalCode === null) {
      await waitFor(`${node} stopped`, () => l.exitCode !== null || l.signalCode !== null, { timeoutMs: 10_000, intervalMs: 20 });
    }
    this.nodes.delete(node);
  }

  /** The node's switch port down/up (cable pulled). */
  setLink(node: LbName, up: boolean): void {
    must('ip', ['-n', this.ns('sw'), 'link', 'set', `p-${this.roleOf(node)}`, up ? 'up' : 'down']);
  }

  /**
   * Cuts (true) or restores the path between the two LB nodes only: both bridge ports become
   * "isolated", so they still reach the client and backends but no longer each other.
   */
  isolateLbs(cut: boolean): void {
    for (const n of LB_NODES) {
      must('bridge', ['-n', this.ns('sw'), 'link', 'set', 'dev', `p-${n.role}`, 'isolated', cut ? 'on' : 'off']);
    }
  }

  hasVip(node: LbName): boolean {
    const r = run('ip', ['-n', this.nodeNs(node), '-4', '-o', 'addr', 'show', 'dev', this.lbNic]);
    return r.stdout.includes(` ${this.vip}/`);
  }

  vipHolders(): LbName[] {
    return LB_NODES.map((n) => n.name).filter((n) => this.hasVip(n));
  }

  /** COUNT sequential requests from the client to VIP:6443 (a new TLS connection each). */
  get(count: number, timeoutS = 2): ProbeResult[] {
    const r = run('ip', ['netns', 'exec', this.ns('cl'), PYTHON, join(LAB_DIR, 'probe.py'), 'get', this.vip, String(PORT),
      String(count), String(timeoutS)], 20_000 + count * timeoutS * 1000);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProbeResult);
  }

  /** Starts a background probe: a new TLS connection every intervalS, for at most maxS seconds. */
  watch(intervalS = 0.02, timeoutS = 0.25, maxS = 120): Watcher {
    const p = spawn('ip', ['netns', 'exec', this.ns('cl'), PYTHON, join(LAB_DIR, 'probe.py'), 'watch', this.vip, String(PORT),
      String(intervalS), String(timeoutS), String(maxS)], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.watchers.add(p);
    const results: ProbeResult[] = [];
    const rl = createInterface({ input: p.stdout! });
    rl.on('line', (l) => {
      try {
        results.push(JSON.parse(l) as ProbeResult);
      } catch {
        /* partial line at kill */
      }
    });
    const done = new Promise<void>((res) => p.on('close', () => res()));
    return {
      results,
      stop: async () => {
        p.stdin!.end();
        const t = setTimeout(() => p.kill('SIGKILL'), 3_000);
        await done;
        clearTimeout(t);
        this.watchers.delete(p);
        return results;
      },
    };
  }

  /**
   * Writes both nodes' rendered files (optionally edited by `patch`) and (re)starts both nodes,
   * lb-0 first; lb-1 starts once lb-0 holds the VIP (every node starts as BACKUP and, with
   * preempt off, the first to take the VIP keeps it), unless `together`.
   */
  async deploy(files: Record<LbName, FileSet>, patch?: (keepalivedConf: string) => string, opts: { together?: boolean } = {}): Promise<void> {
    for (const n of LB_NODES) await this.killNode(n.name);
    for (const n of LB_NODES) {
      this.writeNodeFiles(n.name, files[n.name]);
      if (patch) this.patchNodeFile(n.name, 'etc/keepalived/keepalived.conf', patch);
    }
    await this.startNode('lb-0');
    if (!opts.together) await waitFor('lb-0 holds the VIP after a fresh start', () => this.hasVip('lb-0'), { timeoutMs: 30_000 });
    for (const n of LB_NODES.slice(1)) await this.startNode(n.name);
  }

  /** Waits until one request from the client is answered through `lb`; returns that answer. */
  servedThrough(lb: LbName, timeoutMs = 20_000): Promise<ProbeResult> {
    return waitFor(`client served through ${lb}`, () => {
      const [r] = this.get(1, 1);
      return r?.ok && parseBody(r.body)?.lb === lb ? r : undefined;
    }, { timeoutMs, intervalMs: 200 });
  }

  /**
   * Waits for the steady state: lb-0 alone holds the VIP and serves, lb-1 is BACKUP (and its
   * check has passed, unless checkPasses is false).
   */
  async steady(opts: { checkPasses?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    await waitFor('lb-0 alone holds the VIP', () => this.vipHolders().join() === 'lb-0', { timeoutMs });
    await this.servedThrough('lb-0', timeoutMs);
    await waitFor('lb-1 is BACKUP', () => {
      const log = this.readLog('lb-1', 'keepalived');
      const backup = log.lastIndexOf('Entering BACKUP STATE') > log.lastIndexOf('Entering MASTER STATE');
      return backup && (opts.checkPasses === false || log.includes('VRRP_Script(chk_haproxy) succeeded'));
    }, { timeoutMs });
  }

  /**
   * Opens `count` long-lived streams to VIP:6443 from the client (one after the other, each a new
   * TLS connection sending GET /stream) and keeps them idle until probed. Bounded: 60 s to open,
   * each probe its seconds + 10.
   */
  async openStreams(count: number): Promise<StreamSet> {
    const p = spawn('ip', ['netns', 'exec', this.ns('cl'), PYTHON, join(LAB_DIR, 'streams.py'), this.vip, String(PORT), String(count)],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    this.watchers.add(p);
    const lines: string[] = [];
    let err = '';
    const rl = createInterface({ input: p.stdout! });
    rl.on('line', (l) => lines.push(l));
    p.stderr!.on('data', (d) => (err += String(d)));
    const next = async (what: string, timeoutMs: number): Promise<any> => {
      const want = lines.length === 0 ? undefined : lines.shift();
      if (want !== undefined) return JSON.parse(want);
      await waitFor(what, () => lines.length > 0 || p.exitCode !== null, { timeoutMs, intervalMs: 20 });
      if (lines.length === 0) throw new Error(`streams.py ended: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      return JSON.parse(lines.shift()!);
    };
    const first = await next(`${count} streams open`, 60_000);
    const close = async () => {
      if (p.exitCode === null) {
        p.stdin!.end('quit\n');
        await waitFor('streams.py exited', () => p.exitCode !== null || p.signalCode !== null, { timeoutMs: 5_000, intervalMs: 20 }).catch(() => p.kill('SIGKILL'));
      }
      this.watchers.delete(p);
    };
    return {
      opened: first.opened,
      probe: async (seconds = 3) => {
        p.stdin!.write(`probe ${seconds}\n`);
        return next('stream probe answer', seconds * 1000 + 10_000);
      },
      status: async () => {
        p.stdin!.write('status\n');
        return next('stream status answer', 10_000);
      },
      close,
    };
  }

  /**
   * Cuts (true) or restores the node's path to the apiservers (all, or the named ones): its
   * packets to them are dropped in its namespace (iptables OUTPUT), so checks and connections
   * time out as on a broken network. The client and the other LB node stay reachable.
   */
  cutBackends(node: LbName, cut: boolean, backends: readonly BackendName[] = ALL_BACKENDS.map((b) => b.name)): void {
    for (const name of backends) {
      const rule = ['OUTPUT', '-d', `${ALL_BACKENDS.find((b) => b.name === name)!.address}/32`, '-j', 'DROP'];
      const ns = this.nodeNs(node);
      if (cut) must('ip', ['netns', 'exec', ns, 'iptables', '-w', '-A', ...rule]);
      else while (run('ip', ['netns', 'exec', ns, 'iptables', '-w', '-D', ...rule]).status === 0);
    }
  }

  /** `systemctl reload haproxy` (Debian's unit: SIGUSR2 to the master): new workers, the old ones keep their streams. */
  reloadHaproxy(node: LbName): void {
    const r = this.exec(node, ['sh', '-c', 'kill -USR2 "$(cat /run/haproxy.pid)"']);
    if (r.status !== 0) throw new Error(`${node}: haproxy reload failed: ${r.stderr}`);
  }

  /** `systemctl restart haproxy`: stop (the unit's stop, ExecStopPost), wait until it is gone, start. */
  async restartHaproxy(node: LbName): Promise<void> {
    this.stopHaproxy(node);
    await waitFor(`${node}: haproxy stopped`, () => this.pgrep(node, 'haproxy') === 1, { timeoutMs: 10_000, intervalMs: 20 });
    this.startHaproxy(node);
  }

  /** `systemctl stop keepalived`: SIGTERM (priority-0 advert, VIP removed), waits until it is gone. */
  async stopKeepalived(node: LbName): Promise<void> {
    this.exec(node, ['pkill', '-TERM', '-x', 'keepalived']);
    await waitFor(`${node}: keepalived stopped`, () => this.pgrep(node, 'keepalived') === 1, { timeoutMs: 10_000, intervalMs: 20 });
  }

  /**
   * A graceful shutdown as systemd orders it with lbbake's drop-in: keepalived first (it stops
   * before haproxy and the network), then haproxy, then the link goes down. `order: 'network-first'`
   * plays a shutdown without that ordering: the network goes first, so no advert leaves.
   */
  async gracefulStop(node: LbName, order: 'keepalived-first' | 'network-first' = 'keepalived-first'): Promise<void> {
    if (order === 'network-first') this.setLink(node, false);
    await this.stopKeepalived(node);
    this.stopHaproxy(node);
    await waitFor(`${node}: haproxy stopped`, () => this.pgrep(node, 'haproxy') === 1, { timeoutMs: 10_000, intervalMs: 20 });
    if (order === 'keepalived-first') this.setLink(node, false);
    await this.killNode(node);
  }

  /** An apiserver host lost: its switch port down (no FIN or reset reaches anyone), its process killed. */
  crashBackendHost(backend: BackendName): void {
    must('ip', ['-n', this.ns('sw'), 'link', 'set', `p-${backend}`, 'down']);
    this.killBackend(backend);
  }

  /** The apiserver host back: switch port up, process started. */
  async restoreBackendHost(backend: BackendName, opts: { ca?: string } = {}): Promise<void> {
    must('ip', ['-n', this.ns('sw'), 'link', 'set', `p-${backend}`, 'up']);
    await this.startBackend(backend, opts);
  }

  /**
   * A lab CA and a client certificate it signs (ECDSA P-256), as a cluster's CA and the LB's
   * health-check identity: { ca, cert, key } paths in the lab directory. Made once.
   */
  clientPki(): { ca: string; cert: string; key: string } {
    const d = join(this.dir, 'pki');
    const out = { ca: join(d, 'ca.pem'), cert: join(d, 'client.pem'), key: join(d, 'client-key.pem') };
    if (existsSync(out.key)) return out;
    mkdirSync(d, { recursive: true });
    const caKey = join(d, 'ca-key.pem');
    must('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=lbbake-lab-cluster-ca', '-keyout', caKey, '-out', out.ca]);
    const csr = join(d, 'client.csr');
    must('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=lbbake-health/O=system:monitoring', '-keyout', out.key, '-out', csr]);
    must('openssl', ['x509', '-req', '-in', csr, '-CA', out.ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-out', out.cert]);
    return out;
  }

  /** SIGKILLs one apiserver stand-in. */
  killBackend(backend: BackendName): void {
    const i = ALL_BACKENDS.findIndex((b) => b.name === backend);
    this.backendProcs[i]?.kill('SIGKILL');
  }

  /**
   * (Re)starts one apiserver stand-in and waits until it listens. With `ca`, it has anonymous
   * auth off: 401 to any request without a client certificate signed by that CA.
   */
  async startBackend(backend: BackendName, opts: { ca?: string } = {}): Promise<void> {
    const i = ALL_BACKENDS.findIndex((b) => b.name === backend);
    const b = ALL_BACKENDS[i];
    const logPath = join(this.dir, `${b.name}.log`);
    writeFileSync(logPath, '');
    const log = openSync(logPath, 'a');
    this.backendProcs[i] = spawn(
      'ip',
      ['netns', 'exec', this.ns(b.name), PYTHON, join(LAB_DIR, 'backend.py'), b.name, b.address, String(PORT),
        join(this.dir, 'cert.pem'), join(this.dir, 'key.pem'), join(this.dir, 'state'), ...(opts.ca ? [opts.ca] : [])],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    await waitFor(`${b.name} listening`, () => readFileSync(logPath, 'utf8').includes('listening'), { timeoutMs: 20_000, intervalMs: 50 });
  }

  /** One command to haproxy's stats socket in the node (python3, no socat needed); its answer. */
  haproxyCommand(node: LbName, command: string): string {
    const py = 'import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.settimeout(5)\ns.connect("/run/haproxy/admin.sock")\n' +
      's.sendall(sys.argv[1].encode()+b"\\n")\nb=b""\nwhile True:\n d=s.recv(65536)\n if not d: break\n b+=d\nsys.stdout.write(b.decode())\n';
    return this.exec(node, [PYTHON, '-c', py, command], 10_000).stdout;
  }

  /** haproxy's view of a server (e.g. "UP", "DOWN", "UP 1/2", "MAINT") from the node's stats socket. */
  serverStatus(node: LbName, backend: BackendName): string | undefined {
    const line = this.haproxyCommand(node, 'show stat').split('\n').find((l) => l.split(',')[1] === backend);
    return line?.split(',')[17];
  }

  /** A snapshot for failure messages: VIP holders, the client's ARP entry, recent daemon logs. */
  diagnose(): string {
    const out = [`VIP holders: ${this.vipHolders().join(', ') || 'none'}`];
    out.push(`client neighbours: ${run('ip', ['-n', this.ns('cl'), 'neigh']).stdout.trim()}`);
    if (this.cloud) out.push(`router VIP route: ${run('ip', ['-n', this.ns('rt'), 'route', 'show', `${this.vip}/32`]).stdout.trim()}`);
    for (const n of LB_NODES) {
      out.push(`${n.name} ${this.lbNic}: ${run('ip', ['-n', this.nodeNs(n.name), '-br', 'addr', 'show', this.lbNic]).stdout.trim()}`);
      const k = this.readLog(n.name, 'keepalived').split('\n').filter((l) => !/gratuitous ARP on /.test(l));
      out.push(`--- ${n.name} keepalived (last 15 lines)`, ...k.slice(-15));
      out.push(`--- ${n.name} haproxy (last 5 lines)`, ...this.readLog(n.name, 'haproxy').split('\n').slice(-5));
    }
    return out.join('\n');
  }

  /**
   * Starts the fake metadata service: `names` maps a caller's address to the value of the
   * metadata key (what each instance's tag/attribute says). Can be called again to change them.
   */
  async startMetadata(key: string, names: Record<string, string>): Promise<string> {
    const mapFile = join(this.dir, 'metadata.json');
    writeFileSync(mapFile, JSON.stringify(names));
    if (this.metadataProc && this.metadataProc.exitCode === null) return `http://${METADATA}`;
    const logPath = join(this.dir, 'metadata.log');
    const log = openSync(logPath, 'a');
    this.metadataProc = spawn('ip', ['netns', 'exec', this.ns('md'), PYTHON, join(LAB_DIR, 'metadata.py'), METADATA, '80', key, mapFile],
      { stdio: ['ignore', log, log] });
    closeSync(log);
    await waitFor('metadata service listening', () => readFileSync(logPath, 'utf8').includes('listening'), { timeoutMs: 20_000, intervalMs: 50 });
    return `http://${METADATA}`;
  }

  /**
   * Starts dnsmasq (or, when it runs, changes what it answers): DNS_NAME resolves to `addresses`
   * (A records, TTL 0) and nothing else is served (no upstream, no /etc/hosts). A change is a
   * rewritten hosts file and SIGHUP, as an operator's DNS update would be. Returns the time of
   * the change (ms, Date.now()).
   */
  async setDns(addresses: string[]): Promise<number> {
    const hosts = join(this.dir, 'dns-hosts');
    writeFileSync(`${hosts}.tmp`, addresses.map((a) => `${a} ${DNS_NAME}\n`).join(''));
    renameSync(`${hosts}.tmp`, hosts);
    chmodSync(hosts, 0o644);
    const p = this.dnsProc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGHUP');
      const t = Date.now();
      await waitFor('dnsmasq re-read its hosts file', () => readFileSync(join(this.dir, 'dns.log'), 'utf8').split('read ' + hosts).length - 1 >= this.dnsReads + 1, { timeoutMs: 5_000, intervalMs: 20 });
      this.dnsReads++;
      return t;
    }
    const logPath = join(this.dir, 'dns.log');
    writeFileSync(logPath, '');
    const log = openSync(logPath, 'a');
    this.dnsProc = spawn('ip', ['netns', 'exec', this.ns('dns'), 'dnsmasq', '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null',
      '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, `--listen-address=${DNS_SERVER}`, '--bind-interfaces', '--except-interface=lo',
      '--port=53', '--local-ttl=0', '--pid-file=', '--user=root', '--group=root', '--cache-size=0'],
      { stdio: ['ignore', log, log] });
    closeSync(log);
    const t = Date.now();
    await waitFor('dnsmasq started', () => readFileSync(logPath, 'utf8').includes('read ' + hosts), { timeoutMs: 10_000, intervalMs: 50 });
    this.dnsReads = 1;
    return t;
  }

  private dnsReads = 0;

  /** Stops the DNS server (SIGKILL): every query goes unanswered from then on. */
  async stopDns(): Promise<void> {
    const p = this.dnsProc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGKILL');
    await waitFor('dnsmasq stopped', () => p.exitCode !== null || p.signalCode !== null, { timeoutMs: 5_000, intervalMs: 20 });
  }

  /**
   * Makes the node's link lossy and jittery (what `tc ... netem loss L% delay D J` would do; this
   * kernel has no netem): every packet the node sends out of its NIC goes through lab/impair.py
   * (iptables NFQUEUE in the node's namespace), which drops lossPct % of them and delays the rest
   * by delayMs ± jitterMs (uniform). The impairment belongs to the link: it survives node restarts
   * and runs at real-time priority. Returns a function that removes it and resolves with the
   * impairer's last line (its counters).
   */
  async impairLink(node: LbName, opts: { lossPct: number; delayMs: number; jitterMs: number; seed?: number }): Promise<() => Promise<string>> {
    const ns = this.nodeNs(node);
    const queue = 10 + LB_NODES.findIndex((n) => n.name === node);
    const rule = ['OUTPUT', '-o', this.lbNic, '-j', 'NFQUEUE', '--queue-num', String(queue), '--queue-bypass'];
    const logPath = join(this.dir, `impair-${node}.log`);
    writeFileSync(logPath, '');
    const log = openSync(logPath, 'a');
    const p = spawn('ip', ['netns', 'exec', ns, PYTHON, join(LAB_DIR, 'impair.py'), String(queue), String(opts.lossPct), String(opts.delayMs),
      String(opts.jitterMs), String(opts.seed ?? 1)], { stdio: ['pipe', log, log] });
    closeSync(log);
    this.watchers.add(p);
    const done = new Promise<void>((res) => p.on('close', () => res()));
    try {
      await waitFor(`${node} link impairer bound`, () => {
        if (p.exitCode !== null) throw new Error(`impair.py exited: ${readFileSync(logPath, 'utf8')}`);
        return readFileSync(logPath, 'utf8').includes('bound');
      }, { timeoutMs: 10_000, intervalMs: 50 });
      must('ip', ['netns', 'exec', ns, 'iptables', '-w', '-A', ...rule]);
    } catch (err) {
      p.kill('SIGKILL');
      throw err;
    }
    return async () => {
      run('ip', ['netns', 'exec', ns, 'iptables', '-w', '-D', ...rule]);
      p.stdin!.end();
      const t = setTimeout(() => p.kill('SIGKILL'), 3_000);
      await done;
      clearTimeout(t);
      this.watchers.delete(p);
      return readFileSync(logPath, 'utf8').trim().split('\n').pop() ?? '';
    };
  }

  /**
   * Saturates the CPUs from inside the node: `count` busy loops in its PID namespace (so they also
   * die with the node). Returns a function that stops them.
   */
  burnCpu(node: LbName, count: number): () => void {
    const marker = 'lbl-burn-cpu';
    const r = this.exec(node, ['sh', '-c', `for i in $(seq ${count}); do ${PYTHON} -c 'while True: pass' ${marker} </dev/null >/dev/null 2>&1 & done`]);
    if (r.status !== 0) throw new Error(`${node}: could not start the CPU burners: ${r.stderr}`);
    return () => {
      if (this.initPid(node)) this.exec(node, ['pkill', '-KILL', '-f', marker]);
    };
  }

  /** PIDs of every haproxy process in a node (master and workers), sorted: unchanged = no reload or restart. */
  haproxyPids(node: LbName): number[] {
    return this.exec(node, ['/usr/bin/pgrep', '-x', 'haproxy']).stdout.split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
  }

  /** Tears everything down: node PID namespaces, backends, probes, namespaces, temp dir. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    for (const s of this.nodes.values()) {
      if (s.init !== undefined && alive(s.init)) process.kill(s.init, 'SIGKILL');
      s.launcher?.kill('SIGKILL');
    }
    for (const p of [...this.backendProcs, ...this.watchers, ...(this.metadataProc ? [this.metadataProc] : []), ...(this.dnsProc ? [this.dnsProc] : [])]) p.kill('SIGKILL');
    for (const ns of listNamespaces().filter((n) => n.startsWith(`${PREFIX}${process.pid}-`))) removeNamespace(ns);
    if (!process.env.LBL_KEEP_DIR) rmSync(this.dir, { recursive: true, force: true });
  }
}
