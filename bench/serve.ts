/**
 * `npm run bench -- serve`: the figures of "the VIP follows the ability to serve" for lbbake's
 * defaults and the install guide's settings, measured in one run (the namespace lab of
 * test/helpers/netlab.ts):
 *
 * - graceful-stop-failover: seconds from a graceful stop of the MASTER (systemd's order with
 *   lbbake's drop-in: keepalived, then haproxy, then the network) to the first answer through the
 *   BACKUP. The guide has no ordering: there the network goes first (no priority-0 advert leaves).
 * - backend-cut-failover: seconds from cutting the MASTER off every apiserver (its haproxy keeps
 *   running) to the first answer through the BACKUP. The guide's check only asks for a process:
 *   no failover within the cap.
 * - streams-broken-<event> and vip-moves-<event>: of 9 long-lived, idle TLS streams through the
 *   VIP (spread over three apiservers), how many a client finds broken after the event, and how
 *   often the VIP moved (MASTER transitions of both nodes).
 *
 * Figures carry a -guide suffix for the guide's settings. Never asserted; recorded in
 * bench/results.json and printed as a table (bench/results-serve.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG_ROOT } from '../src/io/paths.js';
import type { FileSet } from '../src/render/files.js';
import { recordFigures } from './results.js';
import { GUIDE_VRRP, type LbName, labYaml, NetLab, parseBody, type ProbeResult, renderLab, sleep, waitFor } from '../test/helpers/netlab.js';

const RUNS = Math.max(1, Math.min(10, Number(process.env.BENCH_RUNS ?? 5) || 5));
const STREAMS = 9;
const CAP_S = 30;

const log = (msg: string) => process.stderr.write(`[bench serve ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/**
 * The guide's haproxy.cfg as far as long-lived streams go: none of lbbake's stream options
 * (on-marked-down shutdown-sessions, option tcpka, hard-stop-after, timeout server-fin) and
 * roundrobin; what remains is lbbake's rendering, so the comparison is about those lines.
 */
export function withGuideHaproxy(cfg: string): string {
  const out = cfg
    .replace(/ on-marked-down shutdown-sessions/g, '')
    .replace(/^\s*hard-stop-after .*\n/m, '')
    .replace(/^\s*option tcpka\n/m, '')
    .replace(/^\s*timeout server-fin .*\n/m, '')
    .replace(/^(\s*balance) leastconn$/m, '$1 roundrobin');
  if (out === cfg) throw new Error('withGuideHaproxy changed nothing');
  return out;
}

interface Setting {
  key: '' | '-guide';
  label: string;
  files: () => Record<LbName, FileSet>;
  stop: 'keepalived-first' | 'network-first';
}

const SETTINGS: Setting[] = [
  {
    key: '',
    label: 'lbbake defaults',
    files: () => renderLab(labYaml()),
    stop: 'keepalived-first',
  },
  {
    key: '-guide',
    label: "the guide's settings (lb-0 state MASTER, preempt, pgrep every 3 s fall 10 weight -2, no readiness, no stream options, no stop order)",
    files: () => {
      const files = renderLab(labYaml(GUIDE_VRRP, { balance: 'roundrobin' }), { events: false });
      for (const node of ['lb-0', 'lb-1'] as const) {
        const f = files[node];
        const h = f.get('etc/haproxy/haproxy.cfg')!;
        f.set('etc/haproxy/haproxy.cfg', { ...h, content: withGuideHaproxy(h.content) });
        if (node === 'lb-0') {
          const k = f.get('etc/keepalived/keepalived.conf')!;
          f.set('etc/keepalived/keepalived.conf', { ...k, content: k.content.replace(/^(\s*state) BACKUP$/m, '$1 MASTER') });
        }
      }
      return files;
    },
    stop: 'network-first',
  },
];

const via = (r: ProbeResult, lb: LbName) => r.ok && parseBody(r.body)?.lb === lb;

/** Seconds from `fault` to the first answer through `want` (a new TLS connection every 20 ms), or undefined within CAP_S. */
async function failover(lab: NetLab, fault: () => Promise<void> | void, want: LbName): Promise<number | undefined> {
  const w = lab.watch(0.02, 0.25, CAP_S + 30);
  try {
    await waitFor('probe running', () => w.results.length >= 3, { timeoutMs: 10_000, intervalMs: 20 });
    const t0 = Date.now() / 1000;
    await fault();
    const first = await waitFor(`answer through ${want}`, () => w.results.find((r) => r.t > t0 && via(r, want)), { timeoutMs: CAP_S * 1000, intervalMs: 20 }).catch(() => undefined);
    return first ? first.t - t0 : undefined;
  } finally {
    await w.stop();
  }
}

const masters = (lab: NetLab) =>
  (['lb-0', 'lb-1'] as const).reduce((n, x) => n + lab.readLog(x, 'keepalived').split('Entering MASTER STATE').length - 1, 0);

type Event = { name: string; label: string; run: (lab: NetLab, s: Setting) => Promise<void>; settle: number };

