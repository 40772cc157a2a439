/**
 * Scenario B, baked image: `packer build` of the `gen-packer` project (profile 1.6, qemu source)
 * from the lab's base image, then two VMs from that one image with different NoCloud meta-data
 * (lb-node: lb-0 / lb-1) and only the secrets user-data. The pair forms with lb-0 as MASTER,
 * all three backends answer through the VIP, and lb-1 takes over when haproxy is stopped on
 * lb-0 and when lb-0 is powered off. Between the two, the pair is replaced one node at a time by
 * VMs of a second image (built at the same time as the first) whose lb.yaml adds an apiserver,
 * in the order `lbbake explain NEW --against OLD` gives (BACKUP, handover, former MASTER), while a
 * probe counts every failed request through the VIP.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  E2E, LB, NS, RUN, buildImages, labConfig, labMissing, labUp, lbbake, poweroff, probeOnce, ProbeLog, probeStats, readRemote,
  recordFigure, run, serialTail, ssh, startVm, t0Of, teardown, waitKernel, waitSsh, VipWatch,
  type Images, type VmSpec,
} from './lab.js';

const reason = labMissing(['packer', 'xorriso']);
const lb0 = LB['lb-0']!;
const lb1 = LB['lb-1']!;
/** The builder VMs of the two images (built at the same time), each on its own tap. */
const BUILDERS = [
  { tag: '', ip: '198.18.0.20', tap: 'lbe-tap-pk' },
  { tag: '-next', ip: '198.18.0.19', tap: 'lbe-tap-pk2' },
] as const;
/** The VMs that replace lb-0 and lb-1: same names, addresses and taps, new MACs (new VMs). */
const NEXT: Record<string, VmSpec> = {
  'lb-0': { ...LB['lb-0']!, mac: '52:54:00:18:01:11' },
  'lb-1': { ...LB['lb-1']!, mac: '52:54:00:18:01:12' },
};
/** The apiserver the second revision of lb.yaml adds (e2e/net.sh runs a backend there). */
const ADDED = { name: 'master-3', address: '198.18.0.24' };
/** Failed probe requests the rolling replacement may cost: the two VIP moves (handover, then
 * preempt back) can each break the one request in flight; the rest is slack for a loaded host. */
const ROLLING_FAILED_BUDGET = 6;
/** Budget for a failover under emulation: the configs hand over in ~2-3 s (interval 1 fall 2,
 * FAULT on failure; 3 x advert_int on power-off); TCG guests on a busy host get 3x that. */
const FAILOVER_BUDGET_S = 10;

/** Variables the lab passes to the generated 1.6 project's qemu source (see docs/e2e.md). */
const NEEDED_VARS = ['qemu_extra_args', 'qemu_ssh_host', 'qemu_skip_nat_mapping'];

let LB_YAML = '';
/** The next revision of lb.yaml (an added apiserver), beside its own copy of the secrets. */
let LB_YAML_NEXT = '';
let images: Images;
let project = '';
let projectNext = '';
let artifact: string | undefined;
let artifactNext: string | undefined;
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
function labPackerSeed(generated: string, tag: string, ip: string): string {
  const dir = join(RUN, `packer-seed${tag}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const md = (parse(readFileSync(join(generated, 'meta-data'), 'utf8')) ?? {}) as Record<string, unknown>;
  md['network-interfaces'] = `auto eth0\niface eth0 inet static\n  address ${ip}/24\n`;
  writeFileSync(join(dir, 'meta-data'), stringify(md));
  const ud = parse(readFileSync(join(generated, 'user-data'), 'utf8')) as Record<string, unknown>;
  ud.apt = { preserve_sources_list: false, sources_list: 'deb [trusted=yes] http://198.18.0.1:8080/repo ./\n' };
  writeFileSync(join(dir, 'user-data'), `#cloud-config\n${stringify(ud)}`);
  return dir;
}

/** `packer build` of one generated project in the lab namespace (builder VM on `b.tap` at `b.ip`); the qcow2 it made. */
async function packerBuild(dir: string, b: (typeof BUILDERS)[number]): Promise<string> {
  const seed = labPackerSeed(join(dir, 'seed'), b.tag, b.ip);
  const out = join(RUN, `packer-out${b.tag}`);
  rmSync(out, { recursive: true, force: true });
  const accel = (await run('bash', [join(E2E, 'vm.sh'), 'accel'], 10_000)).stdout.trim();
  const varFile = join(RUN, `lab${b.tag}.pkrvars.hcl`);
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
      `manifest_path         = "${join(RUN, `packer-manifest${b.tag}.json`)}"`,
      `qemu_seed_dir         = "${seed}"`,
      `qemu_ssh_host         = "${b.ip}"`,
      'qemu_skip_nat_mapping = true',
      'qemu_extra_args = [',
      // id=user.0: the builder always adds -device virtio-net,netdev=user.0; a -netdev entry
      // replaces its slirp default (no user-mode networking anywhere)
      `  ["-netdev", "tap,id=user.0,ifname=${b.tap},script=no,downscript=no"],`,
      `  ["-kernel", "${join(images.base, 'vmlinuz')}"],`,
      `  ["-initrd", "${join(images.base, 'initrd.img')}"],`,
      '  ["-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0"],',
      `  ["-serial", "file:${join(RUN, `packer-vm${b.tag}.serial`)}"],`,
      ']',
      '',
    ].join('\n'),
  );
  const r = await run(
    'ip',
    // the cache and the manifest go to the run directory, never into the work tree
    ['netns', 'exec', NS, 'env', 'CHECKPOINT_DISABLE=1', 'PACKER_LOG=1', `PACKER_LOG_PATH=${join(RUN, `packer${b.tag}.log`)}`, `PACKER_CACHE_DIR=${join(RUN, `packer_cache${b.tag}`)}`,
      'packer', 'build', '-only=qemu.lb', `-var-file=${varFile}`, join(dir, '1.6')],
    40 * 60_000,
  );
  writeFileSync(join(RUN, `packer-build${b.tag}.out`), r.stdout + r.stderr);
  expect(r.status, `packer build of ${dir} failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`).toBe(0);
  const q = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.qcow2')) : [];
  expect(q.length, `no qcow2 in ${out}`).toBe(1);
  return join(out, q[0]!);
}

