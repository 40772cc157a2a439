import type { FromSchema } from 'json-schema-to-ts';
import type { OsFacts } from '../facts/os.js';
import type { LB_SCHEMA } from './lb-schema.js';

/**
 * lb.yaml as written, after the schema check (every optional key may be absent): derived from
 * schema/lb.schema.json, so the schema is the one description of lb.yaml's shape.
 */
export type LbInput = FromSchema<typeof LB_SCHEMA, { keepDefaultedPropertiesOptional: true }>;

export interface NodeModel {
  name: string;
  address: string;
  priority: number;
  state: 'MASTER' | 'BACKUP';
  /** The other nodes' addresses (unicast_peer), in node order. */
  peers: string[];
  /**
   * What an operator writes to keepalived's handover track_file to hand the VIP to a peer
   * (README "Day 2"): 1 - priority with preempt (effective priority 1), else -254.
   */
  handoverWeight: number;
  /** Where the node came from in lb.yaml, for diagnostics. */
  pointer: string;
  priorityExplicit: boolean;
  stateExplicit: boolean;
}

export interface ServiceModel {
  name: string;
  port: number;
  /** Address haproxy binds, e.g. the VIP or 0.0.0.0. */
  bindAddress: string;
  balance: string;
  health: {
    type: 'tcp' | 'http' | 'https';
    path: string;
    interval: number;
    fall: number;
    rise: number;
    /** HTTP statuses that count as alive (http/https checks). */
    expect: number[];
    /** health.clientCert: the certificate and its key as one PEM (a secret), and where the node keeps it. */
    client?: { pem: string; path: string };
  };
  timeouts: { connect: number; client: number; server: number; tunnel: number };
  /** The fixed servers; empty when the service takes its servers from DNS. */
  servers: Array<{ name: string; address: string; port: number }>;
  /** Servers discovered from DNS at run time (haproxy resolvers + server-template). */
  dns?: DnsModel;
  pointer: string;
}

/** services[].dns normalized: what the haproxy resolvers section and server-template need. */
export interface DnsModel {
  name: string;
  port: number;
  /** Server slots (server-template 1-max). */
  max: number;
  /** Listed nameservers; empty = the node's /etc/resolv.conf (parse-resolv-conf). */
  nameservers: string[];
  /** haproxy resolvers section name. */
  resolvers: string;
  /** server-template prefix: slots are <prefix>1 .. <prefix><max>. */
  serverPrefix: string;
  /** haproxy resolvers timers, haproxy time format ("1s"). */
  timers: DnsTimers;
}

export interface DnsTimers {
  /** How often a name is resolved (timeout resolve; hold valid on haproxy 1.8). */
  resolve: string;
  /** Between retries of an unanswered query. */
  retry: string;
  retries: number;
  /** How long an address missing from the answers is kept (hold obsolete). */
  obsolete: string;
  /** How long the last good answer is kept while DNS fails (hold nx/refused/timeout/other). */
  outage: string;
  /** EDNS0 payload size announced (accepted_payload_size). */
  payload: number;
}

