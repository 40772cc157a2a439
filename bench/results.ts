/**
 * bench/results.json: every benchmark figure as {"<figure>": {"median", "min", "max", "n"}}
 * (seconds, or a count where the figure's name says so). Parts of `npm run bench` measure
 * different figures; each run merges its own into the file and leaves the others as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG_ROOT } from '../src/io/paths.js';

export interface Figure {
  median: number;
  min: number;
  max: number;
  n: number;
}

export const RESULTS_FILE = join(PKG_ROOT, 'bench', 'results.json');

/** median/min/max/n of the defined samples (undefined = no result within the cap); undefined if none. */
export function figure(samples: Array<number | undefined>, digits = 3): Figure | undefined {
  const v = samples.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const med = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  const r = (x: number) => Number(x.toFixed(digits));
  return { median: r(med), min: r(v[0]), max: r(v[v.length - 1]), n: v.length };
}

/** Merges figures into bench/results.json (sorted keys, stable formatting). Returns the file's content. */
export function recordFigures(figures: Record<string, Array<number | undefined>>, file = RESULTS_FILE): Record<string, Figure> {
  const current: Record<string, Figure> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  for (const [name, samples] of Object.entries(figures)) {
    const f = figure(samples);
    if (f) current[name] = f;
  }
  const sorted = Object.fromEntries(Object.entries(current).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(file, JSON.stringify(sorted, null, 2) + '\n');
  return sorted;
}

/**
 * Which parts of the bench to run: `npm run bench` runs all, `npm run bench -- cloud lan` only
 * those named. Exits (usage) on an unknown part.
 */
export function selectedParts(all: readonly string[], argv = process.argv.slice(2)): string[] {
  const wanted = argv.filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length) {
    console.error(`unknown bench part(s): ${unknown.join(', ')}; parts are: ${all.join(', ')}`);
    process.exit(2);
  }
  return wanted.length ? wanted : [...all];
}
