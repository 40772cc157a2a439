import type { Code, Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { LbInput, Model } from './model.js';
import { AUTH_PASS_CHARS, AUTH_PASS_MAX, IPV4 } from '../facts/alphabets.js';
import { haproxyAtLeast, metricsSupported, type OsFacts } from '../facts/os.js';

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

/** Seconds a BACKUP waits for a silent MASTER: 3 adverts plus its skew time. */
export function masterDownSeconds(advert: number, priority: number): number {
  return 3 * advert + ((256 - priority) * advert) / 256;
}

/**
 * Seconds from haproxy dying on the MASTER until a BACKUP holds the VIP, as measured in the
 * reference lab: FAULT hands over within the skew time; a lowered priority waits for Master_Down.
 */
export function haproxyFailoverBudget(m: Model): number {
  return haproxyFailoverParts(m).total;
}

/** The parts of haproxyFailoverBudget: detection (interval × fall) and takeover by the best BACKUP. */
export function haproxyFailoverParts(m: Model): { detect: number; takeover: number; total: number; backupPriority: number } {
  const c = m.vrrp.check;
  const detect = c.interval * c.fall;
  const backupPriority = Math.max(...m.nodes.filter((n) => n.state !== 'MASTER').map((n) => n.priority));
  const takeover = c.weight === 0 ? 0.5 : masterDownSeconds(m.vrrp.advertInterval, backupPriority);
  return { detect, takeover, total: detect + takeover, backupPriority };
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
      ...(m.stats.enabled ? [{ value: String(m.stats.port), path: '/stats/port' }] : []),
      ...(m.metrics.enabled ? [{ value: String(m.metrics.port), path: '/metrics/port' }] : []),
      ...m.services.map((s) => ({ value: String(s.port), path: `${s.pointer}/port` })),
      ...(m.vip.cloud?.provider === 'azure' ? [{ value: String(m.vip.cloud.probePort), path: '/vip/cloud/probePort' }] : []),
    ],
    'DUPLICATE_PORT',
    'port',
    'every service, the stats page, the metrics endpoint and the Azure probe need their own port',
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
  advertInterval: ({ model, report }) => {
    const a = model.vrrp.advertInterval;
    if (model.vrrp.version === 2 && !Number.isInteger(a)) {
      report('error', 'ADVERT_INTERVAL', '/vrrp/advertInterval', `advertInterval ${a} is not a whole number of seconds, which VRRP version 2 requires; use 1, or set vrrp.version: 3 for sub-second adverts`);
    }
    if (model.vrrp.version === 3 && (a < 0.01 || a > 40.95 || Math.abs(Math.round(a * 100) - a * 100) > 1e-9)) {
      report('error', 'ADVERT_INTERVAL', '/vrrp/advertInterval', `advertInterval ${a} is not valid for VRRP version 3; use 0.01..40.95 in steps of 0.01`);
    }
  },
  checkWeightFailsOver: ({ model, report }) => {
    const w = model.vrrp.check.weight;
    if (w === 0) return;
    const sorted = [...model.nodes].sort((a, b) => b.priority - a.priority);
    const [top, ...rest] = sorted;
    if (rest.length === 0) return;
    const failed = top.priority + Math.min(w, 0);
    const bestBackup = Math.max(...rest.map((n) => n.priority + Math.max(w, 0)));
    const path = model.vrrp.check.weightExplicit ? '/vrrp/check/weight' : '/vrrp/check';
    if (failed >= bestBackup) {
      report('error', 'CHECK_WEIGHT_NO_FAILOVER', path, `with weight ${w}, a MASTER (priority ${top.priority}) whose haproxy died still has ${failed}, not below the best healthy BACKUP's ${bestBackup}, so the VIP would never move; use onFailure: fault (weight 0), or a weight of ${-(top.priority - Math.min(...rest.map((n) => n.priority)) + 1)} or lower`);
    } else if (model.vrrp.check.weightExplicit && w < 0) {
      const lowest = Math.min(...rest.map((n) => n.priority));
      const margin = lowest - failed;
      if (margin <= 0) {
        report('warning', 'CHECK_WEIGHT_FRAGILE', path, `weight ${w} drops a failed MASTER to ${failed}, below only some BACKUPs (the one at ${lowest} would not take over); remove weight to get onFailure: fault, or use ${-(top.priority - lowest + 1)}`);
      } else {
        report('warning', 'CHECK_WEIGHT_SLOW', path, `weight ${w} drops a failed MASTER (${top.priority}) to ${failed}, just below the lowest BACKUP (${lowest}): failover works only while the priorities stay this close, and each one waits about 3 adverts for the BACKUP's timer; remove weight to use onFailure: fault, which hands over at once (0.45 s measured vs 2.5 s)`);
      }
    }
  },
  nopreemptNeedsBackup: ({ model, report }) => {
    if (model.vrrp.preempt) return;
    for (const n of model.nodes) {
      if (n.state === 'MASTER') {
        report('error', 'NOPREEMPT_MASTER', `${n.pointer}/state`, 'preempt: false works only when every node starts as BACKUP (keepalived ignores nopreempt on a MASTER); remove state or set it to BACKUP');
      }
    }
  },
  singleMaster: ({ model, report }) => {
    const masters = model.nodes.filter((n) => n.state === 'MASTER');
    for (const n of masters.slice(1)) {
      report('error', 'MULTIPLE_MASTERS', `${n.pointer}/state`, `${masters[0].name} already starts as MASTER; give every other node state BACKUP (or leave state out)`);
    }
  },
  pidofNeverWorks: ({ model, report }) => {
    const cmd = model.vrrp.check.command.split(' ')[0];
    if (/(^|\/)pidof$/.test(cmd)) {
      report('error', 'CHECK_PIDOF', '/vrrp/check/command', 'pidof fails under keepalived on Debian 12 (pidof is a link to killall5, which keepalived runs as "killall5 haproxy"), so the check never succeeds and a dead haproxy never fails over; remove command to use /usr/bin/pgrep -x haproxy');
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
