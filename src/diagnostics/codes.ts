import type { ErrorCode as YamlErrorCode } from 'yaml';

/**
 * Every diagnostic code lbbake reports, with its severity and a one-line summary: the one
 * catalogue. Diagnostic.code is typed `Code`, so a stage cannot report a code that is not here.
 * `YAML_<code>` codes come from the yaml library's parser (bad indentation, duplicate keys,
 * tabs …) and are listed as a family.
 */
export const CODES = {
  // ---- input file
  FILE_NOT_FOUND: { severity: 'error', stage: 'file', summary: 'lb.yaml (or a file: secret) does not exist' },
  NOT_A_FILE: { severity: 'error', stage: 'file', summary: 'the path is a directory, device or FIFO, not a regular file' },
  FILE_UNREADABLE: { severity: 'error', stage: 'file', summary: 'the file cannot be read (permissions)' },
  FILE_TOO_LARGE: { severity: 'error', stage: 'file', summary: 'the file is larger than lbbake ever needs (1 MiB)' },
  NOT_UTF8: { severity: 'error', stage: 'file', summary: 'the file is not UTF-8 text' },
  NOT_TEXT: { severity: 'error', stage: 'file', summary: 'the file holds binary data' },
  // ---- YAML
  YAML_TOO_DEEP: { severity: 'error', stage: 'yaml', summary: 'excessive nesting' },
  YAML_ALIAS_LIMIT: { severity: 'error', stage: 'yaml', summary: 'too many alias expansions (an alias bomb)' },
  // ---- schema
  UNKNOWN_KEY: { severity: 'error', stage: 'schema', summary: 'a key lb.yaml does not have (typos get a suggestion)' },
  MISSING_KEY: { severity: 'error', stage: 'schema', summary: 'a required key is absent' },
  WRONG_TYPE: { severity: 'error', stage: 'schema', summary: 'a value of the wrong type (a list where a mapping belongs …)' },
  BAD_VALUE: { severity: 'error', stage: 'schema', summary: 'a value outside the allowed choices' },
  BAD_IPV4: { severity: 'error', stage: 'schema', summary: 'not a dotted-quad IPv4 address' },
  BAD_PORT: { severity: 'error', stage: 'schema', summary: 'a port outside 1..65535' },
  OUT_OF_RANGE: { severity: 'error', stage: 'schema', summary: 'a number outside its range' },
  BAD_STRING: { severity: 'error', stage: 'schema', summary: 'a name or value with characters that would break the generated config syntax' },
  BAD_LENGTH: { severity: 'error', stage: 'schema', summary: 'a string that is too short or too long' },
  BAD_COUNT: { severity: 'error', stage: 'schema', summary: 'a list with too few or too many entries (e.g. fewer than 2 nodes)' },
  UNSUPPORTED_VERSION: { severity: 'error', stage: 'schema', summary: 'an lb.yaml version this lbbake does not know' },
  SCHEMA: { severity: 'error', stage: 'schema', summary: 'any other schema violation (the message names the constraint)' },
  // ---- secrets
  SECRET_INLINE: { severity: 'warning', stage: 'secrets', summary: 'a secret written in lb.yaml itself; use env:NAME or file:PATH' },
  SECRET_ENV_MISSING: { severity: 'error', stage: 'secrets', summary: 'an env: secret whose variable is not set' },
  SECRET_FILE_UNREADABLE: { severity: 'error', stage: 'secrets', summary: 'a file: secret that cannot be read, or is not a small regular file' },
  SECRET_REF_INVALID: { severity: 'error', stage: 'secrets', summary: 'an env: reference without a valid variable name, or a file: reference without a path' },
  SECRETS_FILE_MODE: { severity: 'warning', stage: 'secrets', summary: 'the secrets file beside lb.yaml is readable by other users' },
  HEALTH_CERT_INVALID: { severity: 'error', stage: 'secrets', summary: 'a health.clientCert file that is not a PEM certificate, or not an unencrypted PEM private key' },
  SECRETS_FILE_INVALID: { severity: 'error', stage: 'secrets', summary: 'the secrets file beside lb.yaml cannot be read or is not a YAML mapping' },
  // ---- semantic rules: errors
  DUPLICATE_NODE_NAME: { severity: 'error', stage: 'rules', summary: 'two nodes with one name' },
  DUPLICATE_NODE_ADDRESS: { severity: 'error', stage: 'rules', summary: 'two nodes with one address' },
  DUPLICATE_SERVICE_NAME: { severity: 'error', stage: 'rules', summary: 'two services with one name' },
  DUPLICATE_SERVER_NAME: { severity: 'error', stage: 'rules', summary: 'two servers of a service with one name' },
  DUPLICATE_PORT: { severity: 'error', stage: 'rules', summary: 'two services (or a service and the stats page) on one port' },
  RESERVED_NAME: { severity: 'error', stage: 'rules', summary: '`lbbake-stats`, `lbbake-metrics` and `lbbake-keepalived` are lbbake\'s own haproxy proxies' },
  VIP_CONFLICT: { severity: 'error', stage: 'rules', summary: 'the VIP is a node\'s or a server\'s own address' },
  PRIORITY_RANGE: { severity: 'error', stage: 'rules', summary: 'a priority outside 1..254' },
  PRIORITY_DUPLICATE: { severity: 'error', stage: 'rules', summary: 'two nodes with one priority' },
  AUTH_PASS_LENGTH: { severity: 'error', stage: 'rules', summary: 'an auth pass over 8 characters (keepalived ignores the rest)' },
  AUTH_PASS_CHARS: { severity: 'error', stage: 'rules', summary: 'an auth pass with characters keepalived.conf cannot carry' },
  AUTH_WITH_VRRP3: { severity: 'error', stage: 'rules', summary: 'authentication with VRRP version 3, which has none' },
  STATS_PASSWORD_CHARS: { severity: 'error', stage: 'rules', summary: 'a stats password that is not 1-128 printable ASCII characters' },
  ADVERT_INTERVAL: { severity: 'error', stage: 'rules', summary: 'whole seconds with VRRP 2; 0.01..40.95 with VRRP 3' },
  DOWN_TIMER_UNSUPPORTED: { severity: 'error', stage: 'rules', summary: 'vrrp.downTimerAdverts on a keepalived older than 2.2.3 (rocky8), which has no down_timer_adverts' },
  CHECK_WEIGHT_NO_FAILOVER: { severity: 'error', stage: 'rules', summary: 'a check weight with which a failed MASTER still outranks every healthy BACKUP' },
  MULTIPLE_MASTERS: { severity: 'error', stage: 'rules', summary: 'more than one node with state MASTER' },
  CHECK_PIDOF: { severity: 'error', stage: 'rules', summary: '`pidof` (also behind `env`) never works under keepalived on Debian 12' },
  CHECK_COMMAND_RELATIVE: { severity: 'error', stage: 'rules', summary: 'a check command that is not an absolute path' },
  CHECK_COMMAND_MISSING: { severity: 'error', stage: 'rules', summary: 'a check command in a system directory that the target OS does not have (keepalived disables the check)' },
  CHECK_WEIGHT_RANGE: { severity: 'error', stage: 'rules', summary: 'priorities so far apart that a weight lbbake derives falls outside keepalived\'s -253..253' },
  PRIORITY_CAP: { severity: 'error', stage: 'rules', summary: 'a priority plus positive weights (hold bonus, check weight) past keepalived\'s cap of 254' },
  VIP_ADDRESS: { severity: 'error', stage: 'rules', summary: 'a VIP of 0.0.0.0, loopback, multicast, broadcast, reserved, link-local, or its prefix\'s network/broadcast address' },
  VIP_OUTSIDE_SUBNET: { severity: 'error', stage: 'rules', summary: 'a node outside the subnet vip.prefix puts the VIP on' },
  NODE_ADDRESS: { severity: 'error', stage: 'rules', summary: 'a node address of 0.0.0.0, loopback, multicast, broadcast or reserved' },
  HEALTH_OPTION_TYPE: { severity: 'error', stage: 'rules', summary: 'health.expect without an http(s) check, or health.clientCert without https' },
  LB_NODE_IS_BACKEND: { severity: 'error', stage: 'rules', summary: 'an LB node that is also a server of a service on the port haproxy binds' },
  NO_BACKENDS: { severity: 'error', stage: 'rules', summary: 'a service with neither servers nor dns' },
  DNS_AND_SERVERS: { severity: 'error', stage: 'rules', summary: 'a service with both servers and dns' },
  DNS_MAX: { severity: 'error', stage: 'rules', summary: 'dns.max outside 1..64 server slots' },
  DNS_NAME: { severity: 'error', stage: 'rules', summary: 'dns.name is not a fully qualified DNS host name' },
  METRICS_UNSUPPORTED: { severity: 'error', stage: 'rules', summary: 'metrics on a target whose haproxy has no Prometheus exporter (rocky8: haproxy 1.8)' },
  CLOUD_VIP_OS: { severity: 'error', stage: 'rules', summary: 'vip.cloud aws/gce on a target OS where lbbake-vip cannot work (SELinux-confined keepalived scripts on Rocky, too old python or keepalived)' },
  DNS_NAMESERVERS_REQUIRED: { severity: 'error', stage: 'rules', summary: 'haproxy before 1.9 (rocky8) cannot read /etc/resolv.conf: dns.nameservers must be listed' },
  // ---- semantic rules: warnings
  ROUTER_ID_DEFAULT: { severity: 'warning', stage: 'rules', summary: 'routerId 51, the value every copied guide uses' },
  MULTICAST: { severity: 'warning', stage: 'rules', summary: 'multicast VRRP, which clouds drop' },
  HEALTH_CERT_ACCEPTS_401: { severity: 'warning', stage: 'rules', summary: 'health.clientCert with 401/403 in health.expect: a rejected certificate would still count as alive' },
  VIP_FAR_FROM_NODES: { severity: 'warning', stage: 'rules', summary: 'a VIP (prefix 32) not even in the /16 of any node, so likely outside their subnet' },
  CHECK_SLOW: { severity: 'warning', stage: 'rules', summary: 'haproxy death takes over 10 s to fail over' },
  CHECK_WEIGHT_SLOW: { severity: 'warning', stage: 'rules', summary: 'a negative weight: failover waits for the BACKUP\'s Master_Down timer' },
  CHECK_WEIGHT_FRAGILE: { severity: 'warning', stage: 'rules', summary: 'a negative weight that drops a failed MASTER below only some BACKUPs' },
  STATS_ALL_ADDRESSES: { severity: 'warning', stage: 'rules', summary: 'the stats page listens on every address, the VIP included' },
  METRICS_ALL_ADDRESSES: { severity: 'warning', stage: 'rules', summary: 'the metrics endpoint listens on every address, the VIP included' },
  TIMEOUT_SHORT: { severity: 'warning', stage: 'rules', summary: 'an idle-stream timeout that cuts kubectl logs -f and watches' },
  // ---- output
  USERDATA_TOO_LARGE: { severity: 'error', stage: 'output', summary: 'user-data over the chosen cloud\'s size limit' },
} as const satisfies Record<string, { severity: 'error' | 'warning'; stage: Stage; summary: string }>;

