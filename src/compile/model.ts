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
  health: { type: 'tcp' | 'http' | 'https'; path: string; interval: number; fall: number; rise: number };
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
  vip: { address: string; prefix: number; interface: string; cloud?: VipCloud };
  vrrp: {
    routerId: number;
    version: 2 | 3;
    advertInterval: number;
    mode: 'unicast' | 'multicast';
    preempt: boolean;
    authPass: string | undefined;
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
  sysctl: { ipForward: boolean; nonlocalBind: boolean };
  identity: { metadataKey: string };
  paths: {
    keepalivedConf: string;
    haproxyCfg: string;
    sysctlDropIn: string;
  };
}

/** vip.cloud as written: which cloud API moves the VIP on failover (see src/hooks/). */
export interface VipCloudInput {
  provider: 'aws' | 'gce';
  mode: 'secondary-ip' | 'route' | 'alias-ip';
  routeTableIds?: string[];
  routeName?: string;
  network?: string;
}

/** vip.cloud normalized: the hook and the exact notify_master command. */
export interface VipCloud {
  provider: 'aws' | 'gce';
  mode: 'secondary-ip' | 'route' | 'alias-ip';
  routeTableIds: string[];
  routeName: string | undefined;
  network: string;
  /** Absolute path of the hook on the node. */
  hook: string;
  notifyMaster: string;
}
