/**
 * `lbbake explain NEW --against OLD`: the pure rollout (what changed, per node and per output,
 * whether old and new nodes can run side by side, the order) and the CLI around it (secrets of
 * an OLD copy without its secrets file, JSON, --diff, never a secret in the output).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import type { Model } from '../../src/compile/model.js';
import { buildRollout, formatRollout, type Rollout } from '../../src/render/rollout.js';
import { run } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';

const EXAMPLE = readFileSync(new URL('../../examples/k8s-apiserver.yaml', import.meta.url), 'utf8');
const AUTH = 'Vr9pass!';
const STATS = 'st4ts-Pa55word-xyz';

/** The example as data, with secrets inline (so both revisions have known values). */
function doc(): any {
  const d = parse(EXAMPLE);
  d.vrrp.auth = { pass: AUTH };
  d.stats.password = STATS;
  return d;
}

function model(d: any): Model {
  const r = compile(stringify(d));
  if (!r.model) throw new Error(JSON.stringify(r.diagnostics.filter((x) => x.severity === 'error')));
  return r.model;
}

function rollout(edit: (d: any) => void, base: (d: any) => void = () => {}): Rollout {
  const a = doc();
  base(a);
  const b = structuredClone(a);
  edit(b);
  return buildRollout(model(a), model(b), { diff: true });
}

const addServer = (d: any) => d.services[0].servers.push({ name: 'master-3', address: '10.168.222.208' });
const node = (r: Rollout, name: string) => r.nodes.find((n) => n.name === name)!;
const text = (r: Rollout) => formatRollout(r, { old: 'old.yaml', new: 'new.yaml' });

