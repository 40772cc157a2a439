/** The drop-ins the target OS's own units need: RHEL's haproxy.service gets /dev/log into the chroot. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import { HAPROXY_DEVLOG_DROPIN } from '../../src/facts/node.js';
import { OS_FACTS, OS_IDS } from '../../src/facts/os.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { nodeTree } from '../../src/render/node.js';
import { imageFiles } from '../../src/render/packer/image-files.js';
import { unitDropIns } from '../../src/render/units.js';
import { userdataForNode } from '../../src/render/userdata.js';
import { missing } from '../helpers/tools.js';

const example = readFileSync(join(import.meta.dirname, '../../examples/k8s-apiserver.yaml'), 'utf8');
const modelFor = (os: string) => compile(example.replace('os: debian12', `os: ${os}`)).model!;
const rel = HAPROXY_DEVLOG_DROPIN.slice(1);
const work = mkdtempSync(join(tmpdir(), 'lbbake-units-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('haproxy /dev/log in the chroot', () => {
  for (const os of OS_IDS) {
    const facts = OS_FACTS[os];
    it(`${os}: ${facts.haproxyUnit.devLogInChroot ? 'no drop-in (the package unit does it)' : 'a drop-in bind-mounts /dev/log'} in every output`, () => {
      const m = modelFor(os);
      const has = !facts.haproxyUnit.devLogInChroot;
      expect(unitDropIns(m).has(rel)).toBe(has);
      expect(nodeTree(m, m.nodes[0]).has(rel)).toBe(has);
      expect(metadataModeFiles(m, { secrets: 'inline', layout: 'template' }).has(rel)).toBe(has);
      expect(imageFiles(m).has(rel)).toBe(has);
      const ud = parse(userdataForNode(m, m.nodes[0])) as { write_files: Array<{ path: string; defer?: boolean; content: string }> };
      const w = ud.write_files.find((f) => f.path === HAPROXY_DEVLOG_DROPIN);
      expect(w !== undefined).toBe(has);
      const apply = ud.write_files.find((f) => f.path.endsWith('lbbake-apply'))!.content;
      // every OS also gets the haproxy exit-event drop-in (test/render/haproxy-event.test.ts) and lbbake's
      // restart/stop-order drop-ins (test/render/system.test.ts)
      expect(apply.includes('systemctl daemon-reload\nsystemctl enable')).toBe(true);
      if (w) {
        expect(w.defer).toBeUndefined();
        expect(w.content).toContain(`[Service]\nBindReadOnlyPaths=/dev/log:${facts.haproxyChroot}/dev/log\n`);
      }
    });
  }

  const debianUnit = ['/usr/lib/systemd/system/haproxy.service', '/lib/systemd/system/haproxy.service'].find((p) => spawnSync('test', ['-f', p]).status === 0);
  it.skipIf(!debianUnit)('the drop-in carries the very line of Debian\'s own haproxy.service', () => {
    const line = readFileSync(debianUnit!, 'utf8').split('\n').find((l) => l.startsWith('BindReadOnlyPaths='));
    const m = modelFor('rocky9');
    expect(unitDropIns(m).get(rel)!.content.split('\n')).toContain(line);
  });

  const noSystemd = missing(['systemd-analyze']);
  it.skipIf(noSystemd)('passes systemd-analyze verify on top of a haproxy.service', () => {
    const dir = join(work, 'units');
    mkdirSync(join(dir, 'haproxy.service.d'), { recursive: true });
    writeFileSync(join(dir, 'haproxy.service.d', 'lbbake-devlog.conf'), unitDropIns(modelFor('rocky8')).get(rel)!.content);
    writeFileSync(join(dir, 'haproxy.service'), '[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n');
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'haproxy.service')], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      timeout: 30_000,
    });
    expect((r.stderr ?? '').split('\n').filter((l) => /haproxy|lbbake/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
  });
});