export type Stage = 'file' | 'yaml' | 'schema' | 'secrets' | 'rules' | 'output';

/** A code of the catalogue, or one of the yaml parser's codes as `YAML_<code>`. */
export type Code = keyof typeof CODES | `YAML_${YamlErrorCode}`;

/** True when `code` is a catalogue code or a yaml parser code. */
export function isKnownCode(code: string): code is Code {
  return Object.hasOwn(CODES, code) || /^YAML_[A-Z0-9_]+$/.test(code);
}

const STAGE_LABEL: Record<Stage, string> = {
  file: 'reading the file',
  yaml: 'YAML',
  schema: 'schema',
  secrets: 'secrets',
  rules: 'semantic rules',
  output: 'output',
};

/** The README's list of codes (between the codes markers), generated from CODES. */
export function codesTable(): string {
  const lines = ['| code | severity | stage | meaning |', '|---|---|---|---|'];
  for (const [code, c] of Object.entries(CODES) as Array<[keyof typeof CODES, (typeof CODES)[keyof typeof CODES]]>) {
    lines.push(`| \`${code}\` | ${c.severity} | ${STAGE_LABEL[c.stage]} | ${c.summary.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}

export const CODES_BEGIN = '<!-- codes:begin (generated from src/diagnostics/codes.ts by npm run gen:docs) -->';
export const CODES_END = '<!-- codes:end -->';
