/**
 * Metadata-mode user-data, secrets-only user-data and the generated agent/unit files: real
 * validators (cloud-init schema, python3 py_compile, systemd-analyze verify), determinism and
 * the gen-userdata CLI flags.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AGENT_PATHS, fillNode, metadataModeFiles, nodeValues, secretsUserdata } from '../../src/render/agent.js';
import { createHash } from 'node:crypto';
import { VIP_PROGRAM } from '../../src/facts/node.js';
import { lbbakeVersion } from '../../src/io/paths.js';
import { CLOUD_LIMITS, countedSize, encodeUserdata } from '../../src/render/encode.js';
import { secretValues } from '../../src/render/agent-secrets.js';
import { sha512Crypt } from '../../src/render/crypt.js';
import { main } from '../../src/cli/main.js';
import { userdataForMetadata } from '../../src/render/userdata.js';
import { cloudInitSchema, missing, tempFile } from '../helpers/tools.js';
import { exampleText, modelOf, writeFileContent } from '../agent/harness.js';
import { useTempDir } from '../helpers/tmp.js';

/** The example as VRRPv2: its generated PASS is a secret beside the stats password. */
const TEXT = exampleText().replace('vrrp:\n', 'vrrp:\n  version: 2\n');
const m = modelOf(TEXT);
const secrets = secretValues(m);
const work = useTempDir('lba-ud');
/** A copy of the example: the CLI keeps the secrets it generates beside it (lb.secrets.yaml). */
const FILE = join(work, 'lb.yaml');
writeFileSync(FILE, TEXT);

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false, env: {}, cwd: work });
  return { code, stdout, stderr };
}