const EVENTS: Event[] = [
  { name: 'reload', label: 'haproxy reload on both nodes', settle: 3, run: async (lab) => (lab.reloadHaproxy('lb-0'), lab.reloadHaproxy('lb-1')) },
  { name: 'backup-keepalived-restart', label: 'keepalived restart on the BACKUP', settle: 6, run: async (lab) => (await lab.stopKeepalived('lb-1'), lab.startKeepalived('lb-1')) },
  { name: 'master-haproxy-restart', label: '`systemctl restart haproxy` on the MASTER', settle: 8, run: (lab) => lab.restartHaproxy('lb-0') },
  { name: 'master-graceful-stop', label: 'MASTER graceful stop', settle: 5, run: (lab, s) => lab.gracefulStop('lb-0', s.stop) },
  { name: 'master-crash', label: 'MASTER crash (all processes killed, link down)', settle: 6, run: async (lab) => (await lab.killNode('lb-0'), lab.setLink('lb-0', false)) },
  { name: 'apiserver-crash', label: 'an apiserver host lost (m1: link down, process killed)', settle: 12, run: async (lab) => lab.crashBackendHost('m1') },
];

async function fresh(lab: NetLab, s: Setting): Promise<void> {
  lab.setLink('lb-0', true);
  for (const n of ['lb-0', 'lb-1'] as const) lab.cutBackends(n, false);
  await lab.deploy(s.files());
  await lab.steady({ timeoutMs: 40_000 });
}

/** One event: 9 idle streams, the event, a settle time, then a probe; returns [broken, VIP moves]. */
async function streamEvent(lab: NetLab, s: Setting, e: Event): Promise<[number, number]> {
  await fresh(lab, s);
  const streams = await lab.openStreams(STREAMS);
  try {
    const before = masters(lab);
    await e.run(lab, s);
    await sleep(e.settle * 1000);
    const p = await streams.probe(3);
    return [p.broken.length, masters(lab) - before];
  } finally {
    await streams.close();
    if (e.name === 'apiserver-crash') await lab.restoreBackendHost('m1');
  }
}

function cell(xs: Array<number | undefined>, unit: string): string {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return `never (no failover in ${CAP_S} s, n=${xs.length})`;
  const med = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  const f = (x: number) => (unit === 's' ? x.toFixed(2) : String(x));
  const none = xs.length - v.length;
  return `${f(med)}${unit === 's' ? ' s' : ''} (${f(v[0])}–${f(v[v.length - 1])}, n=${xs.length}${none ? `, ${none}× none` : ''})`;
}

/** The `serve` part of `npm run bench`. */
export async function servePart(lab: NetLab): Promise<void> {
  const started = Date.now();
  const figures: Record<string, Array<number | undefined>> = {};
  const rows: string[] = [];
  for (const s of SETTINGS) {
    log(`settings: ${s.label}`);
    const stop: Array<number | undefined> = [];
    const cut: Array<number | undefined> = [];
    for (let i = 0; i < RUNS; i++) {
      await fresh(lab, s);
      stop.push(await failover(lab, () => lab.gracefulStop('lb-0', s.stop), 'lb-1'));
      log(`${s.key || 'default'} run ${i + 1}: graceful stop -> ${stop.at(-1)?.toFixed(2) ?? 'none'} s`);
      lab.setLink('lb-0', true);
      await fresh(lab, s);
      cut.push(await failover(lab, () => lab.cutBackends('lb-0', true), 'lb-1'));
      lab.cutBackends('lb-0', false);
      log(`${s.key || 'default'} run ${i + 1}: backend cut -> ${cut.at(-1)?.toFixed(2) ?? 'none'} s`);
    }
    figures[`graceful-stop-failover${s.key}`] = stop;
    figures[`backend-cut-failover${s.key}`] = cut;
    const cells = [cell(stop, 's'), cell(cut, 's')];
    for (const e of EVENTS) {
      const broken: number[] = [];
      const moves: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const [b, m] = await streamEvent(lab, s, e);
        broken.push(b);
        moves.push(m);
        log(`${s.key || 'default'} run ${i + 1}: ${e.name} -> ${b} of ${STREAMS} streams broken, ${m} VIP move(s)`);
      }
      figures[`streams-broken-${e.name}${s.key}`] = broken;
      figures[`vip-moves-${e.name}${s.key}`] = moves;
      cells.push(`${cell(broken, '')} broken · ${cell(moves, '')} moves`);
    }
    rows.push(`| ${s.label} | ${cells.join(' | ')} |`);
  }
  recordFigures(figures);
  const md = [
    `Measured by \`npm run bench -- serve\` on ${new Date().toISOString().slice(0, 10)} (${RUNS} runs each, ${Math.round((Date.now() - started) / 1000)} s). ` +
      `Failovers: seconds to the first answer through the BACKUP (median, min–max). Streams: of ${STREAMS} idle TLS streams through the VIP, how many a client finds broken after the event, and the VIP moves.`,
    '',
    `| settings | graceful stop of the MASTER | MASTER cut from every apiserver | ${EVENTS.map((e) => e.label).join(' | ')} |`,
    `|---|---|---|${EVENTS.map(() => '---').join('|')}|`,
    ...rows,
  ].join('\n') + '\n';
  process.stdout.write(md);
  writeFileSync(join(PKG_ROOT, 'bench', 'results-serve.md'), `# lbbake: the VIP follows the ability to serve; long-lived streams\n\n${md}`);
}
