/**
 * The cloud lab: the namespace lab of netlab.ts in its cloud shape (LB NICs ens5, client routed
 * through the router namespace) plus an emulated cloud (test/helpers/lab/cloud.py) running in
 * the router: EC2 API + IMDSv2, Compute Engine API + metadata server, or an Azure internal load
 * balancer's prober. The router delivers VIP traffic only to the node the emulated cloud names.
 *
 *   API       http://198.18.0.252   (stands in for ec2.<region>.amazonaws.com / compute.googleapis.com)
 *   metadata  http://198.18.0.253   (stands in for 169.254.169.254)
 *
 * The test process talks to the emulator through files only (control.json in, state.json out):
 * the lab has no link to the root namespace.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { BACKENDS, CLOUD_NET, LAB_DIR, LB_NODES, type LabVrrp, type LbName, labModel, NetLab, nodeMac, PORT, VIP, waitFor } from './netlab.js';
import { INTERFACE_SCRIPT } from '../../src/facts/node.js';
import type { FileSet } from '../../src/render/files.js';
import { nodeTree } from '../../src/render/node.js';
import { userdataForNode } from '../../src/render/userdata.js';

export type CloudSpec =
  | { provider: 'aws'; mode: 'secondary-ip' | 'route' }
  | { provider: 'gce'; mode: 'alias-ip' | 'route' }
  | { provider: 'azure' };

/** The lab's VIP: inside the LB subnet where the cloud needs it there, outside for route modes. */
export function cloudVip(spec: CloudSpec): string {
  return 'mode' in spec && spec.mode === 'route' ? '198.19.0.100' : VIP;
}

export const AWS_LAB = {
  region: 'eu-west-1',
  role: 'lbbake-lab-vip',
  routeTable: 'rtb-0a1b2c3d4e5f60001',
  /** A caller that is not an instance (the awscli tests from the router side use it). */
  staticKey: { accessKeyId: 'AKIALBBAKELAB0000001', secretAccessKey: 'lbbake-lab-static-secret-not-a-real-key' },
  instance: (n: LbName) => `i-0a1b2c3d4e5f6000${LB_NODES.findIndex((x) => x.name === n)}`,
  eni: (n: LbName) => `eni-0a1b2c3d4e5f6000${LB_NODES.findIndex((x) => x.name === n)}`,
} as const;

export const GCE_LAB = {
  project: 'lbbake-lab',
  region: 'europe-west1',
  /** The nodes sit in two zones of one region (alias ranges come from the regional subnet). */
  zone: (n: LbName) => (n === 'lb-0' ? 'europe-west1-b' : 'europe-west1-c'),
  /** Instance names differ from node names, as they may in a real project. */
  instance: (n: LbName) => (n === 'lb-0' ? 'k8s-lb-a' : 'k8s-lb-b'),
  staticToken: 'ya29.lbbake-lab-static-token',
} as const;

/** Environment that points a node's lbbake-vip (and the boot agent) at the emulated cloud. */
export const CLOUD_ENV: Record<string, string> = {
  LBBAKE_EC2_URL: `http://${CLOUD_NET.metadata}`,
  LBBAKE_EC2_API_URL: `http://${CLOUD_NET.api}`,
  LBBAKE_GCE_URL: `http://${CLOUD_NET.metadata}`,
  LBBAKE_GCE_API_URL: `http://${CLOUD_NET.api}/compute/v1`,
};

export interface CloudLabOptions {
  /** Seconds from an EC2 mutation until the fabric (and IMDS) follows it. */
  remapDelay?: number;
  /** Seconds until a GCE Operation is DONE (its effect applies then). */
  opDelay?: number;
  /** AWS route mode: source/destination check on the ENIs (AWS's default is on). */
  srcDestCheck?: boolean;
  /** GCE route mode: canIpForward on the instances. */
  canIpForward?: boolean;
  /** Who holds the VIP in the cloud at the start (default nobody; route modes: lb-1's route). */
  initialOwner?: LbName | null;
  /** Azure probe port and prober interval (seconds). */
  probePort?: number;
  probeInterval?: number;
}

