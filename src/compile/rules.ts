import type { Code, Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { LbInput, Model } from './model.js';
import { AUTH_PASS_CHARS, AUTH_PASS_MAX, IPV4 } from '../facts/alphabets.js';
import { hasDownTimerAdverts, haproxyAtLeast, metricsSupported, type OsFacts } from '../facts/os.js';

/** Most server slots a dns service may have (server-template 1-N; 64 A records fit a 4096-byte answer). */
export const DNS_MAX_SLOTS = 64;

/**
 * Why `name` is not a fully qualified host name haproxy's resolver can look up, or undefined.
 * haproxy applies no search domains, treats a leading underscore as an SRV label, and an
 * address is not a name.
 */
export function dnsNameProblem(name: string): string | undefined {
  if (IPV4.test(name)) return 'is an address, not a name; put fixed addresses in servers';
  if (name.startsWith('_')) return 'is an SRV label (leading underscore), which lbbake does not use: give the A record\'s name and dns.port';
  if (name.endsWith('.')) return 'ends with a dot; write it without the trailing dot (haproxy resolves it as a fully qualified name anyway)';
  if (name.length > 253) return `is ${name.length} characters long; a DNS name has at most 253`;
  const labels = name.split('.');
  if (labels.length < 2) return 'has one label only; haproxy applies no search domains, so give the fully qualified name (e.g. api.k8s.internal)';
  for (const l of labels) {
    if (l === '') return 'has an empty label (two dots in a row or a leading dot)';
    if (l.length > 63) return `has a label of ${l.length} characters (${l.slice(0, 12)}…); a label has at most 63`;
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l)) return `has the label ${JSON.stringify(l)}: labels are letters, digits and inner hyphens`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return 'ends in a numeric label, which no top-level domain is';
  return undefined;
}

/** haproxy proxies lbbake generates itself, which no service may be named like. */
const RESERVED_PROXIES: Record<string, string> = {
  'lbbake-stats': 'the stats page proxy',
  'lbbake-metrics': 'the metrics frontend',
  'lbbake-keepalived': "the table that holds keepalived's state for the metrics",
};

export interface RuleContext {
  input: LbInput;
  model: Model;
  report(severity: Severity, code: Code, path: string, message: string): void;
}

export type Rule = (ctx: RuleContext) => void;

/** Seconds a BACKUP waits for a silent MASTER (Master_Down_Interval): `adverts` (keepalived down_timer_adverts, RFC 3) adverts plus its skew time. */
export function masterDownSeconds(advert: number, priority: number, adverts = 3): number {
  return adverts * advert + skewSeconds(advert, priority);
}

/**
 * The skew time of a BACKUP, (256 - priority) / 256 adverts: how long it waits after a
 * priority-0 advert (a MASTER going to FAULT or stopping) before it takes over.
 */
export function skewSeconds(advert: number, priority: number): number {
  return ((256 - priority) * advert) / 256;
}

/** keepalived's effective priority: base plus weights, clamped to 1..254. */
export function effectivePriority(p: number): number {
  return Math.min(254, Math.max(1, p));
}

/**
 * Seconds from haproxy dying on the MASTER until a BACKUP holds the VIP: detection, then FAULT
 * hands over after the BACKUP's skew time, or a lowered priority waits for Master_Down.
 */
export function haproxyFailoverBudget(m: Model): number {
  return haproxyFailoverParts(m).total;
}

/**
 * The parts of haproxyFailoverBudget, for the worst case: the MASTER is the highest-priority
 * node, the best BACKUP the second (its skew time and Master_Down timer are the longest of all
 * pairs). Detection is interval × fall of the check.
 */
export function haproxyFailoverParts(m: Model): { detect: number; takeover: number; total: number; backupPriority: number } {
  const c = m.vrrp.check;
  const detect = c.interval * c.fall;
  const backupPriority = secondPriority(m);
  const a = m.vrrp.advertInterval;
  const takeover = c.weight === 0 ? skewSeconds(a, backupPriority) : masterDownSeconds(a, backupPriority, m.vrrp.downTimerAdverts);
  return { detect, takeover, total: detect + takeover, backupPriority };
}

