import { WriteError } from '../diagnostics/errors.js';
import { mkdirSync, renameSync, rmSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FileSet } from '../render/files.js';

/**
 * Writes a whole file set under `dir` so that it never half-happens: every file is first
 * written next to its target under a temporary name, and only when all of them are written
 * are they renamed into place. On failure the temporaries are removed and previous output
 * stays as it was. Files are written 0600/0644/0755 as their entry says (owner is only
 * meaningful on the node). Fails with a WriteError naming the path that could not be written.
 */
export function writeTree(dir: string, files: FileSet): string[] {
  const tag = `.lbbake-tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const staged: Array<{ tmp: string; final: string }> = [];
  const createdDirs: string[] = [];
  const root = resolve(dir);
  if (isFile(root)) throw new WriteError(root, `${root} is a file; -o needs a directory (a new or an existing one)`);
  let current = root;
  try {
    for (const [rel, f] of files) {
      const final = resolve(dir, rel);
      if (!final.startsWith(root + '/')) throw new Error(`refusing to write outside ${dir}: ${rel}`);
      current = final;
      const made = makeDirs(dirname(final));
      if (made) createdDirs.push(made);
      const tmp = `${final}${tag}`;
      writeFileSync(tmp, f.content, { mode: Number.parseInt(f.mode, 8) });
      chmodSync(tmp, Number.parseInt(f.mode, 8));
      staged.push({ tmp, final });
    }
    for (const { tmp, final } of staged) {
      current = final;
      renameSync(tmp, final);
    }
  } catch (err) {
    for (const { tmp } of staged) quietRm(tmp);
    // directories this call created hold nothing of ours now: remove them, newest first
    for (const d of createdDirs.reverse()) quietRm(d);
    if (!(err as NodeJS.ErrnoException).code) throw err;
    throw writeError(current, err as NodeJS.ErrnoException);
  }
  return staged.map((s) => s.final);
}

/** Writes one file atomically (temporary file + rename); the old file stays on failure. */
export function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644): void {
  const target = resolve(path);
  if (isDirectory(target)) throw new WriteError(target, `${path} is a directory; pass a file name (e.g. ${path.replace(/\/+$/, '')}/user-data.yaml)`);
  let made: string | undefined;
  const tmp = `${dirname(target)}/.${randomBytes(4).toString('hex')}.lbbake-tmp`;
  try {
    made = makeDirs(dirname(target));
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, target);
  } catch (err) {
    quietRm(tmp);
    if (made) quietRm(made);
    throw writeError(path, err as NodeJS.ErrnoException);
  }
}

/**
 * A WriteError for `target` (the file the user asked for, never a temporary name): what went
 * wrong in words and what to do about it.
 */
export function writeError(target: string, err: NodeJS.ErrnoException): WriteError {
  const code = err.code ?? '';
  const blocker = fileInTheWay(target);
  if (blocker) return new WriteError(target, `cannot write ${target}: ${blocker} is a file, not a directory; choose an output path that is not below a file`);
  const why: Record<string, string> = {
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EEXIST: 'a part of the path is not a directory',
    ENAMETOOLONG: 'the name is too long',
    ELOOP: 'too many symbolic links',
    ENOENT: 'files cannot be created there',
    EINVAL: 'files cannot be created there',
  };
  return new WriteError(target, `cannot write ${target}: ${why[code] ?? code ?? 'unknown error'}`);
}

/** The nearest existing ancestor of `target` when it is not a directory (so nothing can go below it). */
function fileInTheWay(target: string): string | undefined {
  let p = dirname(resolve(target));
  for (;;) {
    try {
      return statSync(p).isDirectory() ? undefined : p;
    } catch {
      const up = dirname(p);
      if (up === p) return undefined;
      p = up;
    }
  }
}

/**
 * mkdir -p that returns the first directory it created (undefined if all existed). Node's own
 * recursive mkdirSync loops forever below a path that refuses creation (e.g. /proc/x).
 */
export function makeDirs(dir: string): string | undefined {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    try {
      statSync(p);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  missing.reverse();
  for (const d of missing) mkdirSync(d);
  return missing[0];
}

/** Best-effort cleanup that never replaces the error being reported. */
function quietRm(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    // nothing was created there
  }
}

function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