describe('buildRollout', () => {
  it('the same lb.yaml: no change, nothing to do', () => {
    const r = rollout(() => {});
    expect(r.changes).toEqual([]);
    expect(r.nodes.map((n) => n.status)).toEqual(['unchanged', 'unchanged']);
    expect(r.outputs).toEqual({
      userdata: { changed: false, secretsOnly: false },
      userdataNode: { 'lb-0': false, 'lb-1': false },
      secretsOnly: { changed: false },
      packer: { changed: false, imageChanged: false, files: [] },
    });
    expect(r.steps).toEqual([{ node: '', action: 'nothing', text: expect.stringContaining('nothing to do') }]);
    expect(text(r)).toContain('no changes');
  });

  it('an added apiserver: haproxy.cfg on every node, a new image, BACKUP first, then handover, then the former MASTER', () => {
    const r = rollout(addServer, (d) => (d.vrrp.preempt = true));
    expect(r.changes).toEqual([{ path: 'services[kubernetes-apiserver].servers[master-3]', kind: 'added', new: 'address 10.168.222.208, port 6443' }]);
    expect(r.secrets).toEqual([]);
    for (const n of ['lb-0', 'lb-1']) {
      expect(node(r, n).status).toBe('changed');
      expect(node(r, n).files.map((f) => [f.path, f.content, f.secrets, f.apply])).toEqual([['/etc/haproxy/haproxy.cfg', true, [], 'systemctl reload haproxy.service']]);
      expect(node(r, n).files[0].diff).toContain('+    server master-3 10.168.222.208:6443 check\n');
      expect(node(r, n).paths.packer).toMatch(/new image/);
    }
    expect(r.outputs.userdata).toEqual({ changed: true, secretsOnly: false });
    expect(r.outputs.secretsOnly.changed).toBe(false);
    expect(r.outputs.packer.imageChanged).toBe(true);
    expect(r.outputs.packer.files).toContain('files/lbbake-rootfs/usr/lib/lbbake/shared/etc/haproxy/haproxy.cfg');
    expect(r.rollingSafe).toBe(true);
    expect(r.steps.map((s) => [s.action, s.node])).toEqual([
      ['replace', 'lb-1'],
      ['handover', 'lb-0'],
      ['replace', 'lb-0'],
    ]);
    expect(r.steps[1].text).toContain('lbbake-agent handover');
    // preempt on: the handed-over node runs at effective priority 1 (250 - 249)
    expect(r.steps[1].text).toContain('echo -249 > /etc/keepalived/lbbake-handover');
    expect(r.steps[2].text).toContain('takes the VIP back');
  });

  it('a changed stats password: haproxy.cfg differs only in a secret; no new image, new --secrets-only user-data', () => {
    const r = rollout((d) => (d.stats.password = 'another-Password-42'));
    expect(r.changes).toEqual([{ path: 'stats.password', kind: 'changed', secret: true }]);
    expect(r.secrets).toEqual(['stats.password']);
    const f = node(r, 'lb-0').files;
    expect(f.map((x) => [x.path, x.content, x.secrets])).toEqual([['/etc/haproxy/haproxy.cfg', false, ['stats password']]]);
    expect(f[0].diff).toBeUndefined();
    expect(r.outputs.userdata).toEqual({ changed: true, secretsOnly: true });
    expect(r.outputs.secretsOnly.changed).toBe(true);
    expect(r.outputs.packer).toEqual({ changed: false, imageChanged: false, files: [] });
    expect(node(r, 'lb-0').paths.packer).toMatch(/^no new image: .*--secrets-only/);
    expect(node(r, 'lb-0').paths.userdata).toContain('systemctl restart lbbake-agent.service');
    expect(r.rollingSafe).toBe(true);
  });

  it.each([
    ['vrrp.routerId', (d: any) => (d.vrrp.routerId = 19), /vrrp.routerId changes \(18 -> 19\)/],
    ['the VRRP auth pass', (d: any) => (d.vrrp.auth.pass = 'other123'), /the VRRP auth pass changes \(value not shown\)/],
    ['vrrp.advertInterval (VRRPv2)', (d: any) => (d.vrrp.advertInterval = 2), /advertisement interval mismatch/],
    ['vrrp.mode', (d: any) => (d.vrrp.mode = 'multicast'), /vrrp.mode changes/],
    ['vip.address', (d: any) => (d.vip.address = '10.168.222.19'), /old and new nodes serve different VIPs/],
    ['a node address', (d: any) => (d.nodes[1].address = '10.168.222.191'), /nodes are added or their addresses change \(lb-1\)/],
  ])('%s: old and new nodes cannot run side by side (not rolling-safe, with what to do)', (_name, edit, reason) => {
    const r = rollout(edit);
    expect(r.rollingSafe).toBe(false);
    expect(r.unsafe.map((u) => u.reason).join('\n')).toMatch(reason);
    expect(r.unsafe.every((u) => u.fix.length > 20)).toBe(true);
    expect(text(r)).toContain('NOT SAFE to replace one node at a time');
  });

  it('an added node is launched first; an address change of the old nodes is flagged', () => {
    const r = rollout((d) => d.nodes.push({ name: 'lb-2', address: '10.168.222.191' }));
    expect(r.changes).toContainEqual({ path: 'nodes[lb-2]', kind: 'added', new: 'address 10.168.222.191, priority 248, state BACKUP' });
    expect(node(r, 'lb-2').status).toBe('added');
    expect(r.steps[0]).toMatchObject({ action: 'launch', node: 'lb-2' });
    expect(r.rollingSafe).toBe(false);
    // the old nodes' keepalived.conf changes too: lb-2 is a new unicast peer
    expect(node(r, 'lb-1').files.map((f) => f.path)).toContain('/etc/keepalived/keepalived.conf');
  });

  it('three nodes: BACKUPs lowest priority first; a removed BACKUP goes last; the heir is the best remaining node', () => {
    const three = (d: any) => d.nodes.push({ name: 'lb-2', address: '10.168.222.191' });
    const r = rollout((d) => {
      d.nodes.pop();
      addServer(d);
    }, three);
    expect(r.steps.map((s) => [s.action, s.node])).toEqual([
      ['replace', 'lb-1'],
      ['handover', 'lb-0'],
      ['replace', 'lb-0'],
      ['remove', 'lb-2'],
    ]);
    expect(r.steps[1].text).toContain('so lb-1 takes the VIP');
    expect(node(r, 'lb-2').status).toBe('removed');
    const all = rollout(addServer, three);
    expect(all.steps.map((s) => s.node)).toEqual(['lb-2', 'lb-1', 'lb-0', 'lb-0']);
  });

  it('preempt off: handover puts the MASTER in FAULT (a priority drop would not move the VIP) and the VIP stays after the replacement', () => {
    const r = rollout(addServer, (d) => (d.vrrp.preempt = false));
    expect(r.steps[1].text).toContain('echo -254 > /etc/keepalived/lbbake-handover');
    expect(r.steps[2].text).toContain('the VIP stays where it is');
  });

  it('a change that moves no file (a comment) is no change', () => {
    const a = doc();
    const r = buildRollout(model(a), compile(stringify(a) + '# a comment\n').model!);
    expect(r.changes).toEqual([]);
  });

  it('never shows a secret value, in text, JSON or diffs, whatever changes', () => {
    const r = rollout((d) => {
      d.vrrp.auth.pass = 'Zz9!yy8x';
      d.stats.password = 'Q-secret-stats-99';
      d.vrrp.routerId = 20;
      addServer(d);
    });
    const out = text(r) + JSON.stringify(r);
    for (const s of [AUTH, STATS, 'Zz9!yy8x', 'Q-secret-stats-99']) expect(out).not.toContain(s);
    expect(out).not.toMatch(/\$6\$/);
    expect(out).toContain('vrrp.auth.pass: changed (value not shown)');
  });
});

