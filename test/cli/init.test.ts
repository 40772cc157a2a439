import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultSchemaRef } from '../../src/cli/commands/init.js';
import { defaultStarter, renderStarter, starterFromEnv } from '../../src/render/starter.js';
import { compile } from '../../src/compile/compile.js';
import { run } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';

const dir = useTempDir('lbbake-ux-init');

/** The install guide's variables, verbatim. */
const GUIDE = {
  K8SHA_VIP: '10.168.222.18',
  K8SHA_KA_AUTH: '412f7dc3bfed32194d1600c483e10ad1d',
  K8SHA_NETIF: 'eth0',
  K8S_MASTER0: '10.168.222.218',
  K8S_MASTER1: '10.168.222.197',
  K8S_MASTER2: '10.168.222.207',
};

describe('lbbake init', () => {
  it('writes a starter that validates with zero diagnostics and starts with the schema line', async () => {
    const r = await run(['init', 'lb.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'lb.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\S+lb\.schema\.json$/);
    const res = compile(text);
    expect(res.diagnostics).toEqual([]);
    expect(res.model?.nodes.map((n) => `${n.name} ${n.state} ${n.priority}`)).toEqual(['lb-0 BACKUP 250', 'lb-1 BACKUP 249']);
    // commented: every top-level key has a comment above it
    for (const key of ['version', 'name', 'vip', 'vrrp', 'nodes', 'services', 'stats']) {
      expect(text).toMatch(new RegExp(`# [^\\n]+\\n${key}:`));
    }
    expect(r.stderr).toMatch(/wrote lb.yaml/);
  });
  it('defaults to ./lb.yaml and refuses to overwrite without --force (exit 2)', async () => {
    const d = mkdtempSync(join(dir, 'default-'));
    expect((await run(['init'], { cwd: d })).code).toBe(0);
    expect(existsSync(join(d, 'lb.yaml'))).toBe(true);
    writeFileSync(join(d, 'lb.yaml'), 'mine\n');
    const again = await run(['init'], { cwd: d });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/lb.yaml already exists; pass --force/);
    expect(readFileSync(join(d, 'lb.yaml'), 'utf8')).toBe('mine\n');
    expect((await run(['init', '--force'], { cwd: d })).code).toBe(0);
    expect(readFileSync(join(d, 'lb.yaml'), 'utf8')).toMatch(/^# yaml-language-server/);
  });
  it('--schema sets the editor line', async () => {
    const r = await run(['init', 's.yaml', '--schema', 'https://example.test/lb.schema.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 's.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=https:\/\/example.test\/lb.schema.json\n/);
  });
});

describe('lbbake init --from-env', () => {
  it("takes over the guide's values, reports every change, and never prints the token", async () => {
    const r = await run(['init', '--from-env', 'g.yaml'], { cwd: dir, env: GUIDE });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'g.yaml'), 'utf8');
    const res = compile(text);
    expect(res.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const m = res.model!;
    expect(m.vip.address).toBe('10.168.222.18');
    expect(m.vip.interface).toBe('eth0');
    expect(m.vrrp.routerId).toBe(18);
    expect(m.vrrp.authPass).toBe('412f7dc3');
    expect(m.services[0].servers.map((s) => s.address)).toEqual(['10.168.222.218', '10.168.222.197', '10.168.222.207']);
    expect(res.diagnostics.map((d) => d.code)).not.toContain('ROUTER_ID_DEFAULT');
    // the change report
    expect(r.stderr).toMatch(/K8SHA_KA_AUTH: has 33 characters but keepalived only ever used the first 8/);
    expect(r.stderr).toMatch(/hard-codes 51.*using 18/);
    expect(r.stderr).toMatch(/pidof/);
    expect(r.stderr).toMatch(/multicast/);
    expect(r.stderr).toMatch(/placeholders 192\.0\.2\.11 and 192\.0\.2\.12: REPLACE THEM/);
    expect(r.stderr).not.toContain('412f7dc3');
    expect(statSync(join(dir, 'g.yaml')).mode & 0o777).toBe(0o600);
  });
  it('uses LBBAKE_NODE0.. for the LB nodes when given', async () => {
    const r = await run(['init', '--from-env', 'n.yaml'], {
      cwd: dir,
      env: { ...GUIDE, LBBAKE_NODE0: '10.168.222.189', LBBAKE_NODE1: '10.168.222.190' },
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(readFileSync(join(dir, 'n.yaml'), 'utf8'));
    expect(doc.nodes).toEqual([
      { name: 'lb-0', address: '10.168.222.189' },
      { name: 'lb-1', address: '10.168.222.190' },
    ]);
    expect(r.stderr).not.toMatch(/placeholder/i);
  });
  it('a missing K8SHA_VIP or K8S_MASTER0 is exit 1 and writes nothing', async () => {
    const r = await run(['init', '--from-env', 'bad.yaml'], { cwd: dir, env: { K8SHA_KA_AUTH: 'x' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/K8SHA_VIP is not set/);
    expect(r.stderr).toMatch(/K8S_MASTER0 is not set/);
    expect(existsSync(join(dir, 'bad.yaml'))).toBe(false);
  });
  it('a token keepalived.conf cannot carry is regenerated, and the reason reported', () => {
    const r = starterFromEnv({ ...GUIDE, K8SHA_KA_AUTH: 'has "quotes" and spaces' }, () => 'Rnd12345');
    expect(r.errors).toEqual([]);
    expect(r.starter!.input.vrrp.auth).toEqual({ pass: 'Rnd12345' });
    expect(r.changes.find((c) => c.variable === 'K8SHA_KA_AUTH')?.what).toMatch(/generated a random 8-character password/);
    const text = renderStarter(r.starter!, 'x.json');
    expect(compile(text).model).toBeDefined();
  });
  it('routerId never becomes 51 even for a VIP ending in .51', () => {
    const r = starterFromEnv({ ...GUIDE, K8SHA_VIP: '10.0.0.51' }, () => 'abcdefgh');
    expect(r.starter!.input.vrrp.routerId).not.toBe(51);
  });
});

describe('schema reference', () => {
  it('is node_modules/lbbake/schema/lb.schema.json for a file in the project that installed lbbake', () => {
    const schema = '/srv/proj/node_modules/lbbake/schema/lb.schema.json';
    expect(defaultSchemaRef('/srv/proj/lb.yaml', schema)).toBe('node_modules/lbbake/schema/lb.schema.json');
    expect(defaultSchemaRef('/srv/proj/deploy/lb.yaml', schema)).toBe('../node_modules/lbbake/schema/lb.schema.json');
  });
  it('is absolute outside that project (global install)', () => {
    const schema = '/usr/lib/node_modules/lbbake/schema/lb.schema.json';
    expect(defaultSchemaRef('/home/u/lb.yaml', schema)).toBe(schema);
  });
  it('the rendered starter is deterministic', () => {
    expect(renderStarter(defaultStarter(), 'a.json')).toBe(renderStarter(defaultStarter(), 'a.json'));
  });
});
