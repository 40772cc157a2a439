import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model, VipCloud, VipCloudInput } from '../compile/model.js';
import { TEMPLATES_DIR } from '../io/paths.js';
import type { FileSet } from './files.js';

import { HOOK_DIR } from '../facts/node.js';

/**
 * The normalized vip.cloud: the hook's path and the exact notify_master command keepalived
 * runs. Arguments are schema-checked tokens (addresses, rtb-…, GCE names), so no quoting.
 */
export function vipCloud(c: VipCloudInput & { network: string }, vip: { address: string; prefix: number; interface: string | undefined }): VipCloud {
  const hook = `${HOOK_DIR}/vip-move-${c.provider}`;
  const cidr = `${vip.address}/${vip.prefix}`;
  let args: string[];
  // "-": the interface keepalived uses, as resolved at boot (INTERFACE_FILE)
  const iface = vip.interface ?? '-';
  if (c.provider === 'aws') {
    args = c.mode === 'route' ? ['route', iface, cidr, ...(c.routeTableIds ?? [])] : ['secondary-ip', iface, vip.address];
  } else {
    args = c.mode === 'route' ? ['route', cidr, c.routeName ?? '', c.network] : ['alias-ip', cidr];
  }
  return {
    provider: c.provider,
    mode: c.mode,
    routeTableIds: c.routeTableIds ?? [],
    routeName: c.routeName,
    network: c.network,
    hook,
    notifyMaster: [hook, ...args].join(' '),
  };
}

/** The hook script for one provider, as shipped under templates/hooks/. */
export function hookScript(provider: 'aws' | 'gce'): string {
  return readFileSync(join(TEMPLATES_DIR, 'hooks', `vip-move-${provider}.sh`), 'utf8');
}

/**
 * Files a node needs for vip.cloud (root-relative path → entry): the one hook keepalived's
 * notify_master runs. Empty when lb.yaml has no vip.cloud. For user-data and images.
 */
export function hookFiles(m: Model): FileSet {
  const files: FileSet = new Map();
  const c = m.vip.cloud;
  if (c) files.set(c.hook.slice(1), { content: hookScript(c.provider), mode: '0755', owner: 'root:root' });
  return files;
}
