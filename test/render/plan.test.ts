import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { EXAMPLE, run } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';

const dir = useTempDir('lbbake-ux-explain');

function variant(name: string, edit: (doc: any) => void): string {
  const doc = parse(readFileSync(EXAMPLE, 'utf8'));
  edit(doc);
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, stringify(doc));
  return f;
}

describe('lbbake explain on the example', () => {
  it('prints states, priorities, the failover budget, firewall rules and cloud prerequisites', async () => {
    const r = await run(['explain', EXAMPLE]);
    expect(r.code, r.stderr).toBe(0);
    const t = r.stdout;
    expect(t).toMatch(/^cluster k8s-apiserver \(Debian 12\)\n/);
    expect(t).toMatch(/lb-0 +10\.168\.222\.189 +MASTER priority 250; haproxy down -> FAULT/);
    expect(t).toMatch(/lb-1 +10\.168\.222\.190 +BACKUP priority 249; haproxy down -> FAULT/);
    expect(t).toContain('haproxy dies on the MASTER: 1.5 s = detect 1 s + takeover 0.5 s');
    expect(t).toContain('MASTER node lost:           3.03 s');
    expect(t).toContain('vrrp (IP protocol 112): lb-0 10.168.222.189 -> 10.168.222.190');
    expect(t).toContain('vrrp (IP protocol 112): lb-1 10.168.222.190 -> 10.168.222.189');
    expect(t).toContain('tcp port 6443: clients -> VIP 10.168.222.18');
    expect(t).toContain('tcp: LB nodes 10.168.222.189, 10.168.222.190 -> 10.168.222.218:6443, 10.168.222.197:6443, 10.168.222.207:6443');
    expect(t).toContain('tcp port 1080: localhost only');
    for (const cloud of ['aws', 'gce', 'azure', 'openstack']) expect(t).toContain(`\n  ${cloud}:\n`);
    expect(t).toMatch(/allowed-address-pairs/);
    expect(t).toMatch(/floating IP/);
  });
  it('--json gives the same as data', async () => {
    const r = await run(['explain', EXAMPLE, '--json']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.nodes.map((n: any) => [n.name, n.state, n.priority])).toEqual([
      ['lb-0', 'MASTER', 250],
      ['lb-1', 'BACKUP', 249],
    ]);
    expect(p.check).toMatchObject({ weight: 0, onFailure: 'FAULT', intervalSeconds: 1, fall: 1 });
    expect(p.failover.haproxyDeath).toMatchObject({ detectSeconds: 1, takeoverSeconds: 0.5, totalSeconds: 1.5 });
    expect(p.failover.nodeLoss.seconds).toBe(3.03);
    expect(p.firewall.filter((f: any) => f.protocol.startsWith('vrrp'))).toHaveLength(2);
    expect(Object.keys(p.clouds)).toEqual(['aws', 'gce', 'azure', 'openstack']);
  });
  it('lower-priority mode shows the computed weight and the Master_Down wait', async () => {
    const f = variant('lower', (d) => {
      d.vrrp.check.onFailure = 'lower-priority';
    });
    const r = await run(['explain', f, '--json']);
    const p = JSON.parse(r.stdout);
    expect(p.check).toMatchObject({ weight: -2, onFailure: 'lower priority' });
    expect(p.nodes[0].onCheckFailure).toBe('priority 250 -> 248');
    expect(p.failover.haproxyDeath.totalSeconds).toBe(4.03);
  });
  it('shows the cloud VIP move when vip.cloud is set', async () => {
    const f = variant('cloud', (d) => {
      d.vip.cloud = { provider: 'aws', mode: 'secondary-ip' };
    });
    const r = await run(['explain', f]);
    expect(r.stdout).toContain('cloud: aws secondary-ip: lbbake-vip assigns 10.168.222.18 as a secondary private IP');
    expect(r.stdout).toContain('keepalived notify (lb-0; the others differ in address=): "/usr/local/libexec/lbbake/lbbake-vip cloud=aws mode=secondary-ip vip=10.168.222.18/32 address=10.168.222.189 every=10 notify"');
  });
  it('says how each node finds its VRRP interface when vip.interface is not set, and names a set one', async () => {
    const r = await run(['explain', EXAMPLE, '--json']);
    expect(JSON.parse(r.stdout).vip).toMatchObject({ interface: null, interfaceHow: expect.stringContaining('the NIC that holds its own address (lb-0 10.168.222.189, lb-1 10.168.222.190)') });
    const set = await run(['explain', variant('iface', (d) => { d.vip.interface = 'ens5'; }), '--json']);
    expect(JSON.parse(set.stdout).vip).toMatchObject({ interface: 'ens5', interfaceHow: 'vip.interface: ens5 on every node' });
    // render --node says it too, next to what it wrote
    const out = join(dir, 'render-iface');
    const rr = await run(['render', EXAMPLE, '--node', 'lb-1', '-o', out]);
    expect(rr.stderr).toContain('vip.interface is not set: keepalived.conf includes /run/lbbake/keepalived-interface.conf, which lb-1 writes at boot as "interface <the NIC holding 10.168.222.190>"');
    expect(readFileSync(join(out, 'etc/keepalived/keepalived.conf'), 'utf8')).toContain('    include /run/lbbake/keepalived-interface.conf\n');
  });
  it('a DNS-backed service: the name, slots and timers, and UDP 53 to the nameservers in the firewall rules', async () => {
    const f = variant('dns', (d) => {
      d.services[0].dns = { name: 'api.k8s.internal', max: 5, nameservers: ['10.168.222.2'] };
      delete d.services[0].servers;
    });
    const r = await run(['explain', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('-> up to 5 servers from DNS api.k8s.internal port 6443 slots api-1..api-5, asked at 10.168.222.2 every 1s');
    expect(r.stdout).toContain('udp port 53: LB nodes 10.168.222.189, 10.168.222.190 -> 10.168.222.2  (DNS lookups of api.k8s.internal');
    expect(r.stdout).toContain('-> every address api.k8s.internal resolves to, port 6443');
  });

  it('metrics: each node\'s endpoints and the firewall rule they need; none without metrics', async () => {
    const node = variant('metrics-node', (d) => {
      d.metrics = { bind: 'node' };
    });
    const r = await run(['explain', node]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('metrics (Prometheus, scrape each LB node):\n  lb-0         http://10.168.222.189:8405/metrics (haproxy)  http://10.168.222.189:8405/metrics/keepalived (VRRP state)\n  lb-1         http://10.168.222.190:8405/metrics');
    expect(r.stdout).toContain('tcp port 8405: your Prometheus servers -> 10.168.222.189, 10.168.222.190  (metrics: /metrics and /metrics/keepalived on every LB node)');
    const j = JSON.parse((await run(['explain', node, '--json'])).stdout);
    expect(j.metrics.endpoints[1]).toEqual({ node: 'lb-1', haproxy: 'http://10.168.222.190:8405/metrics', keepalived: 'http://10.168.222.190:8405/metrics/keepalived' });
    const local = variant('metrics-local', (d) => {
      d.metrics = { port: 9105 };
    });
    const l = await run(['explain', local]);
    expect(l.stdout).toContain('lb-0         http://127.0.0.1:9105/metrics (haproxy)');
    expect(l.stdout).toContain('tcp port 9105: localhost only -> 127.0.0.1  (metrics: no rule needed');
    const off = JSON.parse((await run(['explain', EXAMPLE, '--json'])).stdout);
    expect(off.metrics).toEqual({ enabled: false });
    expect(JSON.stringify(off.firewall)).not.toContain('metrics');
  });

  it('an invalid file is exit 1 with diagnostics, no plan', async () => {
    const f = variant('bad', (d) => {
      d.vrrp.routerId = 300;
    });
    const r = await run(['explain', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/OUT_OF_RANGE/);
  });
});

describe('explain never prints a secret', () => {
  const SECRETS = { auth: 'Zq7#kP2x', stats: 'Stats-Secret-4711' };
  const f = variant('secrets', (d) => {
    d.vrrp.auth = { pass: SECRETS.auth };
    d.stats = { port: 1080, bind: 'node', user: 'admin', password: SECRETS.stats };
  });
  for (const json of [false, true]) {
    it(json ? '--json' : 'text', async () => {
      const r = await run(['explain', f, ...(json ? ['--json'] : [])]);
      expect(r.code, r.stderr).toBe(0);
      const all = r.stdout + r.stderr;
      expect(all).toMatch(/not shown/);
      for (const s of Object.values(SECRETS)) {
        expect(all).not.toContain(s);
        expect(all).not.toContain(s.slice(0, 5));
      }
    });
  }
});
