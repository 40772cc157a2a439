import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE, run } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';

const dir = useTempDir('lbbake-ux-diag');

// routerId 300 on line 13: an error with a known line:col
const bad = join(dir, 'bad.yaml');
writeFileSync(bad, readFileSync(EXAMPLE, 'utf8').replace('routerId: 18 ', 'routerId: 300'));
const ESC = '\x1b[';

describe('diagnostics for people and machines', () => {
  it('not a terminal: plain compiler line, no colour, no source excerpt', async () => {
    const r = await run(['validate', bad], { tty: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${bad.replace(/[.]/g, '\\.')}:13:13 error\\[OUT_OF_RANGE\\] /vrrp/routerId: 300 is out of range; use 1\\.\\.255`));
    expect(r.stderr).not.toContain(ESC);
    expect(r.stderr).not.toContain(' | ');
  });
  it('a terminal: colour and the source line with a caret under the value', async () => {
    const r = await run(['validate', bad], { tty: true, env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${ESC}31;1merror${ESC}0m[OUT_OF_RANGE]`);
    const lines = r.stderr.split('\n');
    const src = lines.findIndex((l) => l.includes(' | ') && l.includes('routerId: 300'));
    expect(src).toBeGreaterThan(0);
    const plainSrc = lines[src].replace(/\x1b\[[0-9;]*m/g, '');
    expect(plainSrc).toMatch(/^ {2}13 \| {3}routerId: 300/);
    expect(lines[src + 1].indexOf('^')).toBe(plainSrc.indexOf('300'));
  });
  it('a terminal with NO_COLOR: the excerpt and caret, but no colour', async () => {
    const r = await run(['validate', bad], { tty: true, env: { NO_COLOR: '1' } });
    expect(r.stderr).not.toContain(ESC);
    expect(r.stderr).toMatch(/\n {2}13 \| {3}routerId: 300[^\n]*\n +\^\n/);
  });
  it('--color forces colour off a terminal, --no-color turns it off on one', async () => {
    expect((await run(['validate', bad, '--color'], { tty: false })).stderr).toContain(ESC);
    expect((await run(['validate', bad, '--no-color'], { tty: true })).stderr).not.toContain(ESC);
  });
  it('warnings are yellow on a terminal', async () => {
    const warn = join(dir, 'warn.yaml');
    writeFileSync(warn, readFileSync(EXAMPLE, 'utf8').replace('routerId: 18 ', 'routerId: 51 '));
    const r = await run(['validate', warn], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${ESC}33;1mwarning${ESC}0m[ROUTER_ID_DEFAULT]`);
  });
  it('--json: the diagnostics as data on stdout, nothing on stderr', async () => {
    const r = await run(['validate', bad, '--json'], { tty: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ file: bad, errors: 1, warnings: 0 });
    expect(j.diagnostics[0]).toMatchObject({ file: bad, severity: 'error', code: 'OUT_OF_RANGE', path: '/vrrp/routerId', line: 13, col: 13 });
  });
});
