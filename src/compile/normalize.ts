import type { DnsModel, HoldModel, LbInput, Model, NodeModel, ReadinessModel, ServiceModel, VipCloud } from './model.js';
import { hasDownTimerAdverts, OS_FACTS } from '../facts/os.js';
import { healthPemPath, HOLD_FIFO, HOLD_FILE, HOLD_NOTIFY, nodeConfigPaths, readyCommand, READY_URI, VIP_PROGRAM } from '../facts/node.js';
import { pointer } from '../diagnostics/diagnostic.js';

/** Every default lbbake applies, in one place. */
export const DEFAULTS = {
  os: 'debian12',
  vipPrefix: 32,
  /**
   * VRRPv3 with sub-second adverts: node loss is found after 3 adverts + skew. The interval is the
   * one that measured calm (no false failover) under 5 % loss + 20 ms jitter and a saturated
   * MASTER CPU while keeping node loss under a second (README, "Proof"; bench/candidates.ts).
   * With vrrp.auth (PASS, VRRPv2 only) the version is 2 and the interval VRRPv2's whole second.
   */
  vrrpVersion: 3,
  advertInterval: 0.1,
  /** A BACKUP takes over after this many silent advert intervals (keepalived down_timer_adverts). */
  downTimerAdverts: 5,
  /** VRRPv2 (vrrp.auth given), or a keepalived without down_timer_adverts (before 2.2.3: rocky8). */
  rfc: { advertInterval: 1, downTimerAdverts: 3 },
  /**
   * keepalived's VRRP process runs at this real-time priority (vrrp_rt_priority): a busy CPU must
   * not delay adverts (keepalived's own advice when a BACKUP takes over from a busy MASTER).
   */
  vrrpRtPriority: 50,
  /**
   * CPU time (µs) the real-time VRRP process may use without a blocking call (vrrp_rlimit_rttime).
   * keepalived's 10 ms got it killed mid state change on a busy VM in the lab (steal time counts);
   * a second still stops a runaway process.
   */
  vrrpRtLimitUs: 1_000_000,
  mode: 'unicast',
  // the VIP stays on the node holding it while that node can serve: restarting haproxy or
  // rebooting a node moves it at most once (a failback would reset every established stream)
  preempt: false,
  /** vrrp.firewall: the nftables table that accepts VRRP only from the LB nodes. */
  firewall: true,
  check: {
    command: '/usr/bin/pgrep -x haproxy',
    interval: 1,
    // one failed check: haproxy died (pgrep finds no process); measured 0.95 s to fail over vs
    // 1.57 s with fall 2. The check is the fallback: haproxy's unit reports its exit at once.
    fall: 1,
    rise: 2,
    onFailure: 'fault',
  },
  /** The "can serve" check (haproxy's readiness page, asked by curl). */
  readiness: { enabled: true, port: 1081, interval: 1, fall: 1, rise: 1 },
  /** Gratuitous ARPs re-sent by the MASTER every this many seconds (switches and neighbours that forgot the VIP's MAC). */
  garpRefresh: 60,
  /** Priority of the first node; the next ones count down from it. */
  topPriority: 250,
  service: {
    name: 'kubernetes-apiserver',
    port: 6443,
    bind: 'vip',
    // new connections go to the apiserver with the fewest open ones: after an apiserver restart
    // its watches reconnect elsewhere, and leastconn sends the next ones back to it
    balance: 'leastconn',
    health: { type: 'https', path: '/readyz', interval: 1000, fall: 2, rise: 2, expect: [200] },
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
  /** metrics (when the key is present): 8405 is the port haproxy's own examples give its exporter. */
  metrics: { port: 8405, bind: '127.0.0.1' },
  ipForward: false,
  streams: {
    // a reload hands new connections to a new haproxy; the old one keeps serving its streams
    // until they end, but at most this long. The apiserver itself ends watches after 30-60 min
    // (--min-request-timeout 1800), so a reload breaks no watch; kubectl logs -f / exec sessions
    // older than an hour reconnect.
    hardStopAfter: '1h',
    // option tcpka probes idle streams after 60 s, every 10 s, 6 times: a client or server that
    // vanished is found within 2 minutes (the kernel default is 2 h 11 min)
    keepalive: { idle: 60, interval: 10, probes: 6 },
  },
  metadataKey: 'lb-node',
  /** vip.cloud.network (GCE route mode). */
  gceNetwork: 'default',
  /** vip.cloud.checkInterval (aws, gce): seconds between the MASTER's ownership checks. */
  cloudCheckInterval: 10,
  /** vip.cloud.probePort (azure): ClusterLabs' azure-lb uses 61000 too. */
  azureProbePort: 61000,
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
  const nodes: NodeModel[] = input.nodes.map((n, i) => ({
    name: n.name,
    address: n.address,
    priority: prios[i],
    // every node starts as BACKUP: a (re)started node never grabs the VIP before its checks pass
    state: n.state ?? 'BACKUP',
    peers: input.nodes.filter((_, j) => j !== i).map((o) => o.address),
    handoverWeight: preempt ? 1 - prios[i] : -254,
    pointer: pointer('nodes', i),
    priorityExplicit: n.priority !== undefined,
    stateExplicit: n.state !== undefined,
  }));

  const version = vrrpVersion(v);
  // sub-second adverts only where they were measured calm: VRRPv3 and keepalived's
  // down_timer_adverts, so a BACKUP waits 5 adverts instead of the RFC's 3 (README, "Proof")
  const subSecond = version === 3 && hasDownTimerAdverts(os);
  const w = derivedWeights(prios, preempt);
  const c = v.check ?? {};
  const onFailure = c.onFailure ?? DEFAULTS.check.onFailure;
  const interval = c.interval ?? DEFAULTS.check.interval;
  const weight = c.weight ?? (onFailure === 'fault' ? 0 : w.lowerPriority);
  const services: ServiceModel[] = input.services.map((s, i) => {
    const port = s.port ?? DEFAULTS.service.port;
    return {
      name: s.name ?? DEFAULTS.service.name,
      port,
      bindAddress: (s.bind ?? DEFAULTS.service.bind) === 'vip' ? input.vip.address : '0.0.0.0',
      balance: s.balance ?? DEFAULTS.service.balance,
      health: serviceHealth(s.name ?? DEFAULTS.service.name, s.health ?? {}),
      timeouts: { ...DEFAULTS.service.timeouts, ...s.timeouts },
      servers: (s.servers ?? []).map((sv) => ({ name: sv.name, address: sv.address, port: sv.port ?? port })),
      ...(s.dns && !s.servers ? { dns: dnsModel(s.name ?? DEFAULTS.service.name, s.dns, port) } : {}),
      pointer: pointer('services', i),
    };
  });

  const r = v.readiness ?? {};
  const readyInterval = r.interval ?? DEFAULTS.readiness.interval;
  const readyFall = r.fall ?? DEFAULTS.readiness.fall;
  const readiness: ReadinessModel | undefined =
    (r.enabled ?? DEFAULTS.readiness.enabled)
      ? {
          scriptName: 'chk_ready',
          command: readyCommand(r.port ?? DEFAULTS.readiness.port),
          port: r.port ?? DEFAULTS.readiness.port,
          uri: READY_URI,
          interval: readyInterval,
          // curl gives up after 2 s; the rest tolerates a slow exec on a starved VM
          timeout: Math.max(5, readyInterval),
          fall: readyFall,
          rise: r.rise ?? DEFAULTS.readiness.rise,
          weight: -w.readiness,
          preemptDelay: readinessSettle(services, readyInterval, readyFall),
        }
      : undefined;
  const hold: HoldModel | undefined = preempt ? undefined : { trackName: 'lbbake_holder', file: HOLD_FILE, notify: HOLD_NOTIFY, fifo: HOLD_FIFO, weight: w.hold };

  const st = input.stats ?? {};
  const statsEnabled = st.enabled ?? DEFAULTS.stats.enabled;

  return {
    name: input.name,
    os,
    vip: {
      address: input.vip.address,
      prefix: input.vip.prefix ?? DEFAULTS.vipPrefix,
      // absent: each node uses the NIC holding its own address, resolved at boot (INTERFACE_FILE)
      interface: input.vip.interface,
      ...(input.vip.cloud ? { cloud: vipCloud(input.vip.cloud) } : {}),
    },
    vrrp: {
      routerId: v.routerId,
      version,
      advertInterval: v.advertInterval ?? (subSecond ? DEFAULTS.advertInterval : DEFAULTS.rfc.advertInterval),
      // 5 belongs to the default interval: an interval given in lb.yaml keeps the RFC's 3 (so an
      // explicit `advertInterval: 1` still finds node loss in about 3 s)
      downTimerAdverts: v.downTimerAdverts ?? (subSecond && v.advertInterval === undefined ? DEFAULTS.downTimerAdverts : DEFAULTS.rfc.downTimerAdverts),
      rtPriority: DEFAULTS.vrrpRtPriority,
      rtLimitUs: DEFAULTS.vrrpRtLimitUs,
      mode: v.mode ?? DEFAULTS.mode,
      preempt,
      authPass: v.auth?.pass,
      firewall: v.firewall ?? DEFAULTS.firewall,
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
      readiness,
      hold,
      garpRefresh: DEFAULTS.garpRefresh,
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
    metrics: input.metrics
      ? { enabled: true, port: input.metrics.port ?? DEFAULTS.metrics.port, bind: input.metrics.bind ?? DEFAULTS.metrics.bind }
      : { enabled: false },
    sysctl: { ipForward: input.sysctl?.ipForward ?? DEFAULTS.ipForward, nonlocalBind: true },
    streams: { hardStopAfter: DEFAULTS.streams.hardStopAfter, keepalive: { ...DEFAULTS.streams.keepalive } },
    identity: { metadataKey: input.identity?.metadataKey ?? DEFAULTS.metadataKey },
    paths: nodeConfigPaths(input.name),
  };
}

/** vrrp.version as given, else 2 when vrrp.auth is given (PASS exists only in VRRPv2), else the default. */
export function vrrpVersion(v: { version?: 2 | 3; auth?: unknown }): 2 | 3 {
  return v.version ?? (v.auth !== undefined ? 2 : DEFAULTS.vrrpVersion);
}

function vipCloud(c: NonNullable<LbInput['vip']['cloud']>): VipCloud {
  if (c.provider === 'azure') return { provider: 'azure', probePort: c.probePort ?? DEFAULTS.azureProbePort };
  return {
    provider: c.provider,
    // the schema requires mode for aws and gce
    mode: c.mode!,
    routeTableIds: c.routeTableIds ?? [],
    routeName: c.routeName,
    network: c.network ?? DEFAULTS.gceNetwork,
    checkInterval: c.checkInterval ?? DEFAULTS.cloudCheckInterval,
    program: VIP_PROGRAM,
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

/**
 * Seconds until every node has seen a backend event that hits them all at once (the slowest
 * service's health detection, interval x fall, plus the readiness polls), plus 1 s: keepalived's
 * preempt_delay, so the node that noticed first does not lose the VIP to one that has not yet.
 */
function readinessSettle(services: ServiceModel[], interval: number, fall: number): number {
  const health = Math.max(...services.map((s) => (s.health.interval * s.health.fall) / 1000));
  return Math.ceil(health + interval * fall) + 1;
}

/**
 * The weights lbbake derives from the priorities (gap = highest - lowest):
 * - hold (preempt off): the node holding the VIP counts gap + 1 more, so no healthy node
 *   outranks it (equal priority does not preempt either); 0 with preempt on;
 * - readiness: a node that cannot serve drops by gap + hold + 1, below every node that can,
 *   also when it holds the VIP; when no node can serve, every node drops alike and the VIP stays;
 * - lowerPriority (onFailure: lower-priority): a node whose haproxy died drops by as much, so
 *   it falls below every healthy node on the check alone.
 * Unchecked here: rules.ts reports weights outside keepalived's ±253 and priorities past 254.
 */
export function derivedWeights(prios: number[], preempt: boolean): { hold: number; readiness: number; lowerPriority: number } {
  const gap = Math.max(...prios) - Math.min(...prios);
  const hold = preempt ? 0 : gap + 1;
  return { hold, readiness: gap + hold + 1, lowerPriority: -(gap + hold + 1) };
}

function serviceHealth(service: string, h: NonNullable<LbInput['services'][number]['health']>): ServiceModel['health'] {
  const d = DEFAULTS.service.health;
  return {
    type: h.type ?? d.type,
    path: h.path ?? d.path,
    interval: h.interval ?? d.interval,
    fall: h.fall ?? d.fall,
    rise: h.rise ?? d.rise,
    expect: [...(h.expect ?? d.expect)].sort((a, b) => a - b),
    // resolved by the secrets stage: the PEM texts, certificate first (haproxy's crt file)
    ...(h.clientCert ? { client: { pem: h.clientCert.cert + h.clientCert.key, path: healthPemPath(service) } } : {}),
  };
}
