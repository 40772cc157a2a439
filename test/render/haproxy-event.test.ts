/**
 * haproxy's exit as an event (src/render/units.ts, the keepalived track_file): content, and
 * systemd-analyze verify against Debian's real haproxy.service.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { HAPROXY_EVENT } from '../../src/facts/node.js';
import { nodeTree, renderKeepalived } from '../../src/render/node.js';
import { unitDropIns } from '../../src/render/units.js';
import { missing } from '../helpers/tools.js';

const yaml = `version: 1
name: units
vip: { address: 10.0.0.100 }
vrrp: { routerId: 7 }
nodes:
  - { name: a, address: 10.0.0.11 }
  - { name: b, address: 10.0.0.12 }
services:
  - servers: [{ name: s, address: 10.0.0.21 }]
`;
const m = compile(yaml).model!;
const work = mkdtempSync(join(tmpdir(), 'lbbake-event-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('haproxy exit event', () => {
  it('the drop-in writes 1 when haproxy stops and 0 once it is ready, into the file keepalived tracks', () => {
    const dropIn = unitDropIns(m).get(HAPROXY_EVENT.dropIn.slice(1))!;
    expect(dropIn.mode).toBe('0644');
    expect(dropIn.content).toContain(`\n[Service]\nExecStartPost=-/bin/sh -c 'echo 0 > ${HAPROXY_EVENT.stateFile}'\nExecStopPost=-/bin/sh -c 'echo 1 > ${HAPROXY_EVENT.stateFile}'\n`);
    const conf = renderKeepalived(m, m.nodes[0]);
    expect(conf).toContain(`track_file ${HAPROXY_EVENT.trackName} {\n    file "${HAPROXY_EVENT.stateFile}"\n    weight 0\n}`);
    expect(conf).toMatch(new RegExp(`track_file \\{\\n\\s+${HAPROXY_EVENT.trackName}\\n`));
  });

  it('with onFailure: lower-priority the file lowers the priority like the check', () => {
    const lp = compile(yaml.replace('{ routerId: 7 }', '{ routerId: 7, check: { onFailure: lower-priority } }')).model!;
    // the computed weight: below the lowest node even while holding the VIP (gap 1 + hold 2 + 1)
    expect(renderKeepalived(lp, lp.nodes[0])).toContain(`file "${HAPROXY_EVENT.stateFile}"\n    weight -4\n`);
  });

  it('is part of what render --node writes', () => {
    expect([...nodeTree(m, m.nodes[1]).keys()]).toContain(HAPROXY_EVENT.dropIn.slice(1));
  });
});

const debianUnit = '/lib/systemd/system/haproxy.service';
// the haproxy package brings the unit the drop-in extends
const reason = missing(['systemd-analyze', 'haproxy']);
describe.skipIf(reason)('systemd-analyze verify', () => {
  it("the drop-in extends Debian's haproxy.service cleanly", () => {
    const dir = join(work, 'units');
    mkdirSync(join(dir, 'haproxy.service.d'), { recursive: true });
    copyFileSync(debianUnit, join(dir, 'haproxy.service'));
    writeFileSync(join(dir, 'haproxy.service.d', 'lbbake-track.conf'), unitDropIns(m).get(HAPROXY_EVENT.dropIn.slice(1))!.content);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'haproxy.service')], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      timeout: 30_000,
    });
    const own = (r.stderr ?? '').split('\n').filter((l) => /lbbake|haproxy\.service/.test(l));
    expect(own).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });
});
