/**
 * Scenario A, install at boot: a VM from the stock-like base image, the metadata-mode
 * user-data of `lbbake gen-userdata` and a NoCloud seed whose meta-data names the node.
 * cloud-init installs keepalived + haproxy from the lab's local repo; the node must serve
 * through the VIP, with cloud-init `done` and no warnings, and run exactly `render --node`.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LB, buildImages, labConfig, labMissing, labUp, lbbake, readRemote, recordFigure, serialTail, ssh,
  startVm, teardown, waitKernel, waitSsh, waitVip, type Images,
} from './lab.js';

const reason = labMissing();
const lb0 = LB['lb-0']!;
let LB_YAML = '';

/** The user-data under test: metadata mode (one user-data for all nodes) when lbbake has it. */
function userData(): { text: string; mode: string } {
  const meta = lbbake(['gen-userdata', LB_YAML]);
  if (meta.status === 0) return { text: meta.stdout, mode: 'metadata' };
  const fixed = lbbake(['gen-userdata', LB_YAML, '--node', 'lb-0']);
  if (fixed.status !== 0) throw new Error(`gen-userdata --node lb-0 failed: ${fixed.stderr}`);
  console.warn(`metadata-mode gen-userdata unavailable (${meta.stderr.trim()}); booting the --node lb-0 user-data`);
  return { text: fixed.stdout, mode: 'node' };
}

describe.skipIf(reason)('Scenario A: install at boot (stock image + lbbake user-data)', () => {
  let images: Images;
  let render: string;

  beforeAll(async () => {
    await teardown(); // leftovers of an interrupted run
    images = await buildImages();
    if ((images.seconds.base ?? 0) > 30) recordFigure('base-image-build', images.seconds.base!);
    await labUp();
    LB_YAML = labConfig();
    render = mkdtempSync(join(tmpdir(), 'lbe-render-'));
    const r = lbbake(['render', LB_YAML, '--node', 'lb-0', '-o', render]);
    expect(r.status, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await teardown();
    if (render) rmSync(render, { recursive: true, force: true });
  });

  it('gen-userdata has the metadata mode (no --node) that the boot agent provides', () => {
    const r = lbbake(['gen-userdata', LB_YAML]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('boots, installs from the local repo, serves the VIP; cloud-init done; files equal render --node', async () => {
    const ud = userData();
    await startVm(lb0, join(images.base, 'base.qcow2'), ud.text, 'lb-0');
    const kernel = await waitKernel(lb0);
    console.log(`lb0: kernel banner on the serial console after ${kernel.toFixed(1)} s`);

    const vip = await waitVip(lb0, 1200);
    recordFigure('boot-stock', vip.seconds, `(${ud.mode}-mode user-data)`);
    expect(vip.answer).toMatch(/^backend 198\.18\.0\.2[123] ok via 198\.18\.0\.11$/);

    await waitSsh(lb0);
    const st = await ssh(lb0, 'timeout 600 cloud-init status --wait --long', 660_000);
    expect(st.stdout, `${st.stdout}\n${st.stderr}\n${serialTail(lb0)}`).toMatch(/^status: done$/m);
    expect(st.stdout).toContain('DataSourceNoCloud');

    const log = await ssh(lb0, "grep -nE 'WARNING|Traceback|ERROR' /var/log/cloud-init.log || true");
    expect(log.stdout.trim(), 'warnings in /var/log/cloud-init.log').toBe('');

    const act = await ssh(lb0, 'systemctl is-active keepalived.service haproxy.service');
    expect(act.stdout.trim().split('\n')).toEqual(['active', 'active']);

    for (const rel of ['etc/keepalived/keepalived.conf', 'etc/haproxy/haproxy.cfg', 'etc/sysctl.d/90-lbbake-lbe-lab.conf']) {
      const want = readFileSync(join(render, rel), 'utf8');
      const got = await readRemote(lb0, `/${rel}`);
      expect(got, `/${rel} on lb-0 differs from render --node lb-0`).toBe(want);
      const mode = (await ssh(lb0, `stat -c %a /${rel}`)).stdout.trim();
      expect(mode, `mode of /${rel}`).toBe((statSync(join(render, rel)).mode & 0o777).toString(8));
    }

    // lb-e2e.yaml names no interface: the agent found the VM's NIC (ens5) by lb-0's address
    expect(await readRemote(lb0, '/run/lbbake/keepalived-interface.conf')).toBe('    interface ens5\n');
    const addr = await ssh(lb0, 'ip -4 -br addr show dev ens5');
    expect(addr.stdout).toContain('198.18.0.100/24');
    const master = await ssh(lb0, "journalctl -u keepalived --no-pager | grep -c 'Entering MASTER STATE' || true");
    expect(Number(master.stdout.trim())).toBeGreaterThan(0);
  });
});
