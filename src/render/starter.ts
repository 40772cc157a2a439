import { Document, isMap, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { IPV4 } from '../facts/alphabets.js';
import type { LbInput } from '../compile/model.js';

/** A starter lb.yaml as data, plus comments keyed by a dotted path ("vrrp.routerId"). */
export interface Starter {
  input: LbInput;
  /** Comment above the key at this path. */
  notes: Record<string, string>;
  /** Comment after the value at this path (same line). */
  inline: Record<string, string>;
}

/** One thing --from-env changed or could not take over from the guide, for stderr. */
export interface Change {
  variable: string;
  what: string;
}

export interface FromEnvResult {
  starter?: Starter;
  /** The VRRP password taken over from the guide, for the secrets file (never lb.yaml). */
  authPass?: string;
  changes: Change[];
  /** Problems that stop init (exit 1): a missing or unusable variable. */
  errors: Change[];
}

const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const AUTH_CHARS = /^[!#-~]+$/;
/** Placeholder addresses from TEST-NET-1 (RFC 5737): never routed, obviously to be replaced. */
const PLACEHOLDER_NODES = ['192.0.2.11', '192.0.2.12'];

const COMMON_NOTES: Record<string, string> = {
  version: ' lbbake spec version (only 1 exists)',
  name: ' cluster name: used in file names, keepalived router_id and the image name',
  target: ' OS of the LB nodes: debian12 | debian13 | ubuntu2204 | ubuntu2404 | rocky8 | rocky9',
  vip: ' the virtual IP clients connect to; it floats between the nodes',
  vrrp: ' keepalived VRRP',
  'vrrp.routerId': ' 1..255; every cluster on one network needs its own (not 51, the copied default)',
  'vrrp.mode': ' unicast: clouds drop multicast VRRP',
  'vrrp.preempt':
    ' false: the VIP stays on the node holding it while that node can serve (one move per failure);\n' +
    ' true: the highest-priority node takes it back (a second move, which resets every stream)',
  'vrrp.check':
    ' haproxy liveness check; a failed node enters FAULT and hands the VIP over at once.\n' +
    ' Run `lbbake explain lb.yaml` to see the failover budget',
  nodes: ' the LB nodes, all starting as BACKUP; the highest priority wins when they start together',
  services: ' haproxy TCP services on the VIP; defaults: kube-apiserver on 6443 with TLS /readyz checks',
  stats: ' haproxy stats page, on 127.0.0.1 only (reach it with ssh -L 1080:127.0.0.1:1080)',
  identity: ' a node finds its name at boot in this instance-metadata key (tag/attribute)',
};

/** The starter `lbbake init` writes: placeholder addresses, every important key commented. */
export function defaultStarter(): Starter {
  return {
    input: {
      version: 1,
      name: 'k8s-apiserver',
      target: { os: 'debian12' },
      vip: { address: '192.0.2.100', prefix: 32, interface: 'eth0' },
      vrrp: { routerId: 100, advertInterval: 1, mode: 'unicast', preempt: false, check: { interval: 1, fall: 1, rise: 2 } },
      nodes: [
        { name: 'lb-0', address: PLACEHOLDER_NODES[0] },
        { name: 'lb-1', address: PLACEHOLDER_NODES[1] },
      ],
      services: [
        {
          name: 'kubernetes-apiserver',
          port: 6443,
          balance: 'leastconn',
          health: { type: 'https', path: '/readyz' },
          servers: [
            { name: 'master-0', address: '192.0.2.21' },
            { name: 'master-1', address: '192.0.2.22' },
            { name: 'master-2', address: '192.0.2.23' },
          ],
        },
      ],
      stats: { port: 1080, bind: '127.0.0.1', user: 'admin' },
      identity: { metadataKey: 'lb-node' },
    },
    notes: {
      ...COMMON_NOTES,
      vip:
        COMMON_NOTES.vip +
        '\n All addresses below are placeholders from 192.0.2.0/24 (TEST-NET-1): replace them with yours',
      'vrrp.auth': '',
    },
    inline: {
      'vrrp.routerId': ' derived from the VIP; change it if another cluster uses it',
      'nodes.0': ' priority 250',
      'nodes.1': ' priority 249',
    },
  };
}

/**
 * Builds a starter from the install guide's shell variables (K8SHA_VIP, K8SHA_KA_AUTH,
 * K8SHA_NETIF, K8S_MASTER0..n; LBBAKE_NODE0..n for the LB nodes' own addresses, which the
 * guide never names). Reports every value it changed and why; never echoes a secret. The VRRP
 * password is returned apart (authPass) for the secrets file `secretsName`, never put in lb.yaml.
 * `randomPass` supplies a fresh 8-character password when the guide's cannot be used.
 */
export function starterFromEnv(env: Record<string, string | undefined>, randomPass: () => string, secretsName = 'lb.secrets.yaml'): FromEnvResult {
  const changes: Change[] = [];
  const errors: Change[] = [];
  const get = (k: string) => {
    const v = env[k];
    return v === undefined ? undefined : v.trim();
  };

  const vip = get('K8SHA_VIP');
  if (vip === undefined || vip === '') errors.push({ variable: 'K8SHA_VIP', what: 'is not set; export K8SHA_VIP=<the virtual IP> as the guide does' });
  else if (!IPV4.test(vip)) errors.push({ variable: 'K8SHA_VIP', what: `${JSON.stringify(vip)} is not an IPv4 address` });

  let iface = get('K8SHA_NETIF');
  if (iface === undefined || iface === '') {
    iface = 'eth0';
    changes.push({ variable: 'K8SHA_NETIF', what: 'is not set; using eth0' });
  } else if (!IFNAME.test(iface)) {
    errors.push({ variable: 'K8SHA_NETIF', what: `${JSON.stringify(iface)} is not a Linux interface name` });
  }

  /** PREFIX0, PREFIX1, ... as set (trimmed), with an error for each one missing before the last set. */
  const indexed = (prefix: string, what: string): string[] => {
    const re = new RegExp(`^${prefix}(0|[1-9][0-9]{0,2})$`);
    const found = new Map<number, string>();
    for (const k of Object.keys(env)) {
      const x = re.exec(k);
      const v = get(k);
      if (x && v !== undefined) found.set(Number(x[1]), v);
    }
    const last = Math.max(-1, ...found.keys());
    const gaps = Array.from({ length: last + 1 }, (_, i) => i).filter((i) => !found.has(i));
    if (gaps.length > 0) {
      errors.push({
        variable: gaps.map((i) => `${prefix}${i}`).join(', '),
        what: `${gaps.length === 1 ? 'is' : 'are'} not set, but ${prefix}${last} is: number ${what} ${prefix}0, ${prefix}1, ... without gaps (nothing is dropped silently)`,
      });
    }
    const out: string[] = [];
    for (const [i, v] of [...found].sort(([a], [b]) => a - b)) {
      if (!IPV4.test(v)) errors.push({ variable: `${prefix}${i}`, what: `${JSON.stringify(v)} is not an IPv4 address` });
      out.push(v);
    }
    return out;
  };

  const masters = indexed('K8S_MASTER', 'the kube-apiserver addresses');
  if (masters.length === 0) errors.push({ variable: 'K8S_MASTER0', what: 'is not set; export K8S_MASTER0, K8S_MASTER1, ... (the kube-apiserver addresses) as the guide does' });

  const nodes = indexed('LBBAKE_NODE', "the LB nodes' own addresses");
  if (nodes.length === 0) {
    errors.push({
      variable: 'LBBAKE_NODE0, LBBAKE_NODE1',
      what: "are not set: the guide has no variables for the LB nodes' own addresses, and lbbake will not guess them; export LBBAKE_NODE0=<address of lb-0> LBBAKE_NODE1=<address of lb-1> (each node's address on K8SHA_NETIF) and rerun",
    });
  } else if (nodes.length === 1) {
    errors.push({ variable: 'LBBAKE_NODE1', what: 'is not set; an HA pair needs at least two LB nodes' });
  }

  // the password goes to the secrets file beside lb.yaml (mode 0600, git-ignored), never inline
  let auth: string | undefined;
  const token = env.K8SHA_KA_AUTH;
  if (token === undefined || token === '') {
    changes.push({ variable: 'K8SHA_KA_AUTH', what: `is not set; lbbake generates a random 8-character VRRP password into ${secretsName} on the first run` });
  } else if (!AUTH_CHARS.test(token)) {
    auth = randomPass();
    changes.push({ variable: 'K8SHA_KA_AUTH', what: `contains spaces, quotes or non-ASCII characters that keepalived.conf cannot carry; wrote a random 8-character password into ${secretsName} instead (all nodes must be switched together)` });
  } else if (token.length > 8) {
    auth = token.slice(0, 8);
    changes.push({
      variable: 'K8SHA_KA_AUTH',
      what: `has ${token.length} characters but keepalived only ever used the first 8 ("Truncating auth_pass to 8 characters"); kept those 8 in ${secretsName} (0600, out of git): the password in effect does not change`,
    });
  } else {
    auth = token;
    changes.push({ variable: 'K8SHA_KA_AUTH', what: `kept in ${secretsName} (0600, out of git), not in lb.yaml` });
  }

  // every address must be distinct where lbbake's rules say so: report it against the variables
  const named = [
    ...(vip !== undefined && IPV4.test(vip) ? [{ variable: 'K8SHA_VIP', address: vip }] : []),
    ...nodes.map((address, i) => ({ variable: `LBBAKE_NODE${i}`, address })),
    ...masters.map((address, i) => ({ variable: `K8S_MASTER${i}`, address })),
  ];
  for (let i = 0; i < named.length; i++) {
    for (let j = 0; j < i; j++) {
      if (named[i].address !== named[j].address || !IPV4.test(named[i].address)) continue;
      const role = (v: string) => (v === 'K8SHA_VIP' ? 'the VIP' : v.startsWith('LBBAKE_NODE') ? 'an LB node' : 'a kube-apiserver');
      errors.push({
        variable: named[i].variable,
        what: `is ${named[i].address}, the same address as ${named[j].variable} (${role(named[j].variable)}); ${role(named[i].variable)} needs an address of its own${named[j].variable === 'K8SHA_VIP' ? ' (the VIP must be a free address)' : ''}`,
      });
    }
  }
  if (errors.length > 0) return { changes, errors };

  const octet = Number((vip as string).split('.')[3]);
  const routerId = octet >= 1 && octet !== 51 ? octet : 52;
  changes.push({ variable: '(virtual_router_id)', what: `the guide hard-codes 51, which every copied cluster shares; using ${routerId} (derived from the VIP)` });
  changes.push({ variable: '(vrrp_script)', what: 'the guide checks "pidof haproxy" every 3 s with fall 10 and weight -2: pidof never works under keepalived on Debian 12 and the VIP would need 30+ s to move; using /usr/bin/pgrep -x haproxy, interval 1, fall 1, FAULT on failure (about 1 s)' });
  changes.push({ variable: '(multicast)', what: 'the guide uses multicast VRRP, which clouds drop; using unicast between the LB nodes' });
  changes.push({ variable: '(stats)', what: `the guide exposes stats on *:1080 with a password in the config; binding it to 127.0.0.1, with a password lbbake generates into ${secretsName} on the first run (haproxy.cfg gets only its SHA-512 crypt hash; set stats.password and stats.bind to change that)` });
  changes.push({ variable: '(sysctl)', what: 'the guide sets net.ipv4.ip_forward = 1; haproxy proxies and does not route, so it stays off (sysctl.ipForward: true to change)' });
  changes.push({ variable: '(yum)', what: 'the guide installs with yum (CentOS); target.os is rocky9; set debian12, debian13, ubuntu2204, ubuntu2404 or rocky8 if your nodes run that' });

  const base = defaultStarter();
  const input: LbInput = {
    ...base.input,
    target: { os: 'rocky9' },
    vip: { address: vip as string, prefix: 32, interface: iface },
    vrrp: { ...base.input.vrrp, routerId },
    nodes: nodes.map((address, i) => ({ name: `lb-${i}`, address })),
    services: [{ ...base.input.services[0], servers: masters.map((address, i) => ({ name: `master-${i}`, address })) }],
  };
  const notes: Record<string, string> = {
    ...COMMON_NOTES,
    vip: COMMON_NOTES.vip + ' (from K8SHA_VIP, K8SHA_NETIF)',
    services: COMMON_NOTES.services + '\n servers from K8S_MASTER0..',
  };
  const inline: Record<string, string> = { 'vrrp.routerId': ' not 51: derived from the VIP' };
  nodes.forEach((_, i) => {
    inline[`nodes.${i}`] = ` from LBBAKE_NODE${i}`;
  });
  return { starter: { input, notes, inline }, authPass: auth, changes, errors };
}

function pairAt(doc: Document, path: string): { pair?: Pair; node?: Node } {
  const segs = path.split('.');
  const parent = segs.length > 1 ? doc.getIn(segs.slice(0, -1).map((s) => (/^\d+$/.test(s) ? Number(s) : s)), true) : doc.contents;
  const last = segs[segs.length - 1];
  if (isMap(parent)) {
    const pair = (parent as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === last) as Pair | undefined;
    return { pair, node: pair?.value as Node | undefined };
  }
  const node = doc.getIn(segs.map((s) => (/^\d+$/.test(s) ? Number(s) : s)), true) as Node | undefined;
  return { node };
}

/**
 * Serializes a starter with the `yaml` Document API: the editor-schema line first, comments
 * above keys and after values, node and server entries in flow style. Deterministic.
 */
export function renderStarter(s: Starter, schemaRef: string): string {
  const doc = new Document(s.input);
  doc.commentBefore =
    ` yaml-language-server: $schema=${schemaRef}\n` +
    ' lb.yaml for lbbake: validate with `lbbake validate lb.yaml`, review with `lbbake explain lb.yaml`,\n' +
    ' then `lbbake gen-userdata lb.yaml --cloud aws -o user-data`: one user-data for every node, each\n' +
    ' finding its role in the instance metadata key identity.metadataKey (see the README).';
  for (const [path, text] of Object.entries(s.notes)) {
    if (!text) continue;
    const { pair } = pairAt(doc, path);
    if (pair && isScalar(pair.key)) pair.key.commentBefore = text;
  }
  for (const [path, text] of Object.entries(s.inline)) {
    const { node } = pairAt(doc, path);
    if (node) (node as { comment?: string }).comment = text;
  }
  const flow = (n: unknown) => {
    if (n && typeof n === 'object') (n as { flow?: boolean }).flow = true;
  };
  s.input.nodes.forEach((_, i) => flow(doc.getIn(['nodes', i], true)));
  s.input.services.forEach((sv, i) => {
    flow(doc.getIn(['services', i, 'health'], true));
    (sv.servers ?? []).forEach((_, j) => flow(doc.getIn(['services', i, 'servers', j], true)));
  });
  for (const k of ['stats', 'identity', 'target']) flow(doc.get(k, true));
  flow(doc.getIn(['vrrp', 'check'], true));
  flow(doc.getIn(['vrrp', 'auth'], true));
  return doc.toString({ lineWidth: 0 });
}
