/**
 * Live suite: the VRRP firewall (an nftables table of lbbake's own in each node) keeps adverts
 * from hosts that are no LB node away from keepalived. VRRPv3, lbbake's default, has no
 * authentication: this and check_unicast_src are what stand in for it. Behaviour only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT, LAB_TOOLS, LB_NODES, labYaml, NetLab, renderLab, sleep } from '../helpers/netlab.js';
import { missing } from '../helpers/tools.js';

const reason = missing(LAB_TOOLS, { root: true });
const ROGUE = { role: 'cl', address: CLIENT };
const states = (log: string) => log.split('\n').filter((l) => /Entering (MASTER|BACKUP|FAULT) STATE/.test(l)).length;

describe.skipIf(reason)('VRRP firewall (nftables table inet lbbake_vrrp)', () => {
  let lab: NetLab;

  beforeAll(async () => {
    lab = await NetLab.create();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && lab) console.error(lab.diagnose());
  });

  afterAll(() => lab?.destroy());

  /** A rogue host claims the VIP with priority 255, to each node (unicast) or to the VRRP group. */
  function rogue(to: 'nodes' | 'group'): void {
    for (const dst of to === 'nodes' ? LB_NODES.map((n) => n.address) : ['224.0.0.18']) lab.sendVrrp(ROGUE, dst, { vrid: 18, priority: 255, count: 40 });
  }

  const snapshot = () => ({ k0: lab.readLog('lb-0', 'keepalived'), k1: lab.readLog('lb-1', 'keepalived') });

  it('defaults (unicast): adverts from a host that is no LB node are dropped before keepalived sees them; the pair is untouched', async () => {
    await lab.deploy(renderLab(labYaml()));
    await lab.steady();
    // the peers' own adverts pass: the pair formed, and nothing was dropped so far
    expect(lab.vrrpDropped('lb-0')).toBe(0);
    expect(lab.vrrpDropped('lb-1')).toBe(0);
    const before = snapshot();
    rogue('nodes');
    await sleep(1_500);
    expect(lab.vrrpDropped('lb-0')).toBeGreaterThanOrEqual(40);
    expect(lab.vrrpDropped('lb-1')).toBeGreaterThanOrEqual(40);
    const after = snapshot();
    expect(after.k0.slice(before.k0.length)).not.toContain(CLIENT);
    expect(after.k1.slice(before.k1.length)).not.toContain(CLIENT);
    expect(states(after.k0)).toBe(states(before.k0));
    expect(states(after.k1)).toBe(states(before.k1));
    expect(lab.vipHolders()).toEqual(['lb-0']);
    await lab.servedThrough('lb-0');
  });

  it('multicast mode: the table drops the rogue adverts to the VRRP group too; the pair is untouched', async () => {
    await lab.deploy(renderLab(labYaml({ mode: 'multicast' })));
    await lab.steady();
    const before = snapshot();
    rogue('group');
    await sleep(1_500);
    expect(lab.vrrpDropped('lb-0')).toBeGreaterThanOrEqual(40);
    expect(lab.vrrpDropped('lb-1')).toBeGreaterThanOrEqual(40);
    const after = snapshot();
    expect(states(after.k0)).toBe(states(before.k0));
    expect(states(after.k1)).toBe(states(before.k1));
    expect(lab.vipHolders()).toEqual(['lb-0']);
  });

  it('multicast mode with vrrp.firewall: false: the same adverts reach keepalived and the MASTER yields to the rogue (what the table prevents)', async () => {
    await lab.deploy(renderLab(labYaml({ mode: 'multicast', firewall: false })));
    await lab.steady();
    expect(lab.vrrpDropped('lb-0')).toBeUndefined();
    const before = snapshot();
    rogue('group');
    await sleep(1_500);
    const k0 = lab.readLog('lb-0', 'keepalived').slice(before.k0.length);
    expect(k0).toMatch(/Entering BACKUP STATE|higher priority/);
    // once the rogue is quiet the pair settles again on lb-0
    await lab.steady({ timeoutMs: 30_000 });
  });
});
