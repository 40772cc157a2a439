import { execa } from 'execa';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'bin.js');
export const EXAMPLE = join(ROOT, 'examples', 'k8s-apiserver.yaml');

/** Runs the built lbbake CLI (npm test builds dist/ first); never throws on a non-zero exit. */
export async function lbbake(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
  const r = await execa('node', [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { NO_COLOR: '1', ...opts.env }, reject: false, timeout: 30_000, stripFinalNewline: false, input: opts.input ?? '' });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
