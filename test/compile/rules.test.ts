/**
 * Table tests of invalid (and warned) inputs: each row is a small edit of a valid base file and
 * the diagnostic it must produce — code, JSON pointer and line. Every rule has a failing row
 * here and passes on the valid base.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { RULES } from '../../src/compile/rules.js';
import { metricsSupported, OS_FACTS, OS_IDS } from '../../src/facts/os.js';
import { DUMMY_CLIENT_PEM } from '../../src/render/secret-template.js';

const BASE = `version: 1
name: demo
vip:
  address: 10.0.0.100
vrrp:
  routerId: 7
nodes:
  - name: lb-0
    address: 10.0.0.11
  - name: lb-1
    address: 10.0.0.12
services:
  - name: api
    port: 6443
    servers:
      - name: m0
        address: 10.0.0.21
      - name: m1
        address: 10.0.0.22
`;

/** BASE with the first service's servers replaced by `dns: <flow>`. */
function dnsEdit(flow: string): string {
  return edit('    servers:\n      - name: m0\n        address: 10.0.0.21\n      - name: m1\n        address: 10.0.0.22\n', `    dns: ${flow}\n`);
}

/** Replaces `from` (which must occur in BASE) with `to`. */
function edit(from: string, to: string): string {
  if (!BASE.includes(from)) throw new Error(`edit anchor not found: ${from}`);
  return BASE.replace(from, to);
}

interface Row {
  name: string;
  yaml: string;
  code: string;
  path: string;
  line: number;
  severity?: 'error' | 'warning';
  /** Environment for env: secret references. */
  env?: Record<string, string>;
  /** Files for file: references (absent: ENOENT). */
  files?: Record<string, string>;
}

const PEM_CERT = DUMMY_CLIENT_PEM.slice(0, DUMMY_CLIENT_PEM.indexOf('-----BEGIN PRIVATE KEY'));
const PEM_KEY = DUMMY_CLIENT_PEM.slice(DUMMY_CLIENT_PEM.indexOf('-----BEGIN PRIVATE KEY'));
const PEMS = { 'c.pem': PEM_CERT, 'k.pem': PEM_KEY };
/** BASE with the service's health set to `flow`. */
const healthEdit = (flow: string) => edit('    port: 6443\n', `    port: 6443\n    health: ${flow}\n`);
const CERT_REF = 'clientCert: { cert: file:c.pem, key: file:k.pem }';

