/**
 * Accepted but wrong: commands that succeeded while doing less than they said, or printing
 * what they must not. Each test failed before its fix.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/tmp.js';
import { parse } from 'yaml';
import { COMMANDS, type CommandModule } from '../../src/cli/main.js';
import { EXAMPLE, lbbake, ROOT } from '../helpers/cli.js';
import { run } from '../helpers/io.js';

const tmp = useTempDir('lbbake-truth');

function project(name: string, edit: (t: string) => string = (t) => t): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'lb.yaml'), edit(readFileSync(EXAMPLE, 'utf8')));
  return join(d, 'lb.yaml');
}

/** The secret values kept in the secrets file beside lb.yaml. */
function secretsOf(lb: string): string[] {
  const s = parse(readFileSync(lb.replace(/\.yaml$/, '.secrets.yaml'), 'utf8')) as Record<string, string>;
  return Object.values(s);
}

describe('--check never prints a secret and works on a fresh clone (secrets file git-ignored)', () => {
  const cases: Array<{ name: string; gen: (lb: string, out: string) => string[]; change?: [string, string] }> = [
    { name: 'render', gen: (lb, out) => ['render', lb, '--node', 'lb-0', '-o', out] },
    { name: 'gen-userdata (metadata mode)', gen: (lb, out) => ['gen-userdata', lb, '-o', out] },
    { name: 'gen-userdata --node', gen: (lb, out) => ['gen-userdata', lb, '--node', 'lb-1', '-o', out] },
    { name: 'gen-userdata --secrets-only --encoding base64', gen: (lb, out) => ['gen-userdata', lb, '--secrets-only', '--encoding', 'base64', '-o', out], change: ['name: k8s-apiserver', 'name: k8s-other'] },
    { name: 'gen-userdata --encoding gzip --mime', gen: (lb, out) => ['gen-userdata', lb, '--node', 'lb-0', '--encoding', 'gzip', '--mime', '-o', out] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const lb = project(`check-${c.name.replace(/\W+/g, '-')}`);
      const out = join(tmp, `out-${c.name.replace(/\W+/g, '-')}`);
      expect((await run(c.gen(lb, out))).code).toBe(0);
      const secrets = secretsOf(lb);
      const store = lb.replace(/\.yaml$/, '.secrets.yaml');
      // a fresh clone: the committed output, but no secrets file
      renameSync(store, `${store}.kept`);
      const fresh = await run([...c.gen(lb, out), '--check']);
      expect(fresh.stderr).toMatch(/up to date/);
      expect(fresh.code, fresh.stderr + fresh.stdout).toBe(0);
      expect(existsSync(store)).toBe(false); // --check writes nothing
      // lb.yaml changed on the fresh clone: a diff, without any secret, old or new
      const [from, to] = c.change ?? ['routerId: 18', 'routerId: 19'];
      writeFileSync(lb, readFileSync(lb, 'utf8').replace(from, to));
      const changed = await run([...c.gen(lb, out), '--check']);
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(/virtual_router_id 19|k8s-other/);
      for (const v of secrets) expect(changed.stdout + changed.stderr).not.toContain(v);
      expect(changed.stdout + changed.stderr).not.toMatch(/\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}/);
      // the real secrets file with other values than the committed output: drift, values not shown
      writeFileSync(lb, readFileSync(lb, 'utf8').replace(to, from));
      writeFileSync(store, 'vrrpAuthPass: Other123\nstatsPassword: other-password-1234567890\n', { mode: 0o600 });
      const other = await run([...c.gen(lb, out), '--check']);
      expect(other.code).toBe(1);
      expect(other.stdout).toMatch(/differs? from what lb\.yaml and lb\.secrets\.yaml give \(values not shown\)/);
      for (const v of [...secrets, 'Other123', 'other-password-1234567890']) expect(other.stdout + other.stderr).not.toContain(v);
      // and the kept one: up to date again
      renameSync(`${store}.kept`, store);
      expect((await run([...c.gen(lb, out), '--check'])).code).toBe(0);
    }, 60_000);
  }

  it('a change of only the final newline is a diff that says so', async () => {
    const lb = project('newline');
    const out = join(tmp, 'newline-ud.yaml');
    expect((await run(['gen-userdata', lb, '--node', 'lb-0', '-o', out])).code).toBe(0);
    writeFileSync(out, readFileSync(out, 'utf8').replace(/\n$/, ''));
    const r = await run(['gen-userdata', lb, '--node', 'lb-0', '-o', out, '--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('\\ No newline at end of file');
    expect(r.stdout).toMatch(/^@@ /m);
  });
});

