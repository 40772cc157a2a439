import type { DnsModel, LbInput, Model, NodeModel, ServiceModel } from './model.js';
import { OS_FACTS } from '../facts/os.js';
import { nodeConfigPaths } from '../facts/node.js';
import { pointer } from '../diagnostics/diagnostic.js';
import { vipCloud } from '../render/hooks.js';

/** Every default lbbake applies, in one place. */
export const DEFAULTS = {
  os: 'debian12',
  vipPrefix: 32,
  vipInterface: 'eth0',
  vrrpVersion: 2,
  advertInterval: 1,
  mode: 'unicast',
  preempt: true,
  check: {
    command: '/usr/bin/pgrep -x haproxy',
    interval: 1,
    // one failed check: haproxy died (pgrep finds no process); measured 0.95 s to fail over vs
    // 1.57 s with fall 2. The check is the fallback: haproxy's unit reports its exit at once.
    fall: 1,
    rise: 2,
    onFailure: 'fault',
  },
  /** Priority of the first node; the next ones count down from it. */
  topPriority: 250,
  service: {
    name: 'kubernetes-apiserver',
    port: 6443,
    bind: 'vip',
    balance: 'roundrobin',
    health: { type: 'https', path: '/readyz', interval: 1000, fall: 2, rise: 2 },
    timeouts: { connect: 5, client: 3600, server: 3600, tunnel: 86400 },
  },
  /** services[].dns: server slots, and the haproxy resolvers timers (why: README "Backends from DNS"). */
  dns: {
    max: 8,
    timers: {
      // a DNS change reaches haproxy within a second; one query a second per name and node
      resolve: '1s',
      retry: '1s',
      retries: 3,
      // an address missing from the answers for 5 s is dropped (a removed apiserver)
      obsolete: '5s',
      // a DNS outage (no answer, SERVFAIL, REFUSED, NXDOMAIN) keeps the last answer for a day;
      // health checks still take dead servers out. haproxy's default (30 s) would then take
      // every server out: a DNS outage would become an apiserver outage.
      outage: '24h',
      // 64 A records need more than the 512 bytes of plain DNS (EDNS0; 4096 is haproxy's advice for UDP)
      payload: 4096,
    },
  },
  stats: { port: 1080, bind: '127.0.0.1', uri: '/stats', user: 'admin', enabled: true },
  ipForward: false,
  metadataKey: 'lb-node',
  /** vip.cloud.network (GCE route mode). */
  gceNetwork: 'default',
} as const;

/**
 * Applies every default and derives computed values (priorities, states, peers, the check
 * weight). Pure; expects input that passed the schema check. Semantic rules run on its result.
 */
export function normalize(input: LbInput): Model {
  const os = OS_FACTS[input.target?.os ?? DEFAULTS.os];
  const v = input.vrrp;
  const preempt = v.preempt ?? DEFAULTS.preempt;
  const prios = input.nodes.map((n, i) => n.priority ?? DEFAULTS.topPriority - i);
  const top = Math.max(...prios);
  const nodes: NodeModel[] = input.nodes.map((n, i) => ({
    name: n.name,
    address: n.address,
    priority: prios[i],
    state: n.state ?? (preempt && prios[i] === top && prios.indexOf(top) === i ? 'MASTER' : 'BACKUP'),
    peers: input.nodes.filter((_, j) => j !== i).map((o) => o.address),
    handoverWeight: preempt ? 1 - prios[i] : -254,
    pointer: pointer('nodes', i),
    priorityExplicit: n.priority !== undefined,
    stateExplicit: n.state !== undefined,
  }));

  const c = v.check ?? {};
  const onFailure = c.onFailure ?? DEFAULTS.check.onFailure;
  const interval = c.interval ?? DEFAULTS.check.interval;
  const weight = c.weight ?? (onFailure === 'fault' ? 0 : lowerPriorityWeight(prios));

  const services: ServiceModel[] = input.services.map((s, i) => {
    const port = s.port ?? DEFAULTS.service.port;
    return {
      name: s.name ?? DEFAULTS.service.name,
      port,
      bindAddress: (s.bind ?? DEFAULTS.service.bind) === 'vip' ? input.vip.address : '0.0.0.0',
      balance: s.balance ?? DEFAULTS.service.balance,
      health: { ...DEFAULTS.service.health, ...s.health },
      timeouts: { ...DEFAULTS.service.timeouts, ...s.timeouts },
      servers: (s.servers ?? []).map((sv) => ({ name: sv.name, address: sv.address, port: sv.port ?? port })),
      ...(s.dns && !s.servers ? { dns: dnsModel(s.name ?? DEFAULTS.service.name, s.dns, port) } : {}),
      pointer: pointer('services', i),
    };
  });

  const st = input.stats ?? {};
  const statsEnabled = st.enabled ?? DEFAULTS.stats.enabled;

  return {
    name: input.name,
    os,
    vip: {
      address: input.vip.address,
      prefix: input.vip.prefix ?? DEFAULTS.vipPrefix,
      interface: input.vip.interface ?? DEFAULTS.vipInterface,
      ...(input.vip.cloud
        ? { cloud: vipCloud({ network: DEFAULTS.gceNetwork, ...input.vip.cloud }, { address: input.vip.address, prefix: input.vip.prefix ?? DEFAULTS.vipPrefix, interface: input.vip.interface ?? DEFAULTS.vipInterface }) }
        : {}),
    },
    vrrp: {
      routerId: v.routerId,
      version: v.version ?? DEFAULTS.vrrpVersion,
      advertInterval: v.advertInterval ?? DEFAULTS.advertInterval,
      mode: v.mode ?? DEFAULTS.mode,
      preempt,
      authPass: v.auth?.pass,
      check: {
        scriptName: 'chk_haproxy',
        command: c.command ?? DEFAULTS.check.command,
        interval,
        // a dead haproxy makes pgrep fail at once; the timeout only has to tolerate a slow exec on
        // a starved VM (1-4.6 s measured under TCG), which must not count as a failed check
        timeout: Math.max(5, interval),
        fall: c.fall ?? DEFAULTS.check.fall,
        rise: c.rise ?? DEFAULTS.check.rise,
        onFailure,
        weight,
        weightExplicit: c.weight !== undefined,
      },
    },
    nodes,
    services,
    stats: statsEnabled
      ? {
          enabled: true,
          port: st.port ?? DEFAULTS.stats.port,
          bind: st.bind ?? DEFAULTS.stats.bind,
          uri: st.uri ?? DEFAULTS.stats.uri,
          user: st.user ?? DEFAULTS.stats.user,
          password: st.password,
        }
      : { enabled: false },
    sysctl: { ipForward: input.sysctl?.ipForward ?? DEFAULTS.ipForward, nonlocalBind: true },
    identity: { metadataKey: input.identity?.metadataKey ?? DEFAULTS.metadataKey },
    paths: nodeConfigPaths(input.name),
  };
}

function dnsModel(service: string, d: NonNullable<LbInput['services'][number]['dns']>, servicePort: number): DnsModel {
  return {
    name: d.name,
    port: d.port ?? servicePort,
    max: d.max ?? DEFAULTS.dns.max,
    nameservers: d.nameservers ?? [],
    resolvers: `lbbake-${service}`,
    serverPrefix: `${d.name.split('.')[0]}-`,
    timers: { ...DEFAULTS.dns.timers },
  };
}

/** A negative weight that drops the highest-priority node below the lowest healthy one. */
function lowerPriorityWeight(prios: number[]): number {
  return -(Math.max(...prios) - Math.min(...prios) + 1);
}