const ROWS: Row[] = [
  // --- YAML syntax ---
  { name: 'duplicate key', yaml: edit('  routerId: 7\n', '  routerId: 7\n  routerId: 8\n'), code: 'YAML_DUPLICATE_KEY', path: '/vrrp/routerId', line: 7 },
  { name: 'tab indentation', yaml: edit('  routerId: 7', '\trouterId: 7'), code: 'YAML_TAB_AS_INDENT', path: '', line: 6 },
  { name: 'bad indentation', yaml: edit('    address: 10.0.0.12', '  address: 10.0.0.12'), code: 'YAML_BAD_INDENT', path: '', line: 11 },
  { name: 'empty file', yaml: '', code: 'WRONG_TYPE', path: '', line: 1 },
  { name: 'not a mapping', yaml: '- a\n- b\n', code: 'WRONG_TYPE', path: '', line: 1 },
  { name: 'alias bomb', yaml: `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`, code: 'YAML_ALIAS_LIMIT', path: '', line: 1 },
  { name: 'deep nesting', yaml: 'a: ' + '['.repeat(60) + ']'.repeat(60) + '\n', code: 'YAML_TOO_DEEP', path: '', line: 1 },
  // --- schema ---
  { name: 'unknown version', yaml: edit('version: 1', 'version: 2'), code: 'UNSUPPORTED_VERSION', path: '/version', line: 1 },
  { name: 'unknown key', yaml: edit('  routerId: 7', '  routerId: 7\n  advert_int: 1'), code: 'UNKNOWN_KEY', path: '/vrrp/advert_int', line: 7 },
  { name: 'missing required key', yaml: edit('vrrp:\n  routerId: 7\n', 'vrrp: {}\n'), code: 'MISSING_KEY', path: '/vrrp', line: 5 },
  { name: 'wrong type', yaml: edit('  routerId: 7', '  routerId: seven'), code: 'WRONG_TYPE', path: '/vrrp/routerId', line: 6 },
  { name: 'routerId out of range', yaml: edit('  routerId: 7', '  routerId: 256'), code: 'OUT_OF_RANGE', path: '/vrrp/routerId', line: 6 },
  { name: 'bad IPv4', yaml: edit('  address: 10.0.0.100', '  address: 10.0.0.300'), code: 'BAD_IPV4', path: '/vip/address', line: 4 },
  { name: 'port out of range', yaml: edit('    port: 6443', '    port: 70000'), code: 'BAD_PORT', path: '/services/0/port', line: 14 },
  { name: 'name with whitespace', yaml: edit('  - name: api', '  - name: "my api"'), code: 'BAD_STRING', path: '/services/0/name', line: 13 },
  { name: 'name with brace', yaml: edit('      - name: m0', '      - name: "m0}"'), code: 'BAD_STRING', path: '/services/0/servers/0/name', line: 16 },
  { name: 'name with #', yaml: edit('      - name: m0', '      - name: "m#0"'), code: 'BAD_STRING', path: '/services/0/servers/0/name', line: 16 },
  { name: 'name with control char', yaml: edit('      - name: m0', '      - name: "m\\u00070"'), code: 'BAD_STRING', path: '/services/0/servers/0/name', line: 16 },
  { name: 'interface with quote', yaml: edit('  address: 10.0.0.100', '  address: 10.0.0.100\n  interface: "eth0\\""'), code: 'BAD_STRING', path: '/vip/interface', line: 5 },
  { name: 'cluster name uppercase', yaml: edit('name: demo', 'name: Demo'), code: 'BAD_STRING', path: '/name', line: 2 },
  { name: 'one node only', yaml: edit('  - name: lb-1\n    address: 10.0.0.12\n', ''), code: 'BAD_COUNT', path: '/nodes', line: 8 },
  // --- semantic rules ---
  { name: 'duplicate node name', yaml: edit('  - name: lb-1', '  - name: lb-0'), code: 'DUPLICATE_NODE_NAME', path: '/nodes/1/name', line: 10 },
  { name: 'duplicate node address', yaml: edit('    address: 10.0.0.12', '    address: 10.0.0.11'), code: 'DUPLICATE_NODE_ADDRESS', path: '/nodes/1/address', line: 11 },
  { name: 'duplicate server name', yaml: edit('      - name: m1', '      - name: m0'), code: 'DUPLICATE_SERVER_NAME', path: '/services/0/servers/1/name', line: 18 },
  { name: 'duplicate service name', yaml: BASE + '  - name: api\n    port: 8443\n    servers:\n      - { name: x, address: 10.0.0.30 }\n', code: 'DUPLICATE_SERVICE_NAME', path: '/services/1/name', line: 20 },
  { name: 'duplicate service port', yaml: BASE + '  - name: api2\n    port: 6443\n    servers:\n      - { name: x, address: 10.0.0.30 }\n', code: 'DUPLICATE_PORT', path: '/services/1/port', line: 21 },
  { name: 'stats port clashes with a service', yaml: BASE + 'stats: { port: 6443 }\n', code: 'DUPLICATE_PORT', path: '/services/0/port', line: 14 },
  { name: 'stats proxy name reserved', yaml: edit('  - name: api', '  - name: lbbake-stats'), code: 'RESERVED_NAME', path: '/services/0/name', line: 13 },
  { name: 'metrics frontend name reserved', yaml: edit('  - name: api', '  - name: lbbake-metrics'), code: 'RESERVED_NAME', path: '/services/0/name', line: 13 },
  { name: 'metrics table name reserved', yaml: edit('  - name: api', '  - name: lbbake-keepalived'), code: 'RESERVED_NAME', path: '/services/0/name', line: 13 },
  { name: 'metrics port clashes with a service', yaml: BASE + 'metrics: { port: 6443 }\n', code: 'DUPLICATE_PORT', path: '/services/0/port', line: 14 },
  { name: 'metrics port clashes with the stats page', yaml: BASE + 'metrics: { port: 1080 }\n', code: 'DUPLICATE_PORT', path: '/metrics/port', line: 20 },
  { name: 'metrics bind not an address', yaml: BASE + 'metrics: { bind: localhost }\n', code: 'BAD_STRING', path: '/metrics/bind', line: 20 },
  { name: 'metrics on rocky8 (haproxy 1.8)', yaml: edit('name: demo', 'name: demo\ntarget: { os: rocky8 }') + 'metrics: {}\n', code: 'METRICS_UNSUPPORTED', path: '/metrics', line: 21 },
  { name: 'VIP equals a node address', yaml: edit('    address: 10.0.0.12', '    address: 10.0.0.100'), code: 'VIP_CONFLICT', path: '/nodes/1/address', line: 11 },
  { name: 'VIP equals a server address', yaml: edit('        address: 10.0.0.22', '        address: 10.0.0.100'), code: 'VIP_CONFLICT', path: '/services/0/servers/1/address', line: 19 },
  { name: 'priority above 254', yaml: edit('    address: 10.0.0.11', '    address: 10.0.0.11\n    priority: 255'), code: 'PRIORITY_RANGE', path: '/nodes/0/priority', line: 10 },
  { name: 'priority 0', yaml: edit('    address: 10.0.0.11', '    address: 10.0.0.11\n    priority: 0'), code: 'PRIORITY_RANGE', path: '/nodes/0/priority', line: 10 },
  { name: 'duplicate priority', yaml: edit('    address: 10.0.0.12', '    address: 10.0.0.12\n    priority: 250'), code: 'PRIORITY_DUPLICATE', path: '/nodes/1/priority', line: 12 },
  { name: 'auth pass longer than 8', yaml: edit('  routerId: 7', '  routerId: 7\n  auth: { pass: "123456789" }'), code: 'AUTH_PASS_LENGTH', path: '/vrrp/auth/pass', line: 7 },
  { name: 'auth pass with a quote', yaml: edit('  routerId: 7', '  routerId: 7\n  auth: { pass: "ab\\"c" }'), code: 'BAD_STRING', path: '/vrrp/auth/pass', line: 7 },
  { name: 'auth with VRRP 3', yaml: edit('  routerId: 7', '  routerId: 7\n  version: 3\n  auth: { pass: "abc" }'), code: 'AUTH_WITH_VRRP3', path: '/vrrp/auth', line: 8 },
  { name: 'fractional advert with VRRP 2', yaml: edit('  routerId: 7', '  routerId: 7\n  version: 2\n  advertInterval: 0.5'), code: 'ADVERT_INTERVAL', path: '/vrrp/advertInterval', line: 8 },
  { name: 'fractional advert with auth (which means VRRP 2)', yaml: edit('  routerId: 7', '  routerId: 7\n  auth: { pass: "abc" }\n  advertInterval: 0.5'), code: 'ADVERT_INTERVAL', path: '/vrrp/advertInterval', line: 8 },
  { name: 'downTimerAdverts on rocky8 (keepalived 2.1.5)', yaml: edit('  routerId: 7', '  routerId: 7\n  downTimerAdverts: 5').replace('name: demo', 'name: demo\ntarget: { os: rocky8 }'), code: 'DOWN_TIMER_UNSUPPORTED', path: '/vrrp/downTimerAdverts', line: 8 },
  { name: 'advert too fine for VRRP 3', yaml: edit('  routerId: 7', '  routerId: 7\n  version: 3\n  advertInterval: 0.005'), code: 'ADVERT_INTERVAL', path: '/vrrp/advertInterval', line: 8 },
  { name: 'weight that never fails over', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { weight: -1 }\n  readiness: { enabled: false }'), code: 'CHECK_WEIGHT_NO_FAILOVER', path: '/vrrp/check/weight', line: 7 },
  { name: 'positive weight that never fails over', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { weight: 1 }\n  readiness: { enabled: false }'), code: 'CHECK_WEIGHT_NO_FAILOVER', path: '/vrrp/check/weight', line: 7 },
  { name: 'weight -2 that the hold bonus cancels (no readiness)', yaml: edit('  routerId: 7', '  routerId: 7\n  preempt: false\n  check: { weight: -2 }\n  readiness: { enabled: false }'), code: 'CHECK_WEIGHT_NO_FAILOVER', path: '/vrrp/check/weight', line: 8 },
  { name: 'priorities too far apart for the derived weights', yaml: edit('    address: 10.0.0.12', '    address: 10.0.0.12\n    priority: 100').replace('    address: 10.0.0.11', '    address: 10.0.0.11\n    priority: 250'), code: 'CHECK_WEIGHT_RANGE', path: '/nodes/1/priority', line: 13 },
  { name: 'hold bonus past the 254 cap', yaml: edit('    address: 10.0.0.11', '    address: 10.0.0.11\n    priority: 254'), code: 'PRIORITY_CAP', path: '/nodes/0/priority', line: 10 },
  { name: 'positive check weight past the 254 cap', yaml: edit('  routerId: 7', '  routerId: 7\n  preempt: true\n  check: { weight: 10 }'), code: 'PRIORITY_CAP', path: '/nodes/0', line: 10 },
  { name: 'relative check command', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { command: "pgrep -x haproxy" }'), code: 'CHECK_COMMAND_RELATIVE', path: '/vrrp/check/command', line: 7 },
  { name: 'check command the node lacks', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { command: "/usr/bin/killall -0 haproxy" }'), code: 'CHECK_COMMAND_MISSING', path: '/vrrp/check/command', line: 7 },
  { name: 'check command through env the node lacks', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { command: "/usr/bin/env LC_ALL=C /usr/sbin/nc -z 127.0.0.1 6443" }'), code: 'CHECK_COMMAND_MISSING', path: '/vrrp/check/command', line: 7 },
  { name: 'relative command behind env', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { command: "/usr/bin/env pgrep haproxy" }'), code: 'CHECK_COMMAND_RELATIVE', path: '/vrrp/check/command', line: 7 },
  { name: 'VIP 0.0.0.0', yaml: edit('  address: 10.0.0.100', '  address: 0.0.0.0'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'VIP on loopback', yaml: edit('  address: 10.0.0.100', '  address: 127.0.0.100'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'VIP multicast', yaml: edit('  address: 10.0.0.100', '  address: 224.0.0.18'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'VIP broadcast', yaml: edit('  address: 10.0.0.100', '  address: 255.255.255.255'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'VIP link-local', yaml: edit('  address: 10.0.0.100', '  address: 169.254.169.254'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'VIP the network address of its prefix', yaml: edit('  address: 10.0.0.100', '  address: 10.0.0.0\n  prefix: 24'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'VIP the broadcast address of its prefix', yaml: edit('  address: 10.0.0.100', '  address: 10.0.0.255\n  prefix: 24'), code: 'VIP_ADDRESS', path: '/vip/address', line: 4 },
  { name: 'node outside the VIP subnet', yaml: edit('  address: 10.0.0.100', '  address: 10.0.0.100\n  prefix: 24').replace('    address: 10.0.0.12', '    address: 10.0.1.12'), code: 'VIP_OUTSIDE_SUBNET', path: '/nodes/1/address', line: 12 },
  { name: 'node address 0.0.0.0', yaml: edit('    address: 10.0.0.11', '    address: 0.0.0.0'), code: 'NODE_ADDRESS', path: '/nodes/0/address', line: 9 },
  { name: 'node address on loopback', yaml: edit('    address: 10.0.0.12', '    address: 127.0.1.1'), code: 'NODE_ADDRESS', path: '/nodes/1/address', line: 11 },
  { name: 'LB node also a backend on the service port', yaml: edit('        address: 10.0.0.21', '        address: 10.0.0.11'), code: 'LB_NODE_IS_BACKEND', path: '/services/0/servers/0/address', line: 17 },
  { name: 'readiness port taken by the stats page', yaml: BASE + 'stats: { port: 1081 }\n', code: 'DUPLICATE_PORT', path: '/stats/port', line: 20 },
  { name: 'env pidof', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { command: "/usr/bin/env pidof haproxy" }'), code: 'CHECK_PIDOF', path: '/vrrp/check/command', line: 7 },
  { name: 'two MASTER states', yaml: edit('    address: 10.0.0.11', '    address: 10.0.0.11\n    state: MASTER').replace('    address: 10.0.0.12', '    address: 10.0.0.12\n    state: MASTER'), code: 'MULTIPLE_MASTERS', path: '/nodes/1/state', line: 13 },
  { name: 'pidof check', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { command: "pidof haproxy" }'), code: 'CHECK_PIDOF', path: '/vrrp/check/command', line: 7 },
  { name: 'auth pass from env with a space', yaml: edit('  routerId: 7', '  routerId: 7\n  auth: { pass: "env:VRRP" }'), env: { VRRP: 'a b' }, code: 'AUTH_PASS_CHARS', path: '/vrrp/auth/pass', line: 7 },
  { name: 'stats password from env with a newline', yaml: BASE + 'stats: { password: "env:PW" }\n', env: { PW: 'a\nb' }, code: 'STATS_PASSWORD_CHARS', path: '/stats/password', line: 20 },
  { name: 'secret from an unset env var', yaml: edit('  routerId: 7', '  routerId: 7\n  auth: { pass: "env:LBBAKE_TEST_UNSET_VAR" }'), code: 'SECRET_ENV_MISSING', path: '/vrrp/auth/pass', line: 7 },
  // --- services[].health: hardened apiservers ---
  { name: 'client certificate not a PEM', yaml: healthEdit(`{ ${CERT_REF} }`), files: { ...PEMS, 'c.pem': 'not a certificate\n' }, code: 'HEALTH_CERT_INVALID', path: '/services/0/health/clientCert/cert', line: 15 },
  { name: 'client key encrypted', yaml: healthEdit(`{ ${CERT_REF} }`), files: { ...PEMS, 'k.pem': '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n' }, code: 'HEALTH_CERT_INVALID', path: '/services/0/health/clientCert/key', line: 15 },
  { name: 'client key file missing', yaml: healthEdit(`{ ${CERT_REF} }`), files: { 'c.pem': PEM_CERT }, code: 'SECRET_FILE_UNREADABLE', path: '/services/0/health/clientCert/key', line: 15 },
  { name: 'client certificate inline, not file:', yaml: healthEdit('{ clientCert: { cert: "-----BEGIN", key: file:k.pem } }'), code: 'BAD_STRING', path: '/services/0/health/clientCert/cert', line: 15 },
  { name: 'expect on a tcp check', yaml: healthEdit('{ type: tcp, expect: [200, 401] }'), code: 'HEALTH_OPTION_TYPE', path: '/services/0/health/expect', line: 15 },
  { name: 'client certificate on an http check', yaml: healthEdit(`{ type: http, ${CERT_REF} }`), files: PEMS, code: 'HEALTH_OPTION_TYPE', path: '/services/0/health/clientCert', line: 15 },
  { name: 'expect status out of range', yaml: healthEdit('{ expect: [99] }'), code: 'OUT_OF_RANGE', path: '/services/0/health/expect/0', line: 15 },
  // --- services[].dns ---
  { name: 'both servers and dns', yaml: edit('    servers:\n', '    dns: { name: api.k8s.internal }\n    servers:\n'), code: 'DNS_AND_SERVERS', path: '/services/0/dns', line: 15 },
  { name: 'neither servers nor dns', yaml: BASE + '  - name: api2\n    port: 8443\n', code: 'NO_BACKENDS', path: '/services/1', line: 20 },
  { name: 'dns.max 0', yaml: dnsEdit('{ name: api.k8s.internal, max: 0 }'), code: 'DNS_MAX', path: '/services/0/dns/max', line: 15 },
  { name: 'dns.max 65', yaml: dnsEdit('{ name: api.k8s.internal, max: 65 }'), code: 'DNS_MAX', path: '/services/0/dns/max', line: 15 },
  { name: 'dns.name of one label', yaml: dnsEdit('{ name: api }'), code: 'DNS_NAME', path: '/services/0/dns/name', line: 15 },
  { name: 'dns.name an address', yaml: dnsEdit('{ name: 10.0.0.21 }'), code: 'DNS_NAME', path: '/services/0/dns/name', line: 15 },
  { name: 'dns.name with a hyphen at a label end', yaml: dnsEdit('{ name: api-.k8s.internal }'), code: 'DNS_NAME', path: '/services/0/dns/name', line: 15 },
  { name: 'dns.name with two dots', yaml: dnsEdit('{ name: api..internal }'), code: 'DNS_NAME', path: '/services/0/dns/name', line: 15 },
  { name: 'dns.name an SRV label', yaml: dnsEdit('{ name: _api._tcp.k8s.internal }'), code: 'DNS_NAME', path: '/services/0/dns/name', line: 15 },
  { name: 'dns.name with a space', yaml: dnsEdit('{ name: "api k8s.internal" }'), code: 'BAD_STRING', path: '/services/0/dns/name', line: 15 },
  { name: 'dns.nameservers not an address', yaml: dnsEdit('{ name: api.k8s.internal, nameservers: [dns1] }'), code: 'BAD_IPV4', path: '/services/0/dns/nameservers/0', line: 15 },
  { name: 'vip.cloud aws on Rocky (SELinux confines keepalived\'s notify scripts)', yaml: edit('  address: 10.0.0.100\n', '  address: 10.0.0.100\n  cloud: { provider: aws, mode: secondary-ip }\n').replace('name: demo', 'name: demo\ntarget: { os: rocky9 }'), code: 'CLOUD_VIP_OS', path: '/vip/cloud/provider', line: 6 },
  { name: 'azure probe port clashes with a service', yaml: edit('  address: 10.0.0.100\n', '  address: 10.0.0.100\n  cloud: { provider: azure, probePort: 6443 }\n'), code: 'DUPLICATE_PORT', path: '/vip/cloud/probePort', line: 5 },
  { name: 'dns without nameservers on rocky8 (haproxy 1.8)', yaml: dnsEdit('{ name: api.k8s.internal }').replace('name: demo', 'name: demo\ntarget: { os: rocky8 }'), code: 'DNS_NAMESERVERS_REQUIRED', path: '/services/0/dns', line: 16 },
  // --- warnings ---
  { name: 'routerId 51', yaml: edit('  routerId: 7', '  routerId: 51'), code: 'ROUTER_ID_DEFAULT', path: '/vrrp/routerId', line: 6, severity: 'warning' },
  { name: 'multicast', yaml: edit('  routerId: 7', '  routerId: 7\n  mode: multicast'), code: 'MULTICAST', path: '/vrrp/mode', line: 7, severity: 'warning' },
  { name: 'client certificate and 401 accepted', yaml: healthEdit(`{ expect: [200, 401], ${CERT_REF} }`), files: PEMS, code: 'HEALTH_CERT_ACCEPTS_401', path: '/services/0/health/expect', line: 15, severity: 'warning' },
  { name: 'VIP far from every node', yaml: edit('  address: 10.0.0.100', '  address: 192.168.0.100'), code: 'VIP_FAR_FROM_NODES', path: '/vip/address', line: 4, severity: 'warning' },
  { name: 'slow check', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { interval: 3, fall: 10 }'), code: 'CHECK_SLOW', path: '/vrrp/check', line: 7, severity: 'warning' },
  { name: 'weight -2 (the guide)', yaml: edit('  routerId: 7', '  routerId: 7\n  check: { weight: -2 }'), code: 'CHECK_WEIGHT_SLOW', path: '/vrrp/check/weight', line: 7, severity: 'warning' },
  { name: 'stats on all addresses', yaml: BASE + 'stats: { bind: 0.0.0.0 }\n', code: 'STATS_ALL_ADDRESSES', path: '/stats/bind', line: 20, severity: 'warning' },
  { name: 'metrics on all addresses', yaml: BASE + 'metrics: { bind: 0.0.0.0 }\n', code: 'METRICS_ALL_ADDRESSES', path: '/metrics/bind', line: 20, severity: 'warning' },
  { name: 'short tunnel timeout', yaml: edit('    port: 6443', '    port: 6443\n    timeouts: { tunnel: 60 }'), code: 'TIMEOUT_SHORT', path: '/services/0/timeouts/tunnel', line: 15, severity: 'warning' },
  { name: 'inline secret', yaml: BASE + 'stats: { password: hunter2hunter2 }\n', code: 'SECRET_INLINE', path: '/stats/password', line: 20, severity: 'warning' },
];

describe('diagnostics for invalid input', () => {
  it('the base file is valid with no diagnostics', () => {
    const res = compile(BASE);
    expect(res.diagnostics).toEqual([]);
    expect(res.model).toBeDefined();
  });

  for (const row of ROWS) {
    it(`${row.name} → ${row.code} at ${row.path || '/'} line ${row.line}`, () => {
      const readFile = (p: string) => {
        const v = row.files?.[p];
        if (v === undefined) throw Object.assign(new Error(p), { code: 'ENOENT', reason: 'no such file' });
        return v;
      };
      const res = compile(row.yaml, row.env || row.files ? { env: row.env ?? {}, readFile, stored: {}, storeName: 's.yaml' } : undefined);
      const hit = res.diagnostics.find((d) => d.code === row.code && d.path === row.path);
      expect(hit, JSON.stringify(res.diagnostics, null, 1)).toBeDefined();
      expect(hit!.line).toBe(row.line);
      expect(hit!.col).toBeGreaterThanOrEqual(1);
      expect(hit!.severity).toBe(row.severity ?? 'error');
      expect(hit!.message.length).toBeGreaterThan(20);
      if ((row.severity ?? 'error') === 'error') expect(res.model).toBeUndefined();
      else expect(res.model).toBeDefined();
    });
  }

  it('every semantic rule has a row that triggers it', () => {
    // map rule functions to the codes they emit by running each rule alone on every row
    const covered = new Set(ROWS.map((r) => r.code));
    const ruleCodes: Record<string, string[]> = {
      uniqueNodeNames: ['DUPLICATE_NODE_NAME'], uniqueNodeAddresses: ['DUPLICATE_NODE_ADDRESS'],
      uniqueServiceNames: ['DUPLICATE_SERVICE_NAME'], uniquePorts: ['DUPLICATE_PORT'], uniqueServerNames: ['DUPLICATE_SERVER_NAME'],
      reservedServiceName: ['RESERVED_NAME'], vipNotInUse: ['VIP_CONFLICT'], priorityRange: ['PRIORITY_RANGE'],
      uniquePriorities: ['PRIORITY_DUPLICATE'], authPassLength: ['AUTH_PASS_LENGTH'], secretCharacters: ['AUTH_PASS_CHARS', 'STATS_PASSWORD_CHARS'],
      authNeedsVrrp2: ['AUTH_WITH_VRRP3'], advertInterval: ['ADVERT_INTERVAL'], downTimerSupported: ['DOWN_TIMER_UNSUPPORTED'], checkWeightFailsOver: ['CHECK_WEIGHT_NO_FAILOVER', 'CHECK_WEIGHT_SLOW', 'CHECK_WEIGHT_FRAGILE'],
      singleMaster: ['MULTIPLE_MASTERS'], checkCommand: ['CHECK_PIDOF', 'CHECK_COMMAND_RELATIVE', 'CHECK_COMMAND_MISSING'],
      weightRange: ['CHECK_WEIGHT_RANGE', 'PRIORITY_CAP'], vipAddress: ['VIP_ADDRESS', 'VIP_OUTSIDE_SUBNET', 'VIP_FAR_FROM_NODES'],
      nodeAddress: ['NODE_ADDRESS'], lbNodeIsBackend: ['LB_NODE_IS_BACKEND'], healthOptions: ['HEALTH_OPTION_TYPE', 'HEALTH_CERT_ACCEPTS_401'],
      routerIdDefault: ['ROUTER_ID_DEFAULT'], multicast: ['MULTICAST'], checkSpeed: ['CHECK_SLOW'], statsExposure: ['STATS_ALL_ADDRESSES'],
      metricsSupported: ['METRICS_UNSUPPORTED'], metricsExposure: ['METRICS_ALL_ADDRESSES'],
      longLivedStreams: ['TIMEOUT_SHORT'],
      backendsGiven: ['DNS_AND_SERVERS', 'NO_BACKENDS'], dnsMax: ['DNS_MAX'], dnsName: ['DNS_NAME'], dnsNameservers: ['DNS_NAMESERVERS_REQUIRED'],
      cloudVipOs: ['CLOUD_VIP_OS'],
    };
    expect(Object.keys(RULES).sort()).toEqual(Object.keys(ruleCodes).sort());
    for (const [rule, codes] of Object.entries(ruleCodes)) {
      expect(codes.some((c) => covered.has(c)), `rule ${rule} has a failing row`).toBe(true);
    }
  });

  it('dns backends: valid forms pass (nameservers listed on rocky8; a name of many labels)', () => {
    for (const yaml of [
      dnsEdit('{ name: api.k8s.internal }'),
      dnsEdit('{ name: k8s-api.eu-west-1.example.com, port: 443, max: 64, nameservers: [10.0.0.2] }'),
      dnsEdit('{ name: api.k8s.internal, max: 1, nameservers: [10.0.0.2, 10.0.0.3] }').replace('name: demo', 'name: demo\ntarget: { os: rocky8 }'),
    ]) {
      const res = compile(yaml);
      expect(res.diagnostics, yaml).toEqual([]);
      expect(res.model!.services[0].dns).toBeDefined();
      expect(res.model!.services[0].servers).toEqual([]);
    }
  });

  it('metrics: off without the key; on with its defaults (127.0.0.1:8405) on every target but rocky8', () => {
    expect(compile(BASE).model!.metrics).toEqual({ enabled: false });
    expect(OS_IDS.filter((os) => !metricsSupported(OS_FACTS[os]))).toEqual(['rocky8']);
    for (const os of OS_IDS.filter((id) => id !== 'rocky8')) {
      const res = compile(edit('name: demo', `name: demo\ntarget: { os: ${os} }`) + 'metrics: {}\n');
      expect(res.diagnostics, os).toEqual([]);
      expect(res.model!.metrics).toEqual({ enabled: true, port: 8405, bind: '127.0.0.1' });
    }
    const res = compile(BASE + 'metrics: { port: 9101, bind: node }\n');
    expect(res.diagnostics).toEqual([]);
    expect(res.model!.metrics).toEqual({ enabled: true, port: 9101, bind: 'node' });
  });

  describe('messages a user can act on (issue 18: "Messages that do not help")', () => {
    const msg = (yaml: string) => compile(yaml).diagnostics.map((d) => `${d.code} ${d.path}: ${d.message}`).join('\n');
    it('a duplicate key is named, at its own pointer (was: reported at / without the key)', () => {
      expect(msg(edit('  address: 10.0.0.100\n', '  address: 10.0.0.100\n  address: 10.0.0.101\n'))).toMatch(/^YAML_DUPLICATE_KEY \/vip\/address: the key "address" appears twice in this mapping; remove or rename one/);
    });
    it('several documents: lbbake words, no library advice (was: "please use YAML.parseAllDocuments()")', () => {
      const m = msg(`${BASE}---\nname: other\n`);
      expect(m).toMatch(/YAML_MULTIPLE_DOCS : lb\.yaml holds more than one YAML document \(a line --- starts another one\)/);
      expect(m).not.toMatch(/parseAllDocuments|YAML\./);
    });
    it('.inf is called .inf (was: "the fraction null")', () => {
      const m = msg(edit('  routerId: 7', '  routerId: 7\n  advertInterval: .inf'));
      expect(m).toMatch(/WRONG_TYPE \/vrrp\/advertInterval: advertInterval must be a number, not the infinite number \.inf/);
      expect(m).not.toContain('null');
      expect(msg(edit('  routerId: 7', '  routerId: .nan'))).toMatch(/\/vrrp\/routerId: .*\.nan/);
    });
    it('a 100 KB value is cut in the message, with its length (was: echoed in full)', () => {
      const m = msg(BASE.replace('name: demo', `name: ${'a'.repeat(100_000)}`));
      expect(m).toMatch(/BAD_STRING \/name: "a{60}"… \(100000 characters\) cannot be used for name/);
      expect(m.length).toBeLessThan(1000);
      const key = msg(`${BASE}${'k'.repeat(1000)}: 1\n`);
      expect(key).toMatch(/UNKNOWN_KEY .*\(1000 characters\)/);
      expect(key.length).toBeLessThan(2000);
    });
    it('YAML merge keys are expanded, not reported as an unknown key "<<"', () => {
      const yaml = BASE.replace('  - name: lb-0\n    address: 10.0.0.11\n', '  - &n0 { name: lb-0, address: 10.0.0.11 }\n').replace('  - name: lb-1\n    address: 10.0.0.12\n', '  - { <<: *n0, name: lb-1, address: 10.0.0.12 }\n');
      const res = compile(yaml);
      expect(res.diagnostics).toEqual([]);
      expect(res.model!.nodes.map((n) => n.name)).toEqual(['lb-0', 'lb-1']);
      expect(msg(`${BASE}extra: { <<: { a: 1 } }\n`)).not.toContain('"<<"');
    });
  });

  it('reports every problem of a stage in one run', () => {
    const yaml = edit('  routerId: 7', '  routerId: 300\n  mode: broadcast').replace('    port: 6443', '    port: 0').replace('  address: 10.0.0.100', '  address: 1.2.3');
    const codes = compile(yaml).diagnostics.map((d) => d.code).sort();
    expect(codes).toEqual(['BAD_IPV4', 'BAD_PORT', 'BAD_VALUE', 'OUT_OF_RANGE']);
  });

  it('never echoes a secret in a diagnostic', () => {
    const secret = 'Sup3r$ecretValue';
    const yaml = edit('  routerId: 7', `  routerId: 7\n  auth: { pass: "${secret}" }`) + `stats: { password: "${secret}\\u0001" }\n`;
    const text = JSON.stringify(compile(yaml).diagnostics);
    expect(text).not.toContain(secret);
    expect(compile(yaml).diagnostics.length).toBeGreaterThan(0);
  });

  it('resolves env: and file: secrets', () => {
    const yaml = edit('  routerId: 7', '  routerId: 7\n  auth: { pass: "env:VRRP" }') + 'stats: { password: "file:stats.pw" }\n';
    const res = compile(yaml, { env: { VRRP: 'p4ss' }, readFile: () => 'from-file\n', stored: {}, storeName: 's.yaml' });
    expect(res.diagnostics).toEqual([]);
    expect(res.model!.vrrp.authPass).toBe('p4ss');
    expect(res.model!.stats.enabled && res.model!.stats.password).toBe('from-file');
  });

  it('the guide settings produce each known defect', () => {
    // see test/cases/guide.yaml; exercised through the CLI in cli.test.ts
    expect(ROWS.length).toBeGreaterThan(40);
  });
});