describe('--verify checks every node file, with dummy secrets, in every mode', () => {
  /** A PATH whose haproxy/keepalived log the files they get, and reject or accept them. */
  function stubs(name: string, haproxyExit: number): { env: Record<string, string>; log: string } {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    const log = join(dir, 'log');
    // cloud-init schema and shellcheck stubbed too: their real verdicts are tested elsewhere
    for (const tool of ['haproxy', 'keepalived', 'cloud-init', 'shellcheck']) {
      // the file is the last argument; keep a copy of what the tool saw
      writeFileSync(join(dir, tool), `#!/bin/sh\nfor a; do f="$a"; done\ncat "$f" >> "${log}"\necho "${tool} $*" >> "${log}.calls"\n${tool === 'haproxy' ? `[ ${haproxyExit} = 0 ] || echo "[ALERT] stub rejects" >&2\nexit ${haproxyExit}` : 'exit 0'}\n`, { mode: 0o755 });
    }
    return { env: { PATH: `${dir}:${process.env.PATH}` }, log };
  }
  it('metadata mode (where every node file has secret placeholders): a rejected haproxy.cfg is exit 3, nothing written', async () => {
    const lb = project('verify-bad');
    const { env } = stubs('stub-bad', 1);
    const out = join(tmp, 'verify-bad-out');
    const r = await lbbake(['gen-userdata', lb, '-o', out, '--verify'], { env });
    expect(r.stderr).toMatch(/haproxy -c rejected generated lb-\d \(dummy secrets\): etc\/haproxy\/haproxy\.cfg/);
    expect(r.code).toBe(3);
    expect(existsSync(out)).toBe(false);
  });
  for (const mode of [[], ['--node', 'lb-1'], ['--secrets-only']]) {
    const label = mode.join(' ') || 'metadata mode';
    it(`${label}: says what it verified, and no real secret reaches a validator`, async () => {
      const lb = project(`verify-ok-${label.replace(/\W+/g, '-')}`);
      const { env, log } = stubs(`stub-ok-${label.replace(/\W+/g, '-')}`, 0);
      const out = join(tmp, `verify-ok-out-${label.replace(/\W+/g, '-')}`);
      const r = await lbbake(['gen-userdata', lb, ...mode, '-o', out, '--verify'], { env });
      expect(r.code, r.stderr).toBe(0);
      const nodes = mode[0] === '--node' ? ['lb-1'] : ['lb-0', 'lb-1'];
      for (const n of nodes) expect(r.stderr).toContain(`verified ${n} (dummy secrets): etc/keepalived/keepalived.conf (keepalived -t), etc/haproxy/haproxy.cfg (haproxy -c)`);
      expect(r.stderr).toMatch(/verified user-data \(cloud-init schema\)|not verified: user-data/);
      expect(r.stderr).toMatch(/--verify: \d+ file\(s\) passed/);
      const seen = readFileSync(log, 'utf8');
      expect(seen).toContain('auth_pass "Dq7Xw3Jz"');
      for (const v of secretsOf(lb)) expect(seen).not.toContain(v);
    });
  }
});

describe('render writes everything keepalived.conf runs', () => {
  it('with vip.cloud, lbbake-vip is in the tree (0755) at the path keepalived\'s notify calls', async () => {
    const lb = project('hook', (t) => t.replace('  prefix: 32\n', '  prefix: 32\n  cloud: { provider: aws, mode: secondary-ip }\n'));
    const out = join(tmp, 'hook-out');
    const r = await run(['render', lb, '--node', 'lb-0', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const conf = readFileSync(join(out, 'etc/keepalived/keepalived.conf'), 'utf8');
    const called = [...conf.matchAll(/^\s*(?:notify|notify_master_rx_lower_pri|script|vrrp_notify_fifo_script)\s+"?(\/[^\s"]+)/gm)].map((m) => m[1]);
    expect(called).toContain('/usr/local/libexec/lbbake/lbbake-vip');
    expect(called).toContain('/usr/local/libexec/lbbake/vrrp-holder');
    for (const p of called.filter((c) => c.startsWith('/usr/local/'))) {
      expect(statSync(join(out, p)).mode & 0o777).toBe(0o755);
    }
    // configs (3), the hook, the haproxy exit-event drop-in, the VIP-holder script and lbbake's two
    // restart/stop-order drop-ins
    expect(r.stderr).toMatch(/wrote 8 files/);
  });
});

