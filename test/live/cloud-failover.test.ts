/**
 * The pair in the cloud lab (test/helpers/cloudlab.ts): the router delivers VIP traffic only where
 * the emulated cloud says, gratuitous ARP moves nothing, the LB NICs are ens5 and lb.yaml names no
 * interface. The nodes run exactly what `--node` user-data gives them; keepalived runs lbbake-vip,
 * which talks to the emulated EC2 / Compute Engine APIs (SigV4 with IMDSv2 role credentials; the
 * metadata server's token and Operations). Ownership is checked at the emulated API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloudLab, type CloudSpec, cloudFiles, cloudYaml } from '../helpers/cloudlab.js';
import { LAB_TOOLS, type LbName, sleep, waitFor } from '../helpers/netlab.js';
import { missing } from '../helpers/tools.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const reason = missing(LAB_TOOLS, { root: true });

/** Mutations the emulated API applied, by node, since `t` (epoch seconds). */
const mutationsBy = (c: CloudLab, node: LbName, since = 0) => c.state().mutations.filter((x) => x.by === node && x.t >= since);

function scenarios(spec: CloudSpec, label: string): void {
  describe.skipIf(reason)(`cloud lab ${label}: the VIP follows keepalived's MASTER at the emulated API`, () => {
    let c: CloudLab;
    const steady = async () => {
      const running = c.lab.initPid('lb-0') && c.lab.initPid('lb-1') && c.lab.pgrep('lb-0', 'haproxy') === 0 && c.lab.pgrep('lb-1', 'haproxy') === 0;
      if (!running) {
        await c.lab.deploy(cloudFiles(cloudYaml(spec)));
      }
      c.clearFaults();
      await c.lab.steady({ timeoutMs: 60_000 });
      await c.ownedBy('lb-0', 60_000);
    };
    const vipLog = (n: LbName) => c.lab.exec(n, ['cat', '/run/lbbake/vip.log']).stdout;

    beforeAll(async () => {
      c = await CloudLab.create(spec, { remapDelay: 1.0, opDelay: 0.5 });
    });
    afterEach((ctx) => {
      if (ctx.task.result?.state === 'fail' && c) {
        console.error(c.diagnose());
        for (const n of ['lb-0', 'lb-1'] as const) console.error(`--- ${n} lbbake-vip\n${vipLog(n).split('\n').slice(-25).join('\n')}`);
      }
    });
    afterAll(() => c?.destroy());

    it('the MASTER (lb-0) holds the VIP at the API, found its NIC (ens5) itself, and serves through the cloud', async () => {
      await steady();
      expect(c.lab.exec('lb-0', ['cat', '/run/lbbake/keepalived-interface.conf']).stdout).toBe('    interface ens5\n');
      expect(c.owners()).toEqual(['lb-0']);
      expect(vipLog('lb-0')).toMatch(/claimed: /);
      expect(mutationsBy(c, 'lb-1')).toEqual([]);
    });

    it('haproxy dies on the MASTER: lb-1 takes the VIP at the API and serves; preempt gives it back to lb-0', async () => {
      await steady();
      c.lab.killHaproxy('lb-0');
      await c.ownedBy('lb-1', 30_000);
      await c.lab.servedThrough('lb-1', 30_000);
      c.lab.startHaproxy('lb-0');
      await c.ownedBy('lb-0', 30_000);
      await c.lab.servedThrough('lb-0', 30_000);
    });

    it('the MASTER node is lost: lb-1 takes the VIP at the API and serves; lb-0 returns and takes it back', async () => {
      await steady();
      await c.lab.killNode('lb-0');
      c.lab.setLink('lb-0', false);
      await c.ownedBy('lb-1', 30_000);
      await c.lab.servedThrough('lb-1', 30_000);
      c.lab.setLink('lb-0', true);
      await c.lab.startNode('lb-0');
      await c.ownedBy('lb-0', 60_000);
      await c.lab.servedThrough('lb-0', 30_000);
    });

    it('the API throttles every call for 20 s during a failover: the new MASTER keeps retrying and takes the VIP once it answers', async () => {
      await steady();
      const t0 = Date.now() / 1000;
      c.fault({ kind: 'throttle', seconds: 20 });
      c.lab.killHaproxy('lb-0');
      await waitFor('lb-1 MASTER', () => c.lab.hasVip('lb-1'), { timeoutMs: 20_000 });
      await sleep(8_000);
      // still lb-0's at the API: every call is refused (and counted)
      expect(c.owners()).toEqual(['lb-0']);
      const refused = Object.entries(c.state().counts).filter(([k]) => k.startsWith('lb-1 ') && / (RequestLimitExceeded|rateLimitExceeded)$/.test(k)).reduce((a, [, v]) => a + v, 0);
      expect(refused).toBeGreaterThanOrEqual(2);
      await c.ownedBy('lb-1', 40_000);
      expect(mutationsBy(c, 'lb-1', t0).every((x) => x.t >= t0 + 19.5)).toBe(true);
      await c.lab.servedThrough('lb-1', 30_000);
      c.clearFaults();
      c.lab.startHaproxy('lb-0');
      await c.ownedBy('lb-0', 30_000);
    });

    it('a VRRP split (both MASTER, both claim) heals: lb-0 stays MASTER and ends as the owner at the API', async () => {
      await steady();
      c.lab.isolateLbs(true);
      try {
        await waitFor('both nodes MASTER', () => c.lab.vipHolders().length === 2, { timeoutMs: 20_000 });
        // lb-1 became MASTER and claimed the VIP: the cloud now routes it to lb-1
        await c.ownedBy('lb-1', 30_000);
      } finally {
        c.lab.isolateLbs(false);
      }
      const healed = Date.now() / 1000;
      await waitFor('lb-1 back to BACKUP', () => c.lab.vipHolders().join() === 'lb-0', { timeoutMs: 20_000 });
      // notify_master_rx_lower_pri on lb-0: it claims again at once (well before its next check)
      await c.ownedBy('lb-0', 15_000);
      expect(vipLog('lb-0')).toContain('lower-priority advert received as MASTER');
      await c.lab.servedThrough('lb-0', 30_000);
      await sleep(4_000);
      expect(c.owners()).toEqual(['lb-0']);
      expect(mutationsBy(c, 'lb-1', healed + 2)).toEqual([]);
    });

    it('a late retry on a node that became BACKUP does not steal the VIP', async () => {
      await steady();
      const t0 = Date.now() / 1000;
      // lb-1's calls fail for 25 s; lb-0's haproxy dies and comes back within that time
      c.fault({ kind: 'throttle', seconds: 25, callers: ['lb-1'] });
      c.lab.killHaproxy('lb-0');
      await waitFor('lb-1 MASTER', () => c.lab.hasVip('lb-1'), { timeoutMs: 20_000 });
      await sleep(3_000);
      c.lab.startHaproxy('lb-0');
      await waitFor('lb-0 MASTER again', () => c.lab.vipHolders().join() === 'lb-0', { timeoutMs: 30_000 });
      // past the end of lb-1's fault: its pending retry must not have fired
      await sleep(Math.max(0, (t0 + 25 + 8) * 1000 - Date.now()));
      expect(mutationsBy(c, 'lb-1', t0)).toEqual([]);
      expect(c.owners()).toEqual(['lb-0']);
      expect(vipLog('lb-1')).toMatch(/not MASTER any more/);
      await c.lab.servedThrough('lb-0', 30_000);
    });
  });
}

