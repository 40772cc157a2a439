/**
 * What lbbake needs to know about each supported target OS. One table, used by normalize only
 * (and by the docs and the version matrix that prove it). Where every fact comes from is in
 * docs/targets.md; the Debian rows are also read from the real packages by the version matrix
 * (test/matrix/), which fails when a Debian suite's versions or units no longer match this table.
 */

/** A Debian suite whose real haproxy, keepalived and cloud-init the version matrix runs. */
export type Suite = 'bullseye' | 'bookworm' | 'trixie' | 'sid';

/**
 * The Debian suites of the version matrix, oldest first, with what they ship (the matrix checks
 * these against the installed packages; sid's are those of December 2026 and only ever grow).
 * `target`: the lbbake target that is this very release, whose facts the matrix reads from it.
 */
export const SUITES: Readonly<Record<Suite, { label: string; haproxy: string; keepalived: string; cloudInit: string; target?: OsId }>> = {
  bullseye: { label: 'Debian 11 (bullseye)', haproxy: '2.2', keepalived: '2.1.5', cloudInit: '20.4' },
  bookworm: { label: 'Debian 12 (bookworm)', haproxy: '2.6', keepalived: '2.2.7', cloudInit: '22.4', target: 'debian12' },
  trixie: { label: 'Debian 13 (trixie)', haproxy: '3.0', keepalived: '2.3.3', cloudInit: '25.1', target: 'debian13' },
  sid: { label: 'Debian unstable (sid)', haproxy: '3.2', keepalived: '2.3.4', cloudInit: '26.2' },
};

/** Which real binaries a target's output is checked with (the closest versions the Debian archive has). */
export interface CheckedWith {
  haproxy: Suite[];
  keepalived: Suite[];
  cloudInit: Suite[];
  /** Said in the README's target table when a version has no exact binary here (and cloud-init when it is between two). */
  note?: string;
}

export interface OsFacts {
  id: OsId;
  /** Human-readable name for docs and comments. */
  label: string;
  packageManager: 'apt' | 'dnf';
  /** haproxy version the OS ships: decides which syntax is generated. */
  haproxyVersion: [number, number];
  keepalivedVersion: [number, number, number];
  /**
   * cloud-init major.minor the OS's current images and updates carry (the oldest of them where
   * that moves with point releases or SRUs): decides nothing in the output, which needs only
   * write_files `defer` (cloud-init 21.3 and later); the Packer cleanup asks the image's own
   * cloud-init which `clean` flags it has.
   */
  cloudInitVersion: [number, number];
  /** `cloud-init clean` flags that cloud-init has (its --help; read from the real package where Debian has it). */
  cloudInitClean: string[];
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
  /**
   * What the OS's own haproxy.service does that the generated files depend on. haproxy logs to
   * `/dev/log` from inside its chroot, so the socket must exist at `<chroot>/dev/log`:
   * - devLogInChroot: the unit bind-mounts it there (Debian, Ubuntu:
   *   `BindReadOnlyPaths=/dev/log:/var/lib/haproxy/dev/log`). Where it does not (RHEL, Rocky),
   *   lbbake adds a drop-in that does, else every haproxy log line is lost.
   * - restarts: the unit restarts a crashed haproxy (`Restart=always` on Debian/Ubuntu; none on RHEL).
   */
  haproxyUnit: { devLogInChroot: boolean; restarts: boolean };
  /**
   * haproxy is built with its Prometheus exporter (`haproxy -vv`: "Built with the Prometheus
   * exporter as a service"): Debian's packages since 2.0 (read in every Debian suite by the version
   * matrix) and so Ubuntu's; Fedora's since 2020, which RHEL 9's 2.4 derives from; not 1.8 (rocky8).
   */
  haproxyPromex: boolean;
  /** The real binaries this target's output is checked with in `npm test`. */
  checkedWith: CheckedWith;
  /**
   * Programs a node of this OS has in /usr/bin or /usr/sbin (also reached as /bin, /sbin: every
   * target has a merged /usr): its base image's coreutils, procps, iproute2, systemd and the
   * packages lbbake installs (haproxy, keepalived, curl). A check command elsewhere in a system
   * directory is one keepalived may not find (CHECK_COMMAND_MISSING).
   */
  commands: readonly string[];
  /**
   * The python3 the boot agent and lbbake-vip run with: cloud-init's own interpreter, so it is on
   * every image (Rocky 8 ships it as platform-python 3.6; /usr/bin/python3 may be absent there).
   */
  python: { path: string; version: [number, number] };
}

export type OsId = 'debian12' | 'debian13' | 'ubuntu2204' | 'ubuntu2404' | 'rocky8' | 'rocky9';

/** Every target, in the order docs list them. */
export const OS_IDS: readonly OsId[] = ['debian12', 'debian13', 'ubuntu2204', 'ubuntu2404', 'rocky8', 'rocky9'];

/** In every target's base image or lbbake's packages (see OsFacts.commands). */
const BASE_COMMANDS = [
  'sh', 'bash', 'test', '[', 'true', 'false', 'cat', 'timeout', 'sleep', 'env', 'kill', 'stat', 'grep',
  'pgrep', 'pkill', 'ps', 'ip', 'ss', 'systemctl', 'curl', 'haproxy', 'keepalived', 'flock', 'nsenter',
] as const;

