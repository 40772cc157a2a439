/**
 * The e2e VM lab, driven from vitest: thin wrappers around the scripts in e2e/ (which also
 * work by hand, see docs/e2e.md). Every call is bounded by a timeout; every VM and background
 * process is registered so teardown() can kill it, also after a failure.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missing } from '../helpers/tools.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const E2E = join(ROOT, 'e2e');
export const WORK = process.env.LBE_WORK ?? '/var/cache/lbbake-e2e';
export const RUN = process.env.LBE_RUN ?? join(WORK, 'run');
export const NS = process.env.LBE_NS ?? 'lbe-lab';
/** The lab's lb.yaml (in git, without secrets); tests use a copy, see labConfig(). */
export const LB_YAML_SRC = join(ROOT, 'test/e2e/lb-e2e.yaml');
export const VIP = '198.18.0.100:6443';
export const FIGURES = join(WORK, 'figures.jsonl');

export interface VmSpec {
  vm: string;
  node: string;
  ip: string;
  tap: string;
  mac: string;
}
export const LB: Record<string, VmSpec> = {
  'lb-0': { vm: 'lb0', node: 'lb-0', ip: '198.18.0.11', tap: 'lbe-tap-lb0', mac: '52:54:00:18:00:11' },
  'lb-1': { vm: 'lb1', node: 'lb-1', ip: '198.18.0.12', tap: 'lbe-tap-lb1', mac: '52:54:00:18:00:12' },
};

/** Host tools the lab needs; in CI a missing one fails the suite (see test/helpers/tools.ts). */
export const LAB_TOOLS = [
  'qemu-system-x86_64', 'qemu-img', 'debootstrap', 'mke2fs', 'cloud-localds', 'apt-ftparchive',
  'socat', 'ssh', 'ssh-keygen', 'openssl', 'python3', 'ip',
];