scenarios({ provider: 'aws', mode: 'secondary-ip' }, 'AWS secondary-ip');
scenarios({ provider: 'gce', mode: 'alias-ip' }, 'GCE alias-ip');

describe.skipIf(reason)('cloud lab, route modes: the route follows the MASTER', () => {
  it('AWS route table: the VIP/32 route targets the MASTER\'s ENI (ReplaceRoute), before and after a failover', async () => {
    const spec: CloudSpec = { provider: 'aws', mode: 'route' };
    const c = await CloudLab.create(spec, { remapDelay: 0.5 });
    try {
      await c.lab.deploy(cloudFiles(cloudYaml(spec)));
      await c.lab.steady({ timeoutMs: 60_000 });
      await c.ownedBy('lb-0', 30_000);
      await c.lab.servedThrough('lb-0', 30_000);
      c.lab.killHaproxy('lb-0');
      await c.ownedBy('lb-1', 30_000);
      await c.lab.servedThrough('lb-1', 30_000);
      expect(c.state().mutations.map((x) => `${x.by} ${x.action}`)).toEqual(['lb-0 ReplaceRoute', 'lb-1 ReplaceRoute']);
    } catch (err) {
      console.error(c.diagnose());
      throw err;
    } finally {
      c.destroy();
    }
  });

  it('GCE routes: the new route (better priority, its own name) is created before the old ones are deleted, so the VIP always has a route', async () => {
    const spec: CloudSpec = { provider: 'gce', mode: 'route' };
    const c = await CloudLab.create(spec, { opDelay: 0.3 });
    try {
      // the lab starts with route lab-vip (priority 1000) -> lb-1
      await c.lab.deploy(cloudFiles(cloudYaml(spec)));
      await c.lab.steady({ timeoutMs: 60_000 });
      await c.ownedBy('lb-0', 30_000);
      await c.lab.servedThrough('lb-0', 30_000);
      c.lab.killHaproxy('lb-0');
      await c.ownedBy('lb-1', 30_000);
      await c.lab.servedThrough('lb-1', 30_000);
      // the old route goes once the new one is in place
      await waitFor('one route left', () => Object.keys((c.state().api as { routes: object }).routes).length === 1, { timeoutMs: 20_000 });
      const m = c.state().mutations.map((x) => `${x.by} ${x.action} ${x.detail.replace(/lab-vip-[0-9a-f]+/g, 'lab-vip-*')}`);
      expect(m).toEqual([
        'lb-0 routes.insert lab-vip-* 198.19.0.100/32 prio 999 -> k8s-lb-a',
        'lb-0 routes.delete lab-vip',
        'lb-1 routes.insert lab-vip-* 198.19.0.100/32 prio 998 -> k8s-lb-b',
        'lb-1 routes.delete lab-vip-*',
      ]);
      const routes = (c.state().api as { routes: Record<string, { priority: number; nextHop: string }> }).routes;
      expect(Object.values(routes)).toEqual([{ destRange: '198.19.0.100/32', priority: 998, nextHop: 'k8s-lb-b' }]);
    } catch (err) {
      console.error(c.diagnose());
      throw err;
    } finally {
      c.destroy();
    }
  });
});

