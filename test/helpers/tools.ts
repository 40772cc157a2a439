/**
 * Real external validators for generated files (the same ones `--verify` uses, from
 * src/io/verify.ts), plus the suite guard.
 *
 * A missing tool or missing root is a *failure* in CI (CI=true) and an explicit, reported skip
 * elsewhere: never a silent pass.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { SKIP_LOG_ENV } from './skips.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudInitSchema, haproxyCheck, keepalivedCheck, shellcheck, which, type ToolResult } from '../../src/io/verify.js';

export { cloudInitSchema, haproxyCheck, keepalivedCheck, which, type ToolResult };

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Tools `npm run test:unit` still uses (present on every Debian and Ubuntu). */
const UNIT_TOOLS = new Set(['python3']);

/** The test file that called missing(), relative to the repository (from the call stack). */
function callerFile(): string {
  const root = join(import.meta.dirname, '..', '..') + '/';
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const m = /(?:file:\/\/)?(\/[^\s():]+\.(?:test|e2e)\.ts)/.exec(line);
    if (m && m[1].startsWith(root)) return m[1].slice(root.length);
  }
  return 'a test file';
}

/**
 * Why a suite needing these tools cannot run here, or undefined if it can. In CI the reason is
 * thrown instead, so the suite fails rather than skips. Every skip is recorded for the summary
 * at the end of the run (test/helpers/skips.ts). `npm run test:unit` (LBBAKE_TEST_UNIT=1) skips
 * every suite that needs root or a tool besides python3, on purpose and even in CI.
 */
export function missing(tools: string[], opts: { root?: boolean } = {}): string | undefined {
  const unit = process.env.LBBAKE_TEST_UNIT === '1';
  const reasons: string[] = [];
  if (unit && (opts.root || tools.some((t) => !UNIT_TOOLS.has(t)))) {
    reasons.push(`needs ${[...tools.filter((t) => !UNIT_TOOLS.has(t)), ...(opts.root ? ['root'] : [])].join(', ')}`);
  } else {
    const lacks = tools.filter((t) => !which(t));
    if (lacks.length) reasons.push(`missing tools: ${lacks.join(', ')} (apt-get install them, see .ci/run)`);
    if (opts.root && !isRoot()) reasons.push('needs root (network namespaces)');
  }
  if (reasons.length === 0) return undefined;
  const reason = reasons.join('; ');
  if (IN_CI && !unit) throw new Error(`CI=true and this suite cannot run: ${reason}`);
  console.warn(`SKIPPED: ${reason}`);
  const log = process.env[SKIP_LOG_ENV];
  if (log) appendFileSync(join(log, `${process.pid}.jsonl`), JSON.stringify({ file: callerFile(), reason, root: opts.root === true }) + '\n');
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