export interface CloudState {
  provider: string;
  vip: string;
  /** Node names the API says hold the VIP (GCE route ECMP: several). */
  owners: string[];
  /** What the router delivers VIP traffic to: addresses, "unreachable" or "blackhole". */
  deliveredTo: string | null;
  mutations: Array<{ t: number; by: string; action: string; detail: string }>;
  counts: Record<string, number>;
  api: Record<string, unknown>;
  t: number;
}

export interface Fault {
  kind: 'throttle' | 'error' | 'hang';
  /** Seconds from now. */
  seconds: number;
  /** Only calls from these nodes (default all callers). */
  callers?: LbName[];
  /** Only these actions (EC2 Action names, GCE paths); default all. */
  actions?: string[];
}

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const addrOf = (n: LbName) => LB_NODES.find((x) => x.name === n)!.address;

/**
 * lb.yaml for the cloud lab: the LAN lab's cluster with vip.cloud, no vip.interface (the nodes'
 * NICs are named as on a cloud, ens5, and found at boot) and the VIP where the cloud needs it.
 */
export function cloudYaml(spec: CloudSpec, vrrp: LabVrrp = {}, cloudExtra: Record<string, unknown> = {}): string {
  const { auth, ...rest } = vrrp;
  const v: Record<string, unknown> = { routerId: 18, advertInterval: 1, mode: 'unicast', preempt: true, ...rest };
  if (auth !== null) v.auth = auth ?? { pass: 'k8sHA-18' };
  const cloud: Record<string, unknown> = { ...spec, ...cloudExtra };
  if (spec.provider === 'aws' && spec.mode === 'route') cloud.routeTableIds = [AWS_LAB.routeTable];
  if (spec.provider === 'gce' && spec.mode === 'route') cloud.routeName = 'lab-vip';
  return stringify({
    version: 1,
    name: 'lab',
    target: { os: 'debian12' },
    // no vip.interface: each node finds its NIC (ens5) at boot
    vip: { address: cloudVip(spec), prefix: 32, cloud },
    vrrp: v,
    nodes: LB_NODES.map((n) => ({ name: n.name, address: n.address })),
    services: [{ name: 'kubernetes-apiserver', port: PORT, servers: BACKENDS.map((b) => ({ name: b.name, address: b.address })) }],
    stats: { port: 1080, bind: '127.0.0.1', user: 'admin' },
  });
}

/**
 * What each node runs for a cloud-lab lb.yaml, as `--node` user-data puts it there: the files
 * `render --node` writes (keepalived.conf, haproxy.cfg, sysctl, lbbake-vip) plus the script that
 * finds the node's NIC before keepalived starts (NetLab.startKeepalived runs it, as systemd would).
 */
export function cloudFiles(yamlText: string): Record<LbName, FileSet> {
  const m = labModel(yamlText);
  const out = {} as Record<LbName, FileSet>;
  for (const n of m.nodes) {
    const files = nodeTree(m, n);
    const ud = parse(userdataForNode(m, n)) as { write_files: Array<{ path: string; content: string; permissions: string; owner: string }> };
    const script = ud.write_files.find((w) => w.path === INTERFACE_SCRIPT);
    if (script) files.set(INTERFACE_SCRIPT.slice(1), { content: script.content, mode: script.permissions, owner: script.owner });
    out[n.name as LbName] = files;
  }
  return out;
}

