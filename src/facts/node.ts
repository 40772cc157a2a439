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

/** Where the VIP-move hooks live on a node (root-owned, as keepalived's script security wants). */
export const HOOK_DIR = '/usr/local/libexec/lbbake';

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
export const PACKAGES = ['haproxy', 'keepalived'] as const;
