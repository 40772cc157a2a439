/** What lbbake needs to know about each supported target OS. One table, used by normalize only. */
export interface OsFacts {
  id: OsId;
  /** Human-readable name for docs and comments. */
  label: string;
  packageManager: 'apt' | 'dnf';
  /** haproxy version the OS ships: decides which syntax is generated. */
  haproxyVersion: [number, number];
  keepalivedVersion: [number, number, number];
  /**
   * user:group keepalived runs its check scripts as. root: keepalived 2.2.7's own config test
   * (`keepalived -t`) kills itself with SIGTERM (exit 143) whenever script_user is not root, so a
   * non-root user would make every config check fail. The check is a fixed root-owned binary
   * (pgrep) run without a shell, and enable_script_security stays on.
   */
  scriptUser: string;
  scriptGroup: string;
  haproxyUser: string;
  haproxyGroup: string;
  haproxyChroot: string;
  haproxyStatsSocket: string;
  /** SELinux is enforcing on stock images: haproxy needs haproxy_connect_any to reach backends on any port. */
  selinux: boolean;
}

export type OsId = 'debian12' | 'ubuntu2204' | 'ubuntu2404' | 'rocky8' | 'rocky9';

const deb = {
  packageManager: 'apt',
  scriptUser: 'root',
  scriptGroup: 'root',
  haproxyUser: 'haproxy',
  haproxyGroup: 'haproxy',
  haproxyChroot: '/var/lib/haproxy',
  haproxyStatsSocket: '/run/haproxy/admin.sock',
  selinux: false,
} as const;

const rhel = {
  packageManager: 'dnf',
  scriptUser: 'root',
  scriptGroup: 'root',
  haproxyUser: 'haproxy',
  haproxyGroup: 'haproxy',
  haproxyChroot: '/var/lib/haproxy',
  haproxyStatsSocket: '/var/lib/haproxy/stats',
  selinux: true,
} as const;

export const OS_FACTS: Readonly<Record<OsId, OsFacts>> = {
  debian12: { id: 'debian12', label: 'Debian 12', ...deb, haproxyVersion: [2, 6], keepalivedVersion: [2, 2, 7] },
  ubuntu2204: { id: 'ubuntu2204', label: 'Ubuntu 22.04', ...deb, haproxyVersion: [2, 4], keepalivedVersion: [2, 2, 4] },
  ubuntu2404: { id: 'ubuntu2404', label: 'Ubuntu 24.04', ...deb, haproxyVersion: [2, 8], keepalivedVersion: [2, 2, 8] },
  rocky8: { id: 'rocky8', label: 'Rocky Linux 8', ...rhel, haproxyVersion: [1, 8], keepalivedVersion: [2, 1, 5] },
  rocky9: { id: 'rocky9', label: 'Rocky Linux 9', ...rhel, haproxyVersion: [2, 4], keepalivedVersion: [2, 2, 8] },
};

/** True when haproxy on this OS is at least major.minor. */
export function haproxyAtLeast(os: OsFacts, major: number, minor: number): boolean {
  const [a, b] = os.haproxyVersion;
  return a > major || (a === major && b >= minor);
}

/** True when keepalived on this OS is at least major.minor.patch. */
export function keepalivedAtLeast(os: OsFacts, major: number, minor: number, patch: number): boolean {
  const [a, b, c] = os.keepalivedVersion;
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/**
 * The python3 lbbake's scripts (boot agent, VRRP state tracker) run with: cloud-init's own
 * interpreter, so it is on every image. Rocky 8 ships it as platform-python (3.6).
 */
export function pythonPath(os: OsFacts): string {
  return os.id === 'rocky8' ? '/usr/libexec/platform-python' : '/usr/bin/python3';
}
