/**
 * Where lbbake puts things on an LB node, and the systemd units it drives: one home for every
 * node-side path and unit name. The boot agent gets the paths it needs through cluster.json
 * ("paths"), so its Python source names none of them but cluster.json's own location.
 */

/** The boot agent's files and the state it keeps (absolute paths). */
export const AGENT_PATHS = {
  agent: '/usr/local/sbin/lbbake-agent',
  dataDir: '/usr/lib/lbbake',
  /** Also the one path agent/lbbake-agent.py knows by itself (CLUSTER_FILE; a test checks both agree). */
  clusterFile: '/usr/lib/lbbake/cluster.json',
  unit: '/etc/systemd/system/lbbake-agent.service',
  keepalivedDropIn: '/etc/systemd/system/keepalived.service.d/lbbake.conf',
  overrideFile: '/etc/lbbake/node-name',
  /** Root-only (0600) JSON with the cluster's secrets. */
  secrets: '/etc/lbbake/secrets.json',
  /** Written when the agent installed a node's files in this boot (tmpfs: gone at reboot). */
  marker: '/run/lbbake/node',
  /** cloud-init's instance data (NoCloud meta-data, cloud tags it already fetched). */
  instanceData: '/run/cloud-init/instance-data.json',
  /** What the agent did in this boot (node, how resolved, or why it failed safe), for `status`. */
  agentState: '/run/lbbake/agent.json',
} as const;

/** Root-only file (0600) on the node that holds the cluster's secrets as JSON. */
export const SECRETS_PATH = AGENT_PATHS.secrets;

/** The files every node runs, wherever they came from (render --node writes exactly these). */
export function nodeConfigPaths(cluster: string): { keepalivedConf: string; haproxyCfg: string; sysctlDropIn: string } {
  return {
    keepalivedConf: '/etc/keepalived/keepalived.conf',
    haproxyCfg: '/etc/haproxy/haproxy.cfg',
    sysctlDropIn: `/etc/sysctl.d/90-lbbake-${cluster}.conf`,
  };
}

/**
 * haproxy's exit as an event: a drop-in for haproxy.service writes 1 to the state file when
 * haproxy stops or dies (ExecStopPost) and 0 once it is ready (ExecStartPost); keepalived watches
 * the file (track_file, inotify). The file sits directly in /run, which exists on every
 * boot before keepalived starts: keepalived drops a track file whose directory is missing.
 */
export const HAPROXY_EVENT = {
  dropIn: '/etc/systemd/system/haproxy.service.d/lbbake-track.conf',
  stateFile: '/run/lbbake-haproxy-down',
  /** keepalived's name for the tracked file. */
  trackName: 'haproxy_down',
} as const;

/**
 * Drop-in that bind-mounts /dev/log into haproxy's chroot where the OS's haproxy.service does
 * not (see OsFacts.haproxyUnit). Its own name, so other lbbake drop-ins for haproxy can sit beside it.
 */
export const HAPROXY_DEVLOG_DROPIN = '/etc/systemd/system/haproxy.service.d/lbbake-devlog.conf';

/**
 * keepalived's track_file for an operator's VIP handover (`lbbake-agent handover` / `takeback`):
 * the number in it is added to the node's priority (absent or 0: no change; -254 or less: FAULT).
 * Under /etc/keepalived, a directory the package creates and keepalived watches with inotify.
 */
export const HANDOVER_FILE = '/etc/keepalived/lbbake-handover';

/**
 * health.clientCert on a node: the certificate and key as one PEM, which haproxy loads (crt) as
 * root before it drops privileges; root-only (0600). Per service.
 */
export function healthPemPath(service: string): string {
  return `/etc/haproxy/lbbake-${service}-client.pem`;
}

/** Where the VIP-move program lives on a node (root-owned, as keepalived's script security wants). */
export const HOOK_DIR = '/usr/local/libexec/lbbake';

/**
 * lbbake's VRRP state tracker: keepalived runs it as its vrrp_notify_fifo_script and writes every
 * state change to the FIFO; it keeps them in `state` (read by `lbbake-agent status`) and, with
 * metrics on, publishes them into haproxy's table for /metrics/keepalived. `cloudOwner` is where a
 * cloud ownership check writes what it found: {"owner": bool, "checked": unix time, "detail": text}.
 */
export const VRRP_TRACKER = {
  script: `${HOOK_DIR}/vrrp-state`,
  /** The same FIFO as HOLD_FIFO: with metrics the tracker also writes HOLD_FILE (keepalived runs one FIFO script). */
  fifo: '/run/lbbake-vrrp.fifo',
  state: '/run/lbbake/vrrp.json',
  cloudOwner: '/run/lbbake/cloud-owner.json',
} as const;

