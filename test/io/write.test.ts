import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileSet } from '../../src/render/files.js';
import { writeFileAtomic, writeTree } from '../../src/io/write.js';
import { WriteError } from '../../src/diagnostics/errors.js';
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
});
