import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE, lbbake, ROOT } from '../helpers/cli.js';
import { useTempDir } from '../helpers/tmp.js';

const tmp = useTempDir('lbbake-cli');

/** A private copy of the example (its secrets file is generated beside it). */
function exampleCopy(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const f = join(dir, 'lb.yaml');
  cpSync(EXAMPLE, f);
  return f;
}

describe('lbbake CLI', () => {
  it('validate: the bundled example is valid (exit 0)', async () => {
    const r = await lbbake(['validate', exampleCopy('v')]);
    expect(r.stderr).toContain('valid (2 nodes, 1 services)');
    expect(r.code).toBe(0);
  });

  it("validate: the guide's own settings print each defect with line:col and a fix (exit 1)", async () => {
    const r = await lbbake(['validate', 'test/cases/guide.yaml']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    const expected = [
      'test/cases/guide.yaml:6:13 warning[ROUTER_ID_DEFAULT] /vrrp/routerId:',
      'test/cases/guide.yaml:7:9 warning[MULTICAST] /vrrp/mode:',
      'test/cases/guide.yaml:8:17 error[AUTH_PASS_LENGTH] /vrrp/auth/pass: auth pass has 33 characters but keepalived uses only the first 8',
      'test/cases/guide.yaml:10:5 warning[CHECK_SLOW] /vrrp/check: a dead haproxy is detected after interval 3 s x fall 10',
      'test/cases/guide.yaml:10:14 error[CHECK_PIDOF] /vrrp/check/command: pidof fails under keepalived on Debian 12',
      'test/cases/guide.yaml:14:13 warning[CHECK_WEIGHT_SLOW] /vrrp/check/weight: weight -2 lowers a node whose haproxy died instead of putting it in FAULT',
      'test/cases/guide.yaml:22:62 warning[TIMEOUT_SHORT] /services/0/timeouts/tunnel:',
      'test/cases/guide.yaml:27:28 warning[STATS_ALL_ADDRESSES] /stats/bind:',
      'test/cases/guide.yaml:8:17 warning[SECRET_INLINE] /vrrp/auth/pass:',
      'test/cases/guide.yaml:27:60 warning[SECRET_INLINE] /stats/password:',
    ];
    for (const e of expected) expect(lines.some((l) => l.startsWith(e)), e).toBe(true);
    expect(r.stderr).not.toContain('412f7dc3bfed32194d1600c483e10ad1d');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('validate --strict fails on warnings; --json gives machine-readable diagnostics', async () => {
    const dir = join(tmp, 'strict');
    mkdirSync(dir);
    const f = join(dir, 'lb.yaml');
    writeFileSync(f, readFileSync(EXAMPLE, 'utf8').replace('routerId: 18', 'routerId: 51'));
    expect((await lbbake(['validate', f])).code).toBe(0);
    expect((await lbbake(['validate', '--strict', f])).code).toBe(1);
    const j = await lbbake(['validate', '--json', f]);
    const data = JSON.parse(j.stdout);
    expect(data.warnings).toBe(1);
    expect(data.diagnostics[0]).toMatchObject({ code: 'ROUTER_ID_DEFAULT', path: '/vrrp/routerId', severity: 'warning', line: 13 });
  });

  it('render writes the root-relative tree with modes, and the same bytes every time', async () => {
    const f = exampleCopy('render');
    const out = join(tmp, 'render-out');
    const r = await lbbake(['render', f, '--node', 'lb-1', '-o', out]);
    expect(r.code).toBe(0);
    const kc = join(out, 'etc/keepalived/keepalived.conf');
    expect(readFileSync(kc, 'utf8')).toContain('state BACKUP');
    expect(readFileSync(kc, 'utf8')).toContain('priority 249');
    expect(statSync(kc).mode & 0o777).toBe(0o600);
    expect(existsSync(join(out, 'etc/haproxy/haproxy.cfg'))).toBe(true);
    expect(existsSync(join(out, 'etc/sysctl.d/90-lbbake-k8s-apiserver.conf'))).toBe(true);
    const secrets = join(tmp, 'render', 'lb.secrets.yaml');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const first = readFileSync(kc, 'utf8');
    expect((await lbbake(['render', f, '--node', 'lb-1', '-o', out])).code).toBe(0);
    expect(readFileSync(kc, 'utf8')).toBe(first);
  });

  it('render defaults to output/<name>/<node>/ under the working directory', async () => {
    const f = exampleCopy('default-out');
    const cwd = join(tmp, 'default-out');
    const r = await lbbake(['render', f, '--node', 'lb-0'], { cwd });
    expect(r.code).toBe(0);
    expect(existsSync(join(cwd, 'output/k8s-apiserver/lb-0/etc/keepalived/keepalived.conf'))).toBe(true);
  });

  it('invalid input: exit 1, no output directory, no secrets file', async () => {
    const dir = join(tmp, 'invalid');
    mkdirSync(dir);
    const f = join(dir, 'lb.yaml');
    writeFileSync(f, readFileSync(EXAMPLE, 'utf8').replace('routerId: 18', 'routerId: 999'));
    const out = join(dir, 'out');
    const r = await lbbake(['render', f, '--node', 'lb-0', '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lb\.yaml:\d+:\d+ error\[OUT_OF_RANGE\] \/vrrp\/routerId/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['lb.yaml']);
    const u = await lbbake(['gen-userdata', f, '--node', 'lb-0', '-o', join(dir, 'ud.yaml')]);
    expect(u.code).toBe(1);
    expect(readdirSync(dir)).toEqual(['lb.yaml']);
  });

  it('usage errors exit 2: unknown node, unknown flag, missing command', async () => {
    const f = exampleCopy('usage');
    const a = await lbbake(['render', f, '--node', 'lb-9']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('nodes are lb-0, lb-1');
    expect((await lbbake(['validate', f, '--bogus'])).code).toBe(2);
    expect((await lbbake([])).code).toBe(2);
  });

  it('file problems are diagnostics with exit 1: missing, directory, unreadable, not UTF-8', async () => {
    expect((await lbbake(['validate', join(tmp, 'nope.yaml')])).stderr).toContain('error[FILE_NOT_FOUND]');
    const d = await lbbake(['validate', tmp]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('error[NOT_A_FILE]');
    const bin = join(tmp, 'latin1.yaml');
    writeFileSync(bin, Buffer.from('version: 1\nname: caf\xe9\n', 'latin1'));
    const l = await lbbake(['validate', bin]);
    expect(l.code).toBe(1);
    expect(l.stderr).toMatch(/latin1\.yaml:2:10 error\[NOT_UTF8\]/);
    if (process.getuid?.() !== 0) {
      const u = join(tmp, 'unreadable.yaml');
      writeFileSync(u, 'version: 1\n');
      chmodSync(u, 0);
      expect((await lbbake(['validate', u])).stderr).toContain('FILE_UNREADABLE');
    }
  });

  it('gen-userdata --node writes #cloud-config to stdout or -o', async () => {
    const f = exampleCopy('ud');
    const r = await lbbake(['gen-userdata', f, '--node', 'lb-0']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#cloud-config\n')).toBe(true);
    const o = join(tmp, 'ud', 'user-data.yaml');
    expect((await lbbake(['gen-userdata', f, '--node', 'lb-0', '-o', o])).code).toBe(0);
    expect(readFileSync(o, 'utf8')).toBe(r.stdout);
    expect(statSync(o).mode & 0o777).toBe(0o600);
  });

  it('render --check: exit 0 when up to date, exit 1 with a unified diff when lb.yaml changed', async () => {
    const f = exampleCopy('drift');
    const out = join(tmp, 'drift-out');
    expect((await lbbake(['render', f, '--node', 'lb-0', '-o', out])).code).toBe(0);
    const ok = await lbbake(['render', f, '--node', 'lb-0', '-o', out, '--check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    writeFileSync(f, readFileSync(f, 'utf8').replace('routerId: 18', 'routerId: 19'));
    const bad = await lbbake(['render', f, '--node', 'lb-0', '-o', out, '--check']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('-    virtual_router_id 18\n+    virtual_router_id 19\n');
    expect(bad.stderr).toContain('keepalived.conf');
    expect(readFileSync(join(out, 'etc/keepalived/keepalived.conf'), 'utf8')).toContain('virtual_router_id 18');
  });

  it('gen-userdata --check and gen-packer --check catch drift (and stale files)', async () => {
    const f = exampleCopy('drift2');
    const ud = join(tmp, 'drift2', 'user-data.yaml');
    expect((await lbbake(['gen-userdata', f, '-o', ud])).code).toBe(0);
    expect((await lbbake(['gen-userdata', f, '-o', ud, '--check'])).code).toBe(0);
    const pk = join(tmp, 'drift2', 'packer');
    expect((await lbbake(['gen-packer', f, '-o', pk])).code).toBe(0);
    expect((await lbbake(['gen-packer', f, '-o', pk, '--check'])).code).toBe(0);
    writeFileSync(join(pk, 'stale.txt'), 'left over\n');
    const stale = await lbbake(['gen-packer', f, '-o', pk, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain('-left over');
    writeFileSync(f, readFileSync(f, 'utf8').replace('routerId: 18', 'routerId: 19'));
    const u = await lbbake(['gen-userdata', f, '-o', ud, '--check']);
    expect(u.code).toBe(1);
    expect(u.stdout).toContain('+          virtual_router_id 19');
    expect((await lbbake(['gen-packer', f, '-o', pk, '--check'])).stdout).toContain('+    virtual_router_id 19');
  });

  it('render --verify: exit 3 and nothing written when a validator rejects the output', async () => {
    const f = exampleCopy('verify');
    const stub = join(tmp, 'stub-bin');
    mkdirSync(stub, { recursive: true });
    writeFileSync(join(stub, 'haproxy'), '#!/bin/sh\necho "[ALERT] (1) : config : stub haproxy rejects everything" >&2\nexit 1\n', { mode: 0o755 });
    const out = join(tmp, 'verify-out');
    const r = await lbbake(['render', f, '--node', 'lb-0', '-o', out, '--verify'], { env: { PATH: `${stub}:${process.env.PATH}` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('haproxy -c rejected generated etc/haproxy/haproxy.cfg');
    expect(existsSync(out)).toBe(false);
    const ok = await lbbake(['render', f, '--node', 'lb-0', '-o', out, '--verify']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('etc/haproxy/haproxy.cfg (haproxy -c)');
  });

  it('the README test and example commands exist in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toBeDefined();
    expect(pkg.scripts.example).toBeDefined();
  });
});
