/**
 * The generated boot agent (python3) run against fake metadata services on 127.0.0.1, with a
 * temp root populated from the metadata-mode user-data and stubbed systemctl/ip/cloud-init/sysctl.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { metadataModeFiles, secretsUserdata } from '../../src/render/agent.js';
import { secretValues } from '../../src/render/agent-secrets.js';
import { compile } from '../../src/compile/compile.js';
import { parse as parseYaml } from 'yaml';
import { deterministicSources } from '../../src/compile/secrets.js';
import { DUMMY_CLIENT_PEM } from '../../src/render/secret-template.js';
import { main } from '../../src/cli/main.js';
import type { Model } from '../../src/compile/model.js';
import { renderNode } from '../../src/render/node.js';
import { userdataForMetadata } from '../../src/render/userdata.js';
import { writeTree } from '../../src/io/write.js';
import { missing } from '../helpers/tools.js';
import { type AgentRun, closedPortUrl, type Cloud, exampleText, FakeMetadata, gidOf, modelOf, Node, uidOf, urls } from './harness.js';

const skip = missing(['python3', 'getent'], { root: true });

const m = modelOf(exampleText());
const userdata = userdataForMetadata(m);
const KEY = m.identity.metadataKey;
const NOT_A_NODE = '198.18.0.7';
/** The machine a node runs on has that node's address (and another one). */
const machineOf = (name: string): string[] => [NOT_A_NODE, m.nodes.find((x) => x.name === name)!.address];

function expectNodeFiles(n: Node, model: Model, name: string): void {
  const node = model.nodes.find((x) => x.name === name)!;
  const expected = renderNode(model, node);
  expect([...expected.keys()].length).toBe(3 + model.services.filter((sv) => sv.health.client).length);
  for (const [rel, f] of expected) {
    expect(n.read(rel), rel).toBe(f.content);
    const st = n.stat(rel);
    expect((st.mode & 0o7777).toString(8).padStart(4, '0'), `${rel} mode`).toBe(f.mode);
    const [user, group] = f.owner.split(':');
    expect(st.uid, `${rel} owner`).toBe(uidOf(user));
    expect(st.gid, `${rel} group`).toBe(gidOf(group));
  }
  expect(n.read('run/lbbake/node')).toBe(`${name}\n`);
  // no vip.interface: keepalived.conf includes the NIC that holds the node's address
  if (!model.vip.interface) expect(n.read('run/lbbake/keepalived-interface.conf')).toBe('    interface eth0\n');
}

function expectNothingInstalled(n: Node): void {
  for (const rel of renderNode(m, m.nodes[0]).keys()) expect(n.read(rel), rel).toBeUndefined();
  expect(n.read('run/lbbake/node')).toBeUndefined();
}

function logText(r: AgentRun): string {
  return r.log.join('\n');
}