describe('--version, --json, --help', () => {
  it("--version prints lbbake's own version, also when run from another project", async () => {
    const proj = join(tmp, 'host-project');
    mkdirSync(proj, { recursive: true });
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'host', version: '9.9.9' }));
    const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    const r = await lbbake(['--version'], { cwd: proj });
    expect(r.stdout.trim()).toBe(own);
    expect(own).not.toBe('9.9.9');
  });

  it('--json: stdout holds exactly one JSON document for every command', async () => {
    const lb = project('json');
    const out = join(tmp, 'json-out');
    for (const args of [
      ['validate', lb],
      ['explain', lb],
      ['render', lb, '--node', 'lb-0', '-o', join(out, 'r')],
      ['render', lb, '--node', 'lb-0', '-o', join(out, 'r'), '--check'],
      ['gen-userdata', lb, '-o', join(out, 'ud')],
      ['gen-userdata', lb, '-o', join(out, 'ud'), '--check'],
      ['gen-packer', lb, '-o', join(out, 'p')],
      ['gen-packer', lb, '-o', join(out, 'p'), '--check'],
    ]) {
      const r = await run([...args, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(() => JSON.parse(r.stdout), `${args.join(' ')}: ${r.stdout.slice(0, 200)}`).not.toThrow();
      expect(r.stdout).not.toContain('#cloud-config');
    }
    // drift: the diff is inside the document, not after it
    writeFileSync(lb, readFileSync(lb, 'utf8').replace('routerId: 18', 'routerId: 19'));
    const d = await run(['render', lb, '--node', 'lb-0', '-o', join(out, 'r'), '--check', '--json']);
    expect(d.code).toBe(1);
    const doc = JSON.parse(d.stdout);
    expect(doc.upToDate).toBe(false);
    expect(doc.drift[0].diff).toContain('+    virtual_router_id 19');
  });

  /** Every describe text a command's builder declares. */
  async function describes(c: { load: () => Promise<CommandModule> }): Promise<string[]> {
    const out: string[] = [];
    const rec: any = new Proxy({}, { get: (_t, k) => (k === 'positional' || k === 'option' ? (_n: string, o: { describe?: string }) => (o.describe && out.push(o.describe), rec) : () => rec) });
    (await c.load()).builder(rec);
    return out;
  }
  const flat = (s: string) => s.replace(/\s+/g, ' ');

  it('--help never breaks a word across lines', async () => {
    const top = await run(['--help']);
    expect(flat(top.stdout)).toContain('cloud-init user-data and Packer projects');
    for (const c of COMMANDS) {
      expect(flat(top.stdout)).toContain(flat(c.describe));
      const name = c.command.split(' ')[0];
      const h = await run([name, '--help']);
      for (const d of await describes(c)) expect(flat(h.stdout), `${name} --help: ${d}`).toContain(flat(d));
    }
  });
});

describe('a size hint is a command that works as given', () => {
  it('gen-userdata --cloud aws: each suggested fix succeeds', async () => {
    const lb = project('cloud-hint');
    const r = await run(['gen-userdata', lb, '--cloud', 'aws']);
    expect(r.code).toBe(1);
    const hint = r.stderr.match(/use (.*): cloud-init unpacks gzip/)?.[1];
    expect(hint, r.stderr).toBeDefined();
    const fixes = hint!.split(/ or /).map((f) => f.replace(/\(.*?\)/g, '').trim());
    expect(fixes.length).toBeGreaterThan(1);
    for (const f of fixes) {
      const extra = f.replace('FILE', join(tmp, 'hint-ud')).split(/\s+/);
      const ok = await run(['gen-userdata', lb, '--cloud', 'aws', ...extra]);
      expect(ok.code, `${f}: ${ok.stderr}`).toBe(0);
    }
  });
});
