import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model } from '../../../src/compile/model.js';
import { compile } from '../../../src/compile/compile.js';
import type { FileSet } from '../../../src/render/files.js';
import { writeTree } from '../../../src/io/write.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every lb.yaml the Packer tests run on: the examples, the shared fixtures, and ours. */
export function inputs(): string[] {
  const out: string[] = [];
  const ex = join(ROOT, 'examples');
  for (const f of readdirSync(ex).sort()) if (f.endsWith('.yaml') && !f.endsWith('.secrets.yaml')) out.push(join(ex, f));
  const shared = join(ROOT, 'test', 'fixtures');
  if (existsSync(shared)) {
    for (const d of readdirSync(shared).sort()) {
      const f = join(shared, d, 'input.yaml');
      if (existsSync(f)) out.push(f);
    }
  }
  const own = join(ROOT, 'test', 'render', 'packer', 'fixtures');
  for (const f of readdirSync(own).sort()) if (f.endsWith('.yaml')) out.push(join(own, f));
  return out;
}

export const rel = (f: string): string => relative(ROOT, f);

/** The model of a valid lb.yaml (throws when it does not compile). */
export function modelOf(file: string): Model {
  const res = compile(readFileSync(file, 'utf8'));
  if (!res.model) throw new Error(`${file} does not compile: ${JSON.stringify(res.diagnostics)}`);
  return res.model;
}

/** Writes a file set into a fresh temp dir; returns [dir, cleanup]. */
export function tempTree(files: FileSet): [string, () => void] {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-pk-'));
  writeTree(dir, files);
  return [dir, () => rmSync(dir, { recursive: true, force: true })];
}

export interface Run {
  status: number;
  out: string;
}

/**
 * Runs packer with telemetry off and without any cloud credentials from the environment (so no
 * builder tries to log in anywhere during validate).
 */
export function packer(args: string[], cwd: string): Run {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CHECKPOINT_DISABLE: '1' };
  const r = spawnSync('packer', args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** -var values that stand in for what a user passes: a fake local disk image, ids, names. */
export function validateVars(dir: string): string[] {
  const disk = join(dir, 'fake-base.qcow2');
  writeFileSync(disk, '');
  return [
    `-var=qemu_image=${disk}`,
    '-var=qemu_image_checksum=none',
    `-var=qemu_output_directory=${join(dir, 'no-such-output')}`,
    '-var=gcp_project_id=lbbake-validate',
    '-var=azure_subscription_id=00000000-0000-0000-0000-000000000000',
    '-var=azure_resource_group=lbbake-validate',
  ];
}

/** "Error: ..." headlines in packer output. */
export const errorLines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('Error: '));
