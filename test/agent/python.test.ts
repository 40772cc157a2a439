/**
 * The boot agent as Python: its own unit tests (agent/test_lbbake_agent.py) and pyflakes, and
 * the one path it knows by itself agreeing with src/facts/node.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_PATHS, SOURCES } from '../../src/facts/node.js';
import { AGENT_SOURCE, PKG_ROOT } from '../../src/io/paths.js';
import { missing } from '../helpers/tools.js';
import { fillNode, metadataModeFiles, NODE_PLACEHOLDER_PREFIX, nodeValues, type NodeValues } from '../../src/render/agent.js';
import { fixtureNames, loadFixture } from '../helpers/golden.js';

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

  it("fills node templates exactly as the generator does (fill_node = fillNode) for every fixture and node", () => {
    const cases: Array<{ text: string; node: NodeValues; want: string }> = [];
    for (const name of fixtureNames()) {
      const m = loadFixture(name);
      for (const [rel, f] of metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' })) {
        if (!rel.startsWith('usr/lib/lbbake/template/')) continue;
        for (const n of m.nodes) cases.push({ text: f.content, node: nodeValues(n), want: fillNode(f.content, nodeValues(n)) });
      }
    }
    expect(cases.length).toBeGreaterThan(10);
    const script = [
      'import importlib.util, json, sys',
      'spec = importlib.util.spec_from_file_location("agent", sys.argv[1])',
      'agent = importlib.util.module_from_spec(spec); spec.loader.exec_module(agent)',
      'cases = json.load(sys.stdin)',
      `json.dump([agent.fill_node(c["text"], c["node"], ${JSON.stringify(NODE_PLACEHOLDER_PREFIX)}) for c in cases], sys.stdout)`,
    ].join('\n');
    const r = spawnSync('python3', ['-c', script, AGENT_SOURCE], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(cases.map((c) => c.want));
  });

  it('knows the same name sources, in the same order, as src/facts/node.ts (cluster.json "sources")', () => {
    const src = readFileSync(AGENT_SOURCE, 'utf8');
    const tuple = /^ALL_SOURCES = \(([^)]*)\)$/m.exec(src)?.[1];
    expect(tuple, 'ALL_SOURCES in agent/lbbake-agent.py').toBeDefined();
    expect(tuple!.split(',').map((x) => x.trim().replace(/^"|"$/g, '')).filter(Boolean)).toEqual([...SOURCES]);
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