describe('gen-userdata without --node (metadata mode)', () => {
  it('is deterministic: two runs give byte-identical user-data', async () => {
    const a = await cli(['gen-userdata', FILE]);
    const b = await cli(['gen-userdata', FILE]);
    expect(a.code).toBe(0);
    expect(a.stdout.startsWith('#cloud-config\n')).toBe(true);
    expect(a.stdout).toContain('lbbake-agent');
    expect(a.stdout).toBe(b.stdout);
    expect(userdataForMetadata(m)).toBe(userdataForMetadata(modelOf(TEXT)));
    const s1 = await cli(['gen-userdata', FILE, '--secrets-only']);
    const s2 = await cli(['gen-userdata', FILE, '--secrets-only']);
    expect(s1.stdout).toBe(s2.stdout);
  });

  it('installs packages, writes agent, unit, drop-in, shared files, one keepalived template and the 0600 secrets file, runs the agent', () => {
    const doc = parse(userdataForMetadata(m));
    expect(doc.packages).toEqual(['haproxy', 'keepalived', 'curl', 'nftables']);
    const byPath = new Map<string, { permissions: string; defer?: boolean; content: string; encoding?: string }>(doc.write_files.map((f: { path: string }) => [f.path, f]));
    expect([...byPath.keys()]).toEqual([
      '/usr/local/sbin/lbbake-agent',
      '/usr/lib/lbbake/cluster.json',
      '/etc/systemd/system/lbbake-agent.service',
      '/etc/systemd/system/keepalived.service.d/lbbake.conf',
      '/usr/lib/lbbake/template/etc/keepalived/keepalived.conf',
      '/usr/lib/lbbake/shared/etc/haproxy/haproxy.cfg',
      '/usr/lib/lbbake/shared/etc/sysctl.d/90-lbbake-k8s-apiserver.conf',
      '/etc/systemd/system/haproxy.service.d/lbbake-track.conf',
      '/usr/local/libexec/lbbake/vrrp-holder',
      '/etc/systemd/system/haproxy.service.d/lbbake-ha.conf',
      '/etc/systemd/system/keepalived.service.d/lbbake-ha.conf',
      '/etc/lbbake/vrrp-firewall.nft',
      '/etc/systemd/system/lbbake-vrrp-firewall.service',
      '/etc/lbbake/secrets.json',
    ]);
    expect(byPath.get('/etc/lbbake/secrets.json')!.permissions).toBe('0600');
    expect(JSON.parse(byPath.get('/etc/lbbake/secrets.json')!.content)).toEqual(secrets);
    expect(Object.keys(secrets).sort()).toEqual(['stats_password_hash', 'vrrp_auth_pass']);
    const agent = byPath.get('/usr/local/sbin/lbbake-agent')!;
    expect(agent.permissions).toBe('0755');
    // the agent travels compressed, decodes to exactly the agent, and says what it is above it
    expect(agent.encoding).toBe('gz+b64');
    const installed = metadataModeFiles(m, { secrets: 'inline', layout: 'template' }).get(AGENT_PATHS.agent.slice(1))!.content;
    expect(writeFileContent(agent)).toBe(installed);
    const text = userdataForMetadata(m);
    expect(text).toContain(`# /usr/local/sbin/lbbake-agent: the boot agent of lbbake ${lbbakeVersion()} (agent/lbbake-agent.py`);
    expect(text).toContain(`${Buffer.byteLength(installed)} bytes, sha256 ${createHash('sha256').update(installed).digest('hex')}.`);
    for (const f of byPath.values()) expect(f.defer).toBe(true);
    // the secret is only in the secrets file
    for (const [p, f] of byPath) {
      if (p === '/etc/lbbake/secrets.json') continue;
      expect(writeFileContent(f), p).not.toContain(`"${secrets.vrrp_auth_pass}"`);
      expect(writeFileContent(f), p).not.toContain(secrets.stats_password_hash);
    }
    expect(doc.runcmd).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', 'lbbake-agent.service', 'lbbake-vrrp-firewall.service', 'haproxy.service', 'keepalived.service'],
      ['systemctl', 'start', 'lbbake-agent.service'],
      ['systemctl', 'start', 'lbbake-vrrp-firewall.service', 'haproxy.service', 'keepalived.service'],
    ]);
  });

  it('cluster.json carries the cluster as data: one row per node (every value a node file differs by), key, manifest', () => {
    const cluster = JSON.parse(metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' }).get(AGENT_PATHS.clusterFile.slice(1))!.content);
    expect(cluster.metadataKey).toBe('lb-node');
    expect(cluster.nodes).toEqual([
      { name: 'lb-0', address: '10.168.222.189', priority: 250, state: 'BACKUP', peers: ['10.168.222.190'], handoverWeight: -254 },
      { name: 'lb-1', address: '10.168.222.190', priority: 249, state: 'BACKUP', peers: ['10.168.222.189'], handoverWeight: -254 },
    ]);
    expect(cluster.files).toEqual([
      { path: '/etc/keepalived/keepalived.conf', from: 'template', mode: '0600', owner: 'root', group: 'root', onChange: 'keepalived.service' },
      { path: '/etc/haproxy/haproxy.cfg', from: 'shared', mode: '0640', owner: 'root', group: 'haproxy', onChange: 'haproxy.service' },
      { path: '/etc/sysctl.d/90-lbbake-k8s-apiserver.conf', from: 'shared', mode: '0644', owner: 'root', group: 'root', onChange: 'sysctl' },
    ]);
    // images carry a copy per node instead (their build checks each with haproxy -c / keepalived -t)
    const image = metadataModeFiles(m, { secrets: 'at-boot', layout: 'copies' });
    expect(JSON.parse(image.get(AGENT_PATHS.clusterFile.slice(1))!.content).files[0].from).toBe('node');
    expect(image.has('usr/lib/lbbake/nodes/lb-1/etc/keepalived/keepalived.conf')).toBe(true);
    // the agent script is the same for every cluster except its header line
    const a = metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' }).get(AGENT_PATHS.agent.slice(1))!.content;
    const other = modelOf(exampleText().replace('name: k8s-apiserver', 'name: other-lb').replace('lb-node', 'role'));
    const b = metadataModeFiles(other, { secrets: 'at-boot', layout: 'template' }).get(AGENT_PATHS.agent.slice(1))!.content;
    expect(a.split('\n').slice(2)).toEqual(b.split('\n').slice(2));
    expect(a).not.toContain('lb-node');
    expect(a).not.toContain('10.168.222');
  });

  it('haproxy.cfg with stats on each node\'s address is a template too; both layouts give every node the same text', () => {
    // stats bound to each node's address makes haproxy.cfg differ per node, by the node's address
    const perAddress = modelOf(exampleText().replace('bind: 127.0.0.1', 'bind: node'));
    const files = metadataModeFiles(perAddress, { secrets: 'at-boot', layout: 'template' });
    expect(files.has('usr/lib/lbbake/template/etc/haproxy/haproxy.cfg')).toBe(true);
    expect(files.get('usr/lib/lbbake/template/etc/haproxy/haproxy.cfg')!.content).toContain('bind @@LBBAKE_NODE_address@@:1080');
    // the template layout and the copies layout give every node the same text (fillNode = the agent's fill_node)
    const copies = metadataModeFiles(perAddress, { secrets: 'at-boot', layout: 'copies' });
    for (const rel of ['etc/keepalived/keepalived.conf', 'etc/haproxy/haproxy.cfg']) {
      const tpl = files.get(`usr/lib/lbbake/template/${rel}`)!.content;
      for (const n of perAddress.nodes) expect(fillNode(tpl, nodeValues(n))).toBe(copies.get(`usr/lib/lbbake/nodes/${n.name}/${rel}`)!.content);
    }
  });

  it('with vip.cloud, lbbake-vip travels gz+b64 like the agent, decodes to exactly the program, and is plain in the gzipped form', () => {
    const aws = modelOf(exampleText().replace(/^vip:\n/m, 'vip:\n  cloud: { provider: aws, mode: secondary-ip }\n'));
    const want = metadataModeFiles(aws, { secrets: 'inline' }).get(VIP_PROGRAM.slice(1))!.content;
    const text = userdataForMetadata(aws);
    const w = (parse(text) as { write_files: Array<{ path: string; content: string; encoding?: string }> }).write_files.find((f) => f.path === VIP_PROGRAM)!;
    expect(w.encoding).toBe('gz+b64');
    expect(writeFileContent(w)).toBe(want);
    expect(text).toContain(`# ${VIP_PROGRAM}: the cloud VIP mover of lbbake ${lbbakeVersion()} (agent/lbbake-vip.py`);
    expect(text).toContain(`sha256 ${createHash('sha256').update(want).digest('hex')}.`);
    const zipped = (parse(userdataForMetadata(aws, { agent: 'plain' })) as { write_files: Array<{ path: string; content: string; encoding?: string }> }).write_files.find((f) => f.path === VIP_PROGRAM)!;
    expect(zipped.encoding).toBeUndefined();
    expect(zipped.content).toBe(want);
  });

  it('--node keeps working; --secrets-only with --node is a usage error', async () => {
    const r = await cli(['gen-userdata', FILE, '--node', 'lb-0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('/usr/local/sbin/lbbake-apply');
    expect(r.stdout).not.toContain('/usr/local/sbin/lbbake-agent');
    const bad = await cli(['gen-userdata', FILE, '--node', 'lb-0', '--secrets-only']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--secrets-only and --node exclude each other');
  });

  it('--secrets-only writes only the root-only secrets file, with the secrets lb.yaml resolves to', async () => {
    const r = await cli(['gen-userdata', FILE, '--secrets-only']);
    expect(r.code).toBe(0);
    const doc = parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['write_files']);
    expect(doc.write_files).toHaveLength(1);
    expect(doc.write_files[0]).toMatchObject({ path: '/etc/lbbake/secrets.json', owner: 'root:root', permissions: '0600' });
    const stored = parse(readFileSync(join(work, 'lb.secrets.yaml'), 'utf8'));
    expect(JSON.parse(doc.write_files[0].content)).toEqual({
      stats_password_hash: sha512Crypt(stored.statsPassword, 'k8s-apiserver/admin'),
      vrrp_auth_pass: stored.vrrpAuthPass,
    });
    expect(secretsUserdata(m)).toContain(JSON.stringify(secrets.vrrp_auth_pass));
  });
});

const noCloudInit = missing(['cloud-init']);
describe.skipIf(noCloudInit)('cloud-init schema', () => {
  it('accepts the metadata-mode user-data', () => {
    const [f, done] = tempFile('user-data.yaml', userdataForMetadata(m));
    try {
      const r = cloudInitSchema(f);
      expect(r.output).toContain('Valid cloud-config');
      expect(r.status).toBe(0);
    } finally {
      done();
    }
  });
  it('accepts the secrets-only user-data', () => {
    const [f, done] = tempFile('secrets.yaml', secretsUserdata(m));
    try {
      const r = cloudInitSchema(f);
      expect(r.output).toContain('Valid cloud-config');
      expect(r.status).toBe(0);
    } finally {
      done();
    }
  });
  it('rejects a broken one (the validator really runs)', () => {
    const [f, done] = tempFile('bad.yaml', userdataForMetadata(m).replace("permissions: \"0600\"", 'permissions: 384'));
    try {
      expect(cloudInitSchema(f).status).not.toBe(0);
    } finally {
      done();
    }
  });
});

const noPython = missing(['python3']);
describe.skipIf(noPython)('the agent script', () => {
  const files = metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' });
  const agent = files.get(AGENT_PATHS.agent.slice(1))!.content;

  it('compiles (python3 -m py_compile) and parses as Python 3.6 (Rocky 8 platform-python)', () => {
    const [f, done] = tempFile('lbbake-agent.py', agent);
    try {
      const c = spawnSync('python3', ['-m', 'py_compile', f], { encoding: 'utf8' });
      expect(c.stderr).toBe('');
      expect(c.status).toBe(0);
      const p = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 6))', f], { encoding: 'utf8' });
      expect(p.stderr).toBe('');
      expect(p.status).toBe(0);
      const bad = spawnSync('python3', ['-c', 'import ast,sys; ast.parse("(x := 1)", feature_version=(3, 6))'], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    } finally {
      done();
    }
  });

  it('imports only the standard library', () => {
    const imports = [...agent.matchAll(/^(?:import|from) ([\w.]+)/gm)].map((x) => x[1].split('.')[0]);
    expect([...new Set(imports)].sort()).toEqual(['grp', 'http', 'ipaddress', 'json', 'os', 'pwd', 're', 'socket', 'subprocess', 'sys', 'tempfile', 'time', 'urllib']);
  });

  it('uses platform-python on Rocky 8', () => {
    const r8 = modelOf(exampleText().replace('os: debian12', 'os: rocky8'));
    const f = metadataModeFiles(r8, { secrets: 'at-boot', layout: 'template' });
    expect(f.get(AGENT_PATHS.agent.slice(1))!.content.split('\n')[0]).toBe('#!/usr/libexec/platform-python');
    expect(f.get(AGENT_PATHS.unit.slice(1))!.content).toContain('ExecStart=/usr/libexec/platform-python /usr/local/sbin/lbbake-agent\n');
    expect(JSON.parse(f.get(AGENT_PATHS.clusterFile.slice(1))!.content).selinuxBooleans).toEqual(['haproxy_connect_any']);
  });
});