/** The second-highest priority: the BACKUP that takes over from the highest-priority MASTER. */
export function secondPriority(m: Model): number {
  return [...m.nodes].map((n) => n.priority).sort((a, b) => b - a)[1];
}

/** IPv4 dotted quad → unsigned 32-bit integer. */
export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** Why the network cannot use `addr` as a host address (a VIP or a node address), or undefined. */
export function unusableAddress(addr: string): string | undefined {
  const n = ipv4ToInt(addr);
  const o = n >>> 24;
  if (n === 0) return 'is the unspecified address 0.0.0.0';
  if (o === 0) return 'is in 0.0.0.0/8 ("this network"), which no host is reached at';
  if (o === 127) return 'is a loopback address (127.0.0.0/8): it never leaves the node';
  if (o >= 224 && o <= 239) return 'is a multicast address (224.0.0.0/4), which no host owns';
  if (n === 0xffffffff) return 'is the broadcast address 255.255.255.255';
  if (o >= 240) return 'is in the reserved range 240.0.0.0/4, which hosts and routers drop';
  return undefined;
}

const uniqueBy =
  (items: (m: Model) => Array<{ value: string; path: string }>, code: Code, what: string, fix: string): Rule =>
  ({ model, report }) => {
    const first = new Map<string, string>();
    for (const { value, path } of items(model)) {
      const prev = first.get(value);
      if (prev !== undefined) report('error', code, path, `${what} ${JSON.stringify(value)} is already used at ${prev}; ${fix}`);
      else first.set(value, path);
    }
  };

