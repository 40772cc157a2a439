/**
 * Random valid lb.yaml objects for property tests (test/compile/property.test.ts) and the
 * version matrix's sample (test/matrix/): every target OS, both VRRP versions, 1-3 services.
 */
import fc from 'fast-check';
import { SCHEMA_PATTERNS } from '../../src/facts/alphabets.js';
import { metricsSupported, OS_FACTS, OS_IDS } from '../../src/facts/os.js';

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);

/** A random valid lb.yaml object (addresses unique by construction). */
export const config = fc
  .record({
    os: fc.constantFrom(...OS_IDS),
    net: fc.integer({ min: 0, max: 255 }),
    nodeCount: fc.integer({ min: 2, max: 4 }),
    version: fc.constantFrom(2, 3),
    advert: fc.constantFrom(1, 2, 0.5, 0.25),
    preempt: fc.boolean(),
    mode: fc.constantFrom('unicast', 'multicast'),
    check: fc.record({ interval: fc.integer({ min: 1, max: 5 }), fall: fc.integer({ min: 1, max: 5 }), rise: fc.integer({ min: 1, max: 5 }), onFailure: fc.constantFrom('fault', 'lower-priority') }),
    iface: fc.constantFrom('eth0', 'ens192', 'eth1'),
    // the nodes (.11-.14) must be in the VIP's subnet (VIP_OUTSIDE_SUBNET)
    prefix: fc.oneof(fc.integer({ min: 8, max: 25 }), fc.constant(32)),
    routerId: fc.integer({ min: 1, max: 255 }),
    services: fc.uniqueArray(
      fc.record({
        name: token,
        port: fc.integer({ min: 1, max: 65535 }),
        bind: fc.constantFrom('vip', 'all'),
        balance: fc.constantFrom('roundrobin', 'leastconn', 'source', 'first'),
        health: fc.constantFrom('tcp', 'http', 'https'),
        // any path the schema allows (a query string made every generator exit 70 once)
        path: fc.stringMatching(new RegExp(SCHEMA_PATTERNS['/properties/services/items/properties/health/properties/path'].source)),
        servers: fc.integer({ min: 1, max: 4 }),
        tunnel: fc.integer({ min: 600, max: 604800 }),
      }),
      { minLength: 1, maxLength: 3, selector: (s) => s.name },
    ),
    stats: fc.record({ enabled: fc.boolean(), port: fc.integer({ min: 1, max: 65535 }), bind: fc.constantFrom('127.0.0.1', 'node', '0.0.0.0'), password: fc.stringMatching(/^[ -~]{1,40}$/) }),
    // metrics where the target's haproxy serves them, or absent
    metrics: fc.option(fc.record({ port: fc.integer({ min: 1, max: 65535 }), bind: fc.constantFrom('127.0.0.1', 'node', '0.0.0.0') }), { nil: undefined }),
    pass: fc.stringMatching(/^[A-Za-z0-9!#%&()*+,./:;<=>?@^_|~-]{1,8}$/),
    name: fc.stringMatching(new RegExp(SCHEMA_PATTERNS['/properties/name'].source)),
  })
  .map((c) => ({ ...c, metrics: metricsSupported(OS_FACTS[c.os]) ? c.metrics : undefined }))
  // every port once, 1081 (the readiness page) included
  .filter((c) => {
    const ports = [1081, ...c.services.map((s) => s.port), ...(c.stats.enabled ? [c.stats.port] : []), ...(c.metrics ? [c.metrics.port] : [])];
    return new Set(ports).size === ports.length;
  })
  .map((c) => {
    const base = `10.${c.net}`;
    return {
      version: 1,
      name: c.name,
      target: { os: c.os },
      vip: { address: `${base}.0.100`, prefix: c.prefix, interface: c.iface },
      vrrp: {
        routerId: c.routerId,
        version: c.version,
        advertInterval: c.version === 2 ? Math.max(1, Math.round(c.advert)) : c.advert,
        mode: c.mode,
        preempt: c.preempt,
        ...(c.version === 2 ? { auth: { pass: c.pass } } : {}),
        check: c.check,
      },
      nodes: Array.from({ length: c.nodeCount }, (_, i) => ({ name: `lb-${i}`, address: `${base}.0.${11 + i}` })),
      services: c.services.map((s, si) => ({
        name: s.name,
        port: s.port,
        bind: s.bind,
        balance: s.balance,
        health: { type: s.health, ...(s.health === 'tcp' ? {} : { path: s.path }) },
        timeouts: { tunnel: s.tunnel },
        servers: Array.from({ length: s.servers }, (_, i) => ({ name: `s${i}`, address: `${base}.${si + 1}.${21 + i}` })),
      })),
      stats: c.stats,
      ...(c.metrics ? { metrics: c.metrics } : {}),
    };
  });