const noSystemd = missing(['systemd-analyze']);
describe.skipIf(noSystemd)('systemd units', () => {
  it('lbbake-agent.service and the keepalived drop-in pass systemd-analyze verify', () => {
    const files = metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' });
    const dir = join(work, 'units');
    mkdirSync(join(dir, 'keepalived.service.d'), { recursive: true });
    writeFileSync(join(dir, 'lbbake-agent.service'), files.get(AGENT_PATHS.unit.slice(1))!.content);
    writeFileSync(join(dir, 'keepalived.service.d', 'lbbake.conf'), files.get(AGENT_PATHS.keepalivedDropIn.slice(1))!.content);
    // a stand-in keepalived.service so the drop-in has a unit to extend
    writeFileSync(join(dir, 'keepalived.service'), '[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n');
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'lbbake-agent.service'), join(dir, 'keepalived.service')], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      timeout: 30_000,
    });
    const own = (r.stderr ?? '').split('\n').filter((l) => /lbbake|keepalived/.test(l));
    expect(own).toEqual([]);
    expect(r.status).toBe(0);
    const unit = files.get(AGENT_PATHS.unit.slice(1))!.content;
    expect(unit).toContain('Before=keepalived.service haproxy.service\n');
    expect(unit).toContain('After=network-online.target cloud-init.service\n');
    expect(unit).toContain('Type=oneshot\n');
  });
});

