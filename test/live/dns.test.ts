/**
 * Live DNS-backend suite: `services[].dns` rendered by lbbake, run by real haproxy in the
 * namespace lab with a real DNS server (dnsmasq) in its own namespace. The nodes' own
 * /etc/resolv.conf names that server, so the default (parse-resolv-conf) path is what runs.
 * Adding and removing apiservers is a DNS change alone: no reload, no failed request; a DNS
 * outage keeps the last answer. Needs root; in CI a missing tool fails.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/tools.js';
import { BACKENDS, DNS_SERVER, LAB_TOOLS, labModel, labYaml, NetLab, parseBody, type ProbeResult, renderLab, SPARE_BACKEND, sleep, waitFor } from '../helpers/netlab.js';

const reason = missing([...LAB_TOOLS, 'dnsmasq'], { root: true });

const DNS_YAML = labYaml({}, { dns: { max: 8 } });
const [m0, m1, m2] = BACKENDS.map((b) => b.address);
const m3 = SPARE_BACKEND.address;

const backendOf = (r: ProbeResult) => (r.ok ? parseBody(r.body)?.backend : undefined);
const failed = (rs: ProbeResult[]) => rs.filter((r) => !r.ok);

describe.skipIf(reason)('live DNS backends (haproxy resolvers + server-template, dnsmasq)', () => {
  let lab: NetLab;

  beforeAll(async () => {
    lab = await NetLab.create();
    lab.resolvConf = `# lab resolver\nnameserver ${DNS_SERVER}\n`;
    await lab.setDns([m0, m1, m2]);
    await lab.deploy(renderLab(DNS_YAML));
    await lab.steady({ timeoutMs: 30_000 });
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && lab) console.error(lab.diagnose());
  });

  afterAll(() => lab?.destroy());

  it('renders resolvers (parse-resolv-conf) and a server-template the real haproxy accepts', () => {
    const cfg = renderLab(DNS_YAML)['lb-0'].get('etc/haproxy/haproxy.cfg')!.content;
    expect(cfg).toMatch(/^resolvers lbbake-kubernetes-apiserver\n\s+parse-resolv-conf$/m);
    expect(cfg).toMatch(/^\s+server-template api- 1-8 api\.lab\.test:6443 check resolvers lbbake-kubernetes-apiserver /m);
    expect(labModel(DNS_YAML).services[0].servers).toEqual([]);
  });

  it('serves the three apiservers the DNS name resolves to, each health-checked', async () => {
    const rs = lab.get(6, 2);
    expect(failed(rs), JSON.stringify(rs)).toEqual([]);
    expect(new Set(rs.map(backendOf))).toEqual(new Set(['m0', 'm1', 'm2']));
    // the health check applies to each discovered server: an unready one gets no traffic
    lab.setReady('m2', false);
    try {
      await waitFor('m2 out of rotation', () => {
        const x = lab.get(3, 2);
        return x.length === 3 && x.every((r) => r.ok && backendOf(r) !== 'm2');
      }, { timeoutMs: 15_000, intervalMs: 300 });
    } finally {
      lab.setReady('m2', true);
    }
    await waitFor('m2 back', () => lab.get(3, 2).some((r) => backendOf(r) === 'm2'), { timeoutMs: 15_000, intervalMs: 300 });
  });

  it('a fourth apiserver added and one removed by a DNS change alone: traffic follows within seconds, no reload, no failed request', async () => {
    const pids = { 'lb-0': lab.haproxyPids('lb-0'), 'lb-1': lab.haproxyPids('lb-1') };
    await lab.startBackend('m3');
    const probe = lab.watch(0.05, 1, 60);
    try {
      await sleep(500);
      const added = await lab.setDns([m0, m1, m2, m3]);
      // resolution every 1 s, then rise 2 checks at 1 s: well within 10 s
      await waitFor('m3 serves', () => probe.results.some((r) => r.t * 1000 >= added - 1000 && backendOf(r) === 'm3'), { timeoutMs: 10_000, intervalMs: 50 });
      const removed = await lab.setDns([m1, m2, m3]);
      // m0 still runs and is healthy: only DNS takes it out (1 s resolution + hold obsolete 5 s)
      await sleep(9_000);
      const after = probe.results.filter((r) => r.t * 1000 > removed + 8_000);
      expect(after.length).toBeGreaterThan(10);
      expect(after.filter((r) => backendOf(r) === 'm0'), 'm0 still got traffic 8 s after leaving DNS').toEqual([]);
      expect(new Set(after.map(backendOf))).toEqual(new Set(['m1', 'm2', 'm3']));
    } finally {
      await probe.stop();
    }
    expect(failed(probe.results), JSON.stringify(failed(probe.results).slice(0, 5))).toEqual([]);
    expect(probe.results.length).toBeGreaterThan(50);
    // no reload, no restart: the same haproxy processes served throughout
    expect(lab.haproxyPids('lb-0')).toEqual(pids['lb-0']);
    expect(lab.haproxyPids('lb-1')).toEqual(pids['lb-1']);
    expect(lab.vipHolders()).toEqual(['lb-0']);
  });

  it('a DNS outage longer than haproxy\'s default hold (30 s) keeps the last known servers', async () => {
    await lab.setDns([m1, m2, m3]);
    await waitFor('m1, m2 and m3 serve', () => new Set(lab.get(6, 2).map(backendOf)).size === 3, { timeoutMs: 15_000, intervalMs: 300 });
    await lab.stopDns();
    const probe = lab.watch(0.1, 1, 60);
    try {
      await sleep(36_000);
    } finally {
      await probe.stop();
    }
    const late = probe.results.filter((r) => r.t >= probe.results[0].t + 31);
    expect(failed(probe.results), JSON.stringify(failed(probe.results).slice(0, 5))).toEqual([]);
    expect(new Set(late.map(backendOf))).toEqual(new Set(['m1', 'm2', 'm3']));
    // DNS back: resolution resumes and changes apply again
    await lab.setDns([m0, m1, m2]);
    await waitFor('m0 back from DNS', () => lab.get(6, 2).some((r) => backendOf(r) === 'm0'), { timeoutMs: 15_000, intervalMs: 300 });
  });
});
