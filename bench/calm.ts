/**
 * Calm under stress (`npm run bench -- calm`, also `npm run bench:calm`): the lab pair holds for
 * CALM_SECONDS (default 300) per condition while a client probes the VIP every 100 ms, and every
 * keepalived state change is counted. Conditions:
 *   netem  every packet an LB node sends: 5 % lost, the rest delayed 20 ± 20 ms (uniform), as
 *          `tc ... netem loss 5% delay 20ms 20ms` would (lab/impair.py: this kernel has no netem)
 *   cpu    the MASTER's CPUs saturated: 2 busy loops per core in lb-0's namespaces
 *   both   the two at once
 * A false failover is lb-1 entering MASTER while nothing failed. Figures: false-failovers-<cond>
 * (the defaults) or false-failovers-<cond>-<candidate> (bench/candidates.ts), counts. Load average
 * is recorded at the start and end of each run: the machine is shared, so CPU figures are noisy.
 * Env: CALM_SECONDS, CALM_CONDITIONS (comma list), BENCH_CANDIDATES (comma list of keys).
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG_ROOT } from '../src/io/paths.js';
import { recordFigures } from './results.js';
import { type Candidate, selectedCandidates, suffixOf } from './candidates.js';
import { type FileSet } from '../src/render/files.js';
import { labYaml, type LbName, NetLab, parseBody, renderLab } from '../test/helpers/netlab.js';

export const CALM_SECONDS = Math.max(10, Math.min(1800, Number(process.env.CALM_SECONDS ?? 300) || 300));

export interface Condition {
  key: 'netem' | 'cpu' | 'both';
  label: string;
  impair: boolean;
  cpu: boolean;
}

export const CONDITIONS: Condition[] = [
  { key: 'netem', label: '5 % loss + 20 ± 20 ms jitter on both LB nodes\' links', impair: true, cpu: false },
  { key: 'cpu', label: "MASTER's CPUs saturated", impair: false, cpu: true },
  { key: 'both', label: 'both at once', impair: true, cpu: true },
];

export const IMPAIRMENT = { lossPct: 5, delayMs: 20, jitterMs: 20 } as const;

export interface CalmResult {
  seconds: number;
  /** Times lb-1 entered MASTER (each one a VIP move nothing called for). */
  falseFailovers: number;
  /** Every keepalived state change on either node during the run. */
  changes: string[];
  /** keepalived VRRP processes that died and were respawned (e.g. killed by RLIMIT_RTTIME). */
  respawns: number;
  requests: number;
  failed: number;
  via: Record<string, number>;
  load: { start: number; end: number };
  impaired: string[];
}