describe("the bundled example's metadata-mode user-data size", () => {
  /**
   * What the user-data carries besides the boot agent is readable text and stays within
   * READABLE_BUDGET; the agent travels gz+b64 in it (plain where the whole user-data is gzipped,
   * as for AWS). The figures and the headroom are printed on every run.
   */
  // 15 KB since issue 12: keepalived's readiness check and VIP holder (keepalived.conf, haproxy's
  // readiness page, the holder script) and the restart/stop-order drop-ins for haproxy and keepalived;
  // 16 KB since issue 15: + the VRRP firewall (nftables file and unit), the haproxy exit-event
  // drop-in and keepalived's VRRP timing lines (AWS's gzip limit is then ~140 bytes away)
  const READABLE_BUDGET = 16 * 1024;
  const text = userdataForMetadata(m);
  const plain = Buffer.byteLength(text);
  const agentLine = text.split('\n').find((l) => l.startsWith('    content: H4sI'))!;
  const readable = plain - Buffer.byteLength(agentLine);
  const agentPy = Buffer.byteLength(metadataModeFiles(m, { secrets: 'inline', layout: 'template' }).get(AGENT_PATHS.agent.slice(1))!.content);
  const gz = encodeUserdata(userdataForMetadata(m, { agent: 'plain' }), { encoding: 'gzip' }).payload.length;
  const what =
    `metadata-mode user-data of examples/k8s-apiserver.yaml: ${plain} bytes plain, of which ${readable} readable (budget ${READABLE_BUDGET}, ` +
    `headroom ${READABLE_BUDGET - readable}) and the agent gz+b64 ${agentLine.length - 13} (agent ${agentPy} bytes of Python); ` +
    `${gz} bytes gzip-compressed for AWS (limit ${CLOUD_LIMITS.aws.limit}, headroom ${CLOUD_LIMITS.aws.limit - gz})`;
  console.log(what);

  it('what it carries besides the agent stays readable and small: one keepalived template, not a copy per node', () => {
    expect(text).toContain('/usr/lib/lbbake/template/etc/keepalived/keepalived.conf');
    expect(
      readable,
      `${what}. Over budget: a file that differs between nodes by a new per-node value becomes a copy per node unless the ` +
        `value is a NodeModel field listed in nodeValues/placeholderNode (src/render/agent.ts); otherwise keep what the ` +
        `user-data carries lean, or raise READABLE_BUDGET here with the reason in the commit`,
    ).toBeLessThanOrEqual(READABLE_BUDGET);
  });

  it("fits AWS's 16 KB gzip-compressed (what gen-userdata --cloud aws -o writes), and Azure's and OpenStack's limits plain", () => {
    expect(
      gz,
      `${what}. Over AWS's limit even gzip-compressed, so the metadata-mode user-data no longer works on AWS. The boot agent ` +
        `dominates (each KB of agent/lbbake-agent.py costs ~0.3 KB here): keep it lean, move what only some nodes need ` +
        `elsewhere, or make AWS users bake an image (gen-packer + --secrets-only) and say so in the README`,
    ).toBeLessThanOrEqual(CLOUD_LIMITS.aws.limit);
    expect(countedSize(Buffer.from(text), 'openstack'), what).toBeLessThanOrEqual(CLOUD_LIMITS.openstack.limit);
    expect(plain, what).toBeLessThanOrEqual(CLOUD_LIMITS.azure.limit);
  });

  it('the gzipped form carries the agent plain, byte for byte, with everything else the same', () => {
    const zipped = parse(userdataForMetadata(m, { agent: 'plain' })) as { write_files: Array<{ path: string; content: string; encoding?: string }> };
    const texty = parse(text) as { write_files: Array<{ path: string; content: string; encoding?: string }> };
    expect(zipped.write_files.map((f) => [f.path, writeFileContent(f)])).toEqual(texty.write_files.map((f) => [f.path, writeFileContent(f)]));
    expect(zipped.write_files.find((f) => f.path === AGENT_PATHS.agent)!.encoding).toBeUndefined();
  });
});