describe.skipIf(skip)('boot agent against fake metadata services', () => {
  let fake: FakeMetadata;
  const made: Node[] = [];
  const fresh = (addrs = [NOT_A_NODE]): Node => {
    const n = new Node();
    made.push(n);
    n.applyUserdata(userdata);
    n.setAddresses(addrs);
    return n;
  };
  const env = () => urls(fake.url);

  beforeAll(async () => {
    fake = await new FakeMetadata(KEY).start();
  });
  afterAll(async () => {
    await fake?.stop();
  });
  afterEach(() => {
    for (const n of made.splice(0)) n.cleanup();
  });

  it('the fake services refuse requests without the token or header, as the real ones do', async () => {
    fake.set({ ec2: { kind: 'value', value: 'lb-0' } });
    expect((await fetch(`${fake.url}/latest/meta-data/tags/instance/${KEY}`)).status).toBe(401);
    expect((await fetch(`${fake.url}/latest/api/token`, { method: 'PUT' })).status).toBe(400);
    const tok = await fetch(`${fake.url}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } });
    expect(tok.status).toBe(200);
    const token = await tok.text();
    const tag = await fetch(`${fake.url}/latest/meta-data/tags/instance/${KEY}`, { headers: { 'X-aws-ec2-metadata-token': token } });
    expect([tag.status, await tag.text()]).toEqual([200, 'lb-0']);
    expect((await fetch(`${fake.url}/latest/meta-data/tags/instance/${KEY}`, { headers: { 'X-aws-ec2-metadata-token': 'forged' } })).status).toBe(401);

    fake.set({ gce: { kind: 'value', value: 'lb-0' } });
    expect((await fetch(`${fake.url}/computeMetadata/v1/instance/attributes/${KEY}`)).status).toBe(403);
    expect((await fetch(`${fake.url}/computeMetadata/v1/instance/attributes/${KEY}`, { headers: { 'Metadata-Flavor': 'Google' } })).status).toBe(200);

    fake.set({ azure: { kind: 'value', value: 'lb-0' } });
    expect((await fetch(`${fake.url}/metadata/instance/compute/tagsList?api-version=2021-02-01`)).status).toBe(400);
    expect((await fetch(`${fake.url}/metadata/instance/compute/tagsList`, { headers: { Metadata: 'true' } })).status).toBe(400);
    expect((await fetch(`${fake.url}/metadata/instance/compute/tagsList?api-version=2021-02-01`, { headers: { Metadata: 'true' } })).status).toBe(200);
  });

  const clouds: Array<Cloud | 'nocloud'> = ['ec2', 'gce', 'azure', 'openstack', 'nocloud'];
  for (const cloud of clouds) {
    for (const name of ['lb-0', 'lb-1']) {
      it(`${cloud}: metadata ${KEY}=${name} installs exactly render --node ${name}`, async () => {
        const n = fresh(machineOf(name));
        if (cloud === 'nocloud') {
          fake.set({});
          n.setNoCloud({ 'instance-id': 'iid-lb', 'local-hostname': 'lb', [KEY]: name });
        } else {
          fake.set({ [cloud]: { kind: 'value', value: name } });
        }
        const r = await n.runAgent(env());
        expect(r.code, r.stderr).toBe(0);
        expectNodeFiles(n, m, name);
        expect(logText(r)).toMatch(new RegExp(`^lbbake-agent: ${cloud}[^\\n]*: "${name}" -> node ${name}$`, 'm'));
        // every request the agent made carried the right token/header: nothing was refused
        const refused = fake.seen.filter((s) => s.status === 400 || s.status === 401 || s.status === 403);
        expect(refused).toEqual([]);
        if (cloud === 'ec2') expect(fake.seen.map((s) => `${s.method} ${s.url} ${s.status}`)).toEqual([
          'PUT /latest/api/token 200',
          `GET /latest/meta-data/tags/instance/${KEY} 200`,
        ]);
        // one log line per source tried, up to the one that answered
        const order = ['override', 'ec2', 'gce', 'azure', 'openstack', 'nocloud'];
        const tried = r.log.map((l) => l.split(/[ :]/)[2]).filter((s) => order.includes(s));
        expect(tried).toEqual(order.slice(0, order.indexOf(cloud) + 1));
        expect((await n.runAgent(env(), ['--check'])).code).toBe(0);
      });
    }
  }

  it('user-data from `lbbake gen-userdata FILE` gives the files `lbbake render FILE --node` writes, byte for byte', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lba-render-'));
    try {
      // a copy of the example: the CLI keeps generated secrets beside it (lb.secrets.yaml)
      const file = join(out, 'lb.yaml');
      writeFileSync(file, exampleText());
      let ud = '';
      const io = { stdout: (t: string) => (ud += t), stderr: () => {}, stderrIsTTY: false, env: {}, cwd: out };
      expect(await main(['render', file, '--node', 'lb-1', '-o', join(out, 'tree')], io)).toBe(0);
      expect(await main(['gen-userdata', file], io)).toBe(0);
      const n = new Node();
      made.push(n);
      n.applyUserdata(ud);
      n.setAddresses(machineOf('lb-1'));
      fake.set({ azure: { kind: 'value', value: 'lb-1' } });
      const r = await n.runAgent(env());
      expect(r.code, r.stderr).toBe(0);
      const tree = join(out, 'tree');
      const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
      const rels = walk(tree).map((p) => relative(tree, p)).sort();
      expect(rels).toEqual([
        'etc/haproxy/haproxy.cfg',
        'etc/keepalived/keepalived.conf',
        'etc/lbbake/vrrp-firewall.nft',
        'etc/sysctl.d/90-lbbake-k8s-apiserver.conf',
        'etc/systemd/system/haproxy.service.d/lbbake-ha.conf',
        'etc/systemd/system/haproxy.service.d/lbbake-track.conf',
        'etc/systemd/system/keepalived.service.d/lbbake-ha.conf',
        'etc/systemd/system/lbbake-vrrp-firewall.service',
        'usr/local/libexec/lbbake/vrrp-holder',
      ]);
      for (const rel of rels) expect(readFileSync(join(n.root, rel)), rel).toEqual(readFileSync(join(tree, rel)));
      // the secrets really came through: the generated stats password's hash is in the installed config
      expect(readFileSync(join(n.root, 'etc/haproxy/haproxy.cfg'), 'utf8')).toMatch(/user admin password \$6\$/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('falls back to matching its own address; the override file beats metadata', async () => {
    const n = fresh();
    fake.set({});
    n.setAddresses([NOT_A_NODE, '10.168.222.190']);
    const r = await n.runAgent(env());
    expect(r.code, r.stderr).toBe(0);
    expectNodeFiles(n, m, 'lb-1');
    expect(logText(r)).toContain('lbbake-agent: address: "lb-1" -> node lb-1');

    const o = fresh(machineOf('lb-1'));
    fake.set({ ec2: { kind: 'value', value: 'lb-0' } });
    mkdirSync(join(o.root, 'etc/lbbake'), { recursive: true });
    writeFileSync(join(o.root, 'etc/lbbake/node-name'), 'lb-1\n');
    const r2 = await o.runAgent(env());
    expect(r2.code, r2.stderr).toBe(0);
    expectNodeFiles(o, m, 'lb-1');
    expect(fake.seen).toEqual([]);
  });

  it("FAIL-SAFE: metadata naming a node whose address is not on this machine is refused (it could be a second MASTER)", async () => {
    const n = fresh(machineOf('lb-1'));
    fake.set({ ec2: { kind: 'value', value: 'lb-0' } });
    const r = await n.runAgent(env());
    expect(r.code).toBe(1);
    expectNothingInstalled(n);
    expect(r.log[r.log.length - 1]).toBe(
      'lbbake-agent: FAIL-SAFE: ec2 names node lb-0, but its address 10.168.222.189 (nodes[].address) is not on this machine (198.18.0.7, 10.168.222.190): ' +
        'a second MASTER (VRRP from a wrong address) otherwise. Installed nothing; keepalived will not start. ' +
        'Fix the metadata or nodes[].address, then: systemctl restart lbbake-agent.service',
    );
    // when the addresses cannot be listed, the check fails closed
    rmSync(join(n.fake, 'ip.json'));
    const r2 = await n.runAgent(env());
    expect(r2.code, r2.stderr).toBe(1);
    expectNothingInstalled(n);
    expect(logText(r2)).toMatch(/FAIL-SAFE: ec2 names node lb-0, but cannot list this machine's addresses: ip exited 1/);
  });

  it('vip.interface not set: the VRRP interface is the NIC holding the node address (also in --check, at every keepalived start)', async () => {
    const n = fresh();
    n.setInterfaces({ ens4: [NOT_A_NODE], ens5: ['10.168.222.190'] });
    fake.set({ gce: { kind: 'value', value: 'lb-1' } });
    const r = await n.runAgent(env());
    expect(r.code, r.stderr).toBe(0);
    expect(n.read('run/lbbake/keepalived-interface.conf')).toBe('    interface ens5\n');
    expect(logText(r)).toContain('VRRP interface ens5 (it holds 10.168.222.190) written to /run/lbbake/keepalived-interface.conf');
    // the NIC was renamed before keepalived (re)starts: --check follows it
    n.setInterfaces({ ens4: [NOT_A_NODE], eth7: ['10.168.222.190'] });
    expect((await n.runAgent(env(), ['--check'])).code).toBe(0);
    expect(n.read('run/lbbake/keepalived-interface.conf')).toBe('    interface eth7\n');
    // the address is gone: keepalived may not start
    n.setInterfaces({ ens4: [NOT_A_NODE] });
    const gone = await n.runAgent(env(), ['--check']);
    expect(gone.code).toBe(1);
    expect(logText(gone)).toContain('no interface holds 10.168.222.190 (nodes[].address of lb-1)');
  });

  it('is idempotent: a second run changes nothing and reloads nothing', async () => {
    const n = fresh(machineOf('lb-0'));
    n.setActive(['keepalived.service', 'haproxy.service']);
    fake.set({ gce: { kind: 'value', value: 'lb-0' } });
    const r1 = await n.runAgent(env());
    expect(r1.code, r1.stderr).toBe(0);
    expect(n.calls().filter((c) => !c.startsWith('ip ') && !c.startsWith('cloud-init'))).toEqual([
      `sysctl -p ${join(n.root, 'etc/sysctl.d/90-lbbake-k8s-apiserver.conf')}`,
      'systemctl is-active --quiet keepalived.service',
      'systemctl reload-or-restart --no-block keepalived.service',
      'systemctl is-active --quiet haproxy.service',
      'systemctl reload-or-restart --no-block haproxy.service',
    ]);
    const before = [...renderNode(m, m.nodes[0]).keys()].map((rel) => [n.stat(rel).ino, n.stat(rel).mtimeMs]);
    n.clearCalls();
    const r2 = await n.runAgent(env());
    expect(r2.code, r2.stderr).toBe(0);
    expect(n.calls().filter((c) => c.startsWith('systemctl') || c.startsWith('sysctl'))).toEqual([]);
    expect([...renderNode(m, m.nodes[0]).keys()].map((rel) => [n.stat(rel).ino, n.stat(rel).mtimeMs])).toEqual(before);
    expect(logText(r2)).toContain('0 of 3 files changed');
    expectNodeFiles(n, m, 'lb-0');
  });

  it('changed metadata (a replaced node) gives the new node; only keepalived is reloaded', async () => {
    const n = fresh(machineOf('lb-0'));
    n.setActive(['keepalived.service', 'haproxy.service']);
    fake.set({ openstack: { kind: 'value', value: 'lb-0' } });
    expect((await n.runAgent(env())).code).toBe(0);
    expectNodeFiles(n, m, 'lb-0');
    n.clearCalls();
    // the replacement machine has lb-1's address and lb-1's tag
    n.setAddresses(machineOf('lb-1'));
    fake.set({ openstack: { kind: 'value', value: 'lb-1' } });
    const r = await n.runAgent(env());
    expect(r.code, r.stderr).toBe(0);
    expectNodeFiles(n, m, 'lb-1');
    expect(n.calls().filter((c) => c.startsWith('systemctl') || c.startsWith('sysctl'))).toEqual([
      'systemctl is-active --quiet keepalived.service',
      'systemctl reload-or-restart --no-block keepalived.service',
    ]);
    expect(logText(r)).toContain('/etc/haproxy/haproxy.cfg: unchanged');
    // services that do not run are not touched: they start later with the new files
    n.setActive([]);
    n.clearCalls();
    n.setAddresses(machineOf('lb-0'));
    fake.set({ openstack: { kind: 'value', value: 'lb-0' } });
    const r3 = await n.runAgent(env());
    expect(r3.code).toBe(0);
    expect(n.calls().filter((c) => c.startsWith('systemctl'))).toEqual(['systemctl is-active --quiet keepalived.service']);
    expect(logText(r3)).toContain('keepalived.service: not running; it starts with the new config');
  });

  it('slow (hang), failing (500) and missing-key sources are logged and skipped', async () => {
    const n = fresh(machineOf('lb-1'));
    fake.set({ ec2: { kind: 'hang' }, gce: { kind: 'error' }, azure: { kind: 'missing' }, openstack: { kind: 'value', value: 'lb-1' } });
    const r = await n.runAgent(env());
    expect(r.code, r.stderr).toBe(0);
    expectNodeFiles(n, m, 'lb-1');
    const t = logText(r);
    expect(t).toMatch(/^lbbake-agent: ec2 http:\/\/127\.0\.0\.1:\d+: failed: timed out \(2 attempts, 0\.5s timeout each\)$/m);
    expect(t).toMatch(/^lbbake-agent: gce http:\/\/127\.0\.0\.1:\d+: failed: HTTP 500 \(2 attempts, 0\.5s timeout each\)$/m);
    expect(t).toMatch(/^lbbake-agent: azure http:\/\/127\.0\.0\.1:\d+: no tag lb-node on this VM/m);
    expect(t).toMatch(/^lbbake-agent: openstack http:\/\/127\.0\.0\.1:\d+: "lb-1" -> node lb-1$/m);
    expect(fake.seen.filter((s) => s.cloud === 'ec2').map((s) => s.status)).toEqual(['hung', 'hung']);
    expect(fake.seen.filter((s) => s.cloud === 'gce').map((s) => s.status)).toEqual([500, 500]);
    // bounded: 2 hung attempts of 0.5 s, 2 fast 500s, the rest immediate
    expect(r.ms).toBeLessThan(6000);

    const n2 = fresh(machineOf('lb-0'));
    fake.set({ ec2: { kind: 'missing' } });
    n2.setNoCloud({ 'instance-id': 'iid', [KEY]: 'lb-0' });
    const r2 = await n2.runAgent(env());
    expect(r2.code, r2.stderr).toBe(0);
    expectNodeFiles(n2, m, 'lb-0');
    expect(logText(r2)).toContain('no instance tag lb-node in instance metadata (set the tag, and enable tags in instance metadata: aws ec2 modify-instance-metadata-options --instance-metadata-tags enabled)');
  });

  it('NoCloud falls back to /run/cloud-init/instance-data.json when cloud-init query fails', async () => {
    const n = fresh(machineOf('lb-1'));
    fake.set({});
    mkdirSync(join(n.root, 'run/cloud-init'), { recursive: true });
    writeFileSync(join(n.root, 'run/cloud-init/instance-data.json'), JSON.stringify({ ds: { meta_data: { [KEY]: 'lb-1' } }, v1: { cloud_name: 'nocloud' } }));
    const r = await n.runAgent(env());
    expect(r.code, r.stderr).toBe(0);
    expectNodeFiles(n, m, 'lb-1');
    expect(n.calls()).toContain('cloud-init query ds.meta_data');
  });

  const hostile: Array<[string, string]> = [
    ['command substitution', '$(touch PWNED)'],
    ['shell metacharacters', 'lb-0; touch PWNED'],
    ['two names on two lines', 'lb-0\nlb-1'],
    ['a long value', 'lb-0'.repeat(5000)],
    ['an HTML page', '<html><head><title>Login</title></head><body>lb-0</body></html>'],
    ['wrong case', 'LB-0'],
    ['a path', '../../etc/passwd'],
    ['a NUL byte', 'lb-0\u0000'],
    ['ANSI escapes', '\u001b[2Jlb-0'],
  ];
  for (const [what, value] of hostile) {
    it(`a hostile metadata value (${what}) is logged escaped and ignored, never evaluated`, async () => {
      const n = fresh();
      const v = value.replace('PWNED', join(n.dir, 'pwned'));
      fake.set({ ec2: { kind: 'value', value: v } });
      const r = await n.runAgent(env());
      expect(r.code).toBe(1);
      expectNothingInstalled(n);
      expect(existsSync(join(n.dir, 'pwned'))).toBe(false);
      // every output line is one of the agent's own log lines: nothing from the value breaks out
      for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^lbbake-agent: [ -~]*$/);
      const line = r.log.find((l) => l.startsWith('lbbake-agent: ec2'))!;
      expect(line).toContain('is not a node name of this cluster (lb-0, lb-1); ignored');
      expect(line.length).toBeLessThan(400);
      if (value.length > 60) expect(line).toContain(`(truncated, ${v.length} characters)`);
    });
  }

  it('hostile values from the JSON sources (non-string, injected names) are ignored too', async () => {
    const n = fresh();
    fake.set({ azure: { kind: 'value', value: 'lb-0"}, {"name": "lb-node", "value": "lb-1' }, openstack: { kind: 'value', value: 'lb-1\r\nX-Injected: 1' } });
    n.setNoCloud({ [KEY]: { nested: 'lb-0' } });
    const r = await n.runAgent(env());
    expect(r.code).toBe(1);
    expectNothingInstalled(n);
    const t = logText(r);
    expect(t).toMatch(/azure [^\n]*: value "lb-0\\"}, {\\"name\\": \\"lb-node\\", \\"value\\": \\"lb-1" is not a node name/);
    expect(t).toMatch(/openstack [^\n]*: value "lb-1\\r\\nX-Injected: 1" is not a node name/);
    expect(t).toMatch(/nocloud: value "{'nested': 'lb-0'}" is not a node name/);
  });

  it('a value with a trailing newline (as `echo` writes it) is accepted', async () => {
    const n = fresh(machineOf('lb-1'));
    fake.set({ gce: { kind: 'value', value: 'lb-1\n' } });
    expect((await n.runAgent(env())).code).toBe(0);
    expectNodeFiles(n, m, 'lb-1');
  });

  it('FAIL-SAFE: no metadata and no matching address installs nothing and keepalived may not start', async () => {
    const n = fresh();
    fake.set({});
    n.setActive(['keepalived.service', 'haproxy.service']);
    const r = await n.runAgent(env());
    expect(r.code).toBe(1);
    expectNothingInstalled(n);
    expect(n.calls().filter((c) => c.startsWith('systemctl') || c.startsWith('sysctl'))).toEqual([]);
    const last = r.log[r.log.length - 1];
    expect(last).toMatch(/^lbbake-agent: FAIL-SAFE: cannot tell which node of cluster k8s-apiserver this is; installed nothing, keepalived will not start, this node never takes the VIP\. Fix: set instance metadata lb-node=<lb-0\|lb-1>/);
    expect(last).toContain('10.168.222.189, 10.168.222.190');
    expect(logText(r)).toContain('address: none of this machine\'s addresses (198.18.0.7) is a node address (lb-0 10.168.222.189, lb-1 10.168.222.190)');
    // keepalived's ExecStartPre
    const check = await n.runAgent(env(), ['--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("refusing to start keepalived: lbbake-agent has not resolved this node's name in this boot");
    // and the drop-in wires that check into keepalived.service
    expect(n.read('etc/systemd/system/keepalived.service.d/lbbake.conf')).toContain('ExecStartPre=/usr/bin/python3 /usr/local/sbin/lbbake-agent --check\n');
    // status says why, in JSON and text, and exits 1
    const s = await n.runAgent(env(), ['status', '--json']);
    expect(s.code, s.stderr).toBe(1);
    const rep = JSON.parse(s.stdout);
    expect(rep).toMatchObject({ cluster: 'k8s-apiserver', node: null, resolvedFrom: null, vrrp: { state: 'STOP', keepalived: 'not running' }, vip: { here: false } });
    expect(rep.services).toEqual([{ name: 'kubernetes-apiserver', servers: [] }]);
    expect(rep.problems[0]).toMatch(/^FAIL-SAFE: cannot tell which node of cluster k8s-apiserver this is/);
    expect(rep.problems[1]).toMatch(/^VRRP STOP \(STOP: keepalived is not running/);
    expect(rep.problems[2]).toMatch(/^haproxy stats socket \/run\/haproxy\/admin\.sock: .*\(is haproxy running\?\)$/);
    const t = await n.runAgent(env(), ['status']);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/^cluster k8s-apiserver, node unknown \(resolved from -\)\nVRRP +STOP, priority None, keepalived not running\n/);
    expect(t.stdout).toMatch(/^problems 3\n  - FAIL-SAFE: cannot tell/m);
    expect((await n.runAgent(env(), ['status', '--yaml'])).code).toBe(2);
  });

  it('FAIL-SAFE after an earlier success: the success mark is withdrawn, the files stay, nothing is reloaded', async () => {
    const n = fresh(machineOf('lb-0'));
    fake.set({ ec2: { kind: 'value', value: 'lb-0' } });
    expect((await n.runAgent(env())).code).toBe(0);
    expect((await n.runAgent(env(), ['--check'])).code).toBe(0);
    n.clearCalls();
    n.setAddresses([NOT_A_NODE]);
    n.setActive(['keepalived.service']);
    const unreachable = await closedPortUrl();
    const r = await n.runAgent({ ...urls(unreachable), LBBAKE_WINDOW: '1', LBBAKE_ROUND_PAUSE: '0.6' });
    expect(r.code).toBe(1);
    expect(logText(r)).toMatch(/^lbbake-agent: ec2 http:\/\/127\.0\.0\.1:\d+: failed: 127\.0\.0\.1:\d+ not reachable \(connection refused\)$/m);
    expect(logText(r)).toMatch(/round 1: no usable name yet; retrying in 0\.6s \(0 of 1 s used\)/);
    expect(r.log.filter((l) => l.includes('FAIL-SAFE'))).toHaveLength(1);
    expect((await n.runAgent(env(), ['--check'])).code).toBe(1);
    expect(n.calls().filter((c) => c.startsWith('systemctl'))).toEqual([]);
    expect(n.read('etc/keepalived/keepalived.conf')).toBe(renderNode(m, m.nodes[0]).get('etc/keepalived/keepalived.conf')!.content);
  });
});

describe.skipIf(skip)('SELinux (Rocky)', () => {
  it('sets haproxy_connect_any once when SELinux is enabled, and not at all when it is not', async () => {
    const r9 = modelOf(exampleText().replace('os: debian12', 'os: rocky9'));
    const n = new Node();
    try {
      n.applyUserdata(userdataForMetadata(r9));
      n.setAddresses(['10.168.222.189']);
      writeFileSync(join(n.fake, 'selinux'), '');
      const env = urls(await closedPortUrl());
      const r = await n.runAgent(env);
      expect(r.code, r.stderr).toBe(0);
      expectNodeFiles(n, r9, 'lb-0');
      expect(n.calls().filter((c) => c.includes('sebool') || c === 'selinuxenabled')).toEqual([
        'selinuxenabled',
        'getsebool haproxy_connect_any',
        'setsebool -P haproxy_connect_any 1',
      ]);
      n.clearCalls();
      expect((await n.runAgent(env)).code).toBe(0);
      expect(n.calls().filter((c) => c.includes('sebool') || c === 'selinuxenabled')).toEqual(['selinuxenabled', 'getsebool haproxy_connect_any']);
      n.clearCalls();
      rmSync(join(n.fake, 'selinux'));
      expect((await n.runAgent(env)).code).toBe(0);
      expect(n.calls().filter((c) => c.includes('sebool'))).toEqual([]);
    } finally {
      n.cleanup();
    }
  });
});

describe.skipIf(skip)('secrets at boot (baked images)', () => {
  const made: Node[] = [];
  afterEach(() => {
    for (const n of made.splice(0)) n.cleanup();
  });

  // stats password + stats bound to each node's address: haproxy.cfg differs per node and holds a hash
  // and VRRPv2, whose generated PASS is a secret too
  const text = exampleText()
    .replace('stats: { port: 1080, bind: 127.0.0.1, user: admin }', 'stats: { port: 1080, bind: node, user: admin, password: "correct horse" }')
    .replace('vrrp:\n', 'vrrp:\n  version: 2\n');
  const ms = modelOf(text);

  it('the variant really has both secrets and per-node haproxy.cfg', () => {
    expect(Object.keys(secretValues(ms)).sort()).toEqual(['stats_password_hash', 'vrrp_auth_pass']);
    const files = metadataModeFiles(ms, { secrets: 'at-boot', layout: 'copies' });
    expect(files.has('usr/lib/lbbake/nodes/lb-0/etc/haproxy/haproxy.cfg')).toBe(true);
    expect(files.has('etc/lbbake/secrets.json')).toBe(false);
    const all = [...files.values()].map((f) => f.content).join('\n');
    expect(all).not.toContain(secretValues(ms).stats_password_hash);
    expect(all).not.toContain(`"${secretValues(ms).vrrp_auth_pass}"`);
    expect(all).toContain('@@LBBAKE_SECRET_stats_password_hash@@');
    for (const [rel, f] of files) if (rel.startsWith('usr/lib/lbbake/nodes/') || rel.startsWith('usr/lib/lbbake/shared/')) expect(f.mode).toBe('0600');
  });

  it('without the secrets file nothing is installed; with the secrets-only user-data the files are exact', async () => {
    const n = new Node();
    made.push(n);
    writeTree(n.root, metadataModeFiles(ms, { secrets: 'at-boot', layout: 'copies' }));
    n.setAddresses(['10.168.222.190']);
    const env = { ...urls(await closedPortUrl()) };
    const r = await n.runAgent(env);
    expect(r.code).toBe(2);
    expectNothingInstalledFor(n, ms);
    expect(logText(r)).toContain('ERROR: /etc/lbbake/secrets.json is missing; it holds this cluster\'s secrets. Provide it as user-data (lbbake gen-userdata lb.yaml --secrets-only)');
    expect((await n.runAgent(env, ['--check'])).code).toBe(1);

    n.applyUserdata(secretsUserdata(ms));
    expect(n.stat('etc/lbbake/secrets.json').mode & 0o777).toBe(0o600);
    const r2 = await n.runAgent(env);
    expect(r2.code, r2.stderr).toBe(0);
    expectNodeFiles(n, ms, 'lb-1');

    // status after the install: node and how it was found (no keepalived or haproxy runs here)
    const ok = JSON.parse((await n.runAgent(env, ['status', '--json'])).stdout);
    expect(ok).toMatchObject({ node: 'lb-1', resolvedFrom: 'address', vrrp: { priority: 249 } });
    expect(ok.problems.filter((p: string) => !/^VRRP STOP|stats socket/.test(p))).toEqual([]);

    // a tampered secret is refused, not written into a config
    writeFileSync(join(n.root, 'etc/lbbake/secrets.json'), JSON.stringify({ vrrp_auth_pass: 'x"\n}\nvrrp', stats_password_hash: secretValues(ms).stats_password_hash }));
    rmSync(join(n.root, 'etc/keepalived/keepalived.conf'));
    const r3 = await n.runAgent(env);
    expect(r3.code).toBe(2);
    expect(logText(r3)).toContain('secret vrrp_auth_pass in /etc/lbbake/secrets.json is malformed');
    expect(n.read('etc/keepalived/keepalived.conf')).toBeUndefined();
    // status names the reason and the secret, never its value
    const bad = await n.runAgent(env, ['status', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems[0]).toMatch(/^secret vrrp_auth_pass in \/etc\/lbbake\/secrets\.json is malformed .*; keepalived will not start$/);
    for (const v of [...Object.values(secretValues(ms)), 'x"\n}\nvrrp']) expect(bad.stdout).not.toContain(v);
  });
});

describe.skipIf(skip)('health.clientCert: the certificate and key travel with the secrets', () => {
  const made: Node[] = [];
  afterEach(() => {
    for (const n of made.splice(0)) n.cleanup();
  });
  // a test certificate and key (the public dummy): the file: references resolve to them
  const [cert, key] = [DUMMY_CLIENT_PEM.slice(0, DUMMY_CLIENT_PEM.indexOf('-----BEGIN PRIVATE KEY')), DUMMY_CLIENT_PEM.slice(DUMMY_CLIENT_PEM.indexOf('-----BEGIN PRIVATE KEY'))];
  const text = exampleText().replace('health: { type: https, path: /readyz }', 'health: { type: https, path: /readyz, clientCert: { cert: file:c.pem, key: file:k.pem } }');
  const r = compile(text, { ...deterministicSources('k8s-apiserver'), readFile: (p) => (p === 'c.pem' ? cert : key) });
  const mc = r.model!;
  const pemRel = 'etc/haproxy/lbbake-kubernetes-apiserver-client.pem';

  it('is a root-only file of render --node, never in the image files, only in the secrets', () => {
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(renderNode(mc, mc.nodes[0]).get(pemRel)).toEqual({ content: DUMMY_CLIENT_PEM, mode: '0600', owner: 'root:root' });
    const image = [...metadataModeFiles(mc, { secrets: 'at-boot' }).values()].map((f) => f.content).join('\n');
    expect(image).not.toContain('BEGIN PRIVATE KEY');
    expect(image).toContain('@@LBBAKE_SECRET_health_pem_0@@');
    const ud = parseYaml(secretsUserdata(mc)) as { write_files: Array<{ path: string; content: string; permissions: string }> };
    const secrets = ud.write_files.find((w) => w.path === '/etc/lbbake/secrets.json')!;
    expect(secrets.permissions).toBe('0600');
    expect(JSON.parse(secrets.content).health_pem_0).toBe(DUMMY_CLIENT_PEM);
  });

  it('the agent installs it (0600) from the secrets file, exactly; a tampered one is refused', async () => {
    const n = new Node();
    made.push(n);
    writeTree(n.root, metadataModeFiles(mc, { secrets: 'at-boot' }));
    n.setAddresses(['10.168.222.189']);
    const env = { ...urls(await closedPortUrl()) };
    n.applyUserdata(secretsUserdata(mc));
    const r1 = await n.runAgent(env);
    expect(r1.code, r1.stderr).toBe(0);
    expectNodeFiles(n, mc, 'lb-0');
    expect(n.read(pemRel)).toBe(DUMMY_CLIENT_PEM);

    // a PEM with an extra line (say, a config directive) is malformed: nothing written
    const sec = JSON.parse(n.read('etc/lbbake/secrets.json')!);
    sec.health_pem_0 = DUMMY_CLIENT_PEM + 'bind :80\n';
    writeFileSync(join(n.root, 'etc/lbbake/secrets.json'), JSON.stringify(sec));
    rmSync(join(n.root, pemRel));
    const r2 = await n.runAgent(env);
    expect(r2.code).toBe(2);
    expect(logText(r2)).toContain('secret health_pem_0 in /etc/lbbake/secrets.json is malformed');
    expect(n.read(pemRel)).toBeUndefined();
  });
});

function expectNothingInstalledFor(n: Node, model: Model): void {
  for (const rel of renderNode(model, model.nodes[0]).keys()) expect(n.read(rel), rel).toBeUndefined();
}

describe.skipIf(skip)('boot agent hardening: every source fails alone, answers are complete, retries are bounded', () => {
  let fake: FakeMetadata;
  const made: Node[] = [];
  const fresh = (addrs = [NOT_A_NODE]): Node => {
    const n = new Node();
    made.push(n);
    n.applyUserdata(userdata);
    n.setAddresses(addrs);
    return n;
  };
  beforeAll(async () => {
    fake = await new FakeMetadata(KEY).start();
  });
  afterAll(async () => {
    await fake?.stop();
  });
  afterEach(() => {
    for (const n of made.splice(0)) n.cleanup();
  });

  it('something that is not HTTP on a metadata address fails that source only; the next ones still run', async () => {
    const n = fresh(machineOf('lb-1'));
    fake.set({ ec2: { kind: 'garbage' }, gce: { kind: 'garbage' }, azure: { kind: 'garbage' }, openstack: { kind: 'garbage' } });
    const r = await n.runAgent(urls(fake.url));
    expect(r.code, r.stderr).toBe(0);
    expect(logText(r)).toMatch(/ec2 [^\n]*: failed: (BadStatusLine|RemoteDisconnected)\(/);
    expect(logText(r)).toMatch(/address: "lb-1" -> node lb-1/);
    expectNodeFiles(n, m, 'lb-1');
    expect(r.stderr).not.toMatch(/Traceback/);
  });

  it('a truncated answer is never taken for a name (lb-1 of an announced lb-10 is refused)', async () => {
    const n = fresh();
    fake.set({ gce: { kind: 'truncated', value: 'lb-1', missing: 1 } });
    const r = await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'gce' });
    expect(r.code).toBe(1);
    expect(logText(r)).toMatch(/gce [^\n]*: failed: answer cut short \(1 bytes missing\)/);
    expect(logText(r)).not.toContain('-> node lb-1');
    expectNothingInstalled(n);
  });

  const shapes: Array<[string, object]> = [
    // cloud-init's ConfigDrive and OpenStack datasources keep meta_data.json there: the config drive's properties
    ['OpenStack meta (config drive or metadata service)', { uuid: 'x', meta: { [KEY]: 'lb-0' } }],
    ['EC2 instance tags', { tags: { instance: { [KEY]: 'lb-0', Name: 'x' } } }],
    ['Azure tagsList', { imds: { compute: { tagsList: [{ name: 'env', value: 'prod' }, { name: KEY, value: 'lb-0' }] } } }],
  ];
  for (const [what, meta] of shapes) {
    it(`cloud-init's instance data: ${what}, as cloud-init already fetched it`, async () => {
      const n = fresh(machineOf('lb-0'));
      fake.set({});
      n.setNoCloud(meta as Record<string, unknown>);
      const r = await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'nocloud' });
      expect(r.code, r.stderr).toBe(0);
      expectNodeFiles(n, m, 'lb-0');
    });
  }

  it('a metadata service that answers only after a while: retried in rounds (2, 4 s ...) within the window, then the node comes up', async () => {
    const n = fresh(machineOf('lb-0'));
    fake.set({ gce: { kind: 'error' } });
    const later = setTimeout(() => fake.set({ gce: { kind: 'value', value: 'lb-0' } }), 2_500);
    try {
      const r = await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'gce', LBBAKE_WINDOW: '20', LBBAKE_ROUND_PAUSE: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(logText(r)).toMatch(/round 1: no usable name yet; retrying in 1s/);
      expect(logText(r)).toMatch(/round 2: [^\n]*retrying in 2s/);
      expectNodeFiles(n, m, 'lb-0');
      expect(r.ms).toBeGreaterThan(2_500);
    } finally {
      clearTimeout(later);
    }
  });

  it('no address yet (DHCP still running): the name is not trusted until the node address is there', async () => {
    const n = fresh([]);
    fake.set({ gce: { kind: 'value', value: 'lb-0' } });
    const later = setTimeout(() => n.setAddresses(machineOf('lb-0')), 1_500);
    try {
      const r = await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'gce,address', LBBAKE_WINDOW: '20', LBBAKE_ROUND_PAUSE: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(logText(r)).toMatch(/gce names node lb-0, but its address 10\.168\.222\.189 \(nodes\[\]\.address\) is not on this machine \(none\)/);
      expectNodeFiles(n, m, 'lb-0');
    } finally {
      clearTimeout(later);
    }
  });

  it('the window is a bound: after it the fail-safe, and a later success in the same boot starts keepalived', async () => {
    const n = fresh(machineOf('lb-0'));
    fake.set({ gce: { kind: 'hang' } });
    const r = await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'gce', LBBAKE_WINDOW: '3', LBBAKE_ROUND_PAUSE: '1', LBBAKE_TIMEOUT: '0.3', LBBAKE_ATTEMPTS: '1' });
    expect(r.code).toBe(1);
    // rounds start at 0 and ~1.3 s; the next would start after the 3 s window, so there is none
    expect(r.log.filter((l) => /round \d+: /.test(l))).toHaveLength(1);
    expect(r.log.filter((l) => l.includes('gce ') && l.includes('failed: timed out'))).toHaveLength(2);
    expect(r.ms).toBeLessThan(3_000 + 2_000);
    expect(logText(r)).toContain('FAIL-SAFE: cannot tell which node');
    n.clearCalls();
    fake.set({ gce: { kind: 'value', value: 'lb-0' } });
    const ok = await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'gce' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(n.calls()).toContain('systemctl start --no-block keepalived.service');
    expect(logText(ok)).toContain('an earlier run failed safe: keepalived start queued');
    // only once: the next run is a normal one
    n.clearCalls();
    expect((await n.runAgent({ ...urls(fake.url), LBBAKE_SOURCES: 'gce' })).code).toBe(0);
    expect(n.calls()).not.toContain('systemctl start --no-block keepalived.service');
  });
});