const log = (msg: string) => process.stderr.write(`[calm ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Holds the deployed, steady pair under one condition for `seconds` and counts state changes. */
export async function calmRun(lab: NetLab, cond: Condition, seconds: number): Promise<CalmResult> {
  const before = { 'lb-0': lab.readLog('lb-0', 'keepalived').length, 'lb-1': lab.readLog('lb-1', 'keepalived').length };
  const stops: Array<() => Promise<string> | void> = [];
  const load = { start: loadavg()[0], end: 0 };
  const impaired: string[] = [];
  try {
    if (cond.impair) {
      for (const n of ['lb-0', 'lb-1'] as const) stops.push(await lab.impairLink(n, { ...IMPAIRMENT, seed: n === 'lb-0' ? 1 : 2 }));
    }
    if (cond.cpu) stops.push(lab.burnCpu('lb-0', 2 * cpus().length));
    const w = lab.watch(0.1, 1, seconds + 30);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const rs = await w.stop();
    load.end = loadavg()[0];
    const changes = (['lb-0', 'lb-1'] as LbName[]).flatMap((n) =>
      lab.readLog(n, 'keepalived').slice(before[n]).split('\n').filter((l) => /Entering (MASTER|BACKUP|FAULT) STATE/.test(l)).map((l) => `${n}: ${l}`));
    const respawns = (['lb-0', 'lb-1'] as LbName[]).reduce((n, node) =>
      n + lab.readLog(node, 'keepalived').slice(before[node]).split('\n').filter((l) => /VRRP child process\(\d+\) died/.test(l)).length, 0);
    const via: Record<string, number> = {};
    for (const r of rs) if (r.ok) via[parseBody(r.body)?.lb ?? '?'] = (via[parseBody(r.body)?.lb ?? '?'] ?? 0) + 1;
    return {
      seconds,
      falseFailovers: changes.filter((c) => c.startsWith('lb-1:') && c.includes('Entering MASTER STATE')).length,
      changes,
      respawns,
      requests: rs.length,
      failed: rs.filter((r) => !r.ok).length,
      via,
      load,
      impaired,
    };
  } finally {
    for (const s of stops.reverse()) {
      const last = await s();
      if (typeof last === 'string' && last) impaired.push(last);
    }
  }
}

interface Row {
  c: Candidate;
  suffix: string;
  results: Array<{ cond: Condition; r: CalmResult }>;
}

function table(rows: Row[], conds: Condition[], seconds: number): string {
  const cell = (r: CalmResult) =>
    `**${r.falseFailovers}** (${r.changes.length} state changes${r.respawns ? `, ${r.respawns} VRRP process deaths` : ''}; ${r.failed}/${r.requests} requests failed; load ${r.load.start.toFixed(1)}→${r.load.end.toFixed(1)})`;
  return [
    `Measured by \`npm run bench -- calm\` on ${new Date().toISOString().slice(0, 10)}: ${seconds} s per condition, ${cpus().length} cores shared with other work`,
    '(load average = 1-minute load at start → end). False failovers = times lb-1 took the VIP from a healthy lb-0.',
    '',
    `| settings | ${conds.map((c) => `${c.key}: ${c.label}`).join(' | ')} |`,
    `|---|${conds.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.c.label}${row.suffix === '' ? ' (**lbbake default**)' : ''} | ${conds.map((c) => {
      const x = row.results.find((y) => y.cond.key === c.key);
      return x ? cell(x.r) : 'n/a';
    }).join(' | ')} |`),
  ].join('\n') + '\n';
}

/** The calm part: every selected candidate under every selected condition. */
export async function calmPart(lab: NetLab): Promise<void> {
  const want = (process.env.CALM_CONDITIONS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const conds = want.length ? CONDITIONS.filter((c) => want.includes(c.key)) : CONDITIONS;
  const rows: Row[] = [];
  for (const c of selectedCandidates()) {
    const row: Row = { c, suffix: suffixOf(c), results: [] };
    rows.push(row);
    const files: Record<LbName, FileSet> = renderLab(labYaml(c.vrrp));
    for (const cond of conds) {
      await lab.deploy(files, c.patch);
      await lab.steady({ timeoutMs: 30_000 });
      log(`${c.key} (${row.suffix === '' ? 'default' : 'candidate'}) under ${cond.key} for ${CALM_SECONDS} s; load ${loadavg()[0].toFixed(1)}`);
      const r = await calmRun(lab, cond, CALM_SECONDS);
      row.results.push({ cond, r });
      log(`${c.key} ${cond.key}: ${r.falseFailovers} false failovers, ${r.changes.length} state changes, ${r.respawns} respawns, ${r.failed}/${r.requests} failed, load ${r.load.start.toFixed(1)}->${r.load.end.toFixed(1)}${r.impaired.length ? `; ${r.impaired.join('; ')}` : ''}`);
      for (const ch of r.changes) log(`  ${ch}`);
      recordFigures({ [`false-failovers-${cond.key}${row.suffix}`]: [r.falseFailovers] });
    }
  }
  const md = table(rows, conds, CALM_SECONDS);
  process.stdout.write(md);
  writeFileSync(join(PKG_ROOT, 'bench', 'calm.md'), `# lbbake calm-under-stress benchmark\n\n${md}`);
}
