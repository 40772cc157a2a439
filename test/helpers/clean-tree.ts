/**
 * vitest globalSetup for every suite: the work tree must hold nothing new after a run (no
 * packer_cache/, manifests, generated secrets, temp files). Compares `git status --porcelain
 * --ignored` (minus what builds and installs put there) before and after; a new entry fails the run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
/** Ignored paths a build or install legitimately creates. */
const EXPECTED = [/^!! node_modules\/?$/, /^!! dist\/$/, /^!! output\/[^/]+\/$/];

function entries(): Set<string> | undefined {
  const r = spawnSync('git', ['status', '--porcelain', '--ignored', '--untracked-files=normal'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return undefined; // not a git checkout (e.g. an unpacked npm tarball)
  return new Set(r.stdout.split('\n').filter((l) => (l.startsWith('??') || l.startsWith('!!')) && !EXPECTED.some((re) => re.test(l))));
}

export default function setup(): () => void {
  const before = entries();
  return () => {
    const after = entries();
    if (!before || !after) return;
    const added = [...after].filter((e) => !before.has(e));
    if (added.length) {
      // a teardown error alone does not change vitest's exit code
      console.error(`FAIL: the test run left files in the work tree: ${added.join(', ')}`);
      process.exitCode = 1;
    }
  };
}
