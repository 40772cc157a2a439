import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSet } from '../../src/render/files.js';
import { writeError, writeFileAtomic, writeTree } from '../../src/io/write.js';
import { WriteError } from '../../src/diagnostics/errors.js';
import { unifiedDiff } from '../../src/io/drift.js';
import { useTempDir } from '../helpers/tmp.js';

const tmp = useTempDir('lbbake-write');

const set = (entries: Record<string, string>): FileSet =>
  new Map(Object.entries(entries).map(([k, v]) => [k, { content: v, mode: '0644', owner: 'root:root' }]));

describe('writes that cannot half-happen', () => {
  it('a failure midway leaves the previous output intact and no temporaries or new folders', () => {
    const dir = join(tmp, 'a');
    writeTree(dir, set({ 'etc/x.conf': 'old x\n', 'etc/y.conf': 'old y\n' }));
    // "zz" exists as a file, so zz/z.conf cannot be created: the third write fails
    writeFileSync(join(dir, 'zz'), 'not a dir');
    expect(() => writeTree(dir, set({ 'etc/x.conf': 'new x\n', 'new/sub/n.conf': 'n\n', 'zz/z.conf': 'z\n' }))).toThrow(WriteError);
    expect(readFileSync(join(dir, 'etc/x.conf'), 'utf8')).toBe('old x\n');
    expect(readdirSync(join(dir, 'etc')).sort()).toEqual(['x.conf', 'y.conf']);
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });

  it('refuses paths that escape the output directory', () => {
    expect(() => writeTree(join(tmp, 'b'), set({ '../escape.conf': 'x' }))).toThrow(/outside/);
    expect(existsSync(join(tmp, 'escape.conf'))).toBe(false);
  });

  it('writeFileAtomic keeps the old file when the write fails', () => {
    const f = join(tmp, 'c', 'f.txt');
    writeFileAtomic(f, 'old\n');
    mkdirSync(join(tmp, 'c', 'dir-in-the-way'));
    expect(() => writeFileAtomic(join(tmp, 'c', 'dir-in-the-way'), 'x')).toThrow(WriteError);
    expect(readFileSync(f, 'utf8')).toBe('old\n');
    expect(readdirSync(join(tmp, 'c')).sort()).toEqual(['dir-in-the-way', 'f.txt']);
  });

  it('a failure names the path asked for, never a temporary file, with the reason in words', () => {
    const target = join(tmp, 'ro', 'user-data.yaml');
    for (const [code, words] of [['EROFS', 'the file system is read-only'], ['EACCES', 'permission denied'], ['ENOSPC', 'no space left on the device'], ['EISDIR', 'it is a directory']]) {
      const err = Object.assign(new Error(`${code}: x, open '${join(tmp, 'ro', '.6376d518.lbbake-tmp')}'`), { code, path: join(tmp, 'ro', '.6376d518.lbbake-tmp') });
      const e = writeError(target, err);
      expect(e.message).toBe(`cannot write ${target}: ${words}; nothing was written (previous output is unchanged)`);
      expect(e.message).not.toContain('lbbake-tmp');
    }
    writeFileSync(join(tmp, 'plain'), 'x');
    expect(() => writeFileAtomic(join(tmp, 'plain', 'a', 'b'), 'x')).toThrow(`cannot write ${join(tmp, 'plain', 'a', 'b')}: ${join(tmp, 'plain')} is a file, not a directory`);
    expect(() => writeTree(join(tmp, 'plain'), set({ x: 'y' }))).toThrow(`${join(tmp, 'plain')} is a file; -o needs a directory`);
  });
});

describe('--check diffs', () => {
  it('a change of only the final newline shows, by the diff package', () => {
    const d = unifiedDiff('a\nb\n', 'a\nb', 'x (committed)', 'x (generated)');
    expect(d).toBe('--- x (committed)\n+++ x (generated)\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n');
  });
});
