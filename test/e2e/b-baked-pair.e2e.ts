/**
 * Scenario B, baked image: `packer build` of the `gen-packer` project (profile 1.6, qemu source)
 * from the lab's base image, then two VMs from that one image with different NoCloud meta-data
 * (lb-node: lb-0 / lb-1) and only the secrets user-data. The pair forms with lb-0 as MASTER,
 * all three backends answer through the VIP, and lb-1 takes over when haproxy is stopped on
 * lb-0 and when lb-0 is powered off.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  E2E, LB, NS, RUN, buildImages, labConfig, labMissing, labUp, lbbake, poweroff, probeOnce, readRemote,
  recordFigure, run, serialTail, ssh, startVm, t0Of, teardown, waitKernel, waitSsh, VipWatch,
  type Images, type VmSpec,
} from './lab.js';

const reason = labMissing(['packer', 'xorriso']);
const lb0 = LB['lb-0']!;
const lb1 = LB['lb-1']!;
const PACKER_IP = '198.18.0.20';
/** Budget for a failover under emulation: the configs hand over in ~2-3 s (interval 1 fall 2,
 * FAULT on failure; 3 x advert_int on power-off); TCG guests on a busy host get 3x that. */
const FAILOVER_BUDGET_S = 10;

/** Variables the lab passes to the generated 1.6 project's qemu source (see docs/e2e.md). */
const NEEDED_VARS = ['qemu_extra_args', 'qemu_ssh_host', 'qemu_skip_nat_mapping'];

let LB_YAML = '';
let images: Images;
let project = '';
let artifact: string | undefined;
let watch: VipWatch | undefined;

