/**
 * vitest globalSetup: every suite that `missing()` (test/helpers/tools.ts) skipped is listed at
 * the end of the run with the one command that runs it, so a run that had to skip never looks
 * complete. The workers append to a log in a temp directory named by LBBAKE_SKIP_LOG.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SKIP_LOG_ENV = 'LBBAKE_SKIP_LOG';

/** What a skip record says: the suite file (relative to the repository) and why. */
export interface Skip {
  file: string;
  reason: string;
  root: boolean;
}

/** The one command that runs this suite, given why it was skipped. */
export function commandFor(s: Skip): string {
  const sudo = s.root ? 'sudo ' : '';
  if (process.env.LBBAKE_TEST_UNIT === '1') return `${sudo}npx vitest run ${s.file}   (npm run test:unit leaves out suites that need tools or root)`;
  return `sudo bash scripts/install-test-deps.sh && ${sudo}npx vitest run ${s.file}`;
}

/** The summary printed at the end of a run (empty when nothing was skipped). */
export function summary(skips: Skip[]): string {
  const byFile = new Map<string, Skip>();
  for (const s of skips) if (!byFile.has(s.file)) byFile.set(s.file, s);
  if (byFile.size === 0) return '';
  const lines = [...byFile.values()].sort((a, b) => a.file.localeCompare(b.file)).map((s) => `  ${s.file}: ${s.reason}\n      run: ${commandFor(s)}`);
  return [
    '',
    `SKIPPED: ${byFile.size} suite${byFile.size === 1 ? '' : 's'} did not run (or ran only in part); a green run above does not cover them:`,
    ...lines,
    process.env.LBBAKE_TEST_UNIT === '1'
      ? 'Everything, as CI runs it: sudo bash scripts/install-test-deps.sh && sudo npm test'
      : 'Everything at once: sudo bash scripts/install-test-deps.sh && sudo npm test',
    '',
  ].join('\n');
}

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-skips-'));
  process.env[SKIP_LOG_ENV] = dir;
  return () => {
    const skips: Skip[] = [];
    try {
      for (const f of readdirSync(dir)) {
        for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) skips.push(JSON.parse(line) as Skip);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const text = summary(skips);
    if (text) process.stdout.write(text);
  };
}