export const RULES: Record<string, Rule> = {
  uniqueNodeNames: uniqueBy(
    (m) => m.nodes.map((n) => ({ value: n.name, path: `${n.pointer}/name` })),
    'DUPLICATE_NODE_NAME',
    'node name',
    'give every node its own name',
  ),
  uniqueNodeAddresses: uniqueBy(
    (m) => m.nodes.map((n) => ({ value: n.address, path: `${n.pointer}/address` })),
    'DUPLICATE_NODE_ADDRESS',
    'node address',
    'give every node its own address',
  ),
  uniqueServiceNames: uniqueBy(
    (m) => m.services.map((s) => ({ value: s.name, path: `${s.pointer}/name` })),
    'DUPLICATE_SERVICE_NAME',
    'service name',
    'give every service its own name (the first service defaults to kubernetes-apiserver)',
  ),
  uniquePorts: uniqueBy(
    (m) => [
      // the readiness page first: a clash is reported where lb.yaml names the other port
      ...(m.vrrp.readiness ? [{ value: String(m.vrrp.readiness.port), path: '/vrrp/readiness/port' }] : []),
      ...(m.stats.enabled ? [{ value: String(m.stats.port), path: '/stats/port' }] : []),
      ...(m.metrics.enabled ? [{ value: String(m.metrics.port), path: '/metrics/port' }] : []),
      ...m.services.map((s) => ({ value: String(s.port), path: `${s.pointer}/port` })),
      ...(m.vip.cloud?.provider === 'azure' ? [{ value: String(m.vip.cloud.probePort), path: '/vip/cloud/probePort' }] : []),
    ],
    'DUPLICATE_PORT',
    'port',
    'every service, the stats page, the metrics endpoint, the readiness page (vrrp.readiness.port, default 1081) and the Azure probe need their own port',
  ),
  uniqueServerNames: ({ model, report }) => {
    for (const s of model.services) {
      const seen = new Map<string, number>();
      s.servers.forEach((sv, i) => {
        const prev = seen.get(sv.name);
        const path = `${s.pointer}/servers/${i}/name`;
        if (prev !== undefined) {
          report('error', 'DUPLICATE_SERVER_NAME', path, `server name ${JSON.stringify(sv.name)} is already used at ${s.pointer}/servers/${prev}/name; give every server of a service its own name`);
        } else seen.set(sv.name, i);
      });
    }
  },
  reservedServiceName: ({ model, report }) => {
    for (const s of model.services) {
      const own = RESERVED_PROXIES[s.name];
      if (own) report('error', 'RESERVED_NAME', `${s.pointer}/name`, `"${s.name}" is the name of ${own}; choose another service name`);
    }
  },
  vipNotInUse: ({ model, report }) => {
    const vip = model.vip.address;
    for (const n of model.nodes) {
      if (n.address === vip) report('error', 'VIP_CONFLICT', `${n.pointer}/address`, `node ${n.name} has the VIP ${vip} as its own address; the VIP must be a free address that no host owns`);
    }
    for (const s of model.services) {
      s.servers.forEach((sv, i) => {
        if (sv.address === vip) report('error', 'VIP_CONFLICT', `${s.pointer}/servers/${i}/address`, `server ${sv.name} has the VIP ${vip} as its address; haproxy would send traffic to itself. Use the server's own address`);
      });
    }
  },
  priorityRange: ({ model, report }) => {
    for (const n of model.nodes) {
      if (n.priority < 1 || n.priority > 254) {
        report('error', 'PRIORITY_RANGE', `${n.pointer}/priority`, `priority ${n.priority} is outside 1..254 (255 is reserved for the address owner); use a value like 250 for the first node and lower ones for the others, or leave priority out to derive it from node order`);
      }
    }
  },
  uniquePriorities: uniqueBy(
    (m) => m.nodes.map((n) => ({ value: String(n.priority), path: n.priorityExplicit ? `${n.pointer}/priority` : n.pointer })),
    'PRIORITY_DUPLICATE',
    'priority',
    'give every node a different priority (equal priorities make the address decide who is MASTER)',
  ),
  authPassLength: ({ input, report }) => {
    const pass = input.vrrp.auth?.pass;
    if (pass !== undefined && pass.length > AUTH_PASS_MAX) {
      report('error', 'AUTH_PASS_LENGTH', '/vrrp/auth/pass', `auth pass has ${pass.length} characters but keepalived uses only the first 8 (it logs "Truncating auth_pass to 8 characters"); use at most 8 characters`);
    }
  },
  secretCharacters: ({ model, report }) => {
    const pass = model.vrrp.authPass;
    if (pass !== undefined && !new RegExp(`^[${AUTH_PASS_CHARS}]+$`).test(pass)) {
      report('error', 'AUTH_PASS_CHARS', '/vrrp/auth/pass', 'the auth pass (after resolving env:/file:) has characters keepalived.conf cannot carry safely (spaces, quotes, $, backslash, backquote, braces or control characters); use letters, digits and ! # % & ( ) * + , . / : ; < = > ? @ [ ] ^ _ | ~ -');
    }
    const pw = model.stats.enabled ? model.stats.password : undefined;
    if (pw !== undefined && !/^[ -~]{1,128}$/.test(pw)) {
      report('error', 'STATS_PASSWORD_CHARS', '/stats/password', 'the stats password (after resolving env:/file:) must be 1-128 printable ASCII characters');
    }
  },
  authNeedsVrrp2: ({ model, report }) => {
    if (model.vrrp.version === 3 && model.vrrp.authPass !== undefined) {
      report('error', 'AUTH_WITH_VRRP3', '/vrrp/auth', 'VRRP version 3 has no authentication (keepalived ignores it); remove vrrp.auth or use version: 2');
    }
  },
  advertInterval: ({ input, model, report }) => {
    const a = model.vrrp.advertInterval;
    if (model.vrrp.version === 2 && !Number.isInteger(a)) {
      const why = input.vrrp.version === undefined
        ? 'vrrp.auth selects VRRP version 2 (PASS authentication exists only there), which requires whole seconds; remove vrrp.auth for sub-second VRRP version 3 adverts (the VRRP firewall and check_unicast_src accept adverts only from the LB nodes), or use 1'
        : 'VRRP version 2 requires whole seconds; use 1, or set vrrp.version: 3 for sub-second adverts';
      report('error', 'ADVERT_INTERVAL', '/vrrp/advertInterval', `advertInterval ${a} is not a whole number of seconds: ${why}`);
    }
    if (model.vrrp.version === 3 && (a < 0.01 || a > 40.95 || Math.abs(Math.round(a * 100) - a * 100) > 1e-9)) {
      report('error', 'ADVERT_INTERVAL', '/vrrp/advertInterval', `advertInterval ${a} is not valid for VRRP version 3; use 0.01..40.95 in steps of 0.01`);
    }
  },
  downTimerSupported: ({ input, model, report }) => {
    const n = input.vrrp.downTimerAdverts;
    if (n !== undefined && n !== 3 && !hasDownTimerAdverts(model.os)) {
      report('error', 'DOWN_TIMER_UNSUPPORTED', '/vrrp/downTimerAdverts', `keepalived ${model.os.keepalivedVersion.join('.')} (${model.os.label}) has no down_timer_adverts (keepalived 2.2.3 and later): a BACKUP there always waits 3 adverts; remove downTimerAdverts and set advertInterval for the failover time you want (node loss is found after about 3 adverts)`);
    }
  },
  checkWeightFailsOver: ({ model, report }) => {
    const w = model.vrrp.check.weight;
    if (w === 0) return;
    const sorted = [...model.nodes].sort((a, b) => b.priority - a.priority);
    const [top, ...rest] = sorted;
    if (rest.length === 0) return;
    // the worst case: the highest-priority node holds the VIP (with its hold bonus) when its
    // haproxy dies; its readiness check then fails too
    const hold = model.vrrp.hold?.weight ?? 0;
    const ready = model.vrrp.readiness ? -model.vrrp.readiness.weight : 0;
    const failed = effectivePriority(top.priority + hold + Math.min(w, 0) - ready);
    const bestBackup = effectivePriority(Math.max(...rest.map((n) => n.priority + Math.max(w, 0))));
    const path = model.vrrp.check.weightExplicit ? '/vrrp/check/weight' : '/vrrp/check';
    const parts = [`priority ${top.priority}`, hold ? `hold +${hold}` : '', w < 0 ? `weight ${w}` : '', ready ? `readiness -${ready}` : ''].filter(Boolean).join(', ');
    if (failed >= bestBackup) {
      report('error', 'CHECK_WEIGHT_NO_FAILOVER', path, `with weight ${w}, a MASTER whose haproxy died still counts ${failed} (${parts}), not below the best healthy BACKUP's ${bestBackup}, so the VIP would never move; remove weight (onFailure: fault, weight 0), or use onFailure: lower-priority to have lbbake compute one`);
    } else if (model.vrrp.check.weightExplicit && w < 0) {
      const lowest = effectivePriority(Math.min(...rest.map((n) => n.priority)));
      if (failed >= lowest) {
        report('warning', 'CHECK_WEIGHT_FRAGILE', path, `weight ${w} drops a MASTER whose haproxy died to ${failed} (${parts}), below only some BACKUPs (the one at ${lowest} would not take over); remove weight to get onFailure: fault, or use onFailure: lower-priority`);
      } else {
        report('warning', 'CHECK_WEIGHT_SLOW', path, `weight ${w} lowers a node whose haproxy died instead of putting it in FAULT: the BACKUP ignores its lower adverts and waits for its Master_Down timer (3 adverts + skew, ${masterDownSeconds(model.vrrp.advertInterval, secondPriority(model)).toFixed(2)} s) before it takes over; remove weight to use onFailure: fault, which hands over at once (0.45 s measured vs 2.5 s)`);
      }
    }
  },
  weightRange: ({ model, report }) => {
    const prios = model.nodes.map((n) => n.priority);
    const hi = Math.max(...prios);
    const lo = Math.min(...prios);
    const gap = hi - lo;
    // reported at the lowest priority, the one to move closer
    const low = model.nodes.find((x) => x.priority === lo)!;
    const lowPath = low.priorityExplicit ? `${low.pointer}/priority` : low.pointer;
    const derived: Array<[string, number]> = [];
    if (model.vrrp.readiness) derived.push(['readiness', model.vrrp.readiness.weight]);
    if (model.vrrp.hold) derived.push(['hold', model.vrrp.hold.weight]);
    if (!model.vrrp.check.weightExplicit && model.vrrp.check.weight !== 0) derived.push(['check', model.vrrp.check.weight]);
    const why: Record<string, string> = {
      readiness: 'a node that cannot serve would no longer drop below every node that can',
      hold: 'a healthy node could take the VIP back from the one holding it',
      check: 'a node whose haproxy died would no longer drop below every healthy one',
    };
    // hold h = gap + 1 and readiness r = gap + h + 1 must fit -253..253
    const maxGap = model.vrrp.hold ? 125 : 252;
    for (const [what, wt] of derived) {
      if (Math.abs(wt) > 253) {
        report('error', 'CHECK_WEIGHT_RANGE', lowPath, `the priorities span ${gap} (${hi} to ${lo}), so the ${what} weight lbbake derives from them is ${wt}, outside keepalived's -253..253 (it clamps the weight and ${why[what]}); give priorities at most ${maxGap} apart, or leave priority out (250, 249, ...)`);
      }
    }
    // positive weights lift the top node past keepalived's cap of 254, where ties replace the order
    const lift = (model.vrrp.hold?.weight ?? 0) + Math.max(0, model.vrrp.check.weight);
    if (lift > 0 && lift <= 253 && hi + lift > 254) {
      const n = model.nodes.find((x) => x.priority === hi)!;
      const over = hi + lift - 254;
      const what = [model.vrrp.hold ? `the hold bonus +${model.vrrp.hold.weight} (preempt off)` : '', model.vrrp.check.weight > 0 ? `check weight +${model.vrrp.check.weight}` : ''].filter(Boolean).join(' and ');
      report('error', 'PRIORITY_CAP', n.priorityExplicit ? `${n.pointer}/priority` : n.pointer, `priority ${hi} plus ${what} is ${hi + lift}, past keepalived's cap of 254: it counts as 254, and nodes that should rank apart tie (a tie never preempts), so failover no longer follows the priorities; lower every priority by at least ${over} (e.g. ${prios.map((p) => p - over).join(', ')}), or leave priority out`);
    }
  },
  singleMaster: ({ model, report }) => {
    const masters = model.nodes.filter((n) => n.state === 'MASTER');
    for (const n of masters.slice(1)) {
      report('error', 'MULTIPLE_MASTERS', `${n.pointer}/state`, `${masters[0].name} already starts as MASTER; give every other node state BACKUP (or leave state out)`);
    }
  },
  checkCommand: ({ model, report }) => {
    const words = model.vrrp.check.command.split(' ');
    // the program keepalived really runs: past env and its options (env [-i] [NAME=value]... cmd)
    let i = 0;
    if (/(^|\/)env$/.test(words[0])) {
      i = 1;
      while (i < words.length && (words[i].startsWith('-') || words[i].includes('='))) i++;
    }
    const prog = words[i] ?? '';
    const path = '/vrrp/check/command';
    if (/(^|\/)pidof$/.test(prog)) {
      report('error', 'CHECK_PIDOF', path, 'pidof fails under keepalived on Debian 12 (pidof is a link to killall5, which keepalived runs as "killall5 haproxy"), so the check never succeeds and a dead haproxy never fails over; remove command to use /usr/bin/pgrep -x haproxy');
      return;
    }
    for (const w of i > 0 ? [words[0], prog] : [prog]) {
      if (!w.startsWith('/')) {
        report('error', 'CHECK_COMMAND_RELATIVE', path, `${JSON.stringify(w)} is not an absolute path: with enable_script_security keepalived runs only a root-owned program it is given by path, and a name found through PATH may not be the one you mean; write its absolute path (e.g. /usr/bin/pgrep -x haproxy)`);
        return;
      }
    }
    for (const w of i > 0 ? [words[0], prog] : [prog]) {
      const m = /^\/(usr\/)?s?bin\/([^/]+)$/.exec(w);
      if (m && !model.os.commands.includes(m[2])) {
        report('error', 'CHECK_COMMAND_MISSING', path, `${w} is not on a stock ${model.os.label} node with lbbake's packages, and keepalived disables a check it cannot run ("Disabling track script ... since not found"), so haproxy's death would never fail over; use a program the node has (e.g. /usr/bin/pgrep), or install yours root-owned under /usr/local/sbin and give that path`);
        return;
      }
    }
  },
  vipAddress: ({ model, report }) => {
    const { address: vip, prefix } = model.vip;
    const bad = unusableAddress(vip);
    const o = ipv4ToInt(vip) >>> 16;
    if (bad) report('error', 'VIP_ADDRESS', '/vip/address', `the VIP ${vip} ${bad}; clients cannot reach a service there. Use a free address in the LB nodes' subnet`);
    else if (o === 0xa9fe) report('error', 'VIP_ADDRESS', '/vip/address', `the VIP ${vip} is link-local (169.254.0.0/16): routers never forward it and clouds reserve it (instance metadata); use a free address in the LB nodes' subnet`);
    else if (prefix <= 30) {
      const size = 2 ** (32 - prefix);
      const off = ipv4ToInt(vip) % size;
      if (off === 0 || off === size - 1) {
        report('error', 'VIP_ADDRESS', '/vip/address', `the VIP ${vip} is the ${off === 0 ? 'network' : 'broadcast'} address of ${vip}/${prefix}, which no host can use; pick another free address in the subnet`);
      }
    }
    if (bad) return;
    const routed = model.vip.cloud !== undefined && 'mode' in model.vip.cloud && model.vip.cloud.mode === 'route';
    if (prefix < 32 && !routed) {
      const net = (a: string) => Math.floor(ipv4ToInt(a) / 2 ** (32 - prefix));
      for (const n of model.nodes) {
        if (net(n.address) !== net(vip)) {
          report('error', 'VIP_OUTSIDE_SUBNET', `${n.pointer}/address`, `node ${n.name} (${n.address}) is outside ${vip}/${prefix}, the subnet vip.prefix says the VIP is on: a gratuitous ARP reaches only its own link, so that node could never carry the VIP; put the VIP in the nodes' subnet and set vip.prefix to that subnet's length (or 32)`);
        }
      }
    } else if (!routed && model.nodes.every((n) => ipv4ToInt(n.address) >>> 16 !== o)) {
      report('warning', 'VIP_FAR_FROM_NODES', '/vip/address', `the VIP ${vip} is not even in the /16 of any node (${model.nodes.map((n) => n.address).join(', ')}): a VIP moves by gratuitous ARP only within the nodes' own subnet, so clients would not reach it; use a free address of that subnet, or vip.cloud with mode: route where a cloud routes the VIP`);
    }
  },
  nodeAddress: ({ model, report }) => {
    for (const n of model.nodes) {
      const bad = unusableAddress(n.address);
      if (bad) report('error', 'NODE_ADDRESS', `${n.pointer}/address`, `node ${n.name}'s address ${n.address} ${bad}; keepalived sends VRRP from it and the peers send to it. Give the node's own address on the VIP's interface`);
    }
  },
  healthOptions: ({ input, model, report }) => {
    model.services.forEach((s, i) => {
      const h = input.services[i].health ?? {};
      const p = `${s.pointer}/health`;
      if (h.expect && s.health.type === 'tcp') {
        report('error', 'HEALTH_OPTION_TYPE', `${p}/expect`, 'health.expect lists HTTP statuses, but a tcp check only connects; use type: https (or http), or remove expect');
      }
      if (h.clientCert && s.health.type !== 'https') {
        report('error', 'HEALTH_OPTION_TYPE', `${p}/clientCert`, `a client certificate is presented only by an https check, not ${s.health.type}; use type: https, or remove clientCert`);
      }
      if (h.clientCert && s.health.expect.some((c) => c === 401 || c === 403)) {
        report('warning', 'HEALTH_CERT_ACCEPTS_401', `${p}/expect`, 'with a client certificate, 401 or 403 means the apiserver rejected it; counted as alive, an expired or wrong certificate would go unnoticed and an unready apiserver get traffic. Remove 401 and 403 from expect');
      }
    });
  },
  lbNodeIsBackend: ({ model, report }) => {
    const nodes = new Map(model.nodes.map((n) => [n.address, n.name]));
    for (const s of model.services) {
      s.servers.forEach((sv, i) => {
        const node = nodes.get(sv.address);
        if (node !== undefined && sv.port === s.port) {
          report('error', 'LB_NODE_IS_BACKEND', `${s.pointer}/servers/${i}/address`, `server ${sv.name} is LB node ${node} itself, on the port haproxy binds there (${s.bindAddress}:${s.port}): a kube-apiserver listens on *:${s.port}, so haproxy or the apiserver cannot bind; give the service another port (e.g. port: ${s.port === 8443 ? 9443 : 8443}) or run the apiservers on other hosts`);
        }
      });
    }
  },
  backendsGiven: ({ input, report }) => {
    input.services.forEach((s, i) => {
      const p = `/services/${i}`;
      if (s.servers && s.dns) {
        report('error', 'DNS_AND_SERVERS', `${p}/dns`, 'a service takes its servers either from a fixed list (servers) or from DNS (dns), not both; remove one of them');
      } else if (!s.servers && !s.dns) {
        report('error', 'NO_BACKENDS', p, 'the service has no backends; add servers (a list of { name, address }) or dns ({ name: api.k8s.internal })');
      }
    });
  },
  dnsMax: ({ model, report }) => {
    for (const s of model.services) {
      if (s.dns && (!Number.isInteger(s.dns.max) || s.dns.max < 1 || s.dns.max > DNS_MAX_SLOTS)) {
        report('error', 'DNS_MAX', `${s.pointer}/dns/max`, `max ${s.dns.max} is outside 1..${DNS_MAX_SLOTS}: it is the number of server slots haproxy creates and health-checks on every node; use the most apiservers you will ever run at once (e.g. 8)`);
      }
    }
  },
  dnsName: ({ model, report }) => {
    for (const s of model.services) {
      const why = s.dns && dnsNameProblem(s.dns.name);
      if (why) report('error', 'DNS_NAME', `${s.pointer}/dns/name`, `${JSON.stringify(s.dns!.name)} ${why}`);
    }
  },
  dnsNameservers: ({ model, report }) => {
    if (haproxyAtLeast(model.os, 1, 9)) return;
    for (const s of model.services) {
      if (s.dns && s.dns.nameservers.length === 0) {
        report('error', 'DNS_NAMESERVERS_REQUIRED', `${s.pointer}/dns`, `haproxy ${model.os.haproxyVersion.join('.')} (${model.os.label}) cannot read the node's /etc/resolv.conf (parse-resolv-conf needs haproxy 1.9); list the DNS servers, e.g. nameservers: [10.0.0.2] (the VPC resolver)`);
      }
    }
  },
  metricsSupported: ({ model, report }) => {
    if (model.metrics.enabled && !metricsSupported(model.os)) {
      report(
        'error',
        'METRICS_UNSUPPORTED',
        '/metrics',
        `haproxy ${model.os.haproxyVersion.join('.')} (${model.os.id}) has no Prometheus exporter (haproxy 2.0 and later) and cannot serve keepalived's state (http-request return: 2.2 and later); remove metrics, or use target.os rocky9. lbbake-agent status works on every target`,
      );
    }
  },
  cloudVipOs: ({ model, report }) => {
    const c = model.vip.cloud;
    if (!c || c.provider === 'azure') return;
    for (const why of cloudVipOsProblems(model.os)) {
      report('error', 'CLOUD_VIP_OS', '/vip/cloud/provider', `vip.cloud ${c.provider} cannot work on ${model.os.label}: ${why}; use target.os debian12, ubuntu2204 or ubuntu2404 for vip.cloud ${c.provider}`);
    }
  },
  // ---- warnings ----
  routerIdDefault: ({ model, report }) => {
    if (model.vrrp.routerId === 51) {
      report('warning', 'ROUTER_ID_DEFAULT', '/vrrp/routerId', 'routerId 51 is the value every copied guide uses; two clusters on one network with the same id fight over their VIPs. Pick another number 1..255');
    }
  },
  multicast: ({ model, report }) => {
    if (model.vrrp.mode === 'multicast') {
      report('warning', 'MULTICAST', '/vrrp/mode', 'multicast VRRP is dropped by most clouds (AWS, GCE, Azure) and leaves both nodes MASTER; use mode: unicast');
    }
  },
  checkSpeed: ({ model, report }) => {
    const budget = haproxyFailoverBudget(model);
    if (budget > 10) {
      const c = model.vrrp.check;
      report('warning', 'CHECK_SLOW', '/vrrp/check', `a dead haproxy is detected after interval ${c.interval} s x fall ${c.fall}, so failover takes about ${budget.toFixed(1)} s; use interval: 1 and fall: 1 (about 1.5 s at most)`);
    }
  },
  statsExposure: ({ model, report }) => {
    if (!model.stats.enabled) return;
    if (model.stats.bind === '0.0.0.0') {
      report('warning', 'STATS_ALL_ADDRESSES', '/stats/bind', 'the stats page listens on every address, including the VIP; bind it to 127.0.0.1 (reach it with ssh -L) or to "node"');
    }
  },
  metricsExposure: ({ model, report }) => {
    if (model.metrics.enabled && model.metrics.bind === '0.0.0.0') {
      report('warning', 'METRICS_ALL_ADDRESSES', '/metrics/bind', 'the metrics endpoint listens on every address, including the VIP, where a scrape reaches whichever node holds it; bind it to "node" (each node\'s own address, what Prometheus scrapes) or to 127.0.0.1');
    }
  },
  longLivedStreams: ({ model, report }) => {
    for (const s of model.services) {
      if (s.timeouts.tunnel < 600) {
        report('warning', 'TIMEOUT_SHORT', `${s.pointer}/timeouts/tunnel`, `idle streams through ${s.name} are cut after ${s.timeouts.tunnel} s, which breaks kubectl logs -f and watches; use at least 3600`);
      }
    }
  },
};

