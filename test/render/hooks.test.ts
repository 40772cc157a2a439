/**
 * vip.cloud in lb.yaml: what keepalived.conf, haproxy.cfg and the node's files get per cloud,
 * and what the schema and rules refuse. lbbake-vip itself runs against the emulated clouds in
 * test/live/cloud-failover.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { hookFiles, vipCommand } from '../../src/render/hooks.js';
import { compile } from '../../src/compile/compile.js';
import { cloudVipOsProblems } from '../../src/compile/rules.js';
import { OS_FACTS } from '../../src/facts/os.js';
import { renderHaproxy, renderKeepalived } from '../../src/render/node.js';
import { buildPlan, formatPlan } from '../../src/render/plan.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { userdataForMetadata, userdataForNode } from '../../src/render/userdata.js';
import { keepalivedCheckText } from '../../src/io/verify.js';
import { missing } from '../helpers/tools.js';
import { EXAMPLE } from '../helpers/io.js';
const PROGRAM = '/usr/local/libexec/lbbake/lbbake-vip';

function withCloud(cloud: object, os?: string) {
  const doc = parse(readFileSync(EXAMPLE, 'utf8'));
  doc.vip.cloud = cloud;
  if (os) doc.target = { os };
  return compile(stringify(doc));
}

describe('vip.cloud aws/gce: keepalived runs lbbake-vip on every state change', () => {
  it('aws secondary-ip: notify and notify_master_rx_lower_pri with the node\'s own address', () => {
    const res = withCloud({ provider: 'aws', mode: 'secondary-ip' });
    expect(res.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const m = res.model!;
    const args = (a: string) => `cloud=aws mode=secondary-ip vip=10.168.222.18/32 address=${a} every=10`;
    expect(renderKeepalived(m, m.nodes[0])).toContain(`    notify "${PROGRAM} ${args('10.168.222.189')} notify"\n`);
    expect(renderKeepalived(m, m.nodes[0])).toContain(`    notify_master_rx_lower_pri "${PROGRAM} ${args('10.168.222.189')} reassert"\n`);
    expect(renderKeepalived(m, m.nodes[1])).toContain(`    notify "${PROGRAM} ${args('10.168.222.190')} notify"\n`);
    expect(renderKeepalived(m, m.nodes[0])).not.toContain('notify_master ');
  });
  it('aws route and gce modes carry their settings', () => {
    const aws = withCloud({ provider: 'aws', mode: 'route', routeTableIds: ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210'], checkInterval: 5 }).model!;
    expect(vipCommand(aws, aws.nodes[0], 'notify')).toBe(`${PROGRAM} cloud=aws mode=route vip=10.168.222.18/32 address=10.168.222.189 every=5 tables=rtb-0123456789abcdef0,rtb-0fedcba9876543210 notify`);
    const alias = withCloud({ provider: 'gce', mode: 'alias-ip' }).model!;
    expect(vipCommand(alias, alias.nodes[1], 'reassert')).toBe(`${PROGRAM} cloud=gce mode=alias-ip vip=10.168.222.18/32 address=10.168.222.190 every=10 reassert`);
    const route = withCloud({ provider: 'gce', mode: 'route', routeName: 'k8s-vip' }).model!;
    expect(vipCommand(route, route.nodes[0], 'notify')).toBe(`${PROGRAM} cloud=gce mode=route vip=10.168.222.18/32 address=10.168.222.189 every=10 route=k8s-vip network=default notify`);
  });
  it('ships lbbake-vip (python standard library, the target\'s python) in every delivery: --node user-data, metadata mode, images', () => {
    const m = withCloud({ provider: 'aws', mode: 'secondary-ip' }).model!;
    const f = hookFiles(m).get(PROGRAM.slice(1))!;
    expect(f).toMatchObject({ mode: '0755', owner: 'root:root' });
    expect(f.content.split('\n')[0]).toBe('#!/usr/bin/python3');
    expect(f.content).not.toMatch(/^(import|from) (boto|google|requests)/m);
    const paths = (ud: string) => (parse(ud) as { write_files: Array<{ path: string; permissions: string }> }).write_files;
    for (const ud of [userdataForNode(m, m.nodes[0]), userdataForMetadata(m)]) {
      expect(paths(ud).find((w) => w.path === PROGRAM)?.permissions).toBe('0755');
    }
    expect(metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' }).get(PROGRAM.slice(1))?.mode).toBe('0755');
  });
  it('without vip.cloud (or with azure) there is no notify and no lbbake-vip', () => {
    for (const m of [compile(readFileSync(EXAMPLE, 'utf8')).model!, withCloud({ provider: 'azure' }).model!]) {
      // (the VIP holder's vrrp_notify_fifo is keepalived's state feed, not a cloud notify)
      expect(renderKeepalived(m, m.nodes[0])).not.toMatch(/^\s*notify(_master_rx_lower_pri)? /m);
      expect(hookFiles(m).size).toBe(0);
      expect(userdataForMetadata(m)).not.toContain('lbbake-vip');
    }
  });
  it('explain lists every IAM permission, how the VIP moves and the cloud step of the failover budget', () => {
    const aws = buildPlan(withCloud({ provider: 'aws', mode: 'secondary-ip' }).model!);
    expect(aws.vip.cloud?.permissions).toEqual(['ec2:AssignPrivateIpAddresses', 'ec2:DescribeNetworkInterfaces']);
    expect(aws.failover.cloudStep?.seconds).toBe(1.7);
    expect(aws.failover.cloudStep?.retries).toContain('a node that is no longer MASTER never makes a call that changes the cloud');
    const route = buildPlan(withCloud({ provider: 'gce', mode: 'route', routeName: 'k8s-vip' }).model!);
    expect(route.vip.cloud?.permissions).toEqual(['compute.globalOperations.get', 'compute.networks.updatePolicy', 'compute.routes.create', 'compute.routes.delete', 'compute.routes.list']);
    expect(route.vip.cloud?.how).toContain('create before delete');
    const text = formatPlan(aws);
    expect(text).toContain('IAM permissions the nodes need: ec2:AssignPrivateIpAddresses, ec2:DescribeNetworkInterfaces');
    expect(text).toContain('+ the cloud step after either: about 1.7 s');
    // every cloud's prerequisites are listed whatever lb.yaml chose, OpenStack's allowed-address-pairs included
    expect(aws.clouds.openstack.join('\n')).toContain('allowed-address-pairs');
    expect(aws.clouds.gce.join('\n')).toContain('compute.instances.updateNetworkInterface');
  });
});

describe('vip.cloud azure: haproxy answers the load balancer\'s probe only on the node holding the VIP', () => {
  it('a probe frontend on every address at probePort, 200 only while a check from the VIP to the VIP succeeds', () => {
    const m = withCloud({ provider: 'azure', probePort: 61001 }).model!;
    const cfg = renderHaproxy(m, m.nodes[0]);
    expect(cfg).toContain('frontend lbbake-azure-probe\n    bind 0.0.0.0:61001\n    mode http\n');
    expect(cfg).toContain('    monitor-uri /\n    monitor fail if { nbsrv(lbbake-azure-vip) lt 1 }\n');
    expect(cfg).toContain('    server vip 10.168.222.18:61001 source 10.168.222.18 check inter 1s fall 1 rise 1\n');
    // the same file on every node (no node address in it)
    expect(renderHaproxy(m, m.nodes[1])).toBe(cfg);
    const plan = buildPlan(m);
    expect(plan.vip.cloud).toMatchObject({ provider: 'azure', probePort: 61001, permissions: [] });
    expect(plan.clouds.azure.join('\n')).toMatch(/floating IP enabled.*HTTP health probe on port 61001, path \//);
  });
  it('the probe port may not collide with a service or the stats page', () => {
    const r = withCloud({ provider: 'azure', probePort: 6443 });
    expect(r.diagnostics.map((d) => `${d.code} ${d.path}`)).toContain('DUPLICATE_PORT /vip/cloud/probePort');
  });
});

describe('vip.cloud schema and rules', () => {
  const codes = (c: object, os?: string) => withCloud(c, os).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path}`);
  it('rejects a mode of the other cloud, a missing mode or route table, a bad id, keys of another provider', () => {
    expect(codes({ provider: 'aws', mode: 'alias-ip' })).toContain('BAD_VALUE /vip/cloud/mode');
    expect(codes({ provider: 'gce', mode: 'secondary-ip' })).toContain('BAD_VALUE /vip/cloud/mode');
    expect(codes({ provider: 'aws' })).toContain('MISSING_KEY /vip/cloud');
    expect(codes({ provider: 'aws', mode: 'route' })).toContain('MISSING_KEY /vip/cloud');
    expect(codes({ provider: 'gce', mode: 'route' })).toContain('MISSING_KEY /vip/cloud');
    expect(codes({ provider: 'aws', mode: 'route', routeTableIds: ['rtb-x; rm -rf /'] })).toContain('BAD_STRING /vip/cloud/routeTableIds/0');
    expect(codes({ provider: 'azure', mode: 'route' })).toContain('UNKNOWN_KEY /vip/cloud/mode');
    expect(codes({ provider: 'aws', mode: 'secondary-ip', probePort: 61000 })).toContain('UNKNOWN_KEY /vip/cloud/probePort');
    expect(codes({ provider: 'aws', mode: 'secondary-ip', checkInterval: 1 })).toContain('OUT_OF_RANGE /vip/cloud/checkInterval');
    expect(codes({ provider: 'openstack' })).toContain('BAD_VALUE /vip/cloud/provider');
  });
  it('CLOUD_VIP_OS: lbbake-vip needs an OS where keepalived\'s notify script may call the cloud (not SELinux-confined Rocky)', () => {
    expect(codes({ provider: 'aws', mode: 'secondary-ip' }, 'rocky9')).toEqual(['CLOUD_VIP_OS /vip/cloud/provider']);
    expect(codes({ provider: 'gce', mode: 'alias-ip' }, 'rocky8')).toEqual(['CLOUD_VIP_OS /vip/cloud/provider']);
    for (const os of ['debian12', 'ubuntu2204', 'ubuntu2404']) expect(codes({ provider: 'gce', mode: 'alias-ip' }, os)).toEqual([]);
    expect(codes({ provider: 'azure' }, 'rocky9')).toEqual([]);
    // the version conditions, on an OS lbbake does not target (CentOS 7: python 2.7, keepalived 1.3.5)
    const old = { ...OS_FACTS.debian12, selinux: false, python: { path: '/usr/bin/python', version: [2, 7] as [number, number] }, keepalivedVersion: [1, 3, 5] as [number, number, number] };
    expect(cloudVipOsProblems(old).map((p) => p.split(' ')[0])).toEqual(['lbbake-vip', 'keepalived']);
    expect(cloudVipOsProblems(OS_FACTS.debian12)).toEqual([]);
  });
});

const noKeepalived = missing(['keepalived', 'ip'], { root: true });
describe.skipIf(noKeepalived)('keepalived -t accepts the notify lines', () => {
  it('for aws, gce and the resolved interface together', () => {
    for (const c of [{ provider: 'aws', mode: 'route', routeTableIds: ['rtb-0123456789abcdef0'] }, { provider: 'gce', mode: 'route', routeName: 'vip' }]) {
      const m = withCloud(c).model!;
      const r = keepalivedCheckText(renderKeepalived(m, m.nodes[0]), []);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toBe('');
    }
  });
});
