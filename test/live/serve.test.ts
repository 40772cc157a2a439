/**
 * Live suite: the VIP follows the ability to serve, and long-lived streams survive everything
 * short of a real failure. Real keepalived and haproxy run what `lbbake render` writes (the lab
 * of test/helpers/netlab.ts); the client holds long-lived, mostly idle TLS streams through the
 * VIP (test/helpers/lab/streams.py) and counts which survive each event. Behaviour with generous
 * bounds, never timings (those are `npm run bench -- serve`). Needs root; in CI a missing tool fails.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, LAB_TOOLS, type LbName, labYaml, NetLab, parseBody, renderLab, sleep, type StreamSet, waitFor } from '../helpers/netlab.js';
import { missing } from '../helpers/tools.js';

const reason = missing([...LAB_TOOLS, 'iptables'], { root: true });

const DEFAULT = labYaml();
const count = (text: string, needle: string) => text.split(needle).length - 1;
/** MASTER transitions of both nodes so far (a VIP move is one more of them). */
const STREAMS = 9;

describe.skipIf(reason)('the VIP follows the ability to serve; long-lived streams', () => {
  let lab: NetLab;
  let streams: StreamSet | undefined;

  const masters = () => count(lab.readLog('lb-0', 'keepalived'), 'Entering MASTER STATE') + count(lab.readLog('lb-1', 'keepalived'), 'Entering MASTER STATE');
  const state = (n: LbName) => {
    const log = lab.readLog(n, 'keepalived');
    const at = (s: string) => log.lastIndexOf(`Entering ${s} STATE`);
    return (['MASTER', 'BACKUP', 'FAULT'] as const).reduce((best, s) => (at(s) > at(best) ? s : best), 'BACKUP' as 'MASTER' | 'BACKUP' | 'FAULT');
  };

  /** A fresh pair on the defaults: lb-0 MASTER serving, lb-1 a healthy BACKUP. */
  async function fresh(yamlText = DEFAULT): Promise<void> {
    for (const n of ['lb-0', 'lb-1'] as const) lab.cutBackends(n, false);
    await lab.deploy(renderLab(yamlText));
    await lab.steady({ timeoutMs: 30_000 });
  }

  /** Opens the streams (all through the MASTER lb-0, spread over the apiservers) and checks they answer. */
  async function openStreams(): Promise<StreamSet> {
    streams = await lab.openStreams(STREAMS);
    expect(streams.opened.every((s) => s.lb === '198.18.0.11'), JSON.stringify(streams.opened)).toBe(true);
    expect(new Set(streams.opened.map((s) => s.backend))).toEqual(new Set(BACKENDS.map((b) => b.name)));
    const p = await streams.probe();
    expect(p.alive).toHaveLength(STREAMS);
    return streams;
  }

  beforeAll(async () => {
    lab = await NetLab.create();
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && lab) console.error(lab.diagnose());
    await streams?.close();
    streams = undefined;
  });

  afterAll(() => lab?.destroy());

  it('the MASTER cut from every apiserver (haproxy alive): the BACKUP takes the VIP and serves; the cut ends: the VIP stays', async () => {
    await fresh();
    const before = masters();
    lab.cutBackends('lb-0', true);
    try {
      await waitFor('lb-1 holds the VIP', () => lab.vipHolders().join() === 'lb-1', { timeoutMs: 40_000 });
      await lab.servedThrough('lb-1');
      // lb-0 is alive and BACKUP (not FAULT): its haproxy runs, it only cannot serve
      expect(lab.pgrep('lb-0', 'haproxy')).toBe(0);
      expect(state('lb-0')).toBe('BACKUP');
      expect(lab.readLog('lb-0', 'keepalived')).toMatch(/VRRP_Script\(chk_ready\) failed/);
    } finally {
      lab.cutBackends('lb-0', false);
    }
    await waitFor('lb-0 can serve again', () => lab.readLog('lb-0', 'keepalived').lastIndexOf('VRRP_Script(chk_ready) succeeded') > lab.readLog('lb-0', 'keepalived').lastIndexOf('VRRP_Script(chk_ready) failed'), { timeoutMs: 30_000 });
    await sleep(5_000);
    expect(lab.vipHolders()).toEqual(['lb-1']);
    expect(masters() - before).toBe(1);
  });

  it('both nodes cut: the VIP stays on lb-0 (nothing can serve anywhere); an apiserver returns: clients are served again', async () => {
    await fresh();
    const before = masters();
    for (const n of ['lb-0', 'lb-1'] as const) lab.cutBackends(n, true);
    try {
      await waitFor('both nodes know they cannot serve', () =>
        (['lb-0', 'lb-1'] as const).every((n) => /VRRP_Script\(chk_ready\) failed/.test(lab.readLog(n, 'keepalived'))), { timeoutMs: 30_000 });
      // several Master_Down intervals: nothing moves
      await sleep(8_000);
      expect(lab.vipHolders()).toEqual(['lb-0']);
      expect(masters()).toBe(before);
      expect(lab.get(2, 2).every((r) => !r.ok)).toBe(true);
      // one apiserver comes back (for both nodes)
      for (const n of ['lb-0', 'lb-1'] as const) lab.cutBackends(n, false, ['m1']);
      const r = await lab.servedThrough('lb-0', 30_000);
      expect(parseBody(r.body)?.backend).toBe('m1');
      expect(lab.vipHolders()).toEqual(['lb-0']);
      expect(masters()).toBe(before);
    } finally {
      for (const n of ['lb-0', 'lb-1'] as const) lab.cutBackends(n, false);
    }
  });

  it('kubeadm-init-style bootstrap: the pair starts before any apiserver, takes the VIP, and serves the first one that comes up', async () => {
    for (const b of BACKENDS) lab.killBackend(b.name);
    try {
      await lab.deploy(renderLab(DEFAULT));
      await sleep(2_000);
      expect(lab.vipHolders()).toEqual(['lb-0']);
      expect(lab.get(1, 2)[0].ok).toBe(false);
      await lab.startBackend('m0');
      const r = await lab.servedThrough('lb-0', 30_000);
      expect(parseBody(r.body)?.backend).toBe('m0');
    } finally {
      for (const b of BACKENDS.slice(1)) await lab.startBackend(b.name);
    }
  });

  it('apiservers with anonymous auth off (401 without a client certificate): UP with health.clientCert, DOWN without it, UP (answering) with expect [200, 401, 403]', async () => {
    const pki = lab.clientPki();
    for (const b of BACKENDS) {
      lab.killBackend(b.name);
      await lab.startBackend(b.name, { ca: pki.ca });
    }
    const up = (n: LbName) => BACKENDS.every((b) => lab.serverStatus(n, b.name) === 'UP');
    const down = (n: LbName) => BACKENDS.every((b) => (lab.serverStatus(n, b.name) ?? '').startsWith('DOWN'));
    try {
      // the check presents the certificate the cluster's CA signed: every apiserver is UP
      const withCert = labYaml({}, { health: { clientCert: { cert: `file:${pki.cert}`, key: `file:${pki.key}` } } });
      const files = renderLab(withCert, { baseDir: lab.dir });
      const pem = files['lb-0'].get('etc/haproxy/lbbake-kubernetes-apiserver-client.pem')!;
      expect(pem.mode).toBe('0600');
      expect(files['lb-0'].get('etc/haproxy/haproxy.cfg')!.content).toContain(' crt /etc/haproxy/lbbake-kubernetes-apiserver-client.pem ');
      // (deploy waits until lb-0 holds the VIP; the lab's probe carries no certificate, so the
      // stand-ins answer it 401: here haproxy's view is what counts)
      await lab.deploy(files);
      await waitFor('every apiserver UP on lb-0', () => up('lb-0'), { timeoutMs: 20_000 });
      await waitFor('lb-0 can serve', () => /VRRP_Script\(chk_ready\) succeeded/.test(lab.readLog('lb-0', 'keepalived')), { timeoutMs: 20_000 });

      // the same apiservers without the certificate: anonymous /readyz is 401, every server DOWN,
      // nothing can serve on either node, so the VIP stays where it is
      await lab.deploy(renderLab(DEFAULT));
      await waitFor('every apiserver DOWN on both nodes', () => down('lb-0') && down('lb-1'), { timeoutMs: 30_000 });
      expect(lab.readLog('lb-0', 'haproxy')).toMatch(/L7STS|401/);
      await sleep(5_000);
      expect(lab.vipHolders()).toEqual(['lb-0']);

      // expect [200, 401, 403]: an answering apiserver counts as alive (not proven ready)
      await lab.deploy(renderLab(labYaml({}, { health: { expect: [200, 401, 403] } })));
      await waitFor('every apiserver UP on lb-0', () => up('lb-0'), { timeoutMs: 20_000 });
    } finally {
      for (const b of BACKENDS) {
        lab.killBackend(b.name);
        await lab.startBackend(b.name);
      }
    }
  });

  describe('established streams (9, through the MASTER, over three apiservers) across events', () => {
    it('haproxy reload on both nodes: no stream breaks, the VIP stays', async () => {
      await fresh();
      const s = await openStreams();
      const before = masters();
      const pids = lab.haproxyPids('lb-0');
      lab.reloadHaproxy('lb-0');
      lab.reloadHaproxy('lb-1');
      await waitFor('lb-0 runs new haproxy workers', () => lab.haproxyPids('lb-0').some((p) => !pids.includes(p)), { timeoutMs: 10_000 });
      await sleep(2_000);
      const p = await s.probe();
      expect(p.broken).toEqual([]);
      expect(p.alive).toHaveLength(STREAMS);
      expect(masters()).toBe(before);
      // new connections go to the new workers, through lb-0
      await lab.servedThrough('lb-0');
    });

    it('keepalived restarted on the BACKUP: no stream breaks, the VIP stays', async () => {
      await fresh();
      const s = await openStreams();
      const before = masters();
      await lab.stopKeepalived('lb-1');
      lab.startKeepalived('lb-1');
      await waitFor('lb-1 BACKUP again', () => state('lb-1') === 'BACKUP' && lab.readLog('lb-1', 'keepalived').split('Entering BACKUP STATE').length > 2, { timeoutMs: 30_000 });
      await sleep(4_000);
      const p = await s.probe();
      expect(p.broken).toEqual([]);
      expect(masters()).toBe(before);
      expect(lab.vipHolders()).toEqual(['lb-0']);
    });

    it('haproxy restarted on the MASTER (systemctl restart): its streams end, the VIP moves at most once', async () => {
      await fresh();
      const s = await openStreams();
      const before = masters();
      await lab.restartHaproxy('lb-0');
      await waitFor('lb-0 healthy again', () => lab.readLog('lb-0', 'haproxy').split('ExecStartPost').length > 2 && state('lb-0') !== 'FAULT', { timeoutMs: 30_000 });
      await sleep(6_000);
      expect(masters() - before).toBeLessThanOrEqual(1);
      const p = await s.probe();
      // the streams lived in the haproxy that stopped: each ended (clients reconnect), none hangs
      expect(p.broken.length).toBe(STREAMS);
      expect(p.broken.every((b) => !b.why.startsWith('no pong')), JSON.stringify(p.broken)).toBe(true);
      const served = lab.get(3, 2);
      expect(served.every((r) => r.ok), JSON.stringify(served)).toBe(true);
    });

    it('the MASTER stops gracefully (keepalived first, then haproxy and the network): the BACKUP takes over and serves', async () => {
      await fresh();
      const s = await openStreams();
      await lab.gracefulStop('lb-0');
      await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
      await lab.servedThrough('lb-1');
      expect(lab.readLog('lb-1', 'keepalived')).toMatch(/Backup received priority 0 advertisement|Entering MASTER STATE/);
      const p = await s.probe();
      expect(p.broken.length).toBe(STREAMS);
      lab.setLink('lb-0', true);
      await lab.startNode('lb-0');
    });

    it('the MASTER crashes: the BACKUP takes over; the streams through lb-0 end', async () => {
      await fresh();
      const s = await openStreams();
      await lab.killNode('lb-0');
      lab.setLink('lb-0', false);
      try {
        await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'), { timeoutMs: 20_000 });
        await lab.servedThrough('lb-1');
        const p = await s.probe(5);
        expect(p.broken.length).toBe(STREAMS);
      } finally {
        lab.setLink('lb-0', true);
      }
      await lab.startNode('lb-0');
    });

    it("an apiserver host is lost: only its own streams end, within seconds (on-marked-down shutdown-sessions); the rest stay", async () => {
      await fresh();
      const s = await openStreams();
      const mine = s.opened.filter((x) => x.backend === 'm1').map((x) => x.id);
      expect(mine.length).toBeGreaterThan(0);
      const t0 = Date.now() / 1000;
      lab.crashBackendHost('m1');
      try {
        // no FIN or reset from the lost host: haproxy closes them once its checks mark m1 DOWN
        let broken: Awaited<ReturnType<StreamSet['probe']>>['broken'] = [];
        await waitFor('m1 marked DOWN', () => (lab.serverStatus('lb-0', 'm1') ?? '').startsWith('DOWN'), { timeoutMs: 30_000 });
        // nothing is sent on the streams meanwhile: they end because haproxy closes them
        await waitFor("m1's streams ended", async () => {
          broken = (await s.status()).broken;
          return broken.length >= mine.length;
        }, { timeoutMs: 20_000, intervalMs: 500 });
        expect(broken.map((b) => b.id).sort()).toEqual([...mine].sort());
        // ended by haproxy (EOF or reset), not found dead by a missing pong
        expect(broken.every((b) => !b.why.startsWith('no pong')), JSON.stringify(broken)).toBe(true);
        expect(Math.max(...broken.map((b) => b.t)) - t0).toBeLessThan(30);
        const p = await s.probe();
        expect(p.alive).toHaveLength(STREAMS - mine.length);
      } finally {
        await lab.restoreBackendHost('m1');
      }
    });
  });
});