describe.skipIf(reason)('cloud lab, Azure internal load balancer: haproxy answers the probe only on the MASTER', () => {
  it('200 only from lb-0 (MASTER); after haproxy dies there, only from lb-1; after it returns (preempt), only from lb-0 again', async () => {
    const spec: CloudSpec = { provider: 'azure' };
    const c = await CloudLab.create(spec, { probePort: 61000, probeInterval: 0.5 });
    const probe = (n: LbName) => c.http('router', 'GET', `http://${n === 'lb-0' ? '198.18.0.11' : '198.18.0.12'}:61000/`);
    const codes = () => [probe('lb-0'), probe('lb-1')].map((r) => r.status ?? 0);
    try {
      await c.lab.deploy(cloudFiles(cloudYaml(spec)));
      await c.lab.steady({ timeoutMs: 60_000 });
      await c.ownedBy('lb-0', 30_000);
      await waitFor('probe 200 on lb-0 only', () => codes().join() === '200,503', { timeoutMs: 15_000, intervalMs: 300 });
      await c.lab.servedThrough('lb-0', 30_000);
      c.lab.killHaproxy('lb-0');
      await c.ownedBy('lb-1', 30_000);
      await waitFor('probe 200 on lb-1 only', () => codes()[1] === 200 && codes()[0] !== 200, { timeoutMs: 15_000, intervalMs: 300 });
      await c.lab.servedThrough('lb-1', 30_000);
      c.lab.startHaproxy('lb-0');
      await c.ownedBy('lb-0', 30_000);
      await waitFor('probe 200 on lb-0 only again', () => codes().join() === '200,503', { timeoutMs: 15_000, intervalMs: 300 });
      await c.lab.servedThrough('lb-0', 30_000);
    } catch (err) {
      console.error(c.diagnose());
      throw err;
    } finally {
      c.destroy();
    }
  });
});