const deb = {
  packageManager: 'apt',
  scriptUser: 'root',
  scriptGroup: 'root',
  haproxyUser: 'haproxy',
  haproxyGroup: 'haproxy',
  haproxyChroot: '/var/lib/haproxy',
  haproxyStatsSocket: '/run/haproxy/admin.sock',
  selinux: false,
  haproxyUnit: { devLogInChroot: true, restarts: true },
  haproxyPromex: true,
  commands: [...BASE_COMMANDS, 'dash', 'python3', 'pidof', 'killall5'],
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
  haproxyUnit: { devLogInChroot: false, restarts: false },
  haproxyPromex: true,
  commands: [...BASE_COMMANDS, 'pidof'],
} as const;

/** cloud-init clean flags by release (from each version's `cloud-init clean --help`). */
const CLEAN_22 = ['--logs', '--machine-id', '--reboot', '--seed'];
const CLEAN_24 = [...CLEAN_22, '--configs'];

export const OS_FACTS: Readonly<Record<OsId, OsFacts>> = {
  debian12: {
    id: 'debian12',
    label: 'Debian 12',
    ...deb,
    haproxyVersion: [2, 6],
    keepalivedVersion: [2, 2, 7],
    python: { path: '/usr/bin/python3', version: [3, 11] },
    cloudInitVersion: [22, 4],
    cloudInitClean: CLEAN_22,
    checkedWith: { haproxy: ['bookworm'], keepalived: ['bookworm'], cloudInit: ['bookworm'] },
  },
  debian13: {
    id: 'debian13',
    label: 'Debian 13',
    ...deb,
    haproxyVersion: [3, 0],
    keepalivedVersion: [2, 3, 3],
    python: { path: '/usr/bin/python3', version: [3, 13] },
    cloudInitVersion: [25, 1],
    cloudInitClean: CLEAN_24,
    checkedWith: { haproxy: ['trixie'], keepalived: ['trixie'], cloudInit: ['trixie'] },
  },
  ubuntu2204: {
    id: 'ubuntu2204',
    label: 'Ubuntu 22.04',
    ...deb,
    haproxyVersion: [2, 4],
    keepalivedVersion: [2, 2, 4],
    python: { path: '/usr/bin/python3', version: [3, 10] },
    cloudInitVersion: [25, 1],
    cloudInitClean: CLEAN_24,
    checkedWith: {
      haproxy: ['bullseye', 'bookworm'],
      // not bullseye's 2.1.5: its configs use down_timer_adverts, which keepalived has from 2.2.3 on
      keepalived: ['bookworm'],
      cloudInit: ['trixie', 'sid'],
      note: 'haproxy 2.4, keepalived 2.2.4, cloud-init 26.1 (-updates): checked with the versions on either side (keepalived: with 2.2.7 only, as 2.1.5 lacks down_timer_adverts)',
    },
  },
  ubuntu2404: {
    id: 'ubuntu2404',
    label: 'Ubuntu 24.04',
    ...deb,
    haproxyVersion: [2, 8],
    keepalivedVersion: [2, 2, 8],
    python: { path: '/usr/bin/python3', version: [3, 12] },
    cloudInitVersion: [25, 1],
    cloudInitClean: CLEAN_24,
    checkedWith: {
      haproxy: ['bookworm', 'trixie'],
      keepalived: ['bookworm', 'trixie'],
      cloudInit: ['trixie', 'sid'],
      note: 'haproxy 2.8, keepalived 2.2.8, cloud-init 26.1 (-updates): checked with the versions on either side',
    },
  },
  rocky8: {
    id: 'rocky8',
    label: 'Rocky Linux 8',
    ...rhel,
    haproxyVersion: [1, 8],
    // the exporter came with haproxy 2.0
    haproxyPromex: false,
    keepalivedVersion: [2, 1, 5],
    python: { path: '/usr/libexec/platform-python', version: [3, 6] },
    cloudInitVersion: [23, 4],
    cloudInitClean: CLEAN_24,
    checkedWith: {
      haproxy: ['bullseye'],
      keepalived: ['bullseye'],
      cloudInit: ['bookworm', 'trixie'],
      note: 'haproxy 1.8: checked with 2.2, the oldest available, so a rejection only 1.8 would make is not caught; cloud-init 23.4: with the versions on either side',
    },
  },
  rocky9: {
    id: 'rocky9',
    label: 'Rocky Linux 9',
    ...rhel,
    commands: [...rhel.commands, 'python3'],
    haproxyVersion: [2, 4],
    keepalivedVersion: [2, 2, 8],
    python: { path: '/usr/bin/python3', version: [3, 9] },
    cloudInitVersion: [24, 4],
    cloudInitClean: CLEAN_24,
    checkedWith: {
      haproxy: ['bullseye', 'bookworm'],
      keepalived: ['bookworm', 'trixie'],
      cloudInit: ['bookworm', 'trixie'],
      note: 'haproxy 2.4, keepalived 2.2.8, cloud-init 24.4: checked with the versions on either side',
    },
  },
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

/** keepalived's down_timer_adverts (a BACKUP's wait in adverts, RFC: 3) exists from 2.2.3 on. */
export const hasDownTimerAdverts = (os: OsFacts): boolean => keepalivedAtLeast(os, 2, 2, 3);

/** lb.yaml metrics work here: haproxy has its exporter and `http-request return` (2.2 and later). */
export function metricsSupported(os: OsFacts): boolean {
  return os.haproxyPromex && haproxyAtLeast(os, 2, 2);
}
