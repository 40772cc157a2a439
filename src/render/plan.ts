import type { Model } from '../compile/model.js';
import { haproxyFailoverParts, masterDownSeconds } from '../compile/rules.js';
import { METRICS_PATHS } from './metrics.js';
import { INTERFACE_FILE } from '../facts/node.js';
import { type CloudName, type CloudPlan, cloudPlan, cloudPrerequisites, type CloudStep, cloudStep } from './cloud-plan.js';

/** One firewall / security-group rule the pair needs. */
export interface FirewallRule {
  protocol: 'vrrp (IP protocol 112)' | 'tcp' | 'udp';
  from: string;
  to: string;
  port?: number;
  why: string;
}

/** What `lbbake explain` shows: derived from the normalized model, never containing a secret. */
export interface Plan {
  cluster: string;
  os: string;
  /** interface null: resolved on each node at boot, as interfaceHow says. */
  vip: { address: string; prefix: number; interface: string | null; interfaceHow: string; cloud?: CloudPlan };
  vrrp: { routerId: number; version: number; mode: string; advertIntervalSeconds: number; preempt: boolean; auth: 'PASS (value not shown)' | 'none' };
  nodes: Array<{ name: string; address: string; state: string; priority: number; onCheckFailure: string }>;
  check: { command: string; intervalSeconds: number; fall: number; rise: number; weight: number; onFailure: 'FAULT' | 'lower priority' };
  failover: {
    haproxyDeath: { detectSeconds: number; takeoverSeconds: number; totalSeconds: number; how: string };
    nodeLoss: { seconds: number; how: string };
    /** vip.cloud: what follows the VRRP takeover before traffic arrives (added to both figures). */
    cloudStep?: CloudStep;
  };
  services: Array<{ name: string; listen: string; balance: string; health: string; servers: string[] }>;
  stats: { enabled: false } | { enabled: true; listen: string; uri: string; user: string; password: 'set (value not shown)' | 'none' };
  /** Prometheus endpoints per node (lb.yaml metrics), or why there are none. */
  metrics: { enabled: false } | { enabled: true; endpoints: Array<{ node: string; haproxy: string; keepalived: string }> };
  firewall: FirewallRule[];
  clouds: Record<CloudName, string[]>;
}

const round = (s: number) => Math.round(s * 100) / 100;

/** Each node's metrics URLs: at its own address with bind node or 0.0.0.0, else at the bind address. */
function metricsPlan(m: Model): Plan['metrics'] {
  const mt = m.metrics;
  if (!mt.enabled) return { enabled: false };
  return {
    enabled: true,
    endpoints: m.nodes.map((n) => {
      const base = `http://${mt.bind === 'node' || mt.bind === '0.0.0.0' ? n.address : mt.bind}:${mt.port}`;
      return { node: n.name, haproxy: base + METRICS_PATHS.haproxy, keepalived: base + METRICS_PATHS.keepalived };
    }),
  };
}

