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
  const NODES = { LBBAKE_NODE0: '10.168.222.189', LBBAKE_NODE1: '10.168.222.190' };

  it("takes over the guide's values, reports every change, keeps the password out of lb.yaml and never prints it; the output passes --strict", async () => {
    const r = await run(['init', '--from-env', 'g.yaml'], { cwd: dir, env: { ...GUIDE, ...NODES } });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'g.yaml'), 'utf8');
    // was: the pass inline (SECRET_INLINE), so `validate --strict` failed on init's own output
    expect(text).not.toContain('412f7dc3');
    const strict = await run(['validate', join(dir, 'g.yaml'), '--strict'], { cwd: dir });
    expect(strict.code, strict.stderr).toBe(0);
    expect(strict.stderr).toMatch(/: valid \(2 nodes, 1 services\)\n$/);
    const stored = parse(readFileSync(join(dir, 'g.secrets.yaml'), 'utf8'));
    expect(stored).toEqual({ vrrpAuthPass: '412f7dc3' });
    expect(statSync(join(dir, 'g.secrets.yaml')).mode & 0o777).toBe(0o600);
    const res = compile(text, { env: {}, readFile: () => '', stored, storeName: 'g.secrets.yaml' });
    expect(res.diagnostics).toEqual([]);
    const m = res.model!;
    expect(m.vip.address).toBe('10.168.222.18');
    expect(m.vip.interface).toBe('eth0');
    expect(m.vrrp.routerId).toBe(18);
    expect(m.vrrp.authPass).toBe('412f7dc3');
    expect(m.nodes.map((n) => n.address)).toEqual(['10.168.222.189', '10.168.222.190']);
    expect(m.services[0].servers.map((s) => s.address)).toEqual(['10.168.222.218', '10.168.222.197', '10.168.222.207']);
    // the change report
    expect(r.stderr).toMatch(/K8SHA_KA_AUTH: has 33 characters but keepalived only ever used the first 8.*kept those 8 in g\.secrets\.yaml/);
    expect(r.stderr).toMatch(/hard-codes 51.*using 18/);
    expect(r.stderr).toMatch(/pidof/);
    expect(r.stderr).toMatch(/multicast/);
    // was: "without a password", though lbbake generates one
    expect(r.stderr).toMatch(/\(stats\): .*127\.0\.0\.1, with a password lbbake generates into g\.secrets\.yaml/);
    expect(r.stderr).not.toMatch(/without a password/);
    expect(r.stderr).not.toContain('412f7dc3');
    expect(statSync(join(dir, 'g.yaml')).mode & 0o777).toBe(0o644);
    // was: the header recommended --node user-data while the README recommends metadata mode
    expect(text).toContain('`lbbake gen-userdata lb.yaml --cloud aws -o user-data`: one user-data for every node');
    expect(text).not.toContain('--node');
  });

  it("without the LB nodes' addresses it writes nothing and says which variables to export (was: placeholders in another subnet that validated clean)", async () => {
    const r = await run(['init', '--from-env', 'p.yaml'], { cwd: dir, env: GUIDE });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/LBBAKE_NODE0, LBBAKE_NODE1 are not set: the guide has no variables for the LB nodes' own addresses.*export LBBAKE_NODE0=<address of lb-0> LBBAKE_NODE1=<address of lb-1>/);
    expect(existsSync(join(dir, 'p.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'p.secrets.yaml'))).toBe(false);
  });

  const bad: Array<{ name: string; env: Record<string, string>; says: RegExp }> = [
    { name: 'a master equal to the VIP (was: "internal error ... a bug in lbbake")', env: { ...GUIDE, ...NODES, K8S_MASTER1: GUIDE.K8SHA_VIP }, says: /K8S_MASTER1 is 10\.168\.222\.18, the same address as K8SHA_VIP \(the VIP\)/ },
    { name: 'an LB node equal to the VIP', env: { ...GUIDE, ...NODES, LBBAKE_NODE1: GUIDE.K8SHA_VIP }, says: /LBBAKE_NODE1 is 10\.168\.222\.18, the same address as K8SHA_VIP/ },
    { name: 'an LB node equal to a master', env: { ...GUIDE, ...NODES, K8S_MASTER2: NODES.LBBAKE_NODE0 }, says: /K8S_MASTER2 is 10\.168\.222\.189, the same address as LBBAKE_NODE0 \(an LB node\)/ },
    { name: 'a gap in K8S_MASTERn (was: the later ones dropped silently)', env: { ...GUIDE, ...NODES, K8S_MASTER1: '', K8S_MASTER4: '10.168.222.99' }, says: /K8S_MASTER3 is not set, but K8S_MASTER4 is: number the kube-apiserver addresses K8S_MASTER0, K8S_MASTER1, \.\.\. without gaps/ },
    { name: 'a gap in LBBAKE_NODEn', env: { ...GUIDE, LBBAKE_NODE0: '10.168.222.189', LBBAKE_NODE2: '10.168.222.191' }, says: /LBBAKE_NODE1 is not set, but LBBAKE_NODE2 is/ },
    { name: 'a missing K8SHA_VIP and K8S_MASTER0', env: { K8SHA_KA_AUTH: 'x', ...NODES }, says: /K8SHA_VIP is not set[\s\S]*K8S_MASTER0 is not set/ },
  ];
  for (const b of bad) {
    it(`${b.name}: exit 1, a message naming the variable, nothing written`, async () => {
      const f = `bad-${bad.indexOf(b)}.yaml`;
      const r = await run(['init', '--from-env', f], { cwd: dir, env: b.env });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(b.says);
      expect(r.stderr).not.toMatch(/internal error|bug in lbbake|\n\s+at /);
      expect(existsSync(join(dir, f))).toBe(false);
    });
  }

  it('a token keepalived.conf cannot carry is regenerated (into the secrets file), and the reason reported', () => {
    const r = starterFromEnv({ ...GUIDE, ...NODES, K8SHA_KA_AUTH: 'has "quotes" and spaces' }, () => 'Rnd12345', 'x.secrets.yaml');
    expect(r.errors).toEqual([]);
    expect(r.authPass).toBe('Rnd12345');
    expect(r.starter!.input.vrrp.auth).toBeUndefined();
    expect(r.changes.find((c) => c.variable === 'K8SHA_KA_AUTH')?.what).toMatch(/wrote a random 8-character password into x\.secrets\.yaml/);
    const text = renderStarter(r.starter!, 'x.json');
    expect(compile(text).model).toBeDefined();
  });
  it('routerId never becomes 51 even for a VIP ending in .51', () => {
    const r = starterFromEnv({ ...GUIDE, ...NODES, K8SHA_VIP: '10.0.0.51' }, () => 'abcdefgh');
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