/** keepalived's vrrp_instance name for a cluster (one instance per cluster). */
export function vrrpInstanceName(cluster: string): string {
  return `VI_${cluster}`;
}

/** Where keepalived writes its pid (the Debian and RHEL units and keepalived's own default). */
export const KEEPALIVED_PIDFILE = '/run/keepalived.pid';

/**
 * Holding the VIP (vrrp.preempt off): keepalived's notify FIFO script writes 1 (MASTER) or 0 into
 * HOLD_FILE on every state change; a track_file adds the hold bonus while it reads 1. In /run
 * itself: keepalived watches the file's directory, which must exist before keepalived starts.
 */
export const HOLD_FILE = '/run/lbbake-vrrp-holder';
export const HOLD_NOTIFY = `${HOOK_DIR}/vrrp-holder`;
/** The FIFO keepalived writes its state changes to, read by HOLD_NOTIFY (keepalived creates it). */
export const HOLD_FIFO = '/run/lbbake-vrrp.fifo';

/** haproxy's readiness page (monitor-uri) on 127.0.0.1, which keepalived's readiness check asks. */
export const READY_URI = '/lbbake/ready';
/** The readiness check: curl, no shell (keepalived's script security), a hung haproxy fails it. */
export function readyCommand(port: number): string {
  return `/usr/bin/curl --silent --fail --max-time 2 --output /dev/null http://127.0.0.1:${port}${READY_URI}`;
}

/** systemd drop-ins lbbake adds to haproxy and keepalived on every node (restart, stop order). */
export const DROP_INS = {
  haproxy: '/etc/systemd/system/haproxy.service.d/lbbake-ha.conf',
  keepalived: '/etc/systemd/system/keepalived.service.d/lbbake-ha.conf',
} as const;

/** vip.cloud aws/gce: the program keepalived's notify runs (agent/lbbake-vip.py). */
export const VIP_PROGRAM = `${HOOK_DIR}/lbbake-vip`;

/**
 * Without vip.interface, keepalived.conf includes this file inside its vrrp_instance; each node
 * writes it at boot as `interface <the NIC holding nodes[].address>` (tmpfs: re-resolved every
 * boot). The boot agent writes it in metadata mode and baked images; `--node` user-data ships
 * INTERFACE_SCRIPT, which keepalived runs as ExecStartPre.
 */
export const INTERFACE_FILE = '/run/lbbake/keepalived-interface.conf';

/** The NIC name config checks (keepalived -t, Packer's step 4) use where a node resolves its own. */
export const RESOLVED_STAND_IN = 'lbbake-nic0';

/** `--node` user-data: the script that writes INTERFACE_FILE, and keepalived's drop-in running it. */
export const INTERFACE_SCRIPT = '/usr/local/sbin/lbbake-interface';
export const INTERFACE_DROP_IN = '/etc/systemd/system/keepalived.service.d/lbbake-interface.conf';

/** The script `--node` user-data runs to apply its files. */
export const APPLY_SCRIPT = '/usr/local/sbin/lbbake-apply';

/** systemd units. */
export const UNITS = {
  agent: 'lbbake-agent.service',
  haproxy: 'haproxy.service',
  keepalived: 'keepalived.service',
} as const;

/** Name resolution order of the boot agent (cluster.json "sources"). */
export const SOURCES = ['override', 'ec2', 'gce', 'azure', 'openstack', 'nocloud', 'address'] as const;

/** SELinux booleans a node needs where SELinux enforces (haproxy connects to backends on any port). */
export const SELINUX_BOOLEANS = ['haproxy_connect_any'] as const;

/** Packages every node installs. */
/** Packages every node installs (curl: keepalived's readiness check asks haproxy with it). */
export const PACKAGES = ['haproxy', 'keepalived', 'curl'] as const;

/** The package that brings nft, for the VRRP firewall (vrrp.firewall); the same name on every target. */
export const FIREWALL_PACKAGE = 'nftables';

/**
 * The host firewall for VRRP: an nftables table of lbbake's own (never the user's ruleset) that
 * drops VRRP from anything but the LB nodes, loaded by a oneshot unit before keepalived.
 */
export const VRRP_FIREWALL = {
  file: '/etc/lbbake/vrrp-firewall.nft',
  unit: '/etc/systemd/system/lbbake-vrrp-firewall.service',
  unitName: 'lbbake-vrrp-firewall.service',
  table: 'lbbake_vrrp',
  nft: '/usr/sbin/nft',
} as const;
