import { WriteError } from '../diagnostics/errors.js';
import { mkdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FileSet } from '../render/files.js';

/**
 * Writes a whole file set under `dir` so that it never half-happens: every file is first
 * written next to its target under a temporary name, and only when all of them are written
 * are they renamed into place. On failure the temporaries are removed and previous output
 * stays as it was. Files are written 0600/0644/0755 as their entry says (owner is only
 * meaningful on the node).
 */
export function writeTree(dir: string, files: FileSet): string[] {
  const tag = `.lbbake-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const staged: Array<{ tmp: string; final: string }> = [];
  const createdDirs: string[] = [];
  try {
    for (const [rel, f] of files) {
      const final = resolve(dir, rel);
      if (!final.startsWith(resolve(dir) + '/')) throw new Error(`refusing to write outside ${dir}: ${rel}`);
      const made = mkdirSync(dirname(final), { recursive: true });
      if (made) createdDirs.push(made);
      const tmp = `${final}${tag}`;
      writeFileSync(tmp, f.content, { mode: Number.parseInt(f.mode, 8) });
      chmodSync(tmp, Number.parseInt(f.mode, 8));
      staged.push({ tmp, final });
    }
    for (const { tmp, final } of staged) renameSync(tmp, final);
  } catch (err) {
    for (const { tmp } of staged) rmSync(tmp, { force: true });
    // directories this call created hold nothing of ours now: remove them, newest first
    for (const d of createdDirs.reverse()) rmSync(d, { recursive: true, force: true });
    throw new WriteError(err as NodeJS.ErrnoException);
  }
  return staged.map((s) => s.final);
}

/** Writes one file atomically (temporary file + rename); the old file stays on failure. */
export function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644): void {
  const made = mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = join(dirname(resolve(path)), `.${randomBytes(4).toString('hex')}.lbbake-tmp`);
  try {
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (made) rmSync(made, { recursive: true, force: true });
    throw new WriteError(err as NodeJS.ErrnoException);
  }
}
