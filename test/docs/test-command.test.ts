/**
 * The test command on a fresh machine: a run that had to skip ends with a list naming each
 * skipped suite and the one command that runs it (test/helpers/skips.ts), fed by missing().
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SKIP_LOG_ENV, type Skip, summary } from '../helpers/skips.js';
import { missing } from '../helpers/tools.js';

describe('skipped suites are listed at the end of a run', () => {
  it('missing() records the calling suite file and why (here in test:unit mode, which skips root suites even in CI)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbbake-skiptest-'));
    const saved = { log: process.env[SKIP_LOG_ENV], unit: process.env.LBBAKE_TEST_UNIT };
    try {
      process.env[SKIP_LOG_ENV] = dir;
      process.env.LBBAKE_TEST_UNIT = '1';
      expect(missing(['haproxy'], { root: true })).toBe('needs haproxy, root');
      const records = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Skip));
      expect(records).toEqual([{ file: 'test/docs/test-command.test.ts', reason: 'needs haproxy, root', root: true }]);
    } finally {
      for (const [k, v] of [[SKIP_LOG_ENV, saved.log], ['LBBAKE_TEST_UNIT', saved.unit]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the summary names each skipped suite once, why, and the one command that runs it', () => {
    const saved = process.env.LBBAKE_TEST_UNIT;
    delete process.env.LBBAKE_TEST_UNIT;
    try {
      const text = summary([
        { file: 'test/live/failover.test.ts', reason: 'needs root (network namespaces)', root: true },
        { file: 'test/validators/validators.test.ts', reason: 'missing tools: haproxy', root: false },
        { file: 'test/live/failover.test.ts', reason: 'needs root (network namespaces)', root: true },
      ]);
      expect(text).toContain('SKIPPED: 2 suites did not run');
      expect(text).toContain('  test/live/failover.test.ts: needs root (network namespaces)\n      run: sudo bash scripts/install-test-deps.sh && sudo npx vitest run test/live/failover.test.ts');
      expect(text).toContain('  test/validators/validators.test.ts: missing tools: haproxy\n      run: sudo bash scripts/install-test-deps.sh && npx vitest run test/validators/validators.test.ts');
      expect(text).toContain('sudo bash scripts/install-test-deps.sh && sudo npm test');
      expect(summary([])).toBe('');
    } finally {
      if (saved !== undefined) process.env.LBBAKE_TEST_UNIT = saved;
    }
  });
});
