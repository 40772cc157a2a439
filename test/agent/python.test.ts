/**
 * The boot agent as Python: its own unit tests (agent/test_lbbake_agent.py) and pyflakes, and
 * the one path it knows by itself agreeing with src/facts/node.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_PATHS } from '../../src/facts/node.js';
import { AGENT_SOURCE, PKG_ROOT } from '../../src/io/paths.js';
import { missing } from '../helpers/tools.js';

describe('agent/lbbake-agent.py', () => {
  it('python unit tests pass (python3 -m unittest)', () => {
    const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', join(PKG_ROOT, 'agent'), '-p', 'test_*.py'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toMatch(/\nOK\n?$/);
    expect(r.stderr).toMatch(/Ran [1-9]\d* tests?/);
    expect(r.status).toBe(0);
  });

  it.skipIf(missing(['pyflakes3']))('is clean under pyflakes3', () => {
    const r = spawnSync('pyflakes3', [join(PKG_ROOT, 'agent')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('knows only cluster.json by itself, at the path the generator installs it', () => {
    const src = readFileSync(AGENT_SOURCE, 'utf8');
    expect(src).toContain(`CLUSTER_FILE = "${AGENT_PATHS.clusterFile}"`);
    for (const p of [AGENT_PATHS.overrideFile, AGENT_PATHS.secrets, AGENT_PATHS.marker, AGENT_PATHS.dataDir, AGENT_PATHS.instanceData]) {
      // docstring mentions are fine; code must take them from cluster.json
      const code = src.replace(/"""[\s\S]*?"""/g, '').split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
      expect(code.includes(`"${p}"`), `${p} hard-coded in the agent`).toBe(false);
    }
  });
});