/** readRemote with a few attempts (an ssh under TCG on a busy host can time out). */
async function readRemoteRetry(spec: VmSpec, path: string): Promise<string | undefined> {
  for (let i = 0; i < 3; i++) {
    const got = await readRemote(spec, path);
    if (got !== undefined) return got;
    await new Promise((res) => setTimeout(res, 5000));
  }
  const r = await ssh(spec, `ls -l '${path}'`);
  throw new Error(`cannot read ${path} on ${spec.vm}: ${r.status} ${r.stdout} ${r.stderr}`);
}

/** keepalived's and haproxy's journal of this boot on a VM, saved to $RUN/<name>.journal; the state lines returned. */
async function saveJournal(spec: VmSpec, name: string): Promise<string> {
  const r = await ssh(spec, 'journalctl -b -u keepalived.service -u haproxy.service -u lbbake-agent.service --no-pager -o short-precise', 120_000);
  writeFileSync(join(RUN, `${name}.journal`), r.stdout + r.stderr);
  return r.stdout.split('\n').filter((l) => /Entering|VRRP_Script|Server .* is (DOWN|UP)|higher priority|lower priority/.test(l)).slice(-30).join('\n');
}

/** Waits (bounded) until keepalived on the VM has entered `state` with its check passing and haproxy runs. */
async function waitRole(spec: VmSpec, state: 'BACKUP' | 'MASTER', timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const r = await ssh(spec, `journalctl -b -u keepalived.service --no-pager -o cat | grep -E 'Entering|VRRP_Script' | tail -n 20; systemctl is-active haproxy.service keepalived.service`, 30_000);
    last = r.stdout;
    const lines = r.stdout.split('\n');
    const entered = lines.filter((l) => l.includes('Entering')).pop() ?? '';
    if (entered.includes(`Entering ${state} STATE`) && lines.some((l) => l.includes('succeeded')) && /^active\nactive$/m.test(r.stdout.trim())) return;
    await new Promise((res) => setTimeout(res, 3000));
  }
  throw new Error(`${spec.vm}: keepalived not ${state} with its check passing within ${timeoutS} s:\n${last}\n${serialTail(spec)}`);
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
    // the next revision: the same lb.yaml with an added apiserver, in a directory of its own
    const next = parse(readFileSync(LB_YAML, 'utf8')) as { services: Array<{ servers: Array<{ name: string; address: string }> }> };
    next.services[0]!.servers.push(ADDED);
    const dirNext = join(RUN, 'cfg-next');
    rmSync(dirNext, { recursive: true, force: true });
    mkdirSync(dirNext, { recursive: true });
    LB_YAML_NEXT = join(dirNext, 'lb-e2e.yaml');
    writeFileSync(LB_YAML_NEXT, stringify(next));
    projectNext = join(RUN, 'packer-next');
    rmSync(projectNext, { recursive: true, force: true });
    const g2 = lbbake(['gen-packer', LB_YAML_NEXT, '-o', projectNext]);
    expect(g2.status, g2.stderr).toBe(0);
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

  it('packer build (1.6 profile, qemu source) bakes the image, and the next revision\'s image at the same time', async () => {
    const t0 = Date.now();
    // two builder VMs at once: the second image (for the rolling replacement below) costs about
    // the difference, not a second build (TCG: one host core per vCPU, two cores)
    const [a, b] = await Promise.allSettled([packerBuild(project, BUILDERS[0]), packerBuild(projectNext, BUILDERS[1])]);
    if (a.status === 'fulfilled') artifact = a.value;
    if (b.status === 'fulfilled') artifactNext = b.value;
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
    recordFigure('packer-build-two', (Date.now() - t0) / 1000, '(both images, built at the same time)');
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

  it("haproxy killed on lb-0: its unit's exit event (real systemd) puts lb-0 in FAULT at once; the VRRP firewall is loaded", async () => {
    expect(watch, 'pair not up').toBeDefined();
    await watch!.waitFor((e) => e.state === `via ${lb0.ip}`, 0, 120);
    // the drop-in is what systemd runs haproxy with, and the firewall table is in place
    const cat = await ssh(lb0, 'systemctl cat haproxy.service');
    expect(cat.stdout).toContain('/etc/systemd/system/haproxy.service.d/lbbake-track.conf');
    expect(cat.stdout).toContain("ExecStopPost=-/bin/sh -c 'echo 1 > /run/lbbake-haproxy-down'");
    expect((await ssh(lb0, 'systemctl is-active lbbake-vrrp-firewall.service')).stdout.trim()).toBe('active');
    expect((await ssh(lb0, 'nft list table inet lbbake_vrrp')).stdout).toMatch(/ip saddr != \{ [\d., ]+ \} counter packets \d+ bytes \d+ drop/);
    expect((await ssh(lb0, 'cat /run/lbbake-haproxy-down')).stdout.trim()).toBe('0');
    // SIGKILL to every haproxy process: Debian's unit restarts it after 100 ms (Restart=always),
    // far inside the check's 3 s interval, so only the exit event can put lb-0 in FAULT
    const since = (await ssh(lb0, 'date +%s')).stdout.trim(); // the VM's clock, for its journal
    const tKill = Date.now() / 1000; // the host's, for the probe
    const kill = await ssh(lb0, 'systemctl kill --signal=KILL haproxy.service');
    expect(kill.status, kill.stderr).toBe(0);
    let journal = '';
    for (let i = 0; i < 60 && !/Entering FAULT STATE/.test(journal); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      journal = (await ssh(lb0, `journalctl -u keepalived.service --since @${since} --no-pager -o cat`)).stdout;
    }
    expect(journal, 'keepalived on lb-0 after the kill').toContain('Entering FAULT STATE');
    // haproxy is back (systemd), ExecStartPost wrote 0, lb-0 leaves FAULT and takes the VIP back
    await watch!.waitFor((e) => e.state === `via ${lb0.ip}`, tKill, 180);
    expect((await ssh(lb0, 'cat /run/lbbake-haproxy-down')).stdout.trim()).toBe('0');
    const hj = (await ssh(lb0, `journalctl -u haproxy.service --since @${since} --no-pager -o cat`)).stdout;
    expect(hj).toMatch(/Scheduled restart job|Started haproxy|Started HAProxy/);
  });

  it('rolling replacement: lb-1 then lb-0 replaced by VMs of the second image (an added apiserver) in the order explain --against gives; a probe through the VIP counts failed requests', async () => {
    expect(watch, 'pair not up').toBeDefined();
    expect(artifactNext, 'no second image (packer build failed)').toBeDefined();
    // the running nodes' secrets: lb.yaml's secrets file stays beside it when lb.yaml is edited
    copyFileSync(LB_YAML.replace(/\.yaml$/, '.secrets.yaml'), LB_YAML_NEXT.replace(/\.yaml$/, '.secrets.yaml'));
    const ex = lbbake(['explain', LB_YAML_NEXT, '--against', LB_YAML, '--json']);
    expect(ex.status, ex.stderr).toBe(0);
    const plan = JSON.parse(ex.stdout) as { rollingSafe: boolean; changes: unknown[]; outputs: { packer: { imageChanged: boolean }; secretsOnly: { changed: boolean } }; steps: Array<{ action: string; node: string; text: string }> };
    expect(plan.changes).toEqual([{ path: `services[kubernetes-apiserver].servers[${ADDED.name}]`, kind: 'added', new: `address ${ADDED.address}, port 6443` }]);
    expect(plan.rollingSafe).toBe(true);
    expect(plan.outputs.packer.imageChanged).toBe(true);
    expect(plan.outputs.secretsOnly.changed).toBe(false);
    expect(plan.steps.map((x) => [x.action, x.node])).toEqual([['replace', 'lb-1'], ['handover', 'lb-0'], ['replace', 'lb-0']]);
    const secrets = lbbake(['gen-userdata', LB_YAML_NEXT, '--secrets-only']);
    expect(secrets.status, secrets.stderr).toBe(0);
    await watch!.waitFor((e) => e.state === `via ${lb0.ip}`, 0, 120);

    const probe = new ProbeLog('rolling');
    probe.start(3600);
    const t0 = Date.now() / 1000;
    const render = mkdtempSync(join(tmpdir(), 'lbe-render-next-'));
    let t1 = 0;
    try {
      for (const step of plan.steps) {
        const next = NEXT[step.node]!;
        console.log(`rolling replacement: ${step.text}`);
        if (step.action === 'handover') {
          const tH = Date.now() / 1000;
          const h = await ssh(LB[step.node]!, 'lbbake-agent handover --wait 120', 180_000);
          expect(h.status, `${h.stdout}\n${h.stderr}`).toBe(0);
          expect(h.stdout).toMatch(/handed over after [\d.]+s/);
          await watch!.waitFor((e) => e.state === `via ${lb1.ip}`, tH, 120);
          continue;
        }
        expect(step.action).toBe('replace');
        const tR = Date.now() / 1000;
        await poweroff(LB[step.node]!);
        await startVm(next, artifactNext!, secrets.stdout, step.node);
        await waitKernel(next);
        await waitSsh(next, 900);
        // the new VM runs the new revision's files
        const r = lbbake(['render', LB_YAML_NEXT, '--node', step.node, '-o', join(render, step.node)]);
        expect(r.status, r.stderr).toBe(0);
        const cfg = readFileSync(join(render, step.node, 'etc/haproxy/haproxy.cfg'), 'utf8');
        expect(cfg).toContain(`server ${ADDED.name} ${ADDED.address}:6443 check`);
        if (step.node === 'lb-1') {
          // the replaced BACKUP joins as BACKUP: the VIP stays on lb-0 meanwhile
          await waitRole(next, 'BACKUP', 900);
          expect(await holdsVip(lb0), 'lb-0 kept the VIP while lb-1 was replaced').toBe(true);
        } else {
          // preempt: the new lb-0 takes the VIP back once it runs
          await watch!.waitFor((e) => e.state === `via ${lb0.ip}`, tR, 900);
          await waitRole(next, 'MASTER', 300);
        }
        expect(await readRemoteRetry(next, '/etc/haproxy/haproxy.cfg'), `/etc/haproxy/haproxy.cfg on the new ${step.node}`).toBe(cfg);
      }
    } finally {
      t1 = Date.now() / 1000;
      probe.stop();
      rmSync(render, { recursive: true, force: true });
      // what keepalived and haproxy did on the new nodes (kept in $RUN for a failed run)
      for (const n of ['lb-1', 'lb-0']) {
        const j = await saveJournal(NEXT[n]!, `rolling-${n}`).catch((e: Error) => `(no journal: ${e.message})`);
        console.log(`--- new ${n}: keepalived/haproxy state lines\n${j}`);
      }
    }
    const st = probeStats(probe.entries(), t0, t1);
    recordFigure('rolling-replace', t1 - t0, '(first VM stopped -> new pair serving via lb-0)');
    recordFigure('rolling-replace-failed-requests', st.failed, `(of ${st.requests} requests; failures at ${st.failures.map((f) => `${(f.t - t0).toFixed(1)} s ${f.state}`).join(', ') || '-'})`);
    recordFigure('rolling-replace-longest-gap', st.longestGap, '(longest time without an answer through the VIP)');
    expect(st.requests, 'the probe made requests throughout').toBeGreaterThan(100);
    expect(st.failed, JSON.stringify(st.failures.slice(0, 10))).toBeLessThanOrEqual(ROLLING_FAILED_BUDGET);
    expect(await holdsVip(lb0), 'the new lb-0 holds the VIP').toBe(true);
    expect(await holdsVip(lb1), 'the new lb-1 does not').toBe(false);
    // the added apiserver serves through the VIP (bounded, as the three did above)
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 4; i++) {
      const a = await probeOnce();
      expect(a).toMatch(/^backend 198\.18\.0\.2[1234] ok via 198\.18\.0\.11$/);
      seen.add(a.split(' ')[1]!);
      if (i >= 15) await new Promise((r) => setTimeout(r, 1000));
    }
    expect([...seen].sort()).toEqual(['198.18.0.21', '198.18.0.22', '198.18.0.23', ADDED.address]);
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
