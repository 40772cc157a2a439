/**
 * Hostile or unlucky files, flags and paths at the CLI: every row ends in a clear message and
 * its exit code — never a stack trace, an internal error for a user mistake, a temporary file
 * name, a hang or a secret. Rows run the real bin (child process, bounded in time).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/tmp.js';
import { EXAMPLE, lbbake } from '../helpers/cli.js';
import { run } from '../helpers/io.js';

const tmp = useTempDir('lbbake-flags');
const example = readFileSync(EXAMPLE, 'utf8');

/** A fresh folder holding lb.yaml (optionally edited); returns the folder. */
function project(name: string, edit: (t: string) => string = (t) => t): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'lb.yaml'), edit(example));
  return d;
}
const withAuth = (ref: string) => (t: string) => t.replace('routerId: 18 ', `auth: { pass: "${ref}" }\n  routerId: 18 `);

interface Row {
  name: string;
  setup: () => { cwd: string; args: string[]; input?: string };
  code: number;
  /** stderr (or stdout with `out`) must match */
  says: RegExp;
  out?: boolean;
  /** Run the real bin in a child process (standard input, or a read that could block the process). */
  child?: boolean;
}

const ROWS: Row[] = [
  // -o below a regular file, onto a directory, where nothing can be created
  { name: 'gen-userdata -o below a file', setup: () => { const d = project('o1'); writeFileSync(join(d, 'afile'), 'x'); return { cwd: d, args: ['gen-userdata', 'lb.yaml', '-o', 'afile/ud'] }; }, code: 1, says: /cannot write afile\/ud: .*afile is a file, not a directory/ },
  { name: 'gen-packer -o a file', setup: () => { const d = project('o2'); writeFileSync(join(d, 'afile'), 'x'); return { cwd: d, args: ['gen-packer', 'lb.yaml', '-o', 'afile'] }; }, code: 2, says: /afile is a file; -o needs a directory/ },
  { name: 'render -o a file', setup: () => { const d = project('o3'); writeFileSync(join(d, 'afile'), 'x'); return { cwd: d, args: ['render', 'lb.yaml', '--node', 'lb-0', '-o', 'afile'] }; }, code: 1, says: /afile is a file; -o needs a directory/ },
  { name: 'render -o below a file', setup: () => { const d = project('o4'); writeFileSync(join(d, 'afile'), 'x'); return { cwd: d, args: ['render', 'lb.yaml', '--node', 'lb-0', '-o', 'afile/x'] }; }, code: 1, says: /afile is a file, not a directory/ },
  { name: 'gen-userdata -o a directory', setup: () => { const d = project('o5'); mkdirSync(join(d, 'adir')); return { cwd: d, args: ['gen-userdata', 'lb.yaml', '-o', 'adir'] }; }, code: 1, says: /adir is a directory; pass a file name/ },
  { child: true, name: 'render -o where files cannot be created (/proc: Node would loop forever)', setup: () => ({ cwd: project('o6'), args: ['render', 'lb.yaml', '--node', 'lb-0', '-o', '/proc/lbbake-x'] }), code: 1, says: /cannot write \/proc\/lbbake-x\/etc\/keepalived\/keepalived.conf: files cannot be created there/ },
  { child: true, name: 'gen-packer -o where files cannot be created', setup: () => ({ cwd: project('o7'), args: ['gen-packer', 'lb.yaml', '-o', '/proc/lbbake-x'] }), code: 1, says: /cannot write \/proc\/lbbake-x/ },
  // file: secrets: only small regular files, never blocking
  { child: true, name: 'file:/dev/zero (was: out of memory)', setup: () => ({ cwd: project('s1', withAuth('file:/dev/zero')), args: ['validate', 'lb.yaml'] }), code: 1, says: /error\[SECRET_FILE_UNREADABLE\] \/vrrp\/auth\/pass: cannot read file:\/dev\/zero: it is not a regular file/ },
  { child: true, name: 'file:/dev/stdin (was: blocks forever)', setup: () => ({ cwd: project('s2', withAuth('file:/dev/stdin')), args: ['validate', 'lb.yaml'] }), code: 1, says: /SECRET_FILE_UNREADABLE.*file:\/dev\/stdin: it is not a regular file/ },
  { child: true, name: 'file: a FIFO (was: blocks forever)', setup: () => { const d = project('s3', withAuth('file:pass.fifo')); execFileSync('mkfifo', [join(d, 'pass.fifo')]); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /SECRET_FILE_UNREADABLE.*file:pass.fifo: it is not a regular file/ },
  { child: true, name: 'file: a symlink to a FIFO', setup: () => { const d = project('s4', withAuth('file:link')); execFileSync('mkfifo', [join(d, 'f')]); symlinkSync(join(d, 'f'), join(d, 'link')); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /SECRET_FILE_UNREADABLE.*file:link: it is not a regular file/ },
  { name: 'file: a directory', setup: () => { const d = project('s5', withAuth('file:sub')); mkdirSync(join(d, 'sub')); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /SECRET_FILE_UNREADABLE.*file:sub: it is a directory/ },
  { name: 'file: a large file', setup: () => { const d = project('s6', withAuth('file:big')); writeFileSync(join(d, 'big'), 'x'.repeat(100_000)); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /SECRET_FILE_UNREADABLE.*file:big: it is 100000 bytes \(at most 4096\)/ },
  { name: 'file: missing', setup: () => ({ cwd: project('s7', withAuth('file:nope')), args: ['validate', 'lb.yaml'] }), code: 1, says: /SECRET_FILE_UNREADABLE.*file:nope: it does not exist/ },
  { name: 'env: without a name', setup: () => ({ cwd: project('s8', withAuth('env:')), args: ['validate', 'lb.yaml'] }), code: 1, says: /lb\.yaml:\d+:\d+ error\[SECRET_REF_INVALID\] \/vrrp\/auth\/pass: env: needs the name of an environment variable, e\.g\. env:VRRP_PASS/ },
  { name: 'env: with a bad name', setup: () => ({ cwd: project('s9', withAuth('env:1X')), args: ['validate', 'lb.yaml'] }), code: 1, says: /SECRET_REF_INVALID.*env:1X is not an environment variable name/ },
  { name: 'file: without a path', setup: () => ({ cwd: project('s10', withAuth('file:')), args: ['validate', 'lb.yaml'] }), code: 1, says: /SECRET_REF_INVALID.*file: needs a path/ },
  // the secrets file beside lb.yaml is named as itself, never as lb.yaml
  { name: 'a secrets file that is not YAML', setup: () => { const d = project('f1'); writeFileSync(join(d, 'lb.secrets.yaml'), '{ [', { mode: 0o600 }); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /^lb\.secrets\.yaml error\[SECRETS_FILE_INVALID\]/m },
  { name: 'a secrets file that is a list', setup: () => { const d = project('f2'); writeFileSync(join(d, 'lb.secrets.yaml'), '- a\n', { mode: 0o600 }); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /^lb\.secrets\.yaml error\[SECRETS_FILE_INVALID\] \/: lb\.secrets\.yaml is not a YAML mapping/m },
  { child: true, name: 'a secrets file that is a FIFO', setup: () => { const d = project('f3'); execFileSync('mkfifo', [join(d, 'lb.secrets.yaml')]); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /^lb\.secrets\.yaml error\[SECRETS_FILE_INVALID\].*not a regular file/m },
  { name: 'a secrets file readable by others', setup: () => { const d = project('f4'); writeFileSync(join(d, 'lb.secrets.yaml'), 'vrrpAuthPass: abcdefgh\n'); chmodSync(join(d, 'lb.secrets.yaml'), 0o644); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 0, says: /^lb\.secrets\.yaml warning\[SECRETS_FILE_MODE\]/m },
  // standard input
  { child: true, name: 'validate - reads standard input', setup: () => ({ cwd: project('i1'), args: ['validate', '-'], input: example }), code: 0, says: /^<stdin>: valid \(2 nodes, 1 services\)/m },
  { child: true, name: 'validate - names <stdin> in diagnostics', setup: () => ({ cwd: project('i2'), args: ['validate', '-'], input: example.replace('routerId: 18', 'routerId: 999') }), code: 1, says: /^<stdin>:\d+:\d+ error\[OUT_OF_RANGE\] \/vrrp\/routerId/m },
  { child: true, name: 'explain - reads standard input', setup: () => ({ cwd: project('i3'), args: ['explain', '-'], input: example }), code: 0, says: /^cluster k8s-apiserver/m, out: true },
  { child: true, name: 'render - is a usage error (secrets live beside lb.yaml)', setup: () => ({ cwd: project('i4'), args: ['render', '-', '--node', 'lb-0'], input: example }), code: 2, says: /- \(standard input\) works with validate and explain/ },
  // other encodings
  { name: 'a UTF-16LE file (BOM)', setup: () => { const d = project('u1'); writeFileSync(join(d, 'lb.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(example, 'utf16le')])); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /error\[NOT_UTF8\] \/: the file is UTF-16LE \(byte-order mark FF FE\) text, not UTF-8; save lb.yaml as UTF-8 \(e\.g\. iconv -f utf-16le/ },
  { name: 'a UTF-16BE file without BOM', setup: () => { const d = project('u2'); writeFileSync(join(d, 'lb.yaml'), Buffer.from(example, 'utf16le').swap16()); return { cwd: d, args: ['validate', 'lb.yaml'] }; }, code: 1, says: /NOT_UTF8.*UTF-16BE text.*iconv -f utf-16be/ },
  // values the schema allows must render
  { name: 'a health path with a query (was: exit 70)', setup: () => ({ cwd: project('h1', (t) => t.replace('path: /readyz', 'path: "/readyz?exclude=etcd"')), args: ['render', 'lb.yaml', '--node', 'lb-0'] }), code: 0, says: /wrote 7 files/ },
  { name: 'a health path with a query, metadata user-data', setup: () => ({ cwd: project('h2', (t) => t.replace('path: /readyz', 'path: "/livez?verbose&exclude=etcd"')), args: ['gen-userdata', 'lb.yaml', '-o', 'ud'] }), code: 0, says: /wrote ud/ },
  { name: 'a health path with a query, Packer project', setup: () => ({ cwd: project('h3', (t) => t.replace('path: /readyz', 'path: "/readyz?exclude=etcd"')), args: ['gen-packer', 'lb.yaml'] }), code: 0, says: /wrote a Packer project/ },
  { name: 'a cluster name ending in - (breaks image families)', setup: () => ({ cwd: project('n1', (t) => t.replace('name: k8s-apiserver', 'name: k8s-')), args: ['validate', 'lb.yaml'] }), code: 1, says: /error\[BAD_STRING\] \/name: "k8s-" cannot be used for name: .*not ending in -/ },
  // flags
  { name: '--json without -o: the user-data would share stdout with the JSON', setup: () => ({ cwd: project('j1'), args: ['gen-userdata', 'lb.yaml', '--json'] }), code: 2, says: /--json prints the diagnostics as JSON on stdout, where the user-data goes without -o; pass -o FILE/ },
  { name: 'explain --help says what --json prints', setup: () => ({ cwd: tmp, args: ['explain', '--help'] }), code: 0, says: /--json\s+print the plan as JSON on stdout/, out: true },
];

/** The CLI in this process, in `cwd` (relative paths as a shell would resolve them). */
async function inProcess(args: string[], cwd: string) {
  const before = process.cwd();
  process.chdir(cwd);
  try {
    return await run(args, { cwd, env: { NO_COLOR: '1' } });
  } finally {
    process.chdir(before);
  }
}

describe('hostile files, flags and paths', () => {
  for (const r of ROWS) {
    it(`${r.name} → exit ${r.code}`, async () => {
      const { cwd, args, input } = r.setup();
      const res = r.child ? await lbbake(args, { cwd, input }) : await inProcess(args, cwd);
      const all = res.stdout + res.stderr;
      expect(r.out ? res.stdout : res.stderr).toMatch(r.says);
      expect(res.code, all).toBe(r.code);
      expect(all).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(all).not.toContain('internal error');
      expect(all).not.toMatch(/lbbake-tmp|lbbake-new-|lbbake-old-/);
    }, 30_000);
  }
});
