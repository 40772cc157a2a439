/**
 * Live HA suite: the keepalived + haproxy configs lbbake renders, run unmodified by real daemons
 * in a network of namespaces (test/helpers/netlab.ts). Needs root; in CI a missing tool fails.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { INTERFACE_FILE, INTERFACE_SCRIPT } from '../../src/facts/node.js';
import { userdataForNode } from '../../src/render/userdata.js';
import { join } from 'node:path';
import { missing } from '../helpers/tools.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { renderNode } from '../../src/render/node.js';
import { GUIDE_VRRP, LAB_TOOLS, LB_NODES, type LbName, labModel, labYaml, withGuideCheck, NetLab, parseBody, type ProbeResult, renderLab, waitFor } from '../helpers/netlab.js';

const reason = missing(LAB_TOOLS, { root: true });

const servedBy = (rs: ProbeResult[]) => rs.filter((r) => r.ok).map((r) => parseBody(r.body));

const DEFAULT = labYaml();
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe.skipIf(reason)('live HA pair (keepalived + haproxy in network namespaces)', () => {
  let lab: NetLab;
  let deployed: string | undefined;

  async function deploy(yamlText: string): Promise<void> {
    await lab.deploy(renderLab(yamlText));
    deployed = yamlText;
  }

  const servedThrough = (lb: LbName) => lab.servedThrough(lb);

  /**
   * Both nodes run this config, lb-0 is MASTER and serves, lb-1 is a healthy BACKUP. With preempt
   * off the VIP stays where a test left it, so a pair whose VIP is elsewhere starts afresh.
   */
  async function steady(yamlText: string): Promise<void> {
    const running = lab.initPid('lb-0') && lab.initPid('lb-1') && lab.pgrep('lb-0', 'haproxy') === 0 && lab.pgrep('lb-1', 'haproxy') === 0;
    if (deployed !== yamlText || !running || lab.vipHolders().join() !== 'lb-0') await deploy(yamlText);
    await lab.steady();
  }

  beforeAll(async () => {
    lab = await NetLab.create();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && lab) console.error(lab.diagnose());
  });

  afterAll(() => lab?.destroy());

  it('1) the MASTER holds the VIP and the client reaches all three backends through it (TLS passthrough)', async () => {
    await steady(DEFAULT);
    expect(lab.vipHolders()).toEqual(['lb-0']);
    const rs = lab.get(6, 2);
    expect(rs.every((r) => r.ok), JSON.stringify(rs)).toBe(true);
    const seen = servedBy(rs);
    expect(new Set(seen.map((s) => s?.backend))).toEqual(new Set(['m0', 'm1', 'm2']));
    expect(seen.every((s) => s?.lb === 'lb-0')).toBe(true);
  });

  it('the stats page on 127.0.0.1:1080 accepts the generated password (stored only as a SHA-512 crypt hash) and refuses others', async () => {
    await steady(DEFAULT);
    const m = labModel(DEFAULT);
    if (!m.stats.enabled || !m.stats.password) throw new Error('lab config has no stats password');
    const cfg = readFileSync(join(lab.nodeRoot('lb-0'), 'etc/haproxy/haproxy.cfg'), 'utf8');
    expect(cfg).not.toContain(m.stats.password);
    expect(cfg).toMatch(/user admin password \$6\$/);
    const fetch = (pw: string) =>
      lab.exec('lb-0', [
        lab.python,
        '-c',
        'import sys,urllib.request,base64\nr=urllib.request.Request("http://127.0.0.1:1080/stats",headers={"Authorization":"Basic "+base64.b64encode(("admin:"+sys.argv[1]).encode()).decode()})\ntry:\n  print(urllib.request.urlopen(r,timeout=5).status)\nexcept urllib.error.HTTPError as e:\n  print(e.code)',
        pw,
      ]).stdout.trim();
    expect(fetch(m.stats.password)).toBe('200');
    expect(fetch('wrong-password')).toBe('401');
    // stats hide-version: the page names no haproxy version (the binary's is 2.6.x here)
    const version = /HAProxy version (\S+)/.exec(lab.exec('lb-0', ['haproxy', '-v']).stdout)?.[1];
    expect(version).toBeTruthy();
    const page = lab.exec('lb-0', [
      lab.python,
      '-c',
      'import sys,urllib.request,base64\nr=urllib.request.Request("http://127.0.0.1:1080/stats",headers={"Authorization":"Basic "+base64.b64encode(("admin:"+sys.argv[1]).encode()).decode()})\nprint(urllib.request.urlopen(r,timeout=5).read().decode())',
      m.stats.password,
    ]).stdout;
    expect(page).toContain('Statistics Report');
    expect(page).not.toContain(version!);
  });

  it('the liveness check `/usr/bin/pgrep -x haproxy` sees only its own node: 0 while haproxy runs, 1 once it is dead', async () => {
    await steady(DEFAULT);
    expect(lab.pgrep('lb-0', 'haproxy')).toBe(0);
    expect(lab.pgrep('lb-1', 'haproxy')).toBe(0);
    lab.killHaproxy('lb-0');
    await waitFor('haproxy gone on lb-0', () => lab.pgrep('lb-0', 'haproxy') === 1, { timeoutMs: 5_000 });
    expect(lab.pgrep('lb-1', 'haproxy')).toBe(0); // the other node's haproxy is invisible to lb-0
    await waitFor('keepalived on lb-0 saw the check fail', () => lab.readLog('lb-0', 'keepalived').includes('VRRP_Script(chk_haproxy) failed'));
    lab.startHaproxy('lb-0');
    await waitFor('haproxy back on lb-0', () => lab.pgrep('lb-0', 'haproxy') === 0, { timeoutMs: 5_000 });
  });

  it('2) haproxy dies on the MASTER: the BACKUP takes the VIP and serves; haproxy returns: the VIP stays on lb-1 (one move, not two)', async () => {
    const conf = renderLab(DEFAULT)['lb-0'].get('etc/keepalived/keepalived.conf')!.content;
    expect(conf).not.toMatch(/nopreempt/); // holding is a weight: a node that cannot serve still loses the VIP
    expect(conf).toMatch(/^\s*state BACKUP$/m);
    await steady(DEFAULT);
    lab.killHaproxy('lb-0');
    await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
    const r = await servedThrough('lb-1');
    expect(r.ok).toBe(true);
    await waitFor('lb-0 released the VIP', () => !lab.hasVip('lb-0'));
    expect(lab.readLog('lb-0', 'keepalived')).toContain('Entering FAULT STATE');

    const backups = count(lab.readLog('lb-0', 'keepalived'), 'Entering BACKUP STATE');
    const masters = count(lab.readLog('lb-0', 'keepalived'), 'Entering MASTER STATE');
    lab.startHaproxy('lb-0');
    await waitFor('lb-0 left FAULT for BACKUP', () => count(lab.readLog('lb-0', 'keepalived'), 'Entering BACKUP STATE') > backups);
    // several advert intervals with a healthy, higher-priority lb-0: nothing moves, since lb-1
    // holds the VIP with its hold bonus (249 + 2 > 250)
    await new Promise((res) => setTimeout(res, 5_000));
    expect(lab.vipHolders()).toEqual(['lb-1']);
    expect(count(lab.readLog('lb-0', 'keepalived'), 'Entering MASTER STATE')).toBe(masters);
    const rs = lab.get(3, 2);
    expect(rs.every((x) => x.ok && parseBody(x.body)?.lb === 'lb-1'), JSON.stringify(rs)).toBe(true);
  });

  it('2b) with `preempt: true` lb-0 takes the VIP back once its checks pass', async () => {
    const preempt = labYaml({ preempt: true });
    const conf = renderLab(preempt)['lb-0'].get('etc/keepalived/keepalived.conf')!.content;
    expect(conf).not.toMatch(/lbbake_holder/);
    expect(conf).toMatch(/^\s*state BACKUP$/m);
    await steady(preempt);
    lab.killHaproxy('lb-0');
    await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
    await servedThrough('lb-1');
    lab.startHaproxy('lb-0');
    await waitFor('VIP back on lb-0 only', () => lab.vipHolders().join() === 'lb-0');
    await servedThrough('lb-0');
    const rs = lab.get(3, 2);
    expect(rs.every((x) => x.ok && parseBody(x.body)?.lb === 'lb-0'), JSON.stringify(rs)).toBe(true);
  });

  it('3) the MASTER node is lost (all its processes SIGKILLed, link down): the BACKUP serves; lb-0 returns as BACKUP and the VIP stays', async () => {
    await steady(DEFAULT);
    await lab.killNode('lb-0');
    lab.setLink('lb-0', false);
    try {
      await waitFor('lb-1 holds the VIP', () => lab.hasVip('lb-1'));
      await servedThrough('lb-1');
    } finally {
      lab.setLink('lb-0', true);
    }
    await lab.startNode('lb-0');
    await waitFor('lb-0 back as BACKUP', () => lab.readLog('lb-0', 'keepalived').includes('Entering BACKUP STATE'), { timeoutMs: 30_000 });
    await new Promise((res) => setTimeout(res, 4_000));
    expect(lab.vipHolders()).toEqual(['lb-1']);
    await servedThrough('lb-1');
  });

  it('4) a backend whose /readyz answers 500 gets no traffic; when it recovers, traffic returns', async () => {
    await steady(DEFAULT);
    lab.setReady('m1', false);
    try {
      await waitFor('haproxy marked m1 DOWN', () => {
        const rs = lab.get(3, 2);
        return rs.length === 3 && rs.every((r) => r.ok && parseBody(r.body)?.backend !== 'm1');
      }, { timeoutMs: 20_000, intervalMs: 300 });
      const rs = lab.get(9, 2);
      expect(rs.every((r) => r.ok), JSON.stringify(rs)).toBe(true);
      expect(new Set(servedBy(rs).map((s) => s?.backend))).toEqual(new Set(['m0', 'm2']));
    } finally {
      lab.setReady('m1', true);
    }
    await waitFor('m1 back in rotation', () => lab.get(3, 2).some((r) => parseBody(r.body)?.backend === 'm1'), { timeoutMs: 20_000, intervalMs: 300 });
  });

  it('5) the LB nodes lose sight of each other: both become MASTER (split brain); when the link returns lb-0 alone keeps the VIP', async () => {
    await steady(DEFAULT);
    let healedAt = 0;
    lab.isolateLbs(true);
    try {
      await waitFor('both nodes hold the VIP', () => lab.vipHolders().length === 2);
      // the client still gets answers, through whichever node announced the VIP last
      const rs = lab.get(3, 2);
      expect(rs.some((r) => r.ok), JSON.stringify(rs)).toBe(true);
      expect(lab.readLog('lb-1', 'keepalived')).toContain('Entering MASTER STATE');
    } finally {
      healedAt = lab.readLog('lb-0', 'keepalived').length;
      lab.isolateLbs(false);
    }
    await waitFor('split brain resolved: lb-0 alone holds the VIP', () => lab.vipHolders().join() === 'lb-0');
    // vrrp_higher_prio_send_advert: lb-1 sends one last advert while stepping down, so lb-0 sees a
    // lower-priority advert and re-sends gratuitous ARPs; without it the client may keep lb-1's
    // MAC for the VIP until its ARP entry expires (measured 1-9 s here, > 20 s under load)
    await waitFor('lb-0 saw the lower-priority advert and re-announced the VIP', () =>
      /Received advert from 198\.18\.0\.12 with lower priority \d+, ours \d+[^\n]*\n(.*\n)*.*Sending\/queueing gratuitous ARPs on eth0 for 198\.18\.0\.100/.test(
        lab.readLog('lb-0', 'keepalived').slice(healedAt)), { timeoutMs: 10_000 });
    await servedThrough('lb-0');
  });

  it("the guide's check `pidof haproxy` never succeeds (Debian 12: pidof is killall5), so a dead haproxy can never fail over", async () => {
    const guide = labYaml({ ...GUIDE_VRRP, check: { ...GUIDE_VRRP.check, interval: 1, fall: 2 } });
    // the guide has no haproxy.service drop-in: only its check could see haproxy die
    await lab.deploy(renderLab(guide, { events: false }), withGuideCheck);
    deployed = undefined;
    await waitFor('lb-0 holds the VIP', () => lab.hasVip('lb-0'));
    await servedThrough('lb-0');
    expect(lab.pgrep('lb-0', 'haproxy')).toBe(0); // haproxy is up and serving ...
    await waitFor('the pidof check failed on lb-0', () => lab.readLog('lb-0', 'keepalived').includes('VRRP_Script(chk_haproxy) failed'));
    await waitFor('the pidof check failed on lb-1', () => lab.readLog('lb-1', 'keepalived').includes('VRRP_Script(chk_haproxy) failed'));
    // ... yet the check fails on both nodes: both sit at priority - 2 and keep their order
    await new Promise((res) => setTimeout(res, 3_000));
    for (const n of ['lb-0', 'lb-1'] as const) expect(lab.readLog(n, 'keepalived')).not.toContain('VRRP_Script(chk_haproxy) succeeded');
    expect(lab.readLog('lb-0', 'keepalived')).toMatch(/effective priority from 250 to 248/);
    // so killing haproxy on the MASTER changes nothing: the VIP stays on a node that cannot serve
    lab.killHaproxy('lb-0');
    await new Promise((res) => setTimeout(res, 6_000));
    expect(lab.vipHolders()).toEqual(['lb-0']);
    expect(lab.get(2, 1).every((r) => !r.ok)).toBe(true);
  });

  it('6) boot agent: both nodes get the same metadata-mode files; a fake metadata service names them; they come up with the right roles and their own NIC', async () => {
    // no vip.interface: the agent writes the NIC holding each node's address for keepalived
    const m = labModel(labYaml({}, { resolveInterface: true }));
    const same = metadataModeFiles(m, { secrets: 'inline', layout: 'template' }); // what the metadata-mode user-data writes on every node
    const url = await lab.startMetadata(m.identity.metadataKey, { '198.18.0.11': 'lb-0', '198.18.0.12': 'lb-1' });
    for (const n of ['lb-0', 'lb-1'] as const) await lab.killNode(n);
    deployed = undefined;
    const agent = (n: LbName, ...args: string[]) =>
      lab.exec(n, ['env', `LBBAKE_ROOT=${lab.nodeRoot(n)}`, 'LBBAKE_SOURCES=gce', `LBBAKE_GCE_URL=${url}`, lab.python,
        `${lab.nodeRoot(n)}/usr/local/sbin/lbbake-agent`, ...args], 60_000);
    for (const n of ['lb-0', 'lb-1'] as const) {
      lab.writeNodeFiles(n, same);
      await lab.startNode(n, { haproxy: false, keepalived: false });
      const r = agent(n);
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stderr + r.stdout).toContain(`-> node ${n}`);
      // the agent installed exactly what `lbbake render --node <its name>` writes (under
      // LBBAKE_ROOT = the node's tree, whose etc/keepalived and etc/haproxy are the node's real ones)
      for (const [rel, f] of renderNode(m, m.nodes.find((x) => x.name === n)!)) {
        expect(readFileSync(join(lab.nodeRoot(n), rel), 'utf8'), rel).toBe(f.content);
      }
      expect(lab.exec(n, ['cat', '/etc/keepalived/keepalived.conf']).stdout).toContain(`unicast_src_ip ${LB_NODES.find((x) => x.name === n)!.address}`);
      // keepalived's ExecStartPre fail-safe passes (and resolves the NIC again), then the services start as systemd would
      expect(agent(n, '--check').status).toBe(0);
      expect(readFileSync(join(lab.nodeRoot(n), INTERFACE_FILE), 'utf8')).toBe('    interface eth0\n');
      // (the agent ran under LBBAKE_ROOT; the node's own /run is where keepalived reads it)
      lab.exec(n, ['sh', '-c', `mkdir -p /run/lbbake && cp ${join(lab.nodeRoot(n), INTERFACE_FILE)} ${INTERFACE_FILE}`]);
      lab.startHaproxy(n);
      lab.startKeepalived(n);
    }
    await lab.steady();
    expect(lab.readLog('lb-0', 'keepalived')).toContain('Entering MASTER STATE');
    expect(lab.readLog('lb-1', 'keepalived')).not.toContain('Entering MASTER STATE');
    // the VIP went on the resolved NIC (keepalived.conf names none)
    expect(lab.exec('lb-0', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']).stdout).toContain(' 198.18.0.100/32 ');

    // --node user-data: keepalived's ExecStartPre script finds the NIC the same way
    const script = parse(userdataForNode(m, m.nodes[1])).write_files.find((w: { path: string }) => w.path === INTERFACE_SCRIPT).content as string;
    const scriptFile = join(lab.nodeRoot('lb-1'), 'lbbake-interface-test');
    writeFileSync(scriptFile, script.replaceAll(INTERFACE_FILE, '/run/lbbake/interface-test.conf'));
    const sr = lab.exec('lb-1', ['sh', scriptFile]);
    expect(sr.status, sr.stderr).toBe(0);
    expect(sr.stdout).toContain('VRRP interface eth0 (it holds 198.18.0.12)');
    expect(lab.exec('lb-1', ['cat', '/run/lbbake/interface-test.conf']).stdout).toBe('    interface eth0\n');

    // a node whose metadata names another node's role (address mismatch) installs nothing and
    // keepalived's fail-safe keeps it from ever taking the VIP
    await lab.killNode('lb-1');
    await lab.startMetadata(m.identity.metadataKey, { '198.18.0.11': 'lb-0', '198.18.0.12': 'lb-0' });
    lab.writeNodeFiles('lb-1', same);
    await lab.startNode('lb-1', { haproxy: false, keepalived: false });
    const bad = agent('lb-1');
    expect(bad.status, bad.stderr + bad.stdout).toBe(1);
    expect(bad.stderr + bad.stdout).toContain('FAIL-SAFE');
    expect(lab.exec('lb-1', ['test', '-e', '/etc/keepalived/keepalived.conf']).status).toBe(1);
    expect(agent('lb-1', '--check').status).not.toBe(0);
    expect(lab.vipHolders()).toEqual(['lb-0']);
  });
});
