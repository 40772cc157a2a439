import { InternalError } from '../diagnostics/errors.js';

/**
 * Python source without its docstrings and comment-only lines: what a node runs of lbbake's own
 * programs (their documentation stays in the repository and docs/). Code lines, and comments after
 * code on a line, are kept byte for byte. A docstring that was a block's whole body becomes `pass`.
 * Only for lbbake's own sources, whose docstrings are `"""` blocks; throws InternalError on one it
 * cannot delimit.
 */
export function withoutDocs(source: string): string {
  const lines = source.split('\n');
  const out: string[] = [];
  const indent = (l: string) => l.length - l.trimStart().length;
  // a docstring may start here: the module's start, or the line after a def/class header ending in ':'
  let docAt: number | undefined = 0;
  let header = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.trim();
    if (i === 0 && line.startsWith('#!')) {
      out.push(line);
      continue;
    }
    if (t === '' || t.startsWith('#')) {
      if (t === '') out.push(line);
      continue;
    }
    if (docAt !== undefined && t.startsWith('"""')) {
      let end = i;
      if (!(t.length > 3 && t.endsWith('"""'))) {
        end = lines.findIndex((l, j) => j > i && l.includes('"""'));
        if (end < 0) throw new InternalError(`unterminated docstring at line ${i + 1}`);
      }
      const next = lines.slice(end + 1).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
      if (docAt > 0 && (next === undefined || indent(next) < indent(line))) out.push(`${' '.repeat(indent(line))}pass`);
      i = end;
      docAt = undefined;
      continue;
    }
    docAt = undefined;
    if (/^(async\s+)?(def|class)\s/.test(t)) header = true;
    if (header && t.endsWith(':')) {
      header = false;
      docAt = i + 1;
    }
    out.push(line);
  }
  return out.join('\n');
}
