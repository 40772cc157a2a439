import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { FileSet } from '../render/files.js';
import { writeTree } from './write.js';
import { README_MARKER } from '../render/packer/project.js';

/** Whether DIR may be replaced: missing, empty, or written by gen-packer before. */
export function replaceable(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (readdirSync(dir).length === 0) return true;
  const readme = join(dir, 'README.md');
  return existsSync(readme) && readFileSync(readme, 'utf8').startsWith(README_MARKER);
}

/**
 * Replaces DIR with exactly `files` (so files of removed nodes never linger and get baked): the
 * tree is written to a sibling temporary directory first, then swapped in with two renames.
 * On failure DIR keeps its previous content. The caller checks replaceable() first.
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
    throw err;
  }
  const hadOld = existsSync(target);
  if (hadOld) renameSync(target, old);
  try {
    renameSync(staging, target);
  } catch (err) {
    if (hadOld) renameSync(old, target);
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (hadOld) rmSync(old, { recursive: true, force: true });
  return [...files.keys()].map((rel) => join(target, rel));
}
