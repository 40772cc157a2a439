/**
 * The README's target table: per target OS, the versions it ships and the real binaries its
 * output is checked with (the version matrix, test/matrix/), generated from src/facts/os.ts by
 * `npm run gen:docs` and checked by test/docs.
 */
import { OS_FACTS, OS_IDS, SUITES, type Suite } from './os.js';

export const TARGETS_BEGIN = '<!-- targets:begin (generated from src/facts/os.ts by npm run gen:docs) -->';
export const TARGETS_END = '<!-- targets:end -->';

/** Which targets `npm run e2e` boots in real VMs, and how. */
const BOOTED: Partial<Record<string, string>> = {
  debian12: 'install at boot + Packer-baked pair',
  debian13: 'install at boot',
};

const HOST: Suite = 'bookworm';

function suites(list: Suite[], tool: 'haproxy' | 'keepalived' | 'cloudInit'): string {
  return list.map((s) => `${SUITES[s].label.replace(/ \(.*\)/, '')} ${SUITES[s][tool]}`).join(' + ');
}

/** The markdown table (ends with a newline). */
export function targetsTable(): string {
  const lines = [
    '| `target.os` | ships haproxy / keepalived / cloud-init | `haproxy -c` with | `keepalived -t` with | `cloud-init schema` with | no exact binary here | haproxy log from its chroot | real VMs (`npm run e2e`) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const id of OS_IDS) {
    const os = OS_FACTS[id];
    const c = os.checkedWith;
    const ships = `${os.haproxyVersion.join('.')} / ${os.keepalivedVersion.join('.')} / ${os.cloudInitVersion.join('.')}`;
    const log = os.haproxyUnit.devLogInChroot ? 'the package\'s unit bind-mounts /dev/log' : 'lbbake\'s drop-in bind-mounts /dev/log';
    lines.push(
      `| \`${id}\` (${os.label}) | ${ships} | ${suites(c.haproxy, 'haproxy')} | ${suites(c.keepalived, 'keepalived')} | ${suites(c.cloudInit, 'cloudInit')} | ${c.note ?? 'none: exact'} | ${log} | ${BOOTED[id] ?? 'no'} |`,
    );
  }
  const how = (Object.keys(SUITES) as Suite[])
    .map((s) => `${SUITES[s].label}: ${s === HOST ? 'this host\'s packages' : 'a debootstrap chroot'} (haproxy ${SUITES[s].haproxy}, keepalived ${SUITES[s].keepalived}, cloud-init ${SUITES[s].cloudInit})`)
    .join('; ');
  lines.push('', `Binaries: ${how}.`);
  return lines.join('\n') + '\n';
}