/** Why the lab cannot run here (undefined if it can); throws in CI instead of skipping. */
export function labMissing(extra: string[] = []): string | undefined {
  const reason = missing([...LAB_TOOLS, ...extra], { root: true });
  if (reason) return reason;
  if (!existsSync('/dev/net/tun')) {
    const r = 'no /dev/net/tun (tap devices)';
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true and the e2e lab cannot run: ${r}`);
    console.warn(`SKIPPED: ${r}`);
    return r;
  }
  return undefined;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The Debian release of a lab VM's base image and local repo (e2e/lib.sh LBE_SUITE). */
export type LabSuite = 'bookworm' | 'trixie';

/** Runs a command, bounded; never throws (check .status). */
export function run(cmd: string, args: string[], timeoutMs: number, input?: string, suite: LabSuite = 'bookworm'): Promise<RunResult> {
  return new Promise((res) => {
    const child = execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env: labEnv(suite) },
      (err, stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 1) : 0;
        res({ status, stdout, stderr: `${stderr}${err?.killed ? `\n(killed after ${timeoutMs} ms)` : ''}` });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

function labEnv(suite: LabSuite): NodeJS.ProcessEnv {
  return { ...process.env, LBE_WORK: WORK, LBE_RUN: RUN, LBE_NS: NS, LBE_SUITE: suite };
}

/**
 * A fresh copy of the lab's lb.yaml in $RUN/cfg: lbbake generates the VRRP auth pass and stats
 * password into lb-e2e.secrets.yaml beside it on first use (never into the repo), and every later
 * command of this run (gen-userdata, render, gen-packer) reads the same secrets.
 */
export function labConfig(): string {
  const dir = join(RUN, 'cfg');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const f = join(dir, 'lb-e2e.yaml');
  copyFileSync(LB_YAML_SRC, f);
  return f;
}

/** Runs an e2e/ script, bounded; throws with its output on failure. */
export async function script(name: string, args: string[], timeoutMs: number, suite: LabSuite = 'bookworm'): Promise<string> {
  const r = await run('bash', [join(E2E, name), ...args], timeoutMs, undefined, suite);
  if (r.status !== 0) throw new Error(`e2e/${name} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout.trim();
}

/** The lbbake CLI of this checkout (dist/ is built by npm ci / the e2e script). */
export function lbbake(args: string[]): RunResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/bin.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface Images {
  base: string; // dir with base.qcow2, vmlinuz, initrd.img
  repo: string;
  seconds: { base?: number; repo?: number };
}

/** Builds (or reuses from $WORK) the base image and the local repo of a Debian release. */
export async function buildImages(suite: LabSuite = 'bookworm'): Promise<Images> {
  const t0 = Date.now();
  const base = (await script('build-base.sh', [], 30 * 60_000, suite)).split('\n').pop()!;
  const t1 = Date.now();
  const repo = (await script('build-repo.sh', [], 15 * 60_000, suite)).split('\n').pop()!;
  const t2 = Date.now();
  return { base, repo, seconds: { base: (t1 - t0) / 1000, repo: (t2 - t1) / 1000 } };
}

const started = new Set<string>();
const children = new Set<ChildProcess>();

/** The lab network, serving the local repo of `suite`'s VMs. */
export async function labUp(suite: LabSuite = 'bookworm'): Promise<void> {
  mkdirSync(RUN, { recursive: true });
  await script('net.sh', ['up'], 20 * 60_000, suite);
}

/** Powers off every VM this process started, stops background probes, deletes the namespace. */
export async function teardown(): Promise<void> {
  for (const vm of started) await run('bash', [join(E2E, 'vm.sh'), 'poweroff', vm], 30_000);
  started.clear();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  children.clear();
  await run('bash', [join(E2E, 'net.sh'), 'down'], 60_000);
}

/**
 * Writes the seed for spec (user-data text, meta-data naming `node` if given) and starts the VM
 * (the kernel and the repo its seed names are those of `suite`).
 */
export async function startVm(spec: VmSpec, image: string, userData: string, node?: string, suite: LabSuite = 'bookworm'): Promise<void> {
  mkdirSync(RUN, { recursive: true });
  const ud = join(RUN, `${spec.vm}.user-data`);
  writeFileSync(ud, userData);
  const seed = await script('seed.sh', [spec.vm, spec.ip, ud, ...(node ? [node] : [])], 60_000, suite);
  started.add(spec.vm);
  await script('vm.sh', ['start', spec.vm, image, seed.split('\n').pop()!, spec.tap, spec.mac], 60_000, suite);
}

export async function poweroff(spec: VmSpec): Promise<void> {
  await script('vm.sh', ['poweroff', spec.vm], 30_000);
  started.delete(spec.vm);
}

export const t0Of = (spec: VmSpec): number => Number(readFileSync(join(RUN, `${spec.vm}.t0`), 'utf8'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Proves qemu really runs a guest: the kernel banner must reach the serial console. A host
 * where qemu cannot boot a kernel (e.g. a /dev/kvm that hangs) fails here, not in 15 minutes.
 */
export async function waitKernel(spec: VmSpec, timeoutS = 120): Promise<number> {
  const serial = join(RUN, `${spec.vm}.serial`);
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    if (existsSync(serial) && readFileSync(serial, 'utf8').includes('Linux version')) {
      return Date.now() / 1000 - t0Of(spec);
    }
    await sleep(500);
  }
  throw new Error(`qemu started ${spec.vm} but no kernel banner on its serial console in ${timeoutS} s: the guest does not boot`);
}

/** Seconds from the VM's qemu start until the VIP answers through haproxy. */
export async function waitVip(spec: VmSpec, timeoutS: number): Promise<{ seconds: number; answer: string }> {
  const r = await run(
    'ip',
    ['netns', 'exec', NS, 'python3', join(E2E, 'probe.py'), 'wait', VIP, '--t0', join(RUN, `${spec.vm}.t0`), '--timeout', String(timeoutS)],
    (timeoutS + 30) * 1000,
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0) throw new Error(`VIP ${VIP} did not answer within ${timeoutS} s after ${spec.vm} started: ${line} ${r.stderr}\n--- serial tail ---\n${serialTail(spec)}`);
  return JSON.parse(line) as { seconds: number; answer: string };
}

export async function probeOnce(): Promise<string> {
  const r = await run('ip', ['netns', 'exec', NS, 'python3', join(E2E, 'probe.py'), 'once', VIP], 15_000);
  return r.stdout.trim();
}

export function serialTail(spec: VmSpec, lines = 40): string {
  const f = join(RUN, `${spec.vm}.serial`);
  if (!existsSync(f)) return '(no serial log)';
  return readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
}

/** A command as root on a lab VM, via ssh from inside the namespace. */
export function ssh(spec: VmSpec, command: string, timeoutMs = 60_000): Promise<RunResult> {
  return run('bash', [join(E2E, 'vm.sh'), 'ssh', spec.ip, command], timeoutMs);
}

/** Waits (bounded) until sshd on the VM runs commands. */
export async function waitSsh(spec: VmSpec, timeoutS = 300): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  let last: RunResult | undefined;
  while (Date.now() < deadline) {
    last = await ssh(spec, 'true', 20_000);
    if (last.status === 0) return;
    await sleep(2000);
  }
  throw new Error(`no ssh to ${spec.vm} (${spec.ip}) in ${timeoutS} s: ${last?.stderr}`);
}

/** Reads a file on the VM exactly (base64 over ssh), or undefined if it does not exist. */
export async function readRemote(spec: VmSpec, path: string): Promise<string | undefined> {
  const r = await ssh(spec, `test -f '${path}' && base64 -w0 '${path}'`);
  if (r.status !== 0) return undefined;
  return Buffer.from(r.stdout.trim(), 'base64').toString('utf8');
}

export interface VipEvent {
  t: number;
  state: string;
  answer: string | null;
}

/** Background VIP watcher (0.1 s polling) logging state changes; stopped by stop() or teardown. */
export class VipWatch {
  private readonly out: string;
  private child?: ChildProcess;
  constructor(name: string) {
    this.out = join(RUN, `vipwatch-${name}.jsonl`);
  }
  start(maxS = 1800): void {
    writeFileSync(this.out, '');
    this.child = spawn('ip', ['netns', 'exec', NS, 'python3', join(E2E, 'probe.py'), 'watch', VIP, '--out', this.out, '--max', String(maxS)], {
      stdio: 'ignore',
    });
    children.add(this.child);
  }
  events(): VipEvent[] {
    return readFileSync(this.out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as VipEvent);
  }
  /** Waits (bounded) for an event after time `after` matching pred; returns it. */
  async waitFor(pred: (e: VipEvent) => boolean, after: number, timeoutS: number): Promise<VipEvent> {
    const deadline = Date.now() + timeoutS * 1000;
    while (Date.now() < deadline) {
      const e = this.events().find((ev) => ev.t >= after && pred(ev));
      if (e) return e;
      await sleep(200);
    }
    throw new Error(`VIP watch: no matching state within ${timeoutS} s; events: ${JSON.stringify(this.events().slice(-10))}`);
  }
  stop(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
    if (this.child) children.delete(this.child);
  }
}

/** One request of a ProbeLog. */
export interface ProbeEntry {
  t: number;
  d: number;
  state: string;
  answer: string | null;
}

/**
 * Background probe that logs every request (a new TLS connection each, one after another,
 * `intervalS` apart, `timeoutS` each): what the failed-request count and the longest gap
 * without an answer are computed from. Stopped by stop() or teardown.
 */
export class ProbeLog {
  private readonly out: string;
  private child?: ChildProcess;
  constructor(name: string) {
    this.out = join(RUN, `probelog-${name}.jsonl`);
  }
  start(maxS: number, intervalS = 0.2, timeoutS = 3): void {
    writeFileSync(this.out, '');
    this.child = spawn('ip', ['netns', 'exec', NS, 'python3', join(E2E, 'probe.py'), 'log', VIP, '--out', this.out, '--max', String(maxS),
      '--interval', String(intervalS), '--timeout', String(timeoutS)], { stdio: 'ignore' });
    children.add(this.child);
  }
  entries(): ProbeEntry[] {
    return readFileSync(this.out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as ProbeEntry];
        } catch {
          return []; // a line cut short by stop()
        }
      });
  }
  stop(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
    if (this.child) children.delete(this.child);
  }
}