/** Builds the reviewer's plan for a model. Pure; secrets appear only as "set". */
export function buildPlan(m: Model): Plan {
  const c = m.vrrp.check;
  const fault = c.weight === 0;
  const parts = haproxyFailoverParts(m);
  const master = m.nodes.find((n) => n.state === 'MASTER') ?? [...m.nodes].sort((a, b) => b.priority - a.priority)[0];
  const bestBackup = [...m.nodes].filter((n) => n !== master).sort((a, b) => b.priority - a.priority)[0];
  const nodeLoss = masterDownSeconds(m.vrrp.advertInterval, bestBackup.priority);
  const addrs = m.nodes.map((n) => n.address);

  const firewall: FirewallRule[] = [];
  for (const n of m.nodes) {
    const peers = m.vrrp.mode === 'unicast' ? n.peers.join(', ') : '224.0.0.18 (multicast)';
    firewall.push({ protocol: 'vrrp (IP protocol 112)', from: `${n.name} ${n.address}`, to: peers, why: 'VRRP adverts (not TCP/UDP: allow protocol 112 or "vrrp")' });
  }
  for (const s of m.services) {
    const to = s.bindAddress === '0.0.0.0' ? `${addrs.join(', ')} and VIP ${m.vip.address}` : `VIP ${s.bindAddress}`;
    firewall.push({ protocol: 'tcp', from: 'clients', to, port: s.port, why: `service ${s.name}` });
    const servers = s.dns ? [`every address ${s.dns.name} resolves to, port ${s.dns.port}`] : [...new Set(s.servers.map((sv) => `${sv.address}:${sv.port}`))];
    firewall.push({ protocol: 'tcp', from: `LB nodes ${addrs.join(', ')}`, to: servers.join(', '), why: `${s.name} traffic and ${s.health.type} health checks to the servers` });
    if (s.dns) {
      const ns = s.dns.nameservers.length ? s.dns.nameservers.join(', ') : "the nameservers in each node's /etc/resolv.conf";
      firewall.push({ protocol: 'udp', from: `LB nodes ${addrs.join(', ')}`, to: ns, port: 53, why: `DNS lookups of ${s.dns.name} for ${s.name}, every ${s.dns.timers.resolve}` });
    }
  }
  if (m.stats.enabled) {
    const bind = m.stats.bind;
    if (bind === '127.0.0.1') {
      firewall.push({ protocol: 'tcp', from: 'localhost only', to: '127.0.0.1', port: m.stats.port, why: 'stats page: no rule needed (use ssh -L)' });
    } else {
      firewall.push({ protocol: 'tcp', from: 'admins', to: bind === 'node' ? addrs.join(', ') : bind, port: m.stats.port, why: 'stats page' });
    }
  }

  if (m.metrics.enabled) {
    const { bind, port } = m.metrics;
    if (bind === '127.0.0.1') {
      firewall.push({ protocol: 'tcp', from: 'localhost only', to: '127.0.0.1', port, why: 'metrics: no rule needed (a Prometheus agent on the node, or ssh -L)' });
    } else {
      firewall.push({ protocol: 'tcp', from: 'your Prometheus servers', to: bind === 'node' ? addrs.join(', ') : bind, port, why: `metrics: ${METRICS_PATHS.haproxy} and ${METRICS_PATHS.keepalived} on every LB node` });
    }
  }

  const clouds = cloudPrerequisites(m);
  const step = cloudStep(m);

  return {
    cluster: m.name,
    os: m.os.label,
    vip: {
      address: m.vip.address,
      prefix: m.vip.prefix,
      interface: m.vip.interface ?? null,
      interfaceHow: m.vip.interface
        ? `vip.interface: ${m.vip.interface} on every node`
        : `resolved at boot (vip.interface not set): each node takes the NIC that holds its own address (${m.nodes.map((n) => `${n.name} ${n.address}`).join(', ')}) and writes "interface <NIC>" to ${INTERFACE_FILE}, which keepalived.conf includes; without such a NIC keepalived does not start`,
      ...(m.vip.cloud ? { cloud: cloudPlan(m) } : {}),
    },
    vrrp: {
      routerId: m.vrrp.routerId,
      version: m.vrrp.version,
      mode: m.vrrp.mode,
      advertIntervalSeconds: m.vrrp.advertInterval,
      preempt: m.vrrp.preempt,
      auth: m.vrrp.authPass === undefined ? 'none' : 'PASS (value not shown)',
    },
    nodes: m.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      state: n.state,
      priority: n.priority,
      onCheckFailure: fault ? 'FAULT (sends priority 0, gives up the VIP at once)' : `priority ${n.priority} -> ${n.priority + c.weight}`,
    })),
    check: {
      command: c.command,
      intervalSeconds: c.interval,
      fall: c.fall,
      rise: c.rise,
      weight: c.weight,
      onFailure: fault ? 'FAULT' : 'lower priority',
    },
    failover: {
      haproxyDeath: {
        detectSeconds: round(parts.detect),
        takeoverSeconds: round(parts.takeover),
        totalSeconds: round(parts.total),
        how: fault
          ? `${c.fall} failed check${c.fall === 1 ? "" : "s"} x ${c.interval} s, then FAULT: the BACKUP takes over within its skew time (~0.5 s measured)`
          : `${c.fall} failed check${c.fall === 1 ? "" : "s"} x ${c.interval} s, then the BACKUP waits for Master_Down (3 x ${m.vrrp.advertInterval} s advert + skew) because it ignores lower-priority adverts`,
      },
      nodeLoss: {
        seconds: round(nodeLoss),
        how: `${bestBackup.name} (priority ${bestBackup.priority}) takes over after 3 missed adverts x ${m.vrrp.advertInterval} s + skew ((256 - ${bestBackup.priority}) / 256 x ${m.vrrp.advertInterval} s)`,
      },
      ...(step ? { cloudStep: step } : {}),
    },
    services: m.services.map((s) => ({
      name: s.name,
      listen: `${s.bindAddress}:${s.port}`,
      balance: s.balance,
      health: s.health.type === 'tcp' ? `tcp connect every ${s.health.interval} ms, fall ${s.health.fall}, rise ${s.health.rise}` : `${s.health.type} GET ${s.health.path} every ${s.health.interval} ms, fall ${s.health.fall}, rise ${s.health.rise}`,
      servers: s.dns
        ? [`up to ${s.dns.max} servers from DNS ${s.dns.name} port ${s.dns.port} slots ${s.dns.serverPrefix}1..${s.dns.serverPrefix}${s.dns.max}, asked ${s.dns.nameservers.length ? `at ${s.dns.nameservers.join(', ')}` : "at the node's /etc/resolv.conf nameservers"} every ${s.dns.timers.resolve}; a removed address leaves after ${s.dns.timers.obsolete}; a DNS outage keeps the last answer ${s.dns.timers.outage}`]
        : s.servers.map((sv) => `${sv.name} ${sv.address}:${sv.port}`),
    })),
    stats: m.stats.enabled
      ? {
          enabled: true,
          listen: `${m.stats.bind === 'node' ? '<node address>' : m.stats.bind}:${m.stats.port}`,
          uri: m.stats.uri,
          user: m.stats.user,
          password: m.stats.password === undefined ? 'none' : 'set (value not shown)',
        }
      : { enabled: false },
    metrics: metricsPlan(m),
    firewall,
    clouds,
  };
}

