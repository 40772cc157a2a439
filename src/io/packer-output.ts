import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { FileSet } from '../render/files.js';
import { writeError, writeTree } from './write.js';
import { WriteError } from '../diagnostics/errors.js';
import { README_MARKER } from '../render/packer/project.js';

/**
 * Why DIR may not be replaced, or undefined when it may: missing, empty, or written by
 * gen-packer before.
 */
export function notReplaceable(dir: string): string | undefined {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `${dir} cannot be read (${(err as NodeJS.ErrnoException).code})`;
  }
  if (!st.isDirectory()) return `${dir} is a file; -o needs a directory (a new one, or one gen-packer wrote before)`;
  if (readdirSync(dir).length === 0) return undefined;
  const readme = join(dir, 'README.md');
  if (existsSync(readme) && readFileSync(readme, 'utf8').startsWith(README_MARKER)) return undefined;
  return `${dir} exists and was not written by gen-packer; pick an empty or new directory with -o`;
}

/**
 * Replaces DIR with exactly `files` (so files of removed nodes never linger and get baked): the
 * tree is written to a sibling temporary directory first, then swapped in with two renames.
 * On failure DIR keeps its previous content. The caller checks notReplaceable() first.
 */
export function replaceTree(dir: string, files: FileSet): string[] {
  const target = resolve(dir);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(dirname(target), `.${basename(target)}.lbbake-new-${tag}`);
  const old = join(dirname(target), `.${basename(target)}.lbbake-old-${tag}`);
  try {
    writeTree(staging, files);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    // name the directory asked for, not the staging one
    if (err instanceof WriteError) throw new WriteError(target, err.message.replaceAll(staging, target).replace(/; nothing was written.*$/, ''));
    throw err;
  }
  const hadOld = existsSync(target);
  try {
    if (hadOld) renameSync(target, old);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw writeError(target, err as NodeJS.ErrnoException);
  }
  try {
    renameSync(staging, target);
  } catch (err) {
    if (hadOld) renameSync(old, target);
    rmSync(staging, { recursive: true, force: true });
    throw writeError(target, err as NodeJS.ErrnoException);
  }
  if (hadOld) rmSync(old, { recursive: true, force: true });
  return [...files.keys()].map((rel) => join(target, rel));
}
