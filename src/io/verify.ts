/**
 * External validators, run on generated text before anything is written (`--verify`):
 * haproxy -c, keepalived -t (inside a throwaway network namespace holding the interfaces the
 * config names, when root), cloud-init schema and shellcheck. IO edge: spawns processes and
 * uses a private temp directory, always removed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOUD_CONFIG_HEADER } from '../facts/alphabets.js';
import { INTERFACE_FILE, RESOLVED_STAND_IN } from '../facts/node.js';

export interface ToolResult {
  status: number;
  output: string;
}

export type Validator = 'haproxy' | 'keepalived' | 'cloud-init' | 'shellcheck';

export interface VerifyFinding {
  file: string;
  tool: Validator;
  ok: boolean;
  /** Set when the tool could not run (not installed, no root): the file was not checked. */
  skipped?: string;
  output: string;
}

export function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function run(cmd: string, args: string[], timeoutMs = 30_000): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? (r.signal ? 128 : -1), output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** haproxy -c -f FILE. */
export function haproxyCheck(file: string): ToolResult {
  return run('haproxy', ['-c', '-f', file]);
}

let nsCounter = 0;

/**
 * keepalived -t -f FILE inside a throwaway network namespace with a veth of each interface
 * name (keepalived wants them to exist). Needs root. The namespace is always deleted.
 */
export function keepalivedCheck(file: string, interfaces: string[] = ['eth0']): ToolResult {
  const ns = `lbbk-v${process.pid}-${nsCounter++}`;
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

/**
 * keepalived -t on a config given as text (see keepalivedCheck), with `interfaces` present. A
 * config that includes INTERFACE_FILE (vip.interface not set) is checked with that include
 * holding what a node writes there at boot, for a NIC named RESOLVED_STAND_IN.
 */
export function keepalivedCheckText(content: string, interfaces: string[]): ToolResult & { file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-kt-'));
  try {
    const f = join(dir, 'keepalived.conf');
    const include = `include ${INTERFACE_FILE}`;
    const names = [...interfaces];
    let text = content;
    if (text.includes(include)) {
      const inc = join(dir, 'interface.conf');
      writeFileSync(inc, `    interface ${RESOLVED_STAND_IN}\n`);
      text = text.replaceAll(include, `include ${inc}`);
      names.push(RESOLVED_STAND_IN);
    }
    writeFileSync(f, text);
    return { ...keepalivedCheck(f, names), file: f };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** cloud-init schema --config-file FILE. */
export function cloudInitSchema(file: string): ToolResult {
  return run('cloud-init', ['schema', '--config-file', file], 60_000);
}

/** shellcheck FILE. */
export function shellcheck(file: string): ToolResult {
  return run('shellcheck', ['-x', file]);
}

/** What a file is checked with, from its path and content. */
export function validatorFor(path: string, content: string): Validator | undefined {
  if (path.endsWith('haproxy.cfg')) return 'haproxy';
  if (path.endsWith('keepalived.conf')) return 'keepalived';
  if (content.startsWith(CLOUD_CONFIG_HEADER)) return 'cloud-init';
  if (/^#!\/bin\/(ba)?sh/.test(content)) return 'shellcheck';
  return undefined;
}

/**
 * Runs the matching validator on every file (path → content). A finding is `ok: false` when the
 * tool rejected the file (non-zero exit, or warnings/alerts in its output).
 */
export function verifyFiles(files: Map<string, string>, opts: { interfaces: string[] }): VerifyFinding[] {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-verify-'));
  const out: VerifyFinding[] = [];
  try {
    let n = 0;
    for (const [path, content] of files) {
      const tool = validatorFor(path, content);
      if (!tool) continue;
      const bin = tool === 'cloud-init' ? 'cloud-init' : tool;
      if (!which(bin)) {
        out.push({ file: path, tool, ok: true, skipped: `${bin} is not installed`, output: '' });
        continue;
      }
      if (tool === 'keepalived' && process.getuid?.() !== 0) {
        out.push({ file: path, tool, ok: true, skipped: 'keepalived -t needs root (it runs in a throwaway network namespace)', output: '' });
        continue;
      }
      if (tool === 'keepalived') {
        const r = keepalivedCheckText(content, opts.interfaces);
        out.push({ file: path, tool, ok: r.status === 0 && r.output.trim() === '', output: r.output.replaceAll(r.file, path) });
        continue;
      }
      const f = join(dir, `${n++}-${path.split('/').pop()}`);
      writeFileSync(f, tool === 'haproxy' ? withLocalCrts(content, files, dir) : content);
      const r = tool === 'haproxy' ? haproxyCheck(f) : tool === 'cloud-init' ? cloudInitSchema(f) : shellcheck(f);
      const bad = r.status !== 0 || (tool === 'haproxy' && /\[(WARNING|ALERT)\]/.test(r.output));
      out.push({ file: path, tool, ok: !bad, output: r.output.replaceAll(f, path) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * haproxy.cfg with each `crt /ABS/PATH` that the checked file set also holds pointed at a copy
 * in `dir` (haproxy -c loads certificates; the node's path does not exist here).
 */
function withLocalCrts(cfg: string, files: Map<string, string>, dir: string): string {
  return cfg.replace(/ crt (\/\S+)/g, (whole, p: string) => {
    const pem = files.get(p.slice(1)) ?? files.get(p);
    if (pem === undefined) return whole;
    const local = join(dir, `crt-${p.split('/').pop()}`);
    writeFileSync(local, pem, { mode: 0o600 });
    return ` crt ${local}`;
  });
}