const secs = (s: number) => `${s.toFixed(2).replace(/\.?0+$/, '')} s`;

/** The plan as text for a terminal or a review comment. */
export function formatPlan(p: Plan): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`cluster ${p.cluster} (${p.os})`);
  line(`VIP ${p.vip.address}/${p.vip.prefix} on ${p.vip.interface ?? "each node's own NIC"}; VRRP v${p.vrrp.version} ${p.vrrp.mode}, router id ${p.vrrp.routerId}, advert ${secs(p.vrrp.advertIntervalSeconds)}, preempt ${p.vrrp.preempt ? 'on' : 'off'}, auth ${p.vrrp.auth}`);
  if (p.vip.interface === null) line(`VRRP interface: ${p.vip.interfaceHow}`);
  const c = p.vip.cloud;
  if (c) {
    line(`cloud: ${c.provider} ${c.mode}: ${c.how}`);
    if (c.notify) line(`  keepalived notify (${p.nodes[0].name}; the others differ in address=): "${c.notify}"`);
    if (c.permissions.length) line(`  IAM permissions the nodes need: ${c.permissions.join(', ')}`);
  }
  line();
  line('nodes:');
  for (const n of p.nodes) line(`  ${n.name.padEnd(12)} ${n.address.padEnd(15)} ${n.state.padEnd(6)} priority ${n.priority}; haproxy down -> ${n.onCheckFailure}`);
  line();
  line(`haproxy check: ${p.check.command} every ${p.check.intervalSeconds} s, fall ${p.check.fall}, rise ${p.check.rise}, weight ${p.check.weight} (${p.check.onFailure} on failure)`);
  line();
  line('failover budget:');
  const h = p.failover.haproxyDeath;
  line(`  haproxy dies on the MASTER: ${secs(h.totalSeconds)} = detect ${secs(h.detectSeconds)} + takeover ${secs(h.takeoverSeconds)}`);
  line(`    ${h.how}`);
  line(`  MASTER node lost:           ${secs(p.failover.nodeLoss.seconds)}`);
  line(`    ${p.failover.nodeLoss.how}`);
  const cs = p.failover.cloudStep;
  if (cs) {
    line(`  + the cloud step after either: ${cs.seconds === null ? 'not documented by the cloud' : `about ${secs(cs.seconds)}`}`);
    line(`    ${cs.how}`);
    line(`    ${cs.retries}`);
  }
  line();
  line('services:');
  for (const s of p.services) {
    line(`  ${s.name} on ${s.listen}, ${s.balance}, ${s.health}`);
    for (const sv of s.servers) line(`    -> ${sv}`);
  }
  if (p.stats.enabled) line(`  stats page on ${p.stats.listen}${p.stats.uri}, user ${p.stats.user}, password ${p.stats.password}`);
  if (p.metrics.enabled) {
    line();
    line('metrics (Prometheus, scrape each LB node):');
    for (const e of p.metrics.endpoints) line(`  ${e.node.padEnd(12)} ${e.haproxy} (haproxy)  ${e.keepalived} (VRRP state)`);
  }
  line();
  line('firewall / security groups:');
  for (const r of p.firewall) line(`  ${r.protocol}${r.port ? ` port ${r.port}` : ''}: ${r.from} -> ${r.to}  (${r.why})`);
  line();
  line('per-cloud prerequisites:');
  for (const [cloud, items] of Object.entries(p.clouds)) {
    line(`  ${cloud}:`);
    for (const i of items) line(`    - ${i}`);
  }
  return out.join('\n') + '\n';
}
