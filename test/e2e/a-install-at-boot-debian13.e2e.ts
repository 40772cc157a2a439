/**
 * Scenario A on Debian 13: the same install-at-boot proof as a-install-at-boot.e2e.ts, from a
 * Debian 13 (trixie) base image with cloud-init 25.1, the metadata-mode user-data of an lb.yaml
 * whose target.os is debian13, and a local repo of trixie's keepalived 2.3.3 and haproxy 3.0.
 * Same assertions: cloud-init `done` with no warnings, services active, the node's files equal
 * `render --node` byte for byte (and mode), the VIP answers through haproxy.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LB, buildImages, labConfig, labMissing, labUp, lbbake, readRemote, recordFigure, serialTail, ssh,
  startVm, teardown, waitKernel, waitSsh, waitVip, type Images, type VmSpec,
} from './lab.js';

const reason = labMissing();
const SUITE = 'trixie';
// lb-0's address, tap and MAC (the lab network is set up afresh for this file), its own VM name
const lb0: VmSpec = { ...LB['lb-0']!, vm: 'lb0-d13' };

describe.skipIf(reason)('Scenario A on Debian 13: install at boot (trixie image, cloud-init 25.1)', () => {
  let images: Images;
  let render: string;
  let lbYaml = '';

  beforeAll(async () => {
    await teardown(); // leftovers of an interrupted run
    images = await buildImages(SUITE);
    if ((images.seconds.base ?? 0) > 30) recordFigure('base-image-build-debian13', images.seconds.base!);
    await labUp(SUITE);
    lbYaml = labConfig();
    const text = readFileSync(lbYaml, 'utf8');
    expect(text).toMatch(/^ {2}os: debian12$/m);
    writeFileSync(lbYaml, text.replace(/^ {2}os: debian12$/m, '  os: debian13'));
    render = mkdtempSync(join(tmpdir(), 'lbe-render-'));
    const r = lbbake(['render', lbYaml, '--node', 'lb-0', '-o', render]);
    expect(r.status, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await teardown();
    if (render) rmSync(render, { recursive: true, force: true });
  });

  it('the image is Debian 13 with cloud-init 25.1, the repo has trixie\'s keepalived and haproxy', () => {
    expect(readFileSync(join(images.base, 'tree/etc/debian_version'), 'utf8')).toMatch(/^13\./);
    const repo = readFileSync(join(images.repo, 'Packages'), 'utf8');
    expect(repo).toMatch(/^Package: haproxy\n(?:.+\n)*?Version: 3\.0\./m);
    expect(repo).toMatch(/^Package: keepalived\n(?:.+\n)*?Version: 1:2\.3\.3/m);
  });

  it('boots, installs from the local repo, serves the VIP; cloud-init done; files equal render --node', async () => {
    const ud = lbbake(['gen-userdata', lbYaml]);
    expect(ud.status, ud.stderr).toBe(0);
    expect(ud.stdout).toContain('(Debian 13');
    await startVm(lb0, join(images.base, 'base.qcow2'), ud.stdout, 'lb-0', SUITE);
    const kernel = await waitKernel(lb0);
    console.log(`lb0 (Debian 13): kernel banner on the serial console after ${kernel.toFixed(1)} s`);

    const vip = await waitVip(lb0, 1200);
    recordFigure('boot-stock-debian13', vip.seconds, '(metadata-mode user-data)');
    expect(vip.answer).toMatch(/^backend 198\.18\.0\.2[123] ok via 198\.18\.0\.11$/);

    await waitSsh(lb0);
    const ver: string[] = [];
    for (const cmd of ['cat /etc/debian_version', 'cloud-init --version', 'haproxy -v', 'keepalived --version']) {
      const r = await ssh(lb0, `${cmd} 2>&1 | head -1`);
      ver.push(r.stdout.trim());
    }
    console.log(`lb0 (Debian 13): ${ver.join(' | ')}`);
    expect(ver[0]).toMatch(/^13\./);
    expect(ver[1]).toMatch(/ 25\.1/);
    expect(ver[2]).toMatch(/version 3\.0\./);
    expect(ver[3]).toMatch(/v2\.3\.3/);

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
