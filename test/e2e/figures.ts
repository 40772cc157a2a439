/**
 * The figures table: medians over every run recorded in $WORK/figures.jsonl, also written as
 * $WORK/results.json in bench/results.json's form ({"<figure>": {median, min, max, n}}).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const FIGURE_ROWS: [kind: string, label: string][] = [
  ['base-image-build', 'base image build (debootstrap + mke2fs, cold)'],
  ['boot-stock', 'VM start -> VIP answers, install at boot (stock image + user-data)'],
  ['base-image-build-debian13', 'Debian 13 base image build (debootstrap + mke2fs, cold)'],
  ['boot-stock-debian13', 'VM start -> VIP answers, install at boot on Debian 13 (cloud-init 25.1)'],
  ['packer-build', '`packer build` (gen-packer project, qemu builder)'],
  ['boot-baked', 'VM start -> VIP answers, baked image (lb-0 and lb-1 booting together)'],
  ['failover-haproxy-stop', 'failover: `systemctl stop haproxy` on MASTER -> VIP via lb-1'],
  ['failback-haproxy-start', 'failback: `systemctl start haproxy` -> VIP via lb-0'],
  ['failover-poweroff', 'failover: power-off of MASTER (QMP quit) -> VIP via lb-1'],
  ['packer-build-two', 'two `packer build`s at once (the pair\'s image and the next one, for the rolling replacement)'],
  ['rolling-replace', 'rolling replacement of the pair by VMs of the second image (documented order): first VM stopped -> new pair serving via lb-0'],
  ['rolling-replace-failed-requests', 'rolling replacement: failed probe requests (count; a new TLS connection every 0.2 s, 3 s timeout)'],
  ['rolling-replace-longest-gap', 'rolling replacement: longest time without an answer through the VIP'],
];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function byKind(file: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const f = JSON.parse(line) as { kind: string; seconds: number };
    out.set(f.kind, [...(out.get(f.kind) ?? []), f.seconds]);
  }
  return out;
}

/** Writes `out` as {"<figure>": {median, min, max, n}} over every recorded run (seconds, or a count for *-requests). */
export function writeResults(file: string, out: string): void {
  if (!existsSync(file)) return;
  const res: Record<string, { median: number; min: number; max: number; n: number }> = {};
  for (const [kind, xs] of [...byKind(file)].sort(([a], [b]) => a.localeCompare(b))) {
    const r = (x: number) => Number(x.toFixed(3));
    res[kind] = { median: r(median(xs)), min: r(Math.min(...xs)), max: r(Math.max(...xs)), n: xs.length };
  }
  writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
}

export function figuresTable(file: string): string {
  if (!existsSync(file)) return '(no figures recorded yet)';
  const kinds = byKind(file);
  const rows = ['| measurement | median (s or count) | runs | min-max |', '|---|---|---|---|'];
  for (const [kind, label] of FIGURE_ROWS) {
    const xs = kinds.get(kind);
    if (!xs?.length) {
      rows.push(`| ${label} | – | 0 | |`);
      continue;
    }
    rows.push(`| ${label} | ${median(xs).toFixed(1)} | ${xs.length} | ${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} |`);
  }
  return rows.join('\n');
}
