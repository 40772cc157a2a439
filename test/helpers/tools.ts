/**
 * Real external validators for generated files: haproxy -c, keepalived -t (in a throwaway
 * network namespace holding the interfaces it names), cloud-init schema, shellcheck, packer.
 *
 * A missing tool or missing root is a *failure* in CI (CI=true) and an explicit, reported skip
 * elsewhere: never a silent pass.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Why a suite needing these tools cannot run here, or undefined if it can. In CI the reason is
 * thrown instead, so the suite fails rather than skips.
 */
export function missing(tools: string[], opts: { root?: boolean } = {}): string | undefined {
  const lacks = tools.filter((t) => !which(t));
  const reasons: string[] = [];
  if (lacks.length) reasons.push(`missing tools: ${lacks.join(', ')} (apt-get install them, see .ci/run)`);
  if (opts.root && !isRoot()) reasons.push('needs root (network namespaces)');
  if (reasons.length === 0) return undefined;
  const reason = reasons.join('; ');
  if (IN_CI) throw new Error(`CI=true and this suite cannot run: ${reason}`);
  console.warn(`SKIPPED: ${reason}`);
  return reason;
}

export interface ToolResult {
  status: number;
  output: string;
}

function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 });
  return { status: r.status ?? (r.signal ? 128 : -1), output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** haproxy -c -f FILE: rc 0 and "Configuration file is valid", with no warnings. */
export function haproxyCheck(file: string): ToolResult {
  return run('haproxy', ['-c', '-f', file]);
}

let nsCounter = 0;

/**
 * keepalived -t -f FILE inside a throwaway network namespace that holds a veth of each given
 * interface name (keepalived wants its interfaces to exist). The namespace is always deleted.
 */
export function keepalivedCheck(file: string, interfaces: string[] = ['eth0']): ToolResult {
  const ns = `lbbk-t${process.pid}-${nsCounter++}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    interfaces.forEach((ifname, i) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `lbbkp${i}`]);
    });
    return run('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', file]);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** cloud-init schema --config-file FILE: rc 0 and "Valid cloud-config". */
export function cloudInitSchema(file: string): ToolResult {
  return run('cloud-init', ['schema', '--config-file', file], { timeoutMs: 60_000 });
}

/** shellcheck on a script given as text (POSIX sh unless the shebang says otherwise). */
export function shellcheckText(script: string): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-sc-'));
  try {
    const f = join(dir, 'script.sh');
    writeFileSync(f, script);
    return run('shellcheck', ['-x', f]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes text to a temp file and returns [path, cleanup]. */
export function tempFile(name: string, content: string): [string, () => void] {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-tf-'));
  const f = join(dir, name);
  writeFileSync(f, content);
  return [f, () => rmSync(dir, { recursive: true, force: true })];
}