describe('lbbake explain NEW --against OLD (CLI)', () => {
  const dir = useTempDir('lbbake-rollout');
  const write = (name: string, d: any) => {
    const f = join(dir, name);
    writeFileSync(f, stringify(d));
    return f;
  };

  it('OLD without a secrets file takes NEW\'s secrets (a git show copy); says so; text and --json', async () => {
    const base = parse(EXAMPLE);
    const neu = write('lb.yaml', (addServer(base), base));
    const gen = await run(['gen-userdata', neu, '-o', join(dir, 'ud.yaml')]);
    expect(gen.code, gen.stderr).toBe(0);
    const o = parse(EXAMPLE);
    const old = write('old.yaml', o);
    const r = await run(['explain', neu, '--against', old]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`note: ${old} has no VRRP auth pass and stats password of its own`);
    expect(r.stdout).toContain('+ services[kubernetes-apiserver].servers[master-3]: address 10.168.222.208, port 6443');
    expect(r.stdout).toContain('gen-userdata --secrets-only: unchanged');
    expect(r.stdout).toMatch(/1\. replace lb-1 .*\n  2\. on lb-0 \(MASTER\): lbbake-agent handover/);
    const j = await run(['explain', neu, '--against', old, '--json']);
    expect(j.code).toBe(0);
    const data = JSON.parse(j.stdout);
    expect(data.secrets).toEqual([]);
    expect(data.steps.map((s: any) => s.action)).toEqual(['replace', 'handover', 'replace']);
    const secrets = readFileSync(join(dir, 'lb.secrets.yaml'), 'utf8');
    for (const v of Object.values(parse(secrets) as Record<string, string>)) expect(r.stdout + j.stdout).not.toContain(v);
  });

  it("the README's example output is what explain --against prints for it", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const at = readme.indexOf('### What changed, and who needs what');
    const block = /\n```\n(lb\.yaml against [\s\S]*?)```/.exec(readme.slice(at))![1];
    const base = parse(EXAMPLE);
    const dir2 = join(dir, 'readme');
    mkdirSync(dir2, { recursive: true });
    const neu = join(dir2, 'lb.yaml');
    writeFileSync(neu, stringify((addServer(base), base)));
    expect((await run(['gen-userdata', neu, '-o', join(dir2, 'ud.yaml')])).code).toBe(0);
    const old = join(dir2, 'old.yaml');
    writeFileSync(old, EXAMPLE);
    const r = await run(['explain', neu, '--against', old]);
    expect(r.code, r.stderr).toBe(0);
    const lines = block.split('\n').filter((l) => l.trim() && !l.includes('/tmp/lb.old.yaml') && l.trim() !== '...');
    expect(lines.length).toBeGreaterThan(15);
    for (const l of lines) expect(r.stdout, l).toContain(l.replace(/ \(\.\.\.\)$/, ''));
  });

  it('an invalid OLD is reported against its own file (exit 1); --diff without --against is a usage error', async () => {
    const bad = parse(EXAMPLE);
    bad.vrrp.routerId = 999;
    const old = write('bad.yaml', bad);
    const r = await run(['explain', join(dir, 'lb.yaml'), '--against', old]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${old.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+ error\\[OUT_OF_RANGE\\] /vrrp/routerId`, 'm'));
    const u = await run(['explain', join(dir, 'lb.yaml'), '--diff']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('--diff needs --against');
  });
});
