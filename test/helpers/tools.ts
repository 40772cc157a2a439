/**
 * Real external validators for generated files (the same ones `--verify` uses, from
 * src/io/verify.ts), plus the suite guard.
 *
 * A missing tool or missing root is a *failure* in CI (CI=true) and an explicit, reported skip
 * elsewhere: never a silent pass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudInitSchema, haproxyCheck, keepalivedCheck, shellcheck, which, type ToolResult } from '../../src/io/verify.js';

export { cloudInitSchema, haproxyCheck, keepalivedCheck, which, type ToolResult };

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

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

/** Writes text to a temp file and returns [path, cleanup]. */
export function tempFile(name: string, content: string): [string, () => void] {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-tf-'));
  const f = join(dir, name);
  writeFileSync(f, content);
  return [f, () => rmSync(dir, { recursive: true, force: true })];
}

/** shellcheck on a script given as text. */
export function shellcheckText(script: string): ToolResult {
  const [f, done] = tempFile('script.sh', script);
  try {
    return shellcheck(f);
  } finally {
    done();
  }
}
