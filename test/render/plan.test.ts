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
    expect(t).toMatch(/lb-0 +10\.168\.222\.189 +BACKUP priority 250 \(252 \/ 246\); haproxy down -> FAULT/);
    expect(t).toMatch(/lb-1 +10\.168\.222\.190 +BACKUP priority 249 \(251 \/ 245\); haproxy down -> FAULT/);
    expect(t).toContain('cold start: every node starts as BACKUP');
    expect(t).toContain('afterwards: preempt off: the VIP stays on the node holding it (hold +2)');
    expect(t).toContain('readiness check: /usr/bin/curl');
    expect(t).toContain('haproxy dies on the MASTER: 1 s = detect 1 s + takeover 0 s');
    expect(t).toContain('MASTER node lost:           0.5 s');
    expect(t).toContain('MASTER stops or reboots:    0 s');
    expect(t).toContain('MASTER reaches no server:   9 s');
    expect(t).toContain("haproxy.service reports haproxy's exit (stop, crash, failed start) at once");
    expect(t).toContain('host: every node loads the nftables table inet lbbake_vrrp (lbbake-vrrp-firewall.service): VRRP only from 10.168.222.189, 10.168.222.190');
    expect(t).toContain('takes over after its Master_Down timer: 5 missed adverts x 0.1 s');
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
      ['lb-0', 'BACKUP', 250],
      ['lb-1', 'BACKUP', 249],
    ]);
    expect(p.check).toMatchObject({ weight: 0, onFailure: 'FAULT', intervalSeconds: 1, fall: 1 });
    expect(p.readiness).toMatchObject({ enabled: true, weight: -4, page: '127.0.0.1:1081/lbbake/ready' });
    expect(p.hold).toEqual({ enabled: true, weight: 2, file: '/run/lbbake-vrrp-holder' });
    expect(p.failover.haproxyDeath).toMatchObject({ detectSeconds: 1, takeoverSeconds: 0, totalSeconds: 1 });
    expect(p.failover.nodeLoss.seconds).toBe(0.5);
    expect(p.failover.gracefulStop.seconds).toBe(0);
    expect(p.failover.backendCut.seconds).toBe(9);
    expect(p.firewall.filter((f: any) => f.protocol.startsWith('vrrp'))).toHaveLength(2);
    expect(Object.keys(p.clouds)).toEqual(['aws', 'gce', 'azure', 'openstack']);
  });
  it('lower-priority mode shows the computed weight and the Master_Down wait', async () => {
    const f = variant('lower', (d) => {
      d.vrrp.check.onFailure = 'lower-priority';
    });
    const r = await run(['explain', f, '--json']);
    const p = JSON.parse(r.stdout);
    // below the lowest node even while holding the VIP: 249 - (gap 1 + hold 2 + 1)
    expect(p.check).toMatchObject({ weight: -4, onFailure: 'lower priority' });
    expect(p.nodes[0].onCheckFailure).toBe('priority 250 -> 246');
    // 1 s check + the BACKUP's Master_Down: 5 adverts x 0.1 s + skew
    expect(p.failover.haproxyDeath.totalSeconds).toBe(1.5);
  });
  it('the full Master_Down time for any advert interval (3 adverts + skew), not a fixed takeover', async () => {
    const f = variant('slow-advert', (d) => {
      d.vrrp.advertInterval = 40;
    });
    const p = JSON.parse((await run(['explain', f, '--json'])).stdout);
    // 3 x 40 + (256 - 249) / 256 x 40 = 121.09; FAULT: the skew alone, 1.09
    expect(p.failover.nodeLoss.seconds).toBe(121.09);
    expect(p.failover.haproxyDeath.takeoverSeconds).toBe(1.09);
    expect(p.failover.gracefulStop.seconds).toBe(1.09);
  });
  it('the backend-cut budget waits the preempt_delay of the slowest service\'s health detection', async () => {
    const f = variant('slow-health', (d) => {
      d.services[0].health = { ...d.services[0].health, interval: 2000, fall: 3 };
    });
    const p = JSON.parse((await run(['explain', f, '--json'])).stdout);
    // preempt_delay: ceil(2 s x 3 + readiness 1 s x 1) + 1 = 8 s (4 s with the defaults)
    expect(p.failover.backendCut.how).toContain('preempt_delay (8 s,');
  });
  it('a lower-priority node given state MASTER: who holds the VIP at a cold start, and after', async () => {
    const off = variant('lowmaster', (d) => {
      d.nodes[1].state = 'MASTER';
    });
    const t = (await run(['explain', off])).stdout;
    expect(t).toContain('lb-1 starts as MASTER (state: MASTER) though lb-0 has the higher priority (250 > 249)');
    expect(t).toContain('with preempt off, lb-1 keeps it');
    // the budget is the worst case either way: lb-0 holding, lb-1 taking over
    expect(t).toContain('MASTER node lost:           0.5 s');
    const on = variant('lowmaster-preempt', (d) => {
      d.nodes[1].state = 'MASTER';
      d.vrrp.preempt = true;
    });
    const p = JSON.parse((await run(['explain', on, '--json'])).stdout);
    expect(p.holder.coldStart).toContain('with preempt on, lb-0 takes it back as soon as its checks pass');
    expect(p.nodes.map((n: any) => n.holding)).toEqual([250, 249]);
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
