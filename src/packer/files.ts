/**
 * The files baked into the image: the one place gen-packer asks "what does a node need?".
 *
 * TEMPORARY stand-in until the boot agent (src/agent/files.ts, `metadataModeFiles(m, { secrets:
 * 'at-boot' })`) lands on main: every node's `render --node` tree under
 * usr/lib/lbbake/nodes/<node>/, rendered from a copy of the model with the secrets removed, plus
 * the shared sysctl drop-in at its real path. Swap the body of imageFiles() for the agent's
 * module; nothing else in src/packer depends on where the files come from.
 */
import type { Model } from '../model.js';
import { type FileSet, renderNode, renderSysctl } from '../render.js';

/** Root under which the per-node candidate trees are baked. */
export const NODES_DIR = 'usr/lib/lbbake/nodes';

/** The model without any secret: what may be baked into an image. */
export function withoutSecrets(m: Model): Model {
  return {
    ...m,
    vrrp: { ...m.vrrp, authPass: undefined },
    stats: m.stats.enabled ? { ...m.stats, password: undefined } : m.stats,
  };
}

/**
 * Placeholders the baked files carry where secrets go at boot, each with a fixed dummy value
 * (not a secret) that makes the file checkable with haproxy -c / keepalived -t at build time.
 * The stand-in bakes no placeholders.
 */
export function checkSubstitutions(_m: Model): Array<{ placeholder: string; dummy: string }> {
  return [];
}

/** Every file the image carries, root-relative, secrets left out. */
export function imageFiles(m: Model): FileSet {
  const safe = withoutSecrets(m);
  const out: FileSet = new Map();
  out.set(safe.paths.sysctlDropIn.slice(1), { content: renderSysctl(safe), mode: '0644', owner: 'root:root' });
  for (const node of safe.nodes) {
    for (const [rel, f] of renderNode(safe, node)) {
      if ('/' + rel === safe.paths.sysctlDropIn) continue;
      out.set(`${NODES_DIR}/${node.name}/${rel}`, f);
    }
  }
  return out;
}
