import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One file whose committed content differs from what lbbake generates now. */
export interface Drift {
  path: string;
  diff: string;
}

/**
 * Compares generated files with what is on disk (`--check`, for users' CI). Returns one entry
 * per missing or differing file with a unified diff; empty when everything is up to date.
 */
export function checkDrift(files: Map<string, string>, baseDir: string): Drift[] {
  const out: Drift[] = [];
  for (const [rel, want] of files) {
    const p = join(baseDir, rel);
    const have = existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    if (have === want) continue;
    out.push({ path: p, diff: unifiedDiff(have ?? '', want, have === undefined ? '/dev/null' : `${p} (committed)`, `${p} (generated)`) });
  }
  return out;
}

/** Files under `baseDir` that lbbake would not generate (stale output, e.g. a removed node's). */
export function extraFiles(baseDir: string, files: Map<string, string>): Drift[] {
  const out: Drift[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (!files.has(relative(baseDir, p))) out.push({ path: p, diff: unifiedDiff(readFileSync(p, 'utf8'), '', `${p} (committed)`, '/dev/null') });
    }
  };
  if (existsSync(baseDir)) walk(baseDir);
  return out;
}

/** A unified diff of two texts (line-based, LCS, 3 lines of context). */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string): string {
  const x = a === '' ? [] : a.replace(/\n$/, '').split('\n');
  const y = b === '' ? [] : b.replace(/\n$/, '').split('\n');
  const n = x.length;
  const m = y.length;
  // LCS table from the end; fine for config-sized files
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  type Op = { t: ' ' | '-' | '+'; s: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: ' ', s: x[i], ai: i++, bi: j++ });
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ t: '-', s: x[i], ai: i++, bi: j });
    else ops.push({ t: '+', s: y[j], ai: i, bi: j++ });
  }
  const lines = [`--- ${nameA}`, `+++ ${nameB}`];
  const CONTEXT = 3;
  let k = 0;
  while (k < ops.length) {
    if (ops[k].t === ' ') {
      k++;
      continue;
    }
    let start = Math.max(0, k - CONTEXT);
    let end = k;
    // extend the hunk while changes are within 2*CONTEXT of each other
    for (let q = k; q < ops.length; q++) {
      if (ops[q].t !== ' ') end = q;
      else if (q - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(ops.length, end + CONTEXT + 1);
    const hunk = ops.slice(start, stop);
    const aStart = hunk[0].ai + 1;
    const bStart = hunk[0].bi + 1;
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    lines.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of hunk) lines.push(`${o.t}${o.s}`);
    k = stop;
    start = stop;
  }
  return lines.join('\n') + '\n';
}
