/**
 * The files every node gets besides its configs (src/render/system.ts): the systemd drop-ins
 * for haproxy and keepalived pass systemd-analyze verify and order keepalived after haproxy and
 * the network (so it stops first at shutdown); the VIP-holder script writes what the track_file
 * reads, in the order keepalived reports the states, and passes shellcheck.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { systemFiles } from '../../src/render/system.js';
import { nodeTree } from '../../src/render/node.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { userdataForNode } from '../../src/render/userdata.js';
import { DROP_INS, HAPROXY_EVENT, HOLD_FILE, HOLD_NOTIFY } from '../../src/facts/node.js';
import { exampleText, modelOf } from '../agent/harness.js';
import { missing, shellcheckText } from '../helpers/tools.js';
import { useTempDir } from '../helpers/tmp.js';

const m = modelOf(exampleText());
const work = useTempDir('lbbake-system');
const rel = (p: string) => p.slice(1);

describe('files every node gets alike', () => {
  it('are in render --node, --node user-data, metadata-mode files (and so the image), with their modes', () => {
    const sys = systemFiles(m);
    expect([...sys.keys()]).toEqual([rel(HAPROXY_EVENT.dropIn), rel(HOLD_NOTIFY), rel(DROP_INS.haproxy), rel(DROP_INS.keepalived)]);
    const tree = nodeTree(m, m.nodes[0]);
    const meta = metadataModeFiles(m, { secrets: 'at-boot' });
    const ud = userdataForNode(m, m.nodes[1]);
    for (const [p, f] of sys) {
      expect(tree.get(p)).toEqual(f);
      expect(meta.get(p)).toEqual(f);
      expect(ud).toContain(`path: /${p}`);
    }
    expect(sys.get(rel(HOLD_NOTIFY))!.mode).toBe('0755');
    expect(sys.get(rel(DROP_INS.keepalived))!.mode).toBe('0644');
  });

  it('preempt: true has no VIP-holder script (nothing reads the FIFO)', () => {
    const on = compile(exampleText().replace('  # preempt left out', '  preempt: true\n  #')).model!;
    expect([...systemFiles(on).keys()]).toEqual([rel(HAPROXY_EVENT.dropIn), rel(DROP_INS.haproxy), rel(DROP_INS.keepalived)]);
    expect(nodeTree(on, on.nodes[0]).get('etc/keepalived/keepalived.conf')!.content).not.toMatch(/vrrp_notify_fifo|lbbake_holder/);
  });

  it('the keepalived drop-in orders it after haproxy and the network (it stops first) and restarts it on failure', () => {
    const k = systemFiles(m).get(rel(DROP_INS.keepalived))!.content;
    expect(k).toMatch(/^After=haproxy\.service network-online\.target$/m);
    expect(k).toMatch(/^Restart=on-failure$/m);
    const h = systemFiles(m).get(rel(DROP_INS.haproxy))!.content;
    expect(h).toMatch(/^Restart=on-failure$/m);
  });

  it('the VIP-holder script passes shellcheck', () => {
    const r = shellcheckText(systemFiles(m).get(rel(HOLD_NOTIFY))!.content);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('the VIP-holder script writes 1 while MASTER and 0 otherwise, in the order keepalived wrote the lines', () => {
    const script = systemFiles(m).get(rel(HOLD_NOTIFY))!.content;
    const out = join(work, 'holder');
    const file = join(work, 'script.sh');
    writeFileSync(file, script.split(HOLD_FILE).join(out));
    const feed = (lines: string[]): string => {
      const fifo = join(work, 'fifo.txt');
      writeFileSync(fifo, lines.map((l) => l + '\n').join(''));
      const r = spawnSync('sh', [file, fifo], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(feed(['INSTANCE "VI_k8s-apiserver" BACKUP 250', 'INSTANCE "VI_k8s-apiserver" MASTER 250'])).toBe('1\n');
    expect(feed(['INSTANCE "VI_k8s-apiserver" MASTER 250', 'INSTANCE "VI_k8s-apiserver" MASTER_RX_LOWER_PRI 250'])).toBe('1\n');
    expect(feed(['INSTANCE "VI_k8s-apiserver" MASTER 250', 'INSTANCE "VI_k8s-apiserver" FAULT 250'])).toBe('0\n');
    expect(feed(['INSTANCE "VI_k8s-apiserver" MASTER 250', 'INSTANCE "VI_k8s-apiserver" STOP 250'])).toBe('0\n');
  });
});

const noSystemd = missing(['systemd-analyze']);
describe.skipIf(noSystemd)('systemd drop-ins', () => {
  it('pass systemd-analyze verify on stand-in haproxy and keepalived units', () => {
    const dir = join(work, 'units');
    const sys = systemFiles(m);
    for (const unit of ['haproxy', 'keepalived'] as const) {
      mkdirSync(join(dir, `${unit}.service.d`), { recursive: true });
      writeFileSync(join(dir, `${unit}.service.d`, 'lbbake-ha.conf'), sys.get(rel(DROP_INS[unit]))!.content);
      writeFileSync(join(dir, `${unit}.service`), '[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n');
    }
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'haproxy.service'), join(dir, 'keepalived.service')], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      timeout: 30_000,
    });
    const own = (r.stderr ?? '').split('\n').filter((l) => /lbbake|keepalived|haproxy/.test(l));
    expect(own).toEqual([]);
    expect(r.status).toBe(0);
  });
});
