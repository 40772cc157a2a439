/**
 * Live suite: haproxy's exit reaches keepalived as an event. The rendered haproxy.service drop-in
 * writes the state file keepalived tracks (vrrp_track_file); the lab has no systemd, so
 * test/helpers/lab/unit.py plays its part and runs the drop-in's own ExecStartPost=/ExecStopPost=
 * lines. Behaviour only, never timings (those are in `npm run bench`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAPROXY_EVENT } from '../../src/facts/node.js';
import { missing } from '../helpers/tools.js';
import { LAB_TOOLS, labYaml, NetLab, parseBody, renderLab, waitFor } from '../helpers/netlab.js';

const reason = missing(LAB_TOOLS, { root: true });

/**
 * A check that never fails and no readiness check: whatever moves the VIP below can only be the
 * event path. Preempt on: after each event the VIP returns to lb-0 for the next test.
 */
const EVENT_ONLY = labYaml({ preempt: true, readiness: { enabled: false }, check: { command: '/usr/bin/true' } });
const DEFAULT = labYaml({ preempt: true });

describe.skipIf(reason)('haproxy exit events (drop-in -> track file -> keepalived)', () => {
  let lab: NetLab;

  const state = (node: 'lb-0' | 'lb-1') => lab.exec(node, ['cat', HAPROXY_EVENT.stateFile]);
  const faults = (node: 'lb-0' | 'lb-1') => lab.readLog(node, 'keepalived').split('Entering FAULT STATE').length - 1;

  beforeAll(async () => {
    lab = await NetLab.create();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && lab) console.error(lab.diagnose());
  });

  afterAll(() => lab?.destroy());

  it('the rendered drop-in is what the lab runs haproxy with', async () => {
    await lab.deploy(renderLab(EVENT_ONLY));
    await lab.steady();
    expect(lab.haproxyDropIns('lb-0').map((p) => p.slice(lab.nodeRoot('lb-0').length))).toContain(HAPROXY_EVENT.dropIn);
    // ExecStartPost ran once haproxy was ready: the file says "up"
    await waitFor('ExecStartPost wrote 0', () => state('lb-0').stdout.trim() === '0');
    expect(lab.readLog('lb-0', 'haproxy')).toMatch(/lab-systemd: \S+ ExecStartPost \/bin\/sh -c 'echo 0 > \/run\/lbbake-haproxy-down' -> 0/);
  });

  it('haproxy killed on the MASTER: the drop-in reports it, lb-0 goes FAULT and lb-1 serves, with a check that never fails', async () => {
    await lab.steady();
    lab.killHaproxy('lb-0');
    await waitFor('lb-1 serves', async () => (await lab.servedThrough('lb-1')).ok);
    expect(state('lb-0').stdout.trim()).toBe('1');
    expect(lab.readLog('lb-0', 'haproxy')).toMatch(/ExecStopPost \/bin\/sh -c 'echo 1 > \/run\/lbbake-haproxy-down' -> 0/);
    const k = lab.readLog('lb-0', 'keepalived');
    expect(k).toContain('Entering FAULT STATE');
    expect(k).not.toContain('VRRP_Script(chk_haproxy) failed');
    // haproxy back (ExecStartPost writes 0): lb-0 leaves FAULT and, with preempt, serves again
    lab.startHaproxy('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0');
    await lab.servedThrough('lb-0');
    expect(state('lb-0').stdout.trim()).toBe('0');
  });

  it('a graceful stop (systemctl stop haproxy) hands over the same way', async () => {
    await lab.steady();
    const before = faults('lb-0');
    lab.stopHaproxy('lb-0');
    await waitFor('lb-0 entered FAULT', () => faults('lb-0') > before);
    await lab.servedThrough('lb-1');
    expect(lab.readLog('lb-0', 'haproxy')).toContain('stop requested');
    lab.startHaproxy('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0');
  });

  it('only a worker dies: the haproxy master exits with it, and the event still fires', async () => {
    await lab.steady();
    const before = faults('lb-0');
    const master = Number(lab.exec('lb-0', ['cat', '/run/haproxy.pid']).stdout.trim());
    const workers = lab.exec('lb-0', ['pgrep', '-P', String(master), '-x', 'haproxy']).stdout.split(/\s+/).filter(Boolean);
    expect(workers.length, 'haproxy runs master + worker').toBeGreaterThan(0);
    lab.exec('lb-0', ['kill', '-KILL', ...workers]);
    await waitFor('lb-0 entered FAULT', () => faults('lb-0') > before);
    await lab.servedThrough('lb-1');
    expect(state('lb-0').stdout.trim()).toBe('1');
    expect(lab.readLog('lb-0', 'keepalived')).not.toContain('VRRP_Script(chk_haproxy) failed');
    lab.startHaproxy('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0');
  });

  it('without the event path (haproxy not started by its unit) the pgrep check still fails over', async () => {
    await lab.deploy(renderLab(DEFAULT, { events: false }));
    await lab.steady();
    expect(lab.haproxyDropIns('lb-0')).toEqual([]);
    lab.killHaproxy('lb-0');
    await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
    const r = await lab.servedThrough('lb-1');
    expect(parseBody(r.body)?.lb).toBe('lb-1');
    expect(lab.readLog('lb-0', 'keepalived')).toContain('VRRP_Script(chk_haproxy) failed');
    expect(lab.exec('lb-0', ['test', '-e', HAPROXY_EVENT.stateFile]).status, 'nothing wrote the state file').toBe(1);
    lab.startHaproxy('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0');
  });
});