function emulatorConfig(spec: CloudSpec, o: CloudLabOptions): object {
  const vip = cloudVip(spec);
  const mode = 'mode' in spec ? spec.mode : 'ilb';
  const base = { provider: spec.provider, mode, vip, fabricDev: 'eth0', metadataAddr: CLOUD_NET.metadata, apiAddr: CLOUD_NET.api };
  const initial = o.initialOwner === undefined ? (mode === 'route' ? 'lb-1' : null) : o.initialOwner;
  if (spec.provider === 'aws') {
    return {
      ...base,
      remapDelay: o.remapDelay ?? 1.0,
      instances: LB_NODES.map((n) => ({
        name: n.name,
        address: n.address,
        mac: nodeMac(n.name),
        id: AWS_LAB.instance(n.name),
        eni: AWS_LAB.eni(n.name),
        srcDestCheck: o.srcDestCheck ?? mode !== 'route',
        secondaries: mode === 'secondary-ip' && initial === n.name ? [vip] : [],
      })),
      aws: {
        region: AWS_LAB.region,
        role: AWS_LAB.role,
        vpcCidr: CLOUD_NET.vpcCidr,
        subnetCidr: CLOUD_NET.lbSubnet,
        staticCredentials: [AWS_LAB.staticKey],
        routeTables: [{ id: AWS_LAB.routeTable, routes: mode === 'route' && initial ? [{ dest: `${vip}/32`, eni: AWS_LAB.eni(initial) }] : [] }],
        fabricRouteTable: AWS_LAB.routeTable,
      },
    };
  }
  if (spec.provider === 'gce') {
    return {
      ...base,
      opDelay: o.opDelay ?? 0.5,
      instances: LB_NODES.map((n) => ({
        name: n.name,
        instance: GCE_LAB.instance(n.name),
        address: n.address,
        mac: nodeMac(n.name),
        zone: GCE_LAB.zone(n.name),
        canIpForward: o.canIpForward ?? mode === 'route',
        aliases: mode === 'alias-ip' && initial === n.name ? [`${vip}/32`] : [],
      })),
      gce: {
        project: GCE_LAB.project,
        region: GCE_LAB.region,
        subnetCidr: CLOUD_NET.lbSubnet,
        network: 'default',
        extraZones: ['europe-west1-d'],
        staticTokens: [GCE_LAB.staticToken],
        routes: mode === 'route' && initial ? [{ name: 'lab-vip', destRange: `${vip}/32`, priority: 1000, instance: GCE_LAB.instance(initial) }] : [],
      },
    };
  }
  return {
    ...base,
    instances: LB_NODES.map((n) => ({ name: n.name, address: n.address, mac: nodeMac(n.name) })),
    azure: { probePort: o.probePort ?? 61000, intervalSeconds: o.probeInterval ?? 1, threshold: 1 },
  };
}

interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export class CloudLab {
  readonly controlFile: string;
  readonly stateFile: string;
  private proc?: ChildProcess;
  private faults: Array<Record<string, unknown>> = [];
  private settings: Record<string, unknown> = {};

  private constructor(
    readonly lab: NetLab,
    readonly spec: CloudSpec,
    readonly vip: string,
  ) {
    this.controlFile = join(lab.dir, 'cloud-control.json');
    this.stateFile = join(lab.dir, 'cloud-state.json');
  }

  /** Builds the cloud lab and starts the emulated cloud in its router. */
  static async create(spec: CloudSpec, opts: CloudLabOptions = {}): Promise<CloudLab> {
    const vip = cloudVip(spec);
    const lab = await NetLab.create({ lbNic: 'ens5', cloud: true, vip });
    const c = new CloudLab(lab, spec, vip);
    try {
      lab.keepalivedEnv = { ...CLOUD_ENV };
      await c.start(emulatorConfig(spec, opts));
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return c;
  }

  private async start(config: object): Promise<void> {
    const cfgFile = join(this.lab.dir, 'cloud-config.json');
    writeFileSync(cfgFile, JSON.stringify(config, null, 1));
    this.writeControl();
    const logPath = join(this.lab.dir, 'cloud.log');
    writeFileSync(logPath, '');
    const log = openSync(logPath, 'a');
    this.proc = spawn('ip', ['netns', 'exec', this.lab.ns('rt'), PYTHON, join(LAB_DIR, 'cloud.py'), cfgFile, this.controlFile, this.stateFile],
      { stdio: ['ignore', log, log] });
    closeSync(log);
    const proc = this.proc;
    await waitFor('cloud emulator listening', () => {
      if (proc.exitCode !== null) throw new Error(`cloud emulator exited: ${readFileSync(logPath, 'utf8')}`);
      return readFileSync(logPath, 'utf8').includes('listening');
    }, { timeoutMs: 20_000, intervalMs: 50 });
  }

  /** The emulator's log (requests refused, fabric changes). */
  log(): string {
    const f = join(this.lab.dir, 'cloud.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  private writeControl(): void {
    const tmp = `${this.controlFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...this.settings, faults: this.faults }));
    renameSync(tmp, this.controlFile);
  }

  /** Makes the API fail for `seconds` from now (all callers, or only some nodes / actions). */
  fault(f: Fault): void {
    const now = Date.now() / 1000;
    this.faults.push({
      kind: f.kind,
      from: now,
      until: now + f.seconds,
      ...(f.callers ? { callers: f.callers.map(addrOf) } : {}),
      ...(f.actions ? { actions: f.actions } : {}),
    });
    this.writeControl();
  }

  clearFaults(): void {
    this.faults = [];
    this.writeControl();
  }

  /** Changes an emulator setting at run time (remapDelay, opDelay, credentialSeconds). */
  set(name: 'remapDelay' | 'opDelay' | 'credentialSeconds', value: number): void {
    this.settings[name] = value;
    this.writeControl();
  }

  state(): CloudState {
    return JSON.parse(readFileSync(this.stateFile, 'utf8')) as CloudState;
  }

  /** Node names the emulated API says hold the VIP. */
  owners(): string[] {
    return this.state().owners;
  }

  /** The node the router delivers VIP traffic to, if exactly one. */
  deliveredTo(): LbName | undefined {
    const to = this.state().deliveredTo;
    return LB_NODES.find((n) => n.address === to)?.name;
  }

  /** Waits until the API names exactly `node` as the owner and the fabric delivers to it. */
  async ownedBy(node: LbName, timeoutMs = 20_000): Promise<void> {
    await waitFor(`cloud owner ${node}`, () => {
      const s = this.state();
      return s.owners.join() === node && s.deliveredTo === addrOf(node);
    }, { timeoutMs, intervalMs: 50 });
  }

  /**
   * Runs Debian's awscli (v2, the real client) inside a lab namespace against the emulated EC2:
   * no config files, no host credentials; region and credentials from the emulated IMDS unless
   * `env` gives them.
   */
  aws(where: LbName | 'router', args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): RunResult & { json?: unknown } {
    const ns = where === 'router' ? this.lab.ns('rt') : this.lab.nodeNs(where);
    const home = join(this.lab.dir, 'aws-home');
    mkdirSync(home, { recursive: true });
    const base: Record<string, string> = {
      PATH: '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${CLOUD_NET.metadata}/`,
      AWS_PAGER: '',
      // awscli 2.9 does not take the region from IMDS (credentials it does)
      AWS_DEFAULT_REGION: AWS_LAB.region,
      AWS_RETRY_MODE: 'standard',
      AWS_MAX_ATTEMPTS: '3',
    };
    const envArgs = Object.entries({ ...base, ...env }).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync('ip', ['netns', 'exec', ns, 'env', '-i', ...envArgs, '/usr/bin/aws', 'ec2', ...args,
      '--endpoint-url', `http://${CLOUD_NET.api}`, '--output', 'json'], { encoding: 'utf8', timeout: timeoutMs });
    const out: RunResult & { json?: unknown } = { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    try {
      if (out.status === 0 && out.stdout.trim()) out.json = JSON.parse(out.stdout);
    } catch {
      /* not JSON */
    }
    return out;
  }

  /** One HTTP request from a node (or the router) to the emulated cloud; returns status and body. */
  http(where: LbName | 'router', method: string, url: string, headers: Record<string, string> = {}, data?: string):
    { status: number; headers: Record<string, string>; body: string; error?: string } {
    const ns = where === 'router' ? this.lab.ns('rt') : this.lab.nodeNs(where);
    const args = [join(LAB_DIR, 'request.py'), method, url, ...Object.entries(headers).map(([k, v]) => `${k}:${v}`),
      ...(data !== undefined ? ['--data', data] : [])];
    const r = spawnSync('ip', ['netns', 'exec', ns, PYTHON, ...args], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`request.py failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Failure context: the emulator's last log lines and state, plus the lab's own diagnose(). */
  diagnose(): string {
    let st = '';
    try {
      const s = this.state();
      st = JSON.stringify({ owners: s.owners, deliveredTo: s.deliveredTo, api: s.api, mutations: s.mutations.slice(-10) });
    } catch {
      st = 'no state';
    }
    return `${this.lab.diagnose()}\n--- cloud (last 20 lines)\n${this.log().split('\n').slice(-20).join('\n')}\n--- cloud state\n${st}`;
  }

  destroy(): void {
    this.proc?.kill('SIGKILL');
    this.lab.destroy();
  }
}
