/**
 * VRRP defaults and what replaces PASS authentication: VRRPv3 with sub-second adverts by default,
 * VRRPv2 when vrrp.auth is given, the nftables table that accepts VRRP only from the LB nodes
 * (checked with the real `nft -c` in a throwaway network namespace) and its unit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import { VRRP_FIREWALL } from '../../src/facts/node.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { secretValues } from '../../src/render/agent-secrets.js';
import { firewallFiles, nodePackages } from '../../src/render/firewall.js';
import { nodeTree, renderKeepalived } from '../../src/render/node.js';
import { userdataForNode } from '../../src/render/userdata.js';
import { missing } from '../helpers/tools.js';
import { useTempDir } from '../helpers/tmp.js';

const work = useTempDir('lbbake-fw');

const yaml = (vrrp = '', extra = '') => `version: 1
name: fw
${extra}vip: { address: 10.0.0.100 }
vrrp:
  routerId: 7
${vrrp}nodes:
  - { name: a, address: 10.0.0.11 }
  - { name: b, address: 10.0.0.12 }
  - { name: c, address: 10.0.0.13 }
services:
  - servers: [{ name: s, address: 10.0.0.21 }]
`;
const modelOf = (text: string) => {
  const r = compile(text);
  if (!r.model) throw new Error(JSON.stringify(r.diagnostics));
  return r.model;
};

describe('VRRP defaults', () => {
  it('VRRPv3, 0.1 s adverts, a BACKUP waits 5 of them, keepalived at real-time priority, no password', () => {
    const m = modelOf(yaml());
    expect(m.vrrp).toMatchObject({ version: 3, advertInterval: 0.1, downTimerAdverts: 5, rtPriority: 50, authPass: undefined, firewall: true });
    expect(Object.keys(secretValues(m))).toEqual(['stats_password_hash']);
    const conf = renderKeepalived(m, m.nodes[0]);
    expect(conf).toContain('    vrrp_version 3\n');
    expect(conf).toContain('    vrrp_rt_priority 50\n');
    expect(conf).toContain('    advert_int 0.1\n');
    expect(conf).toMatch(/\n {4}down_timer_adverts 5\n/);
    expect(conf).not.toContain('authentication');
    expect(conf).toContain('check_unicast_src');
  });

  it('vrrp.auth keeps VRRPv2 with whole-second adverts and the RFC wait (existing files keep working)', () => {
    const m = modelOf(yaml('  auth: { pass: "k8sHA-18" }\n'));
    expect(m.vrrp).toMatchObject({ version: 2, advertInterval: 1, downTimerAdverts: 3 });
    const conf = renderKeepalived(m, m.nodes[0]);
    expect(conf).not.toContain('vrrp_version 3');
    expect(conf).not.toContain('down_timer_adverts');
    expect(conf).toContain('auth_type PASS');
  });

  it('version: 2 without auth still gets a generated pass', () => {
    const m = modelOf(yaml('  version: 2\n'));
    expect(m.vrrp.authPass).toMatch(/^.{8}$/);
    expect(Object.keys(secretValues(m)).sort()).toEqual(['stats_password_hash', 'vrrp_auth_pass']);
  });

  it('an advertInterval given keeps the RFC wait of 3 adverts (advertInterval: 1 still means ~3 s)', () => {
    const m = modelOf(yaml('  advertInterval: 1\n'));
    expect(m.vrrp).toMatchObject({ version: 3, advertInterval: 1, downTimerAdverts: 3 });
    expect(renderKeepalived(m, m.nodes[0])).not.toContain('down_timer_adverts');
    expect(modelOf(yaml('  advertInterval: 0.2\n  downTimerAdverts: 4\n')).vrrp).toMatchObject({ advertInterval: 0.2, downTimerAdverts: 4 });
  });

  it('rocky8 (keepalived 2.1.5, no down_timer_adverts) stays at whole-second adverts', () => {
    const m = modelOf(yaml('', 'target: { os: rocky8 }\n'));
    expect(m.vrrp).toMatchObject({ version: 3, advertInterval: 1, downTimerAdverts: 3 });
    expect(renderKeepalived(m, m.nodes[0])).not.toContain('down_timer_adverts');
  });
});

describe('the VRRP firewall', () => {
  const m = modelOf(yaml());
  const files = firewallFiles(m);
  const nft = files.get(VRRP_FIREWALL.file.slice(1))!.content;
  const unit = files.get(VRRP_FIREWALL.unit.slice(1))!.content;

  it('is one table of its own that drops VRRP from anything but the LB nodes, and never flushes the ruleset', () => {
    expect(nft).toContain('table inet lbbake_vrrp\ndelete table inet lbbake_vrrp\ntable inet lbbake_vrrp {\n');
    expect(nft).toContain('type filter hook input priority filter; policy accept;');
    expect(nft).toContain('ip protocol 112 ip saddr != { 10.0.0.11, 10.0.0.12, 10.0.0.13 } counter drop');
    expect(nft).not.toMatch(/flush ruleset|^\s*flush\b/m);
    // the same on every node
    expect(nodeTree(m, m.nodes[0]).get(VRRP_FIREWALL.file.slice(1))!.content).toBe(nodeTree(m, m.nodes[2]).get(VRRP_FIREWALL.file.slice(1))!.content);
  });

  it('its unit loads it before keepalived, after (and with) nftables.service', () => {
    expect(unit).toContain('After=nftables.service\nPartOf=nftables.service\nBefore=keepalived.service\n');
    expect(unit).toContain('Description=lbbake VRRP firewall (nftables table lbbake_vrrp)\n');
    expect(unit).toContain(`ExecStart=/usr/sbin/nft -f ${VRRP_FIREWALL.file}\n`);
    expect(unit).toContain('ExecStop=-/usr/sbin/nft delete table inet lbbake_vrrp\n');
    expect(unit).toContain('WantedBy=multi-user.target');
  });

  it('goes everywhere the node files go, with the nftables package', () => {
    expect(nodePackages(m)).toEqual(['haproxy', 'keepalived', 'curl', 'nftables']);
    const md = metadataModeFiles(m, { secrets: 'at-boot' });
    for (const p of [VRRP_FIREWALL.file, VRRP_FIREWALL.unit]) expect(md.has(p.slice(1)), p).toBe(true);
    const ud = parse(userdataForNode(m, m.nodes[1])) as { packages: string[]; write_files: Array<{ path: string; content: string }> };
    expect(ud.packages).toContain('nftables');
    const apply = ud.write_files.find((f) => f.path.endsWith('lbbake-apply'))!.content;
    expect(apply).toContain('systemctl enable lbbake-vrrp-firewall.service\nsystemctl restart lbbake-vrrp-firewall.service\n');
    expect(apply.indexOf('lbbake-vrrp-firewall')).toBeLessThan(apply.indexOf('systemctl restart keepalived'));
  });

  it('vrrp.firewall: false leaves it out (and nftables too)', () => {
    const off = modelOf(yaml('  firewall: false\n'));
    expect(firewallFiles(off).size).toBe(0);
    expect(nodePackages(off)).toEqual(['haproxy', 'keepalived', 'curl']);
    expect([...nodeTree(off, off.nodes[0]).keys()].some((p) => p.includes('vrrp-firewall'))).toBe(false);
  });

  const reason = missing(['nft', 'unshare', 'ip'], { root: true });
  it.skipIf(reason)('nft -c accepts it, in a throwaway network namespace, twice in a row (reload)', () => {
    const dir = join(work, 'nft');
    mkdirSync(dir, { recursive: true });
    const f = join(dir, 'vrrp.nft');
    writeFileSync(f, nft);
    // -c checks against the kernel without applying; then a real load twice shows the
    // create/delete/create idiom replaces the table instead of failing or duplicating it
    const r = spawnSync('unshare', ['-n', 'sh', '-c', `nft -c -f ${f} && nft -f ${f} && nft -f ${f} && nft list ruleset`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/table inet lbbake_vrrp/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/ip protocol (vrrp|112) ip saddr != \{ 10\.0\.0\.11, 10\.0\.0\.12, 10\.0\.0\.13 \} counter packets 0 bytes 0 drop/);
    // a broken file is refused by the same check (the check can fail)
    writeFileSync(f, nft.replace('ip saddr', 'ip saddrr'));
    expect(spawnSync('unshare', ['-n', 'nft', '-c', '-f', f], { encoding: 'utf8' }).status).not.toBe(0);
  });

  const noSystemd = missing(['systemd-analyze']);
  it.skipIf(noSystemd)('the unit passes systemd-analyze verify', () => {
    const dir = join(work, 'units');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lbbake-vrrp-firewall.service'), unit);
    for (const u of ['keepalived.service', 'nftables.service']) writeFileSync(join(dir, u), '[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n');
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'lbbake-vrrp-firewall.service')], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      timeout: 30_000,
    });
    expect((r.stderr ?? '').split('\n').filter((l) => /lbbake/.test(l))).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });
});
