/**
 * The version matrix: generated files checked with the real haproxy, keepalived and cloud-init
 * of Debian 11, 12 (this host), 13 and unstable. Each other suite lives in a debootstrap chroot
 * built once by build-chroot.sh and cached outside the repo (/var/cache/lbbake-matrix); the
 * tools run inside it with `chroot`, keepalived -t also inside a throwaway network namespace
 * holding a veth of each interface name. Every call is bounded; every file and namespace made
 * here is removed.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify, parse } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import type { Model } from '../../src/compile/model.js';
import { OS_FACTS, OS_IDS, type OsId, type Suite } from '../../src/facts/os.js';
import { userdataForMetadata, userdataForNode } from '../../src/render/userdata.js';
import { nodeTree } from '../../src/render/node.js';
import { INTERFACE_FILE, RESOLVED_STAND_IN } from '../../src/facts/node.js';
import { ROOT } from '../helpers/cli.js';
import { fixtureNames, loadFixture } from '../helpers/golden.js';
import { config } from '../helpers/random-config.js';

export const BUILD_SCRIPT = join(import.meta.dirname, 'build-chroot.sh');
/** Debian 12 is the host itself: its tools are the ones `npm test` installs. */
export const HOST_SUITE: Suite = 'bookworm';
/** The suites that need a chroot (built in parallel by global-setup.ts while other suites run). */
export const CHROOT_SUITES: readonly Suite[] = ['bullseye', 'trixie', 'sid'];
/** How long a cold chroot build may take (debootstrap downloads ~70 MB; measured 50-160 s each). */
export const BUILD_TIMEOUT_MS = 25 * 60_000;

export interface ToolResult {
  status: number;
  output: string;
}

/** Runs build-chroot.sh SUITE (returns at once when cached); resolves to the chroot's directory. */
export function buildChroot(suite: Suite): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [BUILD_SCRIPT, suite], { timeout: BUILD_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (err || !existsSync(join(dir, '.done'))) reject(new Error(`building the ${suite} chroot failed: ${err?.message ?? ''}\n${stderr}`));
      else resolve(dir);
    });
  });
}

let nsCounter = 0;

/** One suite's real tools: in a chroot, or on the host for Debian 12. */
export class SuiteTools {
  private readonly work: string;
  private n = 0;

  /** root: the chroot's directory, or '/' for the host. */
  constructor(
    readonly suite: Suite,
    readonly root: string,
  ) {
    const tmp = join(root, 'tmp');
    mkdirSync(tmp, { recursive: true });
    this.work = mkdtempSync(join(tmp, 'lbbake-matrix-'));
  }

  /** Removes the files this instance wrote. */
  cleanup(): void {
    rmSync(this.work, { recursive: true, force: true });
  }

  /** Writes content to a new file the suite's tools can read; returns its path as they see it. */
  write(name: string, content: string): string {
    const f = join(this.work, `${this.n++}-${name}`);
    writeFileSync(f, content);
    return this.inside(f);
  }

  /** A path on the host as seen inside the suite's root. */
  private inside(hostPath: string): string {
    return this.root === '/' ? hostPath : hostPath.slice(this.root.length);
  }