/** The normalized model: every default applied; the only input templates ever see. */
export interface Model {
  name: string;
  os: OsFacts;
  /** interface undefined: each node uses the NIC holding its nodes[].address, found at boot. */
  vip: { address: string; prefix: number; interface: string | undefined; cloud?: VipCloud };
  vrrp: {
    routerId: number;
    version: 2 | 3;
    advertInterval: number;
    /** Advert intervals a BACKUP waits without hearing the MASTER (keepalived down_timer_adverts; RFC 3). */
    downTimerAdverts: number;
    /** Real-time priority of keepalived's VRRP process (vrrp_rt_priority). */
    rtPriority: number;
    /** CPU time in µs it may use without blocking before the kernel stops it (vrrp_rlimit_rttime). */
    rtLimitUs: number;
    mode: 'unicast' | 'multicast';
    preempt: boolean;
    authPass: string | undefined;
    /** Generate the nftables table that accepts VRRP only from the LB nodes. */
    firewall: boolean;
    check: {
      /** keepalived vrrp_script name. */
      scriptName: string;
      command: string;
      interval: number;
      /** Seconds after which keepalived kills a hung check (counts as failed). */
      timeout: number;
      fall: number;
      rise: number;
      onFailure: 'fault' | 'lower-priority';
      /** track_script weight: 0 means FAULT on failure. */
      weight: number;
      weightExplicit: boolean;
    };
    /** The "can serve" check (haproxy's readiness page), or undefined when vrrp.readiness.enabled is false. */
    readiness: ReadinessModel | undefined;
    /** Holding the VIP (preempt off): the holder's bonus, or undefined with preempt on. */
    hold: HoldModel | undefined;
    /** Seconds between gratuitous ARP refreshes while MASTER (vrrp_garp_master_refresh). */
    garpRefresh: number;
  };
  nodes: NodeModel[];
  services: ServiceModel[];
  stats:
    | {
        enabled: true;
        port: number;
        /** 'node' = each node's own address. */
        bind: string;
        uri: string;
        user: string;
        password: string | undefined;
      }
    | { enabled: false };
  /** Prometheus metrics served by haproxy (absent in lb.yaml: off). */
  metrics:
    | {
        enabled: true;
        port: number;
        /** An IPv4 address, 0.0.0.0, or 'node' = each node's own address. */
        bind: string;
      }
    | { enabled: false };
  sysctl: { ipForward: boolean; nonlocalBind: boolean };
  /** Long-lived streams: how long a reload's old haproxy keeps them, TCP keepalive timers (sysctl). */
  streams: { hardStopAfter: string; keepalive: { idle: number; interval: number; probes: number } };
  identity: { metadataKey: string };
  paths: {
    keepalivedConf: string;
    haproxyCfg: string;
    sysctlDropIn: string;
  };
}

/** keepalived's readiness check: haproxy's monitor page on 127.0.0.1, fails while a service has no server UP. */
export interface ReadinessModel {
  /** keepalived vrrp_script name. */
  scriptName: string;
  /** The check command (absolute, no shell). */
  command: string;
  port: number;
  /** haproxy monitor-uri. */
  uri: string;
  interval: number;
  timeout: number;
  fall: number;
  rise: number;
  /** Negative track_script weight: an unready node drops below every ready one (also the holder). */
  weight: number;
  /**
   * keepalived preempt_delay (s): how long a ready BACKUP waits before it takes the VIP from a
   * MASTER that became unready (or at startup). A backend event that hits every node at once is
   * seen by each after up to one health detection (interval x fall) plus one readiness poll, at
   * different moments; waiting that long plus a second lets every node see it before any moves.
   */
  preemptDelay: number;
}

/**
 * The VIP stays where it is: the node holding it (MASTER) counts `weight` more, through a
 * track_file keepalived watches, written by the notify FIFO script on every state change.
 */
export interface HoldModel {
  /** keepalived track_file name. */
  trackName: string;
  /** The file the notify script writes (1 while MASTER, else 0). */
  file: string;
  /** Absolute path of the script reading keepalived's notify FIFO (vrrp_notify_fifo_script). */
  notify: string;
  /** keepalived's notify FIFO (vrrp_notify_fifo). */
  fifo: string;
  weight: number;
}

/**
 * vip.cloud normalized (src/render/hooks.ts renders it). aws/gce: lbbake-vip moves the VIP in the
 * cloud's API; azure: haproxy answers the load balancer's probe on the MASTER only.
 */
export type VipCloud = VipCloudApi | VipCloudAzure;

export interface VipCloudApi {
  provider: 'aws' | 'gce';
  mode: 'secondary-ip' | 'route' | 'alias-ip';
  routeTableIds: string[];
  routeName: string | undefined;
  network: string;
  /** Seconds between the MASTER's ownership checks. */
  checkInterval: number;
  /** Absolute path of lbbake-vip on the node (keepalived's notify runs it). */
  program: string;
}

export interface VipCloudAzure {
  provider: 'azure';
  /** The health probe port haproxy answers on each node's address (200 on the MASTER only). */
  probePort: number;
}
