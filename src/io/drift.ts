import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

import { display, maskUnknown, matchTemplate, type SecretTemplate } from '../render/secret-template.js';

const require = createRequire(import.meta.url);

/** One file whose committed content differs from what lbbake generates now. */
export interface Drift {
  path: string;
  diff: string;
}

/** What is at a committed path: nothing, a readable file's text, or something that is not one. */
type Committed = { kind: 'missing' } | { kind: 'file'; text: string } | { kind: 'other'; what: string };

function readCommitted(p: string): Committed {
  try {
    const st = statSync(p);
    if (st.isDirectory()) return { kind: 'other', what: 'a directory' };
    if (!st.isFile()) return { kind: 'other', what: 'not a regular file' };
    return { kind: 'file', text: readFileSync(p, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ENOTDIR') return { kind: 'other', what: 'below a file, not a directory' };
    return { kind: 'other', what: `unreadable (${code})` };
  }
}

/** A file lbbake would write: its content, and where its secrets are (if it holds any). */
export interface Want {
  content: string;
  template?: SecretTemplate;
}

export interface DriftOptions {
  /** Slots (e.g. vrrp_auth_pass) whose values this run generated: unknown, so not compared. */
  generated?: ReadonlySet<string>;
  /** The secrets file's name, for notes. */
  storeName?: string;
}

/**
 * Compares generated files with what is on disk (`--check`, for users' CI), never printing a
 * secret: committed text is compared with the generated one with secrets masked. Secrets this
 * run had to generate (the secrets file is git-ignored, so a fresh clone has none) are taken
 * as the committed file has them. Returns one entry per missing or differing file with a
 * unified diff, and notes on what was not compared.
 */
export function checkDrift(files: Map<string, string | Want>, baseDir: string, opts: DriftOptions = {}): { drifts: Drift[]; notes: string[] } {
  const drifts: Drift[] = [];
  const notes: string[] = [];
  for (const [rel, w] of files) {
    const want: Want = typeof w === 'string' ? { content: w } : w;
    const p = join(baseDir, rel);
    const have = readCommitted(p);
    if (have.kind === 'other') {
      drifts.push({ path: p, diff: `${p}: ${have.what}, expected a file\n` });
      continue;
    }
    if (have.kind === 'missing') {
      drifts.push({ path: p, diff: unifiedDiff('', shown(want), '/dev/null', `${p} (generated)`) });
      continue;
    }
    const r = compareText(p, have.text, want, opts);
    if (r.note) notes.push(r.note);
    if (r.drift) drifts.push(r.drift);
  }
  return { drifts, notes };
}

/** Compares one committed text with a wanted one (see checkDrift). */
export function compareText(p: string, have: string, want: Want, opts: DriftOptions = {}): { drift?: Drift; note?: string } {
  if (have === want.content) return {};
  const t = want.template;
  const vals = t ? matchTemplate(t, have) : undefined;
  if (t && vals) {
    const differ = Object.keys(vals).filter((n) => t.defs[n]?.secret && vals[n] !== t.values[n]);
    const unknown = differ.filter((n) => opts.generated?.has(n));
    const known = differ.filter((n) => !opts.generated?.has(n));
    const what = (ns: string[]) => ns.map((n) => t.defs[n].label.replace(/^<secret: (.*)>$/, '$1')).join(' and ');
    if (known.length > 0) {
      return { drift: { path: p, diff: `${p}: the ${what(known)} ${known.length > 1 ? 'differ' : 'differs'} from what lb.yaml${opts.storeName ? ` and ${opts.storeName}` : ''} give (values not shown); regenerate it\n` } };
    }
    if (differ.length > 0) {
      return { note: `${p}: up to date but for the ${what(unknown)}, not compared: ${opts.storeName ?? 'the secrets file'} is absent (it is git-ignored), so the committed values stand` };
    }
  }
  return { drift: { path: p, diff: unifiedDiff(maskUnknown(have, t), shown(want), `${p} (committed)`, `${p} (generated)`) } };
}

/** What the generated side of a diff shows: the content with its secrets as labels. */
function shown(w: Want): string {
  return w.template ? display(w.template) : w.content;
}

/** Files under `baseDir` that lbbake would not generate (stale output, e.g. a removed node's). */
export function extraFiles(baseDir: string, files: Map<string, unknown>): Drift[] {
  const out: Drift[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const have = readCommitted(p);
      if (have.kind === 'other' && have.what === 'a directory') walk(p);
      else if (!files.has(relative(baseDir, p))) {
        out.push({ path: p, diff: have.kind === 'file' ? unifiedDiff(maskUnknown(have.text), '', `${p} (committed)`, '/dev/null') : `${p}: ${have.kind === 'other' ? have.what : 'gone'}, not generated\n` });
      }
    }
  };
  let isDir = false;
  try {
    isDir = statSync(baseDir).isDirectory();
  } catch {
    // missing: checkDrift reports every file
  }
  if (isDir) walk(baseDir);
  return out;
}

/**
 * A unified diff of two texts (3 lines of context), by the `diff` package: a missing final
 * newline shows as "\ No newline at end of file", so a change of only that is never empty.
 */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string): string {
  const lib = require('diff') as typeof import('diff');
  return lib.createTwoFilesPatch(nameA, nameB, a, b, undefined, undefined, { context: 3, headerOptions: lib.FILE_HEADERS_ONLY });
}
