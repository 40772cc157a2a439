/**
 * Live suite: seeing the pair. Both LB nodes boot from the metadata-mode files (boot agent,
 * tracker, metrics on each node's address), a real Prometheus server from Debian runs in the
 * lab's client namespace and scrapes both nodes' /metrics and /metrics/keepalived every second,
 * and `lbbake-agent status` is read on both nodes before and after failovers. Needs root; in CI
 * a missing tool fails.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { missing } from '../helpers/tools.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { CLIENT, LAB_TOOLS, LB_NODES, type LbName, labModel, labYaml, NetLab, renderLab, waitFor } from '../helpers/netlab.js';

const reason = missing([...LAB_TOOLS, 'prometheus'], { root: true });

// preempt on: lb-0 takes the VIP back after each failover (the counters below count that)
const YAML = labYaml({ preempt: true }, { metrics: { bind: 'node' } });
const PROM = `${CLIENT}:9090`;
const SCRAPE_S = 1;
const addr = (n: LbName) => LB_NODES.find((x) => x.name === n)!.address;
const target = (n: LbName) => `${addr(n)}:8405`;

interface Status {
  node: string | null;
  resolvedFrom: string | null;
  vrrp: { state: string | null; priority: number | null; since: number | null; keepalived: string; history: Array<{ at: number; state: string }> };
  vip: { address: string; here: boolean | null; holder: { name?: string | null; address?: string; priority?: number } };
  services: Array<{ name: string; servers: Array<{ name: string; status: string; check: string }> }>;
  problems: string[];
}

describe.skipIf(reason)('seeing the pair: Prometheus metrics and lbbake-agent status', () => {
  let lab: NetLab;
  let prom: ChildProcess | undefined;
  const m = labModel(YAML);

  const agent = (n: LbName, args: string[]) => lab.exec(n, [lab.python, '/usr/local/sbin/lbbake-agent', ...args], 30_000);
  const statusJson = (n: LbName): Status => {
    const r = agent(n, ['status', '--json']);
    return JSON.parse(r.stdout) as Status;
  };

  /** GET on Prometheus's HTTP API from the client namespace (the only place it is reachable). */
  const api = (path: string): { status: string; data: { result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> } } => {
    const r = lab.execNs('cl', [lab.python, '-c', 'import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1],timeout=5).read().decode())', `http://${PROM}${path}`], 15_000);
    if (r.status !== 0) throw new Error(`prometheus API ${path}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const query = (q: string) => api(`/api/v1/query?query=${encodeURIComponent(q)}`).data.result;
  /** The value of a query with exactly one series, or undefined. */
  const one = (q: string): number | undefined => {
    const r = query(q);
    return r.length === 1 ? Number(r[0].value![1]) : undefined;
  };
  /** Raw samples of a series over the last `s` seconds: [unix time, value]. */
  const samples = (q: string, s: number): Array<[number, number]> => {
    const r = query(`${q}[${s}s]`);
    if (r.length !== 1) throw new Error(`${q}: ${r.length} series`);
    return r[0].values!.map(([t, v]) => [t, Number(v)]);
  };
  const counters = (n: LbName) =>
    Object.fromEntries(['MASTER', 'BACKUP', 'FAULT'].map((s) => [s, one(`lbbake_vrrp_transitions_total{instance="${target(n)}",state="${s}"}`)]));
  /** When the tracker saw the node's last state change (ms precision), or (updated) when it last wrote, e.g. STOP. */
  const tracked = (n: LbName, key: 'since' | 'updated'): number => JSON.parse(lab.exec(n, ['cat', '/run/lbbake/vrrp.json']).stdout)[key] as number;

  /**
   * The node's lbbake_vrrp_state{state} was 0 in every scrape of the 3 s before the node's last
   * transition and 1 in every one after it, and the first scrape after it came within one scrape
   * interval (plus a margin for a scrape in flight).
   */
  function flipped(n: LbName, state: string, key: 'since' | 'updated' = 'since'): void {
    const t = tracked(n, key);
    const series = samples(`lbbake_vrrp_state{instance="${target(n)}",state="${state}"}`, 120).filter(([ts]) => ts >= t - 3);
    const before = series.filter(([ts]) => ts < t - 0.05);
    const after = series.filter(([ts]) => ts > t + 0.05);
    expect(before.length, `${n} ${state}: scrapes before the change`).toBeGreaterThan(0);
    expect(before.every(([, v]) => v === 0), `${n} ${state} before ${t}: ${JSON.stringify(before)}`).toBe(true);
    expect(after.length, `${n} ${state}: scrapes after the change`).toBeGreaterThan(0);
    expect(after.every(([, v]) => v === 1), `${n} ${state} after ${t}: ${JSON.stringify(after)}`).toBe(true);
    expect(after[0][0] - t, `first scrape after the change on ${n}`).toBeLessThanOrEqual(SCRAPE_S + 0.5);
  }

  async function scraped(what: string, fn: () => boolean): Promise<void> {
    await waitFor(what, fn, { timeoutMs: 30_000, intervalMs: 500 });
  }

  beforeAll(async () => {
    lab = await NetLab.create();
    const files = metadataModeFiles(m, { secrets: 'inline' });
    for (const n of ['lb-0', 'lb-1'] as const) {
      lab.writeNodeFiles(n, files);
      await lab.startNode(n, { haproxy: false, keepalived: false });
      const r = lab.exec(n, ['env', 'LBBAKE_SOURCES=address', lab.python, '/usr/local/sbin/lbbake-agent'], 60_000);
      expect(r.status, r.stderr).toBe(0);
      lab.startHaproxy(n);
      lab.startKeepalived(n);
    }
    await lab.steady();

    // Prometheus (Debian's package) in the client namespace, bounded: retention and lifetime
    const dir = join(lab.dir, 'prometheus');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const targets = LB_NODES.map((n) => `'${target(n.name)}'`).join(', ');
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:',
      `  scrape_interval: ${SCRAPE_S}s`,
      `  scrape_timeout: ${SCRAPE_S}s`,
      'scrape_configs:',
      '  - job_name: haproxy',
      `    static_configs: [{ targets: [${targets}] }]`,
      '  - job_name: keepalived',
      '    metrics_path: /metrics/keepalived',
      `    static_configs: [{ targets: [${targets}] }]`,
      '',
    ].join('\n'));
    const log = openSync(join(dir, 'prometheus.log'), 'a');
    prom = spawn('ip', ['netns', 'exec', lab.ns('cl'), 'timeout', '600', 'prometheus', `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`, '--storage.tsdb.retention.time=1h', `--web.listen-address=${PROM}`],
    { stdio: ['ignore', log, log] });
    closeSync(log);
    await waitFor('prometheus ready', () => {
      try {
        return query('up').filter((s) => s.value![1] === '1').length === 4;
      } catch {
        return false;
      }
    }, { timeoutMs: 60_000, intervalMs: 500 });
  }, 180_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && lab) {
      console.error(lab.diagnose());
      for (const n of ['lb-0', 'lb-1'] as const) console.error(`--- ${n} status\n${agent(n, ['status']).stdout}`);
    }
  });

  afterAll(() => {
    prom?.kill('SIGKILL');
    lab?.destroy();
  });

  it('lbbake-agent status, both nodes, steady state: lb-0 MASTER holding the VIP, lb-1 BACKUP seeing lb-0 as holder, every apiserver UP, nothing wrong', () => {
    const s0 = statusJson('lb-0');
    const s1 = statusJson('lb-1');
    expect(s0.node).toBe('lb-0');
    expect(s0.resolvedFrom).toBe('address');
    expect(s0.vrrp).toMatchObject({ state: 'MASTER', priority: 250, keepalived: 'running' });
    expect(s0.vip).toMatchObject({ here: true, holder: { name: 'lb-0', address: addr('lb-0') } });
    expect(s1.vrrp).toMatchObject({ state: 'BACKUP', priority: 249, keepalived: 'running' });
    expect(s1.vip).toMatchObject({ here: false, holder: { name: 'lb-0', address: addr('lb-0'), priority: 250 } });
    expect(s1.vrrp.history.map((h) => h.state).slice(-1)).toEqual(['BACKUP']);
    expect(s1.vrrp.history.map((h) => h.state)).not.toContain('MASTER');
    for (const s of [s0, s1]) {
      expect(s.problems).toEqual([]);
      expect(s.services).toHaveLength(1);
      expect(s.services[0].servers.map((x) => `${x.name} ${x.status}`)).toEqual(['m0 UP', 'm1 UP', 'm2 UP']);
    }
    // the text form says the same; exit 0 when nothing is wrong
    const t0 = agent('lb-0', ['status']);
    expect(t0.status).toBe(0);
    expect(t0.stdout).toMatch(/^cluster lab, node lb-0 \(resolved from address\)$/m);
    expect(t0.stdout).toMatch(/^VRRP +MASTER, priority 250, keepalived running$/m);
    expect(t0.stdout).toMatch(/^change +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d BACKUP\nchange +\S+ \S+ MASTER$/m);
    expect(t0.stdout).toMatch(/^service +kubernetes-apiserver\n  m0 +198\.18\.0\.21:6443 +UP +L7OK/m);
    expect(t0.stdout).toMatch(new RegExp(`^VIP +${m.vip.address.replace(/\./g, '\\.')} held by this node$`, 'm'));
    expect(t0.stdout).toMatch(/^problems none$/m);
    const t1 = agent('lb-1', ['status']);
    expect(t1.status).toBe(0);
    expect(t1.stdout).toMatch(/^VRRP +BACKUP, priority 249, keepalived running$/m);
    expect(t1.stdout).toMatch(/held by lb-0 \(198\.18\.0\.11, priority 250\)$/m);
    // read-only, and no secret in its output
    const secrets = JSON.parse(readFileSync(join(lab.nodeRoot('lb-0'), 'etc/lbbake/secrets.json'), 'utf8')) as Record<string, string>;
    for (const v of Object.values(secrets)) for (const out of [t0.stdout, t1.stdout, JSON.stringify(s0), JSON.stringify(s1)]) expect(out).not.toContain(v);
  });

  it('Prometheus scrapes both nodes: haproxy exporter and keepalived state; lb-0 MASTER, lb-1 BACKUP', async () => {
    await scraped('lb-0 MASTER and lb-1 BACKUP in Prometheus', () =>
      one(`lbbake_vrrp_state{instance="${target('lb-0')}",state="MASTER"}`) === 1 && one(`lbbake_vrrp_state{instance="${target('lb-1')}",state="BACKUP"}`) === 1);
    expect(one(`lbbake_vrrp_state{instance="${target('lb-1')}",state="MASTER"}`)).toBe(0);
    expect(one(`lbbake_vrrp_priority{instance="${target('lb-0')}"}`)).toBe(250);
    expect(one(`lbbake_vrrp_published_age_seconds{instance="${target('lb-0')}"}`)).toBeLessThan(30);
    expect(query('haproxy_process_start_time_seconds').length).toBe(2);
    for (const n of ['lb-0', 'lb-1'] as const) {
      expect(one(`haproxy_server_status{instance="${target(n)}",proxy="kubernetes-apiserver",server="m1",state="UP"}`)).toBe(1);
    }
  });

  it('an apiserver marked DOWN shows in both nodes\' haproxy metrics and in lbbake-agent status; back UP when it recovers', async () => {
    lab.setReady('m1', false);
    try {
      await scraped('m1 DOWN in both nodes\' haproxy metrics', () =>
        (['lb-0', 'lb-1'] as const).every((n) => one(`haproxy_server_status{instance="${target(n)}",proxy="kubernetes-apiserver",server="m1",state="DOWN"}`) === 1));
      expect(one(`haproxy_server_status{instance="${target('lb-0')}",proxy="kubernetes-apiserver",server="m0",state="UP"}`)).toBe(1);
      const s = statusJson('lb-0');
      expect(s.services[0].servers.find((x) => x.name === 'm1')!.status).toBe('DOWN');
      expect(s.problems.join('\n')).toMatch(/kubernetes-apiserver\/m1 is DOWN: L7STS/);
      expect(agent('lb-0', ['status']).status).toBe(1);
    } finally {
      lab.setReady('m1', true);
    }
    await scraped('m1 UP again', () =>
      (['lb-0', 'lb-1'] as const).every((n) => one(`haproxy_server_status{instance="${target(n)}",proxy="kubernetes-apiserver",server="m1",state="UP"}`) === 1));
    expect(statusJson('lb-0').problems).toEqual([]);
  });

  it('failover (haproxy dies on lb-0): lb-1\'s MASTER metric flips within one scrape interval, its MASTER counter rises by exactly one; status on both nodes follows; failback counts exactly FAULT, BACKUP, MASTER on lb-0 and BACKUP on lb-1', async () => {
    const c0 = counters('lb-0');
    const c1 = counters('lb-1');
    lab.killHaproxy('lb-0');
    await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
    await scraped('lb-1 MASTER in Prometheus', () => one(`lbbake_vrrp_state{instance="${target('lb-1')}",state="MASTER"}`) === 1);
    await new Promise((r) => setTimeout(r, 3 * SCRAPE_S * 1000));
    flipped('lb-1', 'MASTER');
    expect(counters('lb-1')).toEqual({ ...c1, MASTER: c1.MASTER! + 1 });
    // lb-0's haproxy (which serves its metrics) is dead: Prometheus sees the target down
    await scraped('lb-0 targets down', () => query(`up{instance="${target('lb-0')}"} == 0`).length === 2);

    const s1 = statusJson('lb-1');
    expect(s1.vrrp.state).toBe('MASTER');
    expect(s1.vip).toMatchObject({ here: true, holder: { name: 'lb-1' } });
    expect(s1.problems).toEqual([]);
    const s0 = statusJson('lb-0');
    expect(s0.vrrp.state).toBe('FAULT');
    expect(s0.vip).toMatchObject({ here: false, holder: { name: 'lb-1', address: addr('lb-1'), priority: 249 } });
    expect(s0.problems.join('\n')).toMatch(/^VRRP FAULT/m);
    expect(s0.problems.join('\n')).toMatch(/^haproxy stats socket .*\(is haproxy running\?\)$/m);
    expect(s0.vrrp.history.map((h) => h.state).slice(-1)).toEqual(['FAULT']);
    const t0 = agent('lb-0', ['status']);
    expect(t0.status).toBe(1);
    expect(t0.stdout).toMatch(/^VRRP +FAULT,/m);
    expect(t0.stdout).toMatch(/held by lb-1 \(198\.18\.0\.12, priority 249\)$/m);
    expect(agent('lb-1', ['status']).stdout).toMatch(/held by this node$/m);

    // failback: haproxy returns, lb-0 goes FAULT -> BACKUP -> MASTER (preempt), lb-1 MASTER -> BACKUP
    lab.startHaproxy('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0', { timeoutMs: 30_000 });
    await scraped('lb-0 MASTER again in Prometheus (tracker republished into the new haproxy)', () =>
      one(`lbbake_vrrp_state{instance="${target('lb-0')}",state="MASTER"}`) === 1 && one(`lbbake_vrrp_state{instance="${target('lb-1')}",state="BACKUP"}`) === 1);
    await new Promise((r) => setTimeout(r, 3 * SCRAPE_S * 1000));
    flipped('lb-1', 'BACKUP');
    expect(counters('lb-1')).toEqual({ ...c1, MASTER: c1.MASTER! + 1, BACKUP: c1.BACKUP! + 1 });
    expect(counters('lb-0')).toEqual({ MASTER: c0.MASTER! + 1, BACKUP: c0.BACKUP! + 1, FAULT: c0.FAULT! + 1 });
    expect(statusJson('lb-0')).toMatchObject({ vrrp: { state: 'MASTER' }, vip: { here: true }, problems: [] });
    expect(statusJson('lb-1')).toMatchObject({ vrrp: { state: 'BACKUP' }, vip: { here: false, holder: { name: 'lb-0' } }, problems: [] });
  });

  it('failover with haproxy alive (keepalived stopped on lb-0): lb-0 reports STOP and lb-1 MASTER, each within one scrape interval; only lb-1\'s MASTER counter moves', async () => {
    const c0 = counters('lb-0');
    const c1 = counters('lb-1');
    lab.exec('lb-0', ['pkill', '-TERM', '-x', 'keepalived']);
    await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
    await scraped('lb-0 STOP and lb-1 MASTER in Prometheus', () =>
      one(`lbbake_vrrp_state{instance="${target('lb-0')}",state="STOP"}`) === 1 && one(`lbbake_vrrp_state{instance="${target('lb-1')}",state="MASTER"}`) === 1);
    await new Promise((r) => setTimeout(r, 3 * SCRAPE_S * 1000));
    flipped('lb-1', 'MASTER');
    flipped('lb-0', 'STOP', 'updated');
    expect(one(`lbbake_vrrp_state{instance="${target('lb-0')}",state="MASTER"}`)).toBe(0);
    expect(counters('lb-1')).toEqual({ ...c1, MASTER: c1.MASTER! + 1 });
    expect(counters('lb-0')).toEqual(c0);
    const s0 = statusJson('lb-0');
    expect(s0.vrrp).toMatchObject({ state: 'STOP', keepalived: 'not running' });
    expect(s0.problems.join('\n')).toMatch(/^VRRP STOP \(STOP: keepalived is not running/m);
    expect(s0.vip).toMatchObject({ here: false, holder: { name: 'lb-1' } });
    lab.startKeepalived('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0', { timeoutMs: 30_000 });
    await scraped('lb-0 MASTER again in Prometheus', () => one(`lbbake_vrrp_state{instance="${target('lb-0')}",state="MASTER"}`) === 1);
    expect(statusJson('lb-0')).toMatchObject({ vrrp: { state: 'MASTER', keepalived: 'running' }, problems: [] });
  });

  it('preempt off (the default) with metrics: the tracker, keepalived\'s one FIFO script, also keeps the VIP-holder file, so the VIP stays where it went', async () => {
    const held = labYaml({}, { metrics: { bind: 'node' } });
    const files = renderLab(held);
    expect(files['lb-0'].get('etc/keepalived/keepalived.conf')!.content).toContain(' hold=/run/lbbake-vrrp-holder"\n');
    expect(files['lb-0'].has('usr/local/libexec/lbbake/vrrp-holder')).toBe(false);
    await lab.deploy(files);
    await lab.steady();
    const holder = (n: LbName) => lab.exec(n, ['cat', '/run/lbbake-vrrp-holder']).stdout;
    await waitFor('holder files written', () => holder('lb-0') === '1\n' && holder('lb-1') === '0\n');
    lab.killHaproxy('lb-0');
    await waitFor('lb-1 holds the VIP', () => lab.vipHolders().join() === 'lb-1');
    await waitFor('lb-1 is the holder now', () => holder('lb-1') === '1\n' && holder('lb-0') === '0\n');
    lab.startHaproxy('lb-0');
    await waitFor('lb-0 back as BACKUP', () => lab.exec('lb-0', ['cat', '/run/lbbake/vrrp.json']).stdout.includes('"state": "BACKUP"'), { timeoutMs: 30_000, intervalMs: 500 });
    await new Promise((r) => setTimeout(r, 6_000)); // several adverts with a healthy, higher-priority lb-0
    expect(lab.vipHolders()).toEqual(['lb-1']);
    expect(holder('lb-1')).toBe('1\n');
  });
});