/**
 * What a probe log says about an interval: requests made, failed (no answer through an LB node),
 * and the longest time without an answer (from one answer's completion to the next one's).
 */
export function probeStats(entries: ProbeEntry[], from: number, to: number): { requests: number; failed: number; longestGap: number; failures: ProbeEntry[] } {
  const within = entries.filter((e) => e.t >= from && e.t <= to);
  const failures = within.filter((e) => !e.state.startsWith('via '));
  let last = from;
  let longestGap = 0;
  for (const e of within) {
    if (!e.state.startsWith('via ')) continue;
    longestGap = Math.max(longestGap, e.t + e.d - last);
    last = e.t + e.d;
  }
  longestGap = Math.max(longestGap, to - last);
  return { requests: within.length, failed: failures.length, longestGap, failures };
}

/**
 * Appends one measured figure to $WORK/figures.jsonl (kept across runs; the table shows medians).
 * `seconds` holds the value: seconds, or a count for figures whose name ends in -requests.
 */
export function recordFigure(kind: string, seconds: number, note = ''): void {
  mkdirSync(WORK, { recursive: true });
  appendFileSync(FIGURES, JSON.stringify({ kind, seconds: Math.round(seconds * 10) / 10, note, at: new Date().toISOString() }) + '\n');
  console.log(`FIGURE ${kind}: ${kind.endsWith('-requests') ? String(seconds) : `${seconds.toFixed(1)} s`} ${note}`);
}
