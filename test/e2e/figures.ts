/** The figures table: medians over every run recorded in $WORK/figures.jsonl. */
import { existsSync, readFileSync } from 'node:fs';

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
];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function figuresTable(file: string): string {
  if (!existsSync(file)) return '(no figures recorded yet)';
  const byKind = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const f = JSON.parse(line) as { kind: string; seconds: number };
    byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.seconds]);
  }
  const rows = ['| measurement | median (s) | runs | min-max (s) |', '|---|---|---|---|'];
  for (const [kind, label] of FIGURE_ROWS) {
    const xs = byKind.get(kind);
    if (!xs?.length) {
      rows.push(`| ${label} | – | 0 | |`);
      continue;
    }
    rows.push(`| ${label} | ${median(xs).toFixed(1)} | ${xs.length} | ${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} |`);
  }
  return rows.join('\n');
}
