/** The version-matrix tests of one Debian suite (one test file per suite, so suites run in parallel). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OS_FACTS, OS_IDS, SUITES, type Suite } from '../../src/facts/os.js';
import { missing } from '../helpers/tools.js';
import { secretsUserdata } from '../../src/render/agent.js';
import { accepts, BUILD_TIMEOUT_MS, buildChroot, casesFor, filesOf, HOST_SUITE, matrixCases, SuiteTools, type ToolResult } from './matrix.js';

type Tool = 'haproxy' | 'keepalived' | 'cloudInit';
const TOOLS: Tool[] = ['haproxy', 'keepalived', 'cloudInit'];

/** "1:2.3.3-1+b2" → [2, 3, 3]. */
function upstream(version: string): number[] {
  return version.replace(/^\d+:/, '').split(/[-+~]/)[0].split('.').map(Number);
}
const startsWith = (v: number[], prefix: string) => prefix.split('.').map(Number).every((p, i) => v[i] === p);
const atLeast = (v: number[], min: string) => {
  const m = min.split('.').map(Number);
  for (let i = 0; i < m.length; i++) if ((v[i] ?? 0) !== m[i]) return (v[i] ?? 0) > m[i];
  return true;
};

export function defineSuiteTests(suite: Suite): void {
  const info = SUITES[suite];
  const host = suite === HOST_SUITE;
  const reason = missing(host ? ['haproxy', 'keepalived', 'cloud-init', 'ip'] : ['debootstrap', 'chroot', 'ip', 'unshare', 'flock'], { root: true });
  const cases = matrixCases();

  describe.skipIf(reason)(`version matrix: ${info.label}${host ? ', this host' : ', debootstrap chroot'}`, () => {
    let tools: SuiteTools;
    beforeAll(async () => {
      tools = new SuiteTools(suite, host ? '/' : await buildChroot(suite));
    }, BUILD_TIMEOUT_MS + 60_000);
    afterAll(() => tools?.cleanup());

    it(`ships haproxy ${info.haproxy}, keepalived ${info.keepalived}, cloud-init ${info.cloudInit}${suite === 'sid' ? ' or newer' : ''}`, () => {
      const got = { haproxy: tools.packageVersion('haproxy'), keepalived: tools.packageVersion('keepalived'), cloudInit: tools.packageVersion('cloud-init') };
      console.log(`${info.label}: haproxy ${got.haproxy}, keepalived ${got.keepalived}, cloud-init ${got.cloudInit}`);
      for (const k of ['haproxy', 'keepalived', 'cloudInit'] as const) {
        const ok = suite === 'sid' ? atLeast(upstream(got[k]), info[k]) : startsWith(upstream(got[k]), info[k]);
        expect(ok, `${k} ${got[k]} vs ${info[k]} (src/facts/os.ts SUITES)`).toBe(true);
      }
    });

    if (info.target) {
      const os = OS_FACTS[info.target];
      it(`${os.label}'s facts in src/facts/os.ts are what its packages say`, () => {
        expect(upstream(tools.packageVersion('haproxy')).slice(0, 2)).toEqual(os.haproxyVersion);
        expect(upstream(tools.packageVersion('keepalived')).slice(0, 3)).toEqual(os.keepalivedVersion);
        expect(upstream(tools.packageVersion('cloud-init')).slice(0, 2)).toEqual(os.cloudInitVersion);
        const unit = tools.read('usr/lib/systemd/system/haproxy.service') ?? tools.read('lib/systemd/system/haproxy.service');
        expect(unit, 'haproxy.service').toBeDefined();
        expect(unit!.includes(`BindReadOnlyPaths=/dev/log:${os.haproxyChroot}/dev/log`)).toBe(os.haproxyUnit.devLogInChroot);
        expect(/^Restart=always$/m.test(unit!)).toBe(os.haproxyUnit.restarts);
        expect(tools.read('usr/lib/systemd/system/keepalived.service') ?? tools.read('lib/systemd/system/keepalived.service'), 'keepalived.service').toBeDefined();
        // the package's own haproxy.cfg uses the chroot and stats socket lbbake writes
        const cfg = tools.read('etc/haproxy/haproxy.cfg') ?? '';
        expect(cfg).toMatch(new RegExp(`^\\s*chroot ${os.haproxyChroot}$`, 'm'));
        expect(cfg).toContain(`stats socket ${os.haproxyStatsSocket} `);
        expect(tools.read('etc/passwd')).toMatch(new RegExp(`^${os.haproxyUser}:`, 'm'));
        // lb.yaml metrics serve haproxy's own exporter where the build has it
        expect(tools.run(['haproxy', '-vv']).output.includes('Built with the Prometheus exporter as a service'), 'haproxyPromex').toBe(os.haproxyPromex);
        expect(tools.read('etc/group')).toMatch(new RegExp(`^${os.haproxyGroup}:`, 'm'));
      });
    }

    const sameCloudInit = OS_IDS.filter((id) => OS_FACTS[id].cloudInitVersion.join('.') === info.cloudInit);
    if (sameCloudInit.length) {
      it(`cloud-init ${info.cloudInit} has the clean flags os.ts gives ${sameCloudInit.join(', ')}`, () => {
        const help = tools.run(['cloud-init', 'clean', '--help']).output;
        for (const id of sameCloudInit) for (const flag of OS_FACTS[id].cloudInitClean) expect(help, `${id} ${flag}`).toContain(flag);
      });
    }

    if (suite !== 'bullseye') {
      it('cloud-init schema accepts the secrets-only user-data (a baked image\'s)', () => {
        const r = tools.cloudInitSchema(secretsUserdata(cases[0].model));
        expect(accepts.cloudInit(r), r.output).toBe(true);
      });
    }

    it('its tools reject broken files (the checks can fail)', () => {
      expect(accepts.haproxy(tools.haproxy('listen x\n    bind :80\n    bogus_directive 1\n'))).toBe(false);
      expect(accepts.keepalived(tools.keepalived('global_defs {\n    bogus_keyword 1\n}\n', ['eth0']))).toBe(false);
      if (suite !== 'bullseye') expect(accepts.cloudInit(tools.cloudInitSchema('#cloud-config\npackages: haproxy\n'))).toBe(false);
    });

    for (const tool of TOOLS) {
      const mine = casesFor(cases, suite, tool);
      if (mine.length === 0) continue;
      const targets = [...new Set(mine.map((c) => c.model.os.id))].sort();
      const what = tool === 'haproxy' ? 'haproxy -c' : tool === 'keepalived' ? 'keepalived -t' : 'cloud-init schema';
      it(`${what} accepts ${mine.length} configs of ${targets.join(', ')} with no warning`, () => {
        const failed: string[] = [];
        let checked = 0;
        for (const c of mine) {
          for (const f of filesOf(c, tool)) {
            const r: ToolResult =
              tool === 'haproxy' ? tools.haproxy(f.content) : tool === 'keepalived' ? tools.keepalived(f.content, c.model.vip.interface ? [c.model.vip.interface] : []) : tools.cloudInitSchema(f.content);
            checked++;
            if (!accepts[tool](r)) failed.push(`${c.name} (${c.model.os.id}), ${f.label}: exit ${r.status}\n${r.output}`);
          }
        }
        expect(failed, `${failed.length} of ${checked} files rejected by ${info.label}'s ${what}`).toEqual([]);
        expect(checked).toBeGreaterThan(0);
      }, 600_000);
    }
  });
}
