import type { Model } from '../compile/model.js';
import { effectivePriority, haproxyFailoverParts, masterDownSeconds, secondPriority, skewSeconds } from '../compile/rules.js';
import { METRICS_PATHS } from './metrics.js';
import { HAPROXY_EVENT, INTERFACE_FILE, VRRP_FIREWALL } from '../facts/node.js';
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
  /** Who holds the VIP: at a cold start, and afterwards. */
  holder: { coldStart: string; afterwards: string };
  /** Each node: start state, priority, and the effective priority keepalived gives it when … */
  nodes: Array<{ name: string; address: string; state: string; priority: number; holding: number; cannotServe: number; onCheckFailure: string }>;
  check: { command: string; intervalSeconds: number; fall: number; rise: number; weight: number; onFailure: 'FAULT' | 'lower priority' };
  readiness: { enabled: false } | { enabled: true; command: string; page: string; intervalSeconds: number; fall: number; rise: number; weight: number };
  hold: { enabled: false } | { enabled: true; weight: number; file: string };
  failover: {
    /** The polling check's budget; `event` says how haproxy's own unit reports its exit at once. */
    haproxyDeath: { detectSeconds: number; takeoverSeconds: number; totalSeconds: number; how: string; event: string };
    nodeLoss: { seconds: number; how: string };
    gracefulStop: { seconds: number; how: string };
    backendCut?: { seconds: number; how: string };
    /** vip.cloud: what follows the VRRP takeover before traffic arrives (added to both figures). */
    cloudStep?: CloudStep;
  };
  services: Array<{ name: string; listen: string; balance: string; health: string; servers: string[] }>;
  stats: { enabled: false } | { enabled: true; listen: string; uri: string; user: string; password: 'set (value not shown)' | 'none' };
  /** Prometheus endpoints per node (lb.yaml metrics), or why there are none. */
  metrics: { enabled: false } | { enabled: true; endpoints: Array<{ node: string; haproxy: string; keepalived: string }> };
  firewall: FirewallRule[];
  /** What lbbake's own nftables table on every node does (vrrp.firewall), or null when off. */
  hostFirewall: string | null;
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
  const a = m.vrrp.advertInterval;
  // worst case: the highest-priority node holds the VIP and the second takes over
  const byPrio = [...m.nodes].sort((x, y) => y.priority - x.priority);
  const second = byPrio[1];
  const nodeLoss = masterDownSeconds(a, secondPriority(m), m.vrrp.downTimerAdverts);
  const skew = skewSeconds(a, secondPriority(m));
  const hold = m.vrrp.hold?.weight ?? 0;
  const r = m.vrrp.readiness;
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
    holder: holderPlan(m),
    nodes: m.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      state: n.state,
      priority: n.priority,
      holding: effectivePriority(n.priority + hold),
      cannotServe: effectivePriority(n.priority + (r ? r.weight : 0)),
      onCheckFailure: fault ? 'FAULT (sends priority 0, gives up the VIP at once)' : `priority ${n.priority} -> ${effectivePriority(n.priority + c.weight)}`,
    })),
    check: {
      command: c.command,
      intervalSeconds: c.interval,
      fall: c.fall,
      rise: c.rise,
      weight: c.weight,
      onFailure: fault ? 'FAULT' : 'lower priority',
    },
    readiness: r
      ? { enabled: true, command: r.command, page: `127.0.0.1:${r.port}${r.uri}`, intervalSeconds: r.interval, fall: r.fall, rise: r.rise, weight: r.weight }
      : { enabled: false },
    hold: m.vrrp.hold ? { enabled: true, weight: m.vrrp.hold.weight, file: m.vrrp.hold.file } : { enabled: false },
    failover: {
      haproxyDeath: {
        detectSeconds: round(parts.detect),
        takeoverSeconds: round(parts.takeover),
        totalSeconds: round(parts.total),
        event: `haproxy.service reports haproxy's exit (stop, crash, failed start) at once: its drop-in writes ${HAPROXY_EVENT.stateFile}, which keepalived tracks (no polling); the budget above is the polling check's, for a haproxy not run by its unit`,
        how: fault
          ? `${c.fall} failed check${c.fall === 1 ? "" : "s"} x ${c.interval} s, then FAULT sends priority 0: the BACKUP takes over after its skew time ((256 - ${parts.backupPriority}) / 256 x ${a} s)`
          : `${c.fall} failed check${c.fall === 1 ? "" : "s"} x ${c.interval} s, then the BACKUP waits for Master_Down (${m.vrrp.downTimerAdverts} x ${a} s advert + skew) because it ignores lower-priority adverts`,
      },
      nodeLoss: {
        seconds: round(nodeLoss),
        how: `${second.name} (priority ${second.priority}) takes over after its Master_Down timer: ${m.vrrp.downTimerAdverts} missed adverts x ${a} s + skew ((256 - ${second.priority}) / 256 x ${a} s = ${round3(skew)} s)`,
      },
      gracefulStop: {
        seconds: round(skew),
        how: `keepalived stops first (systemd drop-in: after haproxy and the network) and sends priority 0; ${second.name} takes over after its skew time ((256 - ${second.priority}) / 256 x ${a} s)`,
      },
      ...(r ? { backendCut: backendCutPlan(m, nodeLoss) } : {}),
      ...(step ? { cloudStep: step } : {}),
    },
    services: m.services.map((s) => ({
      name: s.name,
      listen: `${s.bindAddress}:${s.port}`,
      balance: s.balance,
      health: s.health.type === 'tcp'
        ? `tcp connect every ${s.health.interval} ms, fall ${s.health.fall}, rise ${s.health.rise}`
        : `${s.health.type} GET ${s.health.path} every ${s.health.interval} ms, fall ${s.health.fall}, rise ${s.health.rise}` +
          (s.health.expect.join() === '200' ? '' : `, alive on ${s.health.expect.join('/')}`) +
          (s.health.client && s.health.type === 'https' ? `, with a client certificate (${s.health.client.path})` : ''),
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
    hostFirewall: m.vrrp.firewall
      ? `every node loads the nftables table inet ${VRRP_FIREWALL.table} (${VRRP_FIREWALL.unitName}): VRRP only from ${m.nodes.map((n) => n.address).join(', ')}; rules of your own firewall or security groups still need protocol 112 between the nodes`
      : null,
    clouds,
  };
}

const secs = (s: number) => `${s.toFixed(2).replace(/\.?0+$/, '')} s`;
const round3 = (s: number) => Math.round(s * 1000) / 1000;

/** Who holds the VIP at a cold start (every node BACKUP unless state: MASTER) and afterwards. */
function holderPlan(m: Model): Plan['holder'] {
  const byPrio = [...m.nodes].sort((x, y) => y.priority - x.priority);
  const top = byPrio[0];
  const master = m.nodes.find((n) => n.state === 'MASTER');
  const a = m.vrrp.advertInterval;
  let coldStart: string;
  if (!master) {
    coldStart = `every node starts as BACKUP and takes no VIP before its checks pass; the first to pass them takes the VIP after ${secs(masterDownSeconds(a, top.priority, m.vrrp.downTimerAdverts))} (${m.vrrp.downTimerAdverts} adverts + skew); when several start together, ${top.name} (priority ${top.priority}) wins`;
  } else if (master === top) {
    coldStart = `${master.name} starts as MASTER (state: MASTER): once its checks pass it takes the VIP after one advert (${secs(a + skewSeconds(a, master.priority))}) unless another node already holds it`;
  } else {
    coldStart = `${master.name} starts as MASTER (state: MASTER) though ${top.name} has the higher priority (${top.priority} > ${master.priority}): at a cold start ${master.name} takes the VIP first, after one advert; ` +
      (m.vrrp.preempt
        ? `with preempt on, ${top.name} takes it back as soon as its checks pass: one more VIP move at every cold start (remove state, or set it on ${top.name})`
        : `with preempt off, ${master.name} keeps it`);
  }
  const afterwards = m.vrrp.preempt
    ? `preempt on: the highest-priority node that can serve takes the VIP back${m.vrrp.readiness ? ' (a node that can serve outranks every node that cannot)' : ''}`
    : `preempt off: the VIP stays on the node holding it (hold +${m.vrrp.hold?.weight}) while it runs haproxy${m.vrrp.readiness ? ' and can serve; it moves to a node that can serve when the holder cannot, and stays when no node can' : ''}`;
  return { coldStart, afterwards };
}

/** MASTER cut from every server while its haproxy runs: servers DOWN, readiness fails, the BACKUP's Master_Down. */
function backendCutPlan(m: Model, masterDown: number): { seconds: number; how: string } {
  const r = m.vrrp.readiness!;
  // an unreachable server fails each check after min(timeout connect, inter) (haproxy's connect
  // timeout of a check); `fall` of them, the first after up to inter, the next every fastinter
  const down = Math.max(...m.services.map((s) => {
    const h = s.health;
    const inter = h.interval / 1000;
    const fastinter = Math.max(100, Math.floor(h.interval / 2)) / 1000;
    return inter + h.fall * Math.min(s.timeouts.connect, inter) + (h.fall - 1) * fastinter;
  }));
  const detect = r.interval * r.fall;
  const delay = r.preemptDelay;
  return {
    seconds: round(down + detect + delay + masterDown),
    how: `haproxy marks every server DOWN (<= ${secs(down)}), the readiness check fails (<= ${secs(detect)}), the BACKUP waits its preempt_delay (${secs(delay)}, so that in an outage of every server each node has checked before any moves) and then ignores the lower adverts and takes over after its Master_Down timer (${secs(masterDown)}); when no node can reach a server, the VIP stays`,
  };
}

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
  line('nodes (start state, priority; effective priority while holding the VIP / while it cannot serve):');
  for (const n of p.nodes) line(`  ${n.name.padEnd(12)} ${n.address.padEnd(15)} ${n.state.padEnd(6)} priority ${n.priority} (${n.holding} / ${n.cannotServe}); haproxy down -> ${n.onCheckFailure}`);
  line(`  cold start: ${p.holder.coldStart}`);
  line(`  afterwards: ${p.holder.afterwards}`);
  line();
  line(`haproxy check: ${p.check.command} every ${p.check.intervalSeconds} s, fall ${p.check.fall}, rise ${p.check.rise}, weight ${p.check.weight} (${p.check.onFailure} on failure)`);
  if (p.readiness.enabled) line(`readiness check: ${p.readiness.command} (haproxy's page ${p.readiness.page}: 503 while a service has no server UP) every ${p.readiness.intervalSeconds} s, fall ${p.readiness.fall}, rise ${p.readiness.rise}, weight ${p.readiness.weight}`);
  else line('readiness check: off (vrrp.readiness.enabled: false): a node that reaches no server keeps the VIP');
  if (p.hold.enabled) line(`hold: the node holding the VIP counts +${p.hold.weight} (track_file ${p.hold.file})`);
  line();
  line('failover budget (worst case: the highest-priority node holds the VIP):');
  const h = p.failover.haproxyDeath;
  line(`  haproxy dies on the MASTER: ${secs(h.totalSeconds)} = detect ${secs(h.detectSeconds)} + takeover ${secs(h.takeoverSeconds)}`);
  line(`    ${h.how}`);
  line(`    ${h.event}`);
  line(`  MASTER node lost:           ${secs(p.failover.nodeLoss.seconds)}`);
  line(`    ${p.failover.nodeLoss.how}`);
  line(`  MASTER stops or reboots:    ${secs(p.failover.gracefulStop.seconds)}`);
  line(`    ${p.failover.gracefulStop.how}`);
  if (p.failover.backendCut) {
    line(`  MASTER reaches no server:   ${secs(p.failover.backendCut.seconds)}`);
    line(`    ${p.failover.backendCut.how}`);
  }
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
  if (p.hostFirewall) line(`  host: ${p.hostFirewall}`);
  for (const r of p.firewall) line(`  ${r.protocol}${r.port ? ` port ${r.port}` : ''}: ${r.from} -> ${r.to}  (${r.why})`);
  line();
  line('per-cloud prerequisites:');
  for (const [cloud, items] of Object.entries(p.clouds)) {
    line(`  ${cloud}:`);
    for (const i of items) line(`    - ${i}`);
  }
  return out.join('\n') + '\n';
}