  /** A command inside the suite's root (bounded). */
  run(cmd: string[], timeoutMs = 60_000, netns?: string): ToolResult {
    const inRoot = this.root === '/' ? cmd : ['chroot', this.root, ...cmd];
    const argv = netns ? ['ip', 'netns', 'exec', netns, ...inRoot] : inRoot;
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
    return { status: r.status ?? (r.signal ? 128 : -1), output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  }

  /** A file of the suite's root (e.g. a package's unit file), or undefined. */
  read(path: string): string | undefined {
    const f = join(this.root, path);
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  }

  /** The installed version of a package (dpkg), e.g. "1:2.3.3-1". */
  packageVersion(pkg: string): string {
    const r = this.run(['dpkg-query', '-W', '-f=${Version}', pkg]);
    if (r.status !== 0) throw new Error(`${pkg} is not installed in ${this.suite}: ${r.output}`);
    return r.output.trim();
  }

  haproxy(content: string): ToolResult {
    return this.run(['haproxy', '-c', '-f', this.write('haproxy.cfg', content)]);
  }

  /**
   * keepalived -t in a throwaway network namespace holding a veth of each interface name. A config
   * that includes INTERFACE_FILE (vip.interface not set) gets that include as a node writes it at
   * boot, for a NIC named RESOLVED_STAND_IN.
   */
  keepalived(content: string, interfaces: string[]): ToolResult {
    const include = `include ${INTERFACE_FILE}`;
    if (content.includes(include)) {
      content = content.replaceAll(include, `include ${this.write('interface.conf', `    interface ${RESOLVED_STAND_IN}\n`)}`);
      interfaces = [...interfaces, RESOLVED_STAND_IN];
    }
    const file = this.write('keepalived.conf', content);
    const ns = `lbbk-m${process.pid}-${nsCounter++}`;
    try {
      execFileSync('ip', ['netns', 'add', ns]);
      interfaces.forEach((ifname, i) => execFileSync('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `lbbkp${i}`]));
      return this.run(['keepalived', '-t', '-f', file], 60_000, ns);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }

  cloudInitSchema(content: string): ToolResult {
    return this.run(['cloud-init', 'schema', '--config-file', this.write('user-data.yaml', content)], 120_000);
  }
}

/** What each tool must say for a file to pass: exit 0 and no warning of any kind. */
export const accepts = {
  haproxy: (r: ToolResult) => r.status === 0 && !/\[(WARNING|ALERT)\]/.test(r.output),
  keepalived: (r: ToolResult) => r.status === 0 && r.output.trim() === '',
  cloudInit: (r: ToolResult) => r.status === 0 && /^Valid (cloud-config|schema)/m.test(r.output) && !/deprecat|warning|error/i.test(r.output),
};

/** One configuration the matrix checks, with the suites each of its files goes to. */
export interface Case {
  name: string;
  model: Model;
}

function compiled(name: string, text: string): Case {
  const res = compile(text);
  if (!res.model) throw new Error(`${name} does not compile: ${JSON.stringify(res.diagnostics.filter((d) => d.severity === 'error'))}`);
  return { name, model: res.model };
}

/** How many property-test configs the matrix samples (fixed seed, so the sample is the same every run). */
export const PROPERTY_SAMPLE = 10;
const PROPERTY_SEED = Number(process.env.LBBAKE_PROPERTY_SEED ?? 20261128);

/**
 * Every configuration the matrix checks: each golden fixture, the bundled example once for every
 * target OS, and a fixed sample of the property tests' random configs.
 */
export function matrixCases(): Case[] {
  const cases: Case[] = fixtureNames().map((f) => ({ name: `fixture ${f}`, model: loadFixture(f) }));
  const example = parse(readFileSync(join(ROOT, 'examples', 'k8s-apiserver.yaml'), 'utf8')) as { target: { os: OsId } };
  for (const os of OS_IDS) cases.push(compiled(`example as ${os}`, stringify({ ...example, target: { os } })));
  fc.sample(config, { numRuns: PROPERTY_SAMPLE, seed: PROPERTY_SEED }).forEach((c, i) => cases.push(compiled(`property #${i} (${c.target.os})`, stringify(c))));
  return cases;
}

/**
 * The files of a case one tool reads, each with a label: the first two nodes' configs; the first
 * node's user-data and the metadata-mode one (the other nodes' user-data differ only in the file
 * contents they carry; the secrets-only user-data, the same shape for every cluster, is checked
 * once per suite).
 */
export function filesOf(c: Case, tool: 'haproxy' | 'keepalived' | 'cloudInit'): Array<{ label: string; content: string }> {
  const m = c.model;
  const nodes = m.nodes.slice(0, 2);
  if (tool === 'haproxy') return nodes.map((n) => ({ label: `${n.name} haproxy.cfg`, content: nodeTree(m, n).get('etc/haproxy/haproxy.cfg')!.content }));
  if (tool === 'keepalived') return nodes.map((n) => ({ label: `${n.name} keepalived.conf`, content: nodeTree(m, n).get('etc/keepalived/keepalived.conf')!.content }));
  return [
    { label: `user-data --node ${m.nodes[0].name}`, content: userdataForNode(m, m.nodes[0]) },
    { label: 'metadata-mode user-data', content: userdataForMetadata(m) },
  ];
}

/** The cases whose target OS is checked with this suite for this tool. */
export function casesFor(cases: Case[], suite: Suite, tool: 'haproxy' | 'keepalived' | 'cloudInit'): Case[] {
  return cases.filter((c) => OS_FACTS[c.model.os.id].checkedWith[tool].includes(suite));
}
