import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/compile/normalize.js';
import { SCHEMA_PATH } from '../../src/io/paths.js';
import { loadSchema } from '../../src/compile/schema.js';

const SHIPPED = new URL('../../schema/lb.schema.json', import.meta.url).pathname;
type S = Record<string, any>;

/** Every property schema in the tree, by dotted path ('services[].health.type'). */
function properties(s: S, prefix = ''): Array<[string, S]> {
  const out: Array<[string, S]> = [];
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, S>)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push([p, v]);
    out.push(...properties(v, p));
    if (v.items && typeof v.items === 'object') out.push(...properties(v.items, `${p}[]`));
  }
  return out;
}

describe('the shipped JSON Schema is the validator schema', () => {
  it('the object ajv compiled equals schema/lb.schema.json', () => {
    expect(SCHEMA_PATH).toBe(SHIPPED);
    expect(loadSchema()).toEqual(JSON.parse(readFileSync(SHIPPED, 'utf8')));
  });
  it('is shipped in the npm package', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.files).toContain('schema');
  });
});

describe('the schema documents every key', () => {
  const props = properties(loadSchema());
  it('has many properties (sanity)', () => {
    expect(props.length).toBeGreaterThan(50);
  });
  it('every property has a description', () => {
    const missing = props.filter(([, v]) => typeof v.description !== 'string' || v.description.length < 5).map(([p]) => p);
    expect(missing).toEqual([]);
  });
  let expected: Record<string, unknown> = {};
  it('every default normalize applies is the schema default', () => {
    expected = {
      'target.os': DEFAULTS.os,
      'vip.prefix': DEFAULTS.vipPrefix,
      'vip.cloud.network': DEFAULTS.gceNetwork,
      'vip.cloud.checkInterval': DEFAULTS.cloudCheckInterval,
      'vip.cloud.probePort': DEFAULTS.azureProbePort,
      'vrrp.version': DEFAULTS.vrrpVersion,
      'vrrp.advertInterval': DEFAULTS.advertInterval,
      'vrrp.downTimerAdverts': DEFAULTS.downTimerAdverts,
      'vrrp.mode': DEFAULTS.mode,
      'vrrp.preempt': DEFAULTS.preempt,
      'vrrp.firewall': DEFAULTS.firewall,
      'vrrp.check.command': DEFAULTS.check.command,
      'vrrp.check.interval': DEFAULTS.check.interval,
      'vrrp.check.fall': DEFAULTS.check.fall,
      'vrrp.check.rise': DEFAULTS.check.rise,
      'vrrp.check.onFailure': DEFAULTS.check.onFailure,
      'vrrp.readiness.enabled': DEFAULTS.readiness.enabled,
      'vrrp.readiness.port': DEFAULTS.readiness.port,
      'vrrp.readiness.interval': DEFAULTS.readiness.interval,
      'vrrp.readiness.fall': DEFAULTS.readiness.fall,
      'vrrp.readiness.rise': DEFAULTS.readiness.rise,
      'services[].name': DEFAULTS.service.name,
      'services[].port': DEFAULTS.service.port,
      'services[].bind': DEFAULTS.service.bind,
      'services[].balance': DEFAULTS.service.balance,
      'services[].health.type': DEFAULTS.service.health.type,
      'services[].health.path': DEFAULTS.service.health.path,
      'services[].health.interval': DEFAULTS.service.health.interval,
      'services[].health.fall': DEFAULTS.service.health.fall,
      'services[].health.rise': DEFAULTS.service.health.rise,
      'services[].health.expect': DEFAULTS.service.health.expect,
      'services[].timeouts.connect': DEFAULTS.service.timeouts.connect,
      'services[].timeouts.client': DEFAULTS.service.timeouts.client,
      'services[].timeouts.server': DEFAULTS.service.timeouts.server,
      'services[].timeouts.tunnel': DEFAULTS.service.timeouts.tunnel,
      'services[].dns.max': DEFAULTS.dns.max,
      'stats.port': DEFAULTS.stats.port,
      'stats.bind': DEFAULTS.stats.bind,
      'stats.uri': DEFAULTS.stats.uri,
      'stats.user': DEFAULTS.stats.user,
      'stats.enabled': DEFAULTS.stats.enabled,
      'metrics.port': DEFAULTS.metrics.port,
      'metrics.bind': DEFAULTS.metrics.bind,
      'sysctl.ipForward': DEFAULTS.ipForward,
      'identity.metadataKey': DEFAULTS.metadataKey,
    };
    const byPath = new Map(props);
    const wrong = Object.entries(expected)
      .filter(([p, d]) => JSON.stringify(byPath.get(p)?.default) !== JSON.stringify(d))
      .map(([p, d]) => `${p}: schema ${JSON.stringify(byPath.get(p)?.default)} vs normalize ${JSON.stringify(d)}`);
    expect(wrong).toEqual([]);
  });
  it('no schema default exists that normalize does not apply', () => {
    const withDefault = props.filter(([, v]) => 'default' in v).map(([p]) => p).sort();
    // exactly the list above: a new schema default must come with a normalize default (and a row here)
    expect(withDefault).toEqual(Object.keys(expected).sort());
  });
});

describe('the build-time precompiled validator (dist/src/generated/schema-validate.cjs)', () => {
  it('was generated from the shipped schema (sha256) and judges like the ajv-compiled schema', async () => {
    const { createRequire } = await import('node:module');
    const { createHash } = await import('node:crypto');
    const { parse } = await import('yaml');
    const require = createRequire(import.meta.url);
    // npm test / npm run build generate it; a missing file is a failure, not a skip
    const pre = require('../../dist/src/generated/schema-validate.cjs');
    const text = readFileSync(SHIPPED, 'utf8');
    expect(pre.schemaSha256).toBe(createHash('sha256').update(text).digest('hex'));
    const { checkSchema } = await import('../../src/compile/schema.js');
    const example = parse(readFileSync(new URL('../../examples/k8s-apiserver.yaml', import.meta.url), 'utf8'));
    const bad = { ...example, vrrp: { ...example.vrrp, routerId: 300, bogus: 1 }, nodes: [{ name: 'x', address: '1.2.3' }] };
    for (const doc of [example, bad]) {
      const ok = pre(doc);
      expect(ok).toBe(checkSchema(doc).length === 0);
      if (!ok) expect(pre.errors.map((e: any) => `${e.instancePath} ${e.keyword}`).sort()).toContain('/vrrp/routerId maximum');
    }
  });
});