function declaredVariables(dir: string): Set<string> {
  const text = readFileSync(join(dir, 'variables.pkr.hcl'), 'utf8');
  return new Set([...text.matchAll(/^variable "([^"]+)"/gm)].map((m) => m[1]!));
}

/**
 * The builder VM's seed: the generated seed (its build user, whose name and password the
 * project's qemu_ssh_* variables expect) plus what only the lab knows: the static address
 * (NoCloud meta-data `network-interfaces`; the lab has no DHCP) and the local apt repo.
 */
function labPackerSeed(generated: string): string {
  const dir = join(RUN, 'packer-seed');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const md = (parse(readFileSync(join(generated, 'meta-data'), 'utf8')) ?? {}) as Record<string, unknown>;
  md['network-interfaces'] = `auto eth0\niface eth0 inet static\n  address ${PACKER_IP}/24\n`;
  writeFileSync(join(dir, 'meta-data'), stringify(md));
  const ud = parse(readFileSync(join(generated, 'user-data'), 'utf8')) as Record<string, unknown>;
  ud.apt = { preserve_sources_list: false, sources_list: 'deb [trusted=yes] http://198.18.0.1:8080/repo ./\n' };
  writeFileSync(join(dir, 'user-data'), `#cloud-config\n${stringify(ud)}`);
  return dir;
}

async function nodeChecks(spec: VmSpec, render: string): Promise<void> {
  await waitSsh(spec);
  const st = await ssh(spec, 'timeout 600 cloud-init status --wait --long', 660_000);
  expect(st.stdout, `${spec.vm}: ${st.stdout}\n${st.stderr}\n${serialTail(spec)}`).toMatch(/^status: done$/m);
  const log = await ssh(spec, "grep -nE 'WARNING|Traceback|ERROR' /var/log/cloud-init.log || true");
  expect(log.stdout.trim(), `${spec.vm}: warnings in /var/log/cloud-init.log`).toBe('');
  const act = await ssh(spec, 'systemctl is-active keepalived.service haproxy.service');
  expect(act.stdout.trim().split('\n'), `${spec.vm} services`).toEqual(['active', 'active']);
  const r = lbbake(['render', LB_YAML, '--node', spec.node, '-o', render]);
  expect(r.status, r.stderr).toBe(0);
  for (const rel of ['etc/keepalived/keepalived.conf', 'etc/haproxy/haproxy.cfg', 'etc/sysctl.d/90-lbbake-lbe-lab.conf']) {
    const got = await readRemote(spec, `/${rel}`);
    expect(got, `/${rel} on ${spec.node} differs from render --node ${spec.node}`).toBe(readFileSync(join(render, rel), 'utf8'));
    const mode = (await ssh(spec, `stat -c %a /${rel}`)).stdout.trim();
    expect(mode, `mode of /${rel} on ${spec.node}`).toBe((statSync(join(render, rel)).mode & 0o777).toString(8));
  }
}

const holdsVip = async (spec: VmSpec) => (await ssh(spec, 'ip -4 -br addr show dev ens5')).stdout.includes('198.18.0.100/');

/** `lbbake-agent status --json` on the node (exit 1 only says that it lists problems). */
async function status(spec: VmSpec): Promise<Record<string, unknown>> {
  const r = await ssh(spec, 'lbbake-agent status --json', 60_000);
  expect(r.status, `${spec.vm} status: ${r.stderr}`).toBeLessThanOrEqual(1);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.skipIf(reason)('Scenario B: baked image (gen-packer + packer build), pair and failover', () => {
  beforeAll(async () => {
    await teardown();
    images = await buildImages();
    await labUp();
    LB_YAML = labConfig();
    project = join(RUN, 'packer');
    rmSync(project, { recursive: true, force: true });
    const g = lbbake(['gen-packer', LB_YAML, '-o', project]);
    expect(g.status, g.stderr).toBe(0);
  });

  afterAll(async () => {
    watch?.stop();
    await teardown();
  });

  it('the generated 1.6 qemu source takes the lab knobs (tap netdev, direct kernel boot, ssh to the guest address)', () => {
    const have = declaredVariables(join(project, '1.6'));
    const lacking = NEEDED_VARS.filter((v) => !have.has(v));
    expect(lacking, `gen-packer's 1.6 profile lacks variables the lab needs: ${lacking.join(', ')}`).toEqual([]);
  });

  it('the generated project bakes the boot agent into the image (roles from metadata)', () => {
    for (const f of ['usr/local/sbin/lbbake-agent', 'etc/systemd/system/lbbake-agent.service']) {
      expect(existsSync(join(project, 'files/lbbake-rootfs', f)), `gen-packer project lacks /${f}`).toBe(true);
    }
  });

  it('packer build (1.6 profile, qemu source) bakes the image', async () => {
    const seed = labPackerSeed(join(project, 'seed'));
    const out = join(RUN, 'packer-out');
    rmSync(out, { recursive: true, force: true });
    const accel = (await run('bash', [join(E2E, 'vm.sh'), 'accel'], 10_000)).stdout.trim();
    const varFile = join(RUN, 'lab.pkrvars.hcl');
    writeFileSync(
      varFile,
      [
        `qemu_image            = "${join(images.base, 'base.qcow2')}"`,
        'qemu_image_checksum   = "none"',
        `qemu_accelerator      = "${accel}"`,
        'qemu_cpu_model        = "max"',
        'qemu_cpus             = 1',
        'qemu_memory           = 1024',
        `qemu_output_directory = "${out}"`,
        `manifest_path         = "${join(RUN, 'packer-manifest.json')}"`,
        `qemu_seed_dir         = "${seed}"`,
        `qemu_ssh_host         = "${PACKER_IP}"`,
        'qemu_skip_nat_mapping = true',
        'qemu_extra_args = [',
        // id=user.0: the builder always adds -device virtio-net,netdev=user.0; a -netdev entry
        // replaces its slirp default (no user-mode networking anywhere)
        `  ["-netdev", "tap,id=user.0,ifname=lbe-tap-pk,script=no,downscript=no"],`,
        `  ["-kernel", "${join(images.base, 'vmlinuz')}"],`,
        `  ["-initrd", "${join(images.base, 'initrd.img')}"],`,
        '  ["-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0"],',
        `  ["-serial", "file:${join(RUN, 'packer-vm.serial')}"],`,
        ']',
        '',
      ].join('\n'),
    );
    const t0 = Date.now();
    const r = await run(
      'ip',
      // the cache and the manifest go to the run directory, never into the work tree
      ['netns', 'exec', NS, 'env', 'CHECKPOINT_DISABLE=1', 'PACKER_LOG=1', `PACKER_LOG_PATH=${join(RUN, 'packer.log')}`, `PACKER_CACHE_DIR=${join(RUN, 'packer_cache')}`,
        'packer', 'build', '-only=qemu.lb', `-var-file=${varFile}`, join(project, '1.6')],
      40 * 60_000,
    );
    writeFileSync(join(RUN, 'packer-build.out'), r.stdout + r.stderr);
    expect(r.status, `packer build failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`).toBe(0);
    recordFigure('packer-build', (Date.now() - t0) / 1000);
    const q = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.qcow2')) : [];
    expect(q.length, `no qcow2 in ${out}`).toBe(1);
    artifact = join(out, q[0]!);
  });

  it('two VMs from the one image, roles from meta-data: pair forms with lb-0 MASTER, three backends via the VIP', async () => {
    expect(artifact, 'no baked image (packer build failed)').toBeDefined();
    const secrets = lbbake(['gen-userdata', LB_YAML, '--secrets-only']);
    expect(secrets.status, secrets.stderr).toBe(0);
    watch = new VipWatch('baked');
    watch.start(3600);
    await startVm(lb0, artifact!, secrets.stdout, 'lb-0');
    await startVm(lb1, artifact!, secrets.stdout, 'lb-1');
    await waitKernel(lb0);
    await waitKernel(lb1);
    const t0 = t0Of(lb0);
    const first = await watch.waitFor((e) => e.state.startsWith('via '), t0, 1200);
    recordFigure('boot-baked', first.t - t0, `(first answer ${first.state})`);
    await watch.waitFor((e) => e.state === `via ${lb0.ip}`, t0, 300);

    const render = mkdtempSync(join(tmpdir(), 'lbe-render-'));
    try {
      await nodeChecks(lb0, render);
      await nodeChecks(lb1, render);
    } finally {
      rmSync(render, { recursive: true, force: true });
    }
    expect(await holdsVip(lb0), 'lb-0 holds the VIP').toBe(true);
    expect(await holdsVip(lb1), 'lb-1 does not hold the VIP').toBe(false);
    // lbbake-agent status on the booted nodes: roles as keepalived has them, VIP holder, node name from meta-data
    const s0 = await status(lb0);
    const s1 = await status(lb1);
    expect(s0).toMatchObject({ node: 'lb-0', vrrp: { state: 'MASTER', keepalived: 'running' }, vip: { here: true } });
    expect(s1).toMatchObject({ node: 'lb-1', vrrp: { state: 'BACKUP', keepalived: 'running' }, vip: { here: false, holder: { name: 'lb-0' } } });
    expect(s0.resolvedFrom, 'how lb-0 found its name').toBeTruthy();

    // Round robin shows all three within a few requests once haproxy has every server UP. Under
    // emulation a TLS health check can time out and mark a server DOWN for a moment, so after 12
    // requests keep probing once a second (bounded: 60 requests) until all three have answered.
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 3; i++) {
      const a = await probeOnce();
      expect(a).toMatch(/^backend 198\.18\.0\.2[123] ok via 198\.18\.0\.11$/);
      seen.add(a.split(' ')[1]!);
      if (i >= 11) await new Promise((r) => setTimeout(r, 1000));
    }
    expect([...seen].sort()).toEqual(['198.18.0.21', '198.18.0.22', '198.18.0.23']);
  });

  it('haproxy stopped on lb-0 -> lb-1 serves; started again -> lb-0 serves', async () => {
    expect(watch, 'pair not up').toBeDefined();
    const tStop = Date.now() / 1000;
    const stop = await ssh(lb0, 'systemctl stop haproxy.service');
    expect(stop.status, stop.stderr).toBe(0);
    const down = await watch!.waitFor((e) => e.state !== `via ${lb0.ip}`, tStop, 60);
    const over = await watch!.waitFor((e) => e.state === `via ${lb1.ip}`, tStop, 120);
    const failover = over.t - down.t;
    recordFigure('failover-haproxy-stop', failover, `(outage: first failed probe -> answer via lb-1; ${(over.t - tStop).toFixed(1)} s after the ssh command was issued)`);
    expect(failover).toBeLessThanOrEqual(FAILOVER_BUDGET_S);
    expect(await status(lb1)).toMatchObject({ vrrp: { state: 'MASTER' }, vip: { here: true } });
    expect(await status(lb0)).toMatchObject({ vrrp: { state: 'FAULT' }, vip: { here: false, holder: { name: 'lb-1' } } });

    const tStart = Date.now() / 1000;
    const start = await ssh(lb0, 'systemctl start haproxy.service');
    expect(start.status, start.stderr).toBe(0);
    const back = await watch!.waitFor((e) => e.state === `via ${lb0.ip}`, tStart, 120);
    recordFigure('failback-haproxy-start', back.t - tStart, '(from the ssh command)');
  });

  it('lb-0 powered off (QMP quit) -> lb-1 serves', async () => {
    expect(watch, 'pair not up').toBeDefined();
    // steady on lb-0 first
    await watch!.waitFor((e) => e.state === `via ${lb0.ip}`, 0, 60);
    const tOff = Date.now() / 1000;
    await poweroff(lb0);
    const over = await watch!.waitFor((e) => e.state === `via ${lb1.ip}`, tOff, 120);
    recordFigure('failover-poweroff', over.t - tOff);
    expect(over.t - tOff).toBeLessThanOrEqual(FAILOVER_BUDGET_S);
    expect(await holdsVip(lb1), 'lb-1 holds the VIP').toBe(true);
  });
});