/**
 * Why lbbake-vip (keepalived's notify script for vip.cloud aws/gce) cannot work on an OS; empty
 * when it can. It needs python 3.6+ (standard library), keepalived 2.0.6+
 * (notify_master_rx_lower_pri) and to run unconfined enough to write /run/lbbake and reach the
 * cloud's API.
 */
export function cloudVipOsProblems(os: OsFacts): string[] {
  const out: string[] = [];
  const [pa, pb] = os.python.version;
  if (pa < 3 || (pa === 3 && pb < 6)) out.push(`lbbake-vip needs python 3.6 or later, and ${os.python.path} is ${pa}.${pb}`);
  const [ka, kb, kc] = os.keepalivedVersion;
  if (ka < 2 || (ka === 2 && kb === 0 && kc < 6)) out.push(`keepalived ${os.keepalivedVersion.join('.')} has no notify_master_rx_lower_pri (2.0.6 and later), which reclaims the VIP after a VRRP split heals`);
  if (os.selinux) {
    out.push("SELinux confines keepalived's notify scripts (keepalived_t): lbbake-vip would have to write /run/lbbake and call the cloud's API from that domain, which stock policies deny to keepalived scripts (AVC denials for file creation and connects are reported) and which lbbake cannot test");
  }
  return out;
}

/** Runs every semantic rule on the normalized model; returns all findings (pointer only, no line). */
export function checkRules(input: LbInput, model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ctx: RuleContext = {
    input,
    model,
    report: (severity, code, path, message) => out.push({ severity, code, path, message }),
  };
  for (const rule of Object.values(RULES)) rule(ctx);
  return out;
}
