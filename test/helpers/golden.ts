/**
 * Golden trees: everything lbbake generates for a fixture, as a map relPath → content, compared
 * with a committed expected/ folder. `UPDATE_GOLDEN=1 npx vitest run` rewrites the folders.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { compile } from '../../src/compile/compile.js';
import type { Model } from '../../src/compile/model.js';
import { nodeTree } from '../../src/render/node.js';
import { gzipBase64, userdataForMetadata, userdataForNode } from '../../src/render/userdata.js';
import { gunzipSync } from 'node:zlib';
import { installedAgent, secretsUserdata } from '../../src/render/agent.js';
import { trackerScript } from '../../src/render/hooks.js';
import { VRRP_TRACKER } from '../../src/facts/node.js';
import { createHash } from 'node:crypto';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, 'input.yaml'))).sort();
}

export function loadFixture(name: string): Model {
  const res = compile(readFileSync(join(FIXTURES, name, 'input.yaml'), 'utf8'));
  if (!res.model) throw new Error(`fixture ${name} is invalid: ${JSON.stringify(res.diagnostics)}`);
  return res.model;
}

/** Every generated artifact for a model. */
export function generatedTree(m: Model): Map<string, string> {
  const out = new Map<string, string>();
  for (const node of m.nodes) {
    for (const [rel, f] of nodeTree(m, node)) {
      out.set(`render/${node.name}/${rel}`, `/${rel}` === VRRP_TRACKER.script ? trackerDigest(m) : f.content);
    }
    out.set(`user-data/${node.name}.yaml`, withTrackerDigest(m, userdataForNode(m, node)));
  }
  out.set('user-data/metadata-mode.yaml', withTrackerDigest(m, withAgentDigest(m, userdataForMetadata(m))));
  out.set('user-data/secrets-only.yaml', secretsUserdata(m));
  return out;
}

/**
 * The metadata-mode user-data with the boot agent's gz+b64 blob (agent/lbbake-agent.py, the
 * same for every cluster) replaced by one line, after checking that it decodes to exactly the
 * agent this cluster gets; the comment above it names the agent's size and sha256. So an agent
 * edit changes one comment line per golden file, and the agent's own tests cover its content.
 */
export function withAgentDigest(m: Model, userdata: string): string {
  const agent = installedAgent(m);
  const blob = gzipBase64(agent);
  const line = `    content: ${blob}\n`;
  if (!userdata.includes(line)) throw new Error('the boot agent is not in the metadata-mode user-data as gz+b64 as expected');
  if (gunzipSync(Buffer.from(blob, 'base64')).toString('utf8') !== agent) throw new Error('the gz+b64 agent does not decode to the agent');
  if (!userdata.includes(`sha256 ${createHash('sha256').update(agent).digest('hex')}`)) throw new Error("the agent's comment does not name its sha256");
  return userdata.replace(line, '    content: (golden) the gz+b64 of the boot agent named above\n');
}

/** One line standing for the VRRP state tracker (agent/lbbake-vrrp-state.py; its own tests cover its content). */
function trackerDigest(m: Model): string {
  const tracker = trackerScript(m);
  return `# (golden) the VRRP state tracker, ${tracker.length} bytes, sha256 ${createHash('sha256').update(tracker).digest('hex')}\n`;
}

/** The same as withAgentDigest for the tracker, which every user-data and render tree carries. */
export function withTrackerDigest(m: Model, userdata: string): string {
  if (!m.metrics.enabled) return userdata;
  const indent = '      ';
  const block = trackerScript(m).replace(/\n$/, '').split('\n').map((l) => (l === '' ? '' : indent + l)).join('\n') + '\n';
  if (!userdata.includes(block)) throw new Error('the VRRP state tracker is not inlined in the user-data as expected');
  return userdata.replace(block, indent + trackerDigest(m));
}

export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

export function writeGolden(dir: string, tree: Map<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [rel, content] of tree) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}
