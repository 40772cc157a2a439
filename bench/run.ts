/**
 * `npm run bench`: failover figures for the HA pair in the namespace lab (test/helpers/netlab.ts),
 * for lbbake's defaults, the `fast` profile and the install guide's settings, in one run so the
 * ratios are honest. Figures are printed, written to bench/results.md (table) and merged into
 * bench/results.json (bench/results.ts), never asserted. `npm run bench -- <part>…` runs only the
 * named parts (PARTS below); each part records its own figures.
 *
 * Env: BENCH_RUNS (default 5) runs per measurement; the guide's ~30 s haproxy failover runs
 * min(BENCH_RUNS, 3) times, the guide verbatim (a failover that never comes) once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG_ROOT } from '../src/io/paths.js';
import { recordFigures, selectedParts } from './results.js';
import { calmPart } from './calm.js';
import { selectedCandidates, suffixOf } from './candidates.js';
import { servePart } from './serve.js';
import { missing } from '../test/helpers/tools.js';
import { CloudLab, type CloudSpec, cloudFiles, cloudYaml } from '../test/helpers/cloudlab.js';
import {
  type BackendName,
  BACKENDS,
  DNS_SERVER,
  GUIDE_VRRP,
  IMPAIR_TOOLS,
  LAB_TOOLS,
  type LabVrrp,
  type LbName,
  labModel,
  labYaml,
  NetLab,
  parseBody,
  type ProbeResult,
  renderLab,
  sleep,
  SPARE_BACKEND,
  waitFor,
  withGuideCheck,
} from '../test/helpers/netlab.js';

const RUNS = Math.max(1, Math.min(10, Number(process.env.BENCH_RUNS ?? 5) || 5));
const SLOW_RUNS = Math.min(RUNS, 3);

/** The defaults in words, from the lab's model (so the label follows normalize.ts). */
function defaultsLabel(): string {
  const v = labModel(labYaml()).vrrp;
  return `VRRPv${v.version}, advert ${v.advertInterval} s, BACKUP waits ${v.downTimerAdverts} adverts, haproxy exit event + check every ${v.check.interval} s, FAULT on failure`;
}

interface Profile {
  key: string;
  label: string;
  vrrp: LabVrrp;
  patch?: (conf: string) => string;
  /** Longest wait for a failover after haproxy dies, seconds. */
  haproxyCapS: number;
  haproxyRuns: number;
  /** Only the haproxy-dies measurement (node loss and start-up do not depend on the check). */
  haproxyOnly?: boolean;
  /** false: no haproxy.service drop-in (haproxy's exit event), as the guide or a hand-made node has. */
  events?: false;
}

const PROFILES: Profile[] = [
  { key: 'default', label: `lbbake defaults (${defaultsLabel()})`, vrrp: {}, haproxyCapS: 20, haproxyRuns: RUNS },
  {
    key: 'default-poll',
    label: 'lbbake defaults without the exit event (haproxy not started by its unit: only the check sees it die)',
    vrrp: {},
    events: false,
    haproxyCapS: 20,
    haproxyRuns: RUNS,
    haproxyOnly: true,
  },
  {
    key: 'v2',
    label: 'the former defaults: VRRPv2, advert 1 s, PASS auth (exit event and check as now)',
    vrrp: { version: 2, advertInterval: 1, auth: { pass: 'k8sHA-18' } },
    haproxyCapS: 20,
    haproxyRuns: RUNS,
  },
  {
    key: 'guide-pgrep',
    label: "the guide's timings, working check (interval 3, fall 10, weight -2, multicast)",
    vrrp: GUIDE_VRRP,
    events: false,
    haproxyCapS: 60,
    haproxyRuns: SLOW_RUNS,
  },
  {
    key: 'guide-verbatim',
    label: 'the guide verbatim (`pidof haproxy`)',
    vrrp: GUIDE_VRRP,
    events: false,
    patch: withGuideCheck,
    haproxyCapS: 30,
    haproxyRuns: 1,
  },
];

interface Sample {
  /** Seconds from the fault to the first answer through the wanted node; undefined = none within the cap. */
  s: number | undefined;
  failed: number;
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const via = (r: ProbeResult, lb: LbName) => r.ok && parseBody(r.body)?.lb === lb;

/**
 * Starts the client probe (new TLS connection every 20 ms, 250 ms timeout), runs `fault` and
 * measures until the first answer through `want`, at most capS seconds.
 */
async function measure(lab: NetLab, fault: () => Promise<void> | void, want: LbName, capS: number): Promise<Sample> {
  const w = lab.watch(0.02, 0.25, capS + 30);
  try {
    await waitFor('probe running', () => w.results.length >= 3, { timeoutMs: 10_000, intervalMs: 20 });
    const t0 = Date.now() / 1000;
    await fault();
    let first: ProbeResult | undefined;
    try {
      first = await waitFor(`answer through ${want}`, () => w.results.find((r) => r.t > t0 && via(r, want)), {
        timeoutMs: capS * 1000,
        intervalMs: 20,
      });
    } catch {
      first = undefined;
    }
    const rs = await w.stop();
    const failed = rs.filter((r) => r.t > t0 && (!first || r.t <= first.t) && !r.ok).length;
    return { s: first ? first.t - t0 : undefined, failed };
  } finally {
    await w.stop();
  }
}

interface Row {
  haproxy: Sample[];
  failback: Sample[];
  node: Sample[];
  serving: Sample[];
}

async function benchProfile(lab: NetLab, p: Profile): Promise<Row> {
  const files = renderLab(labYaml(p.vrrp), { events: p.events });
  const checkPasses = !p.patch;
  const row: Row = { haproxy: [], failback: [], node: [], serving: [] };
  await lab.deploy(files, p.patch);
  await lab.steady({ checkPasses, timeoutMs: 30_000 });
  for (let i = 0; i < RUNS; i++) {
    // (a) haproxy dies on the MASTER, then comes back (preempt: failback to lb-0)
    if (i < p.haproxyRuns) {
      const a = await measure(lab, () => lab.killHaproxy('lb-0'), 'lb-1', p.haproxyCapS);
      row.haproxy.push(a);
      log(`${p.key} run ${i + 1}: haproxy dies -> ${fmtSample(a)}`);
      if (a.s !== undefined && p.vrrp.preempt === true) {
        const fb = await measure(lab, () => lab.startHaproxy('lb-0'), 'lb-0', 30);
        row.failback.push(fb);
        log(`${p.key} run ${i + 1}: failback -> ${fmtSample(fb)}`);
        await lab.steady({ checkPasses, timeoutMs: 30_000 });
      } else {
        // preempt off (lbbake's default): the VIP stays on lb-1; start the pair afresh on lb-0
        lab.startHaproxy('lb-0');
        await lab.deploy(files, p.patch);
        await lab.steady({ checkPasses, timeoutMs: 30_000 });
      }
    }
    if (p.haproxyOnly) continue;
    // (b) the MASTER node is lost: every process SIGKILLed and its link down
    const b = await measure(lab, async () => {
      await lab.killNode('lb-0');
      lab.setLink('lb-0', false);
    }, 'lb-1', 30);
    row.node.push(b);
    log(`${p.key} run ${i + 1}: node lost -> ${fmtSample(b)}`);
    lab.setLink('lb-0', true);
    // (c) time to serving: both nodes down, lb-0 started alone with its ready configs
    await lab.killNode('lb-1');
    await sleep(300);
    const c = await measure(lab, () => lab.startNode('lb-0'), 'lb-0', 30);
    row.serving.push(c);
    log(`${p.key} run ${i + 1}: time to serving -> ${fmtSample(c)}`);
    await lab.startNode('lb-1');
    await lab.steady({ checkPasses, timeoutMs: 30_000 });
  }
  return row;
}

interface BackendRow {
  label: string;
  down: Array<number | undefined>;
  failed: number[];
  up: Array<number | undefined>;
}

/** A backend dies (process killed) or turns unready (/readyz 500): time until haproxy marks it DOWN. */
async function benchBackend(lab: NetLab, kind: 'killed' | 'unready'): Promise<BackendRow> {
  const m: BackendName = 'm1';
  const row: BackendRow = { label: kind === 'killed' ? 'apiserver process killed' : 'apiserver /readyz answers 500', down: [], failed: [], up: [] };
  const status = () => lab.serverStatus('lb-0', m) ?? '';
  for (let i = 0; i < RUNS; i++) {
    await waitFor('m1 UP', () => status() === 'UP', { timeoutMs: 20_000, intervalMs: 100 });
    const w = lab.watch(0.02, 0.25, 60);
    await waitFor('probe running', () => w.results.length >= 3, { timeoutMs: 10_000, intervalMs: 20 });
    const t0 = Date.now() / 1000;
    if (kind === 'killed') lab.killBackend(m);
    else lab.setReady(m, false);
    let down: number | undefined;
    try {
      await waitFor('m1 DOWN', () => status().startsWith('DOWN'), { timeoutMs: 20_000, intervalMs: 50 });
      down = Date.now() / 1000 - t0;
    } catch {
      down = undefined;
    }
    const rs = await w.stop();
    row.down.push(down);
    row.failed.push(rs.filter((r) => r.t > t0 && !r.ok).length);
    const t1 = Date.now() / 1000;
    if (kind === 'killed') await lab.startBackend(m);
    else lab.setReady(m, true);
    let up: number | undefined;
    try {
      await waitFor('m1 UP again', () => status() === 'UP', { timeoutMs: 20_000, intervalMs: 50 });
      up = Date.now() / 1000 - t1;
    } catch {
      up = undefined;
    }
    row.up.push(up);
    log(`backend ${kind} run ${i + 1}: DOWN after ${down?.toFixed(2)} s, UP after ${up?.toFixed(2)} s, ${row.failed.at(-1)} failed`);
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// formatting

function stats(xs: Array<number | undefined>): { med: number; min: number; max: number; n: number; none: number } | undefined {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const med = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { med, min: v[0], max: v.at(-1)!, n: v.length, none: xs.length - v.length };
}

const f2 = (x: number) => x.toFixed(2);

function fmtSample(s: Sample): string {
  return `${s.s === undefined ? 'none' : `${f2(s.s)} s`}, ${s.failed} failed`;
}

function cell(samples: Sample[], capS?: number, blank = 'n/a'): string {
  if (samples.length === 0) return blank;
  const st = stats(samples.map((s) => s.s));
  const failed = stats(samples.map((s) => s.failed))!;
  if (!st) return `never (no failover in ${capS} s, n=${samples.length})`;
  const never = st.none ? `, ${st.none}× none` : '';
  return `${f2(st.med)} (${f2(st.min)}–${f2(st.max)}) · ${failed.med} failed (n=${samples.length}${never})`;
}

function table(results: Array<{ p: Profile; row: Row }>, backends: BackendRow[], meta: string): string {
  const lines = [
    `Measured by \`npm run bench\` ${meta}.`,
    'Seconds, median (min–max) over n runs, then the median number of failed probe requests (a new TLS',
    'connection to VIP:6443 every 20 ms, 250 ms timeout) between the fault and the first answer.',
    '',
    '| settings | haproxy dies on MASTER | failback when haproxy returns (preempt) | MASTER node lost | time to serving |',
    '|---|---|---|---|---|',
    ...results.map(({ p, row }) =>
      `| ${p.label} | ${cell(row.haproxy, p.haproxyCapS)} | ${cell(row.failback)} | ${cell(row.node, undefined, 'as above')} | ${cell(row.serving, undefined, 'as above')} |`),
  ];
  if (backends.length) {
    lines.push(
      '',
      'Backend failures (lbbake defaults: TLS GET /readyz every 1 s, fall 2, rise 2; retries 3 + redispatch):',
      '',
      '| event | marked DOWN after | failed requests | back UP after restore |',
      '|---|---|---|---|',
      ...backends.map((b) => {
        const d = stats(b.down);
        const u = stats(b.up);
        const fl = stats(b.failed)!;
        const fmt = (s: ReturnType<typeof stats>) => (s ? `${f2(s.med)} (${f2(s.min)}–${f2(s.max)})` : 'never');
        return `| ${b.label} | ${fmt(d)} | ${fl.med} (max ${fl.max}) | ${fmt(u)} (n=${b.down.length}) |`;
      }),
    );
  }
  return lines.join('\n') + '\n';
}

/** Figure-name suffix of each profile: the defaults carry none (figures named as in the issues). */
const SUFFIX: Record<string, string> = { default: '', 'default-poll': '-poll', v2: '-v2', 'guide-pgrep': '-guide', 'guide-verbatim': '-guide-verbatim' };

/** The LAN lab part: every profile's failover figures and the backend figures. */
async function lanPart(lab: NetLab): Promise<void> {
  const started = Date.now();
  const results: Array<{ p: Profile; row: Row }> = [];
  for (const p of PROFILES) {
    log(`profile ${p.key}`);
    results.push({ p, row: await benchProfile(lab, p) });
  }
  log('backend failures (lbbake defaults)');
  await lab.deploy(renderLab(labYaml()));
  await lab.steady({ timeoutMs: 30_000 });
  const backends = [await benchBackend(lab, 'killed'), await benchBackend(lab, 'unready')];
  const kv = lab.exec('lb-0', ['keepalived', '--version']);
  const hv = lab.exec('lb-0', ['haproxy', '-v']);
  const ver = `${(kv.stdout + kv.stderr).split('\n')[0].trim()}, ${hv.stdout.split('\n')[0].replace(/ - https.*/, '').trim()}`;
  const meta = `on ${new Date().toISOString().slice(0, 10)} (${ver}, ${(await import('node:os')).cpus().length} cores, ` +
    `${RUNS} runs; the guide's haproxy failover ${SLOW_RUNS} runs, the verbatim one once; total ${Math.round((Date.now() - started) / 1000)} s)`;
  const md = table(results, backends, meta);
  process.stdout.write(md);
  writeFileSync(join(PKG_ROOT, 'bench', 'results.md'), `# lbbake failover benchmark\n\n${md}`);
  const figures: Record<string, Array<number | undefined>> = {};
  for (const { p, row } of results) {
    const sfx = SUFFIX[p.key] ?? `-${p.key}`;
    if (row.haproxy.length) figures[`haproxy-death${sfx}`] = row.haproxy.map((x) => x.s);
    if (row.failback.length) figures[`failback${sfx}`] = row.failback.map((x) => x.s);
    if (row.node.length) figures[`node-loss${sfx}`] = row.node.map((x) => x.s);
    if (row.serving.length) figures[`time-to-serving${sfx}`] = row.serving.map((x) => x.s);
  }
  for (const b of backends) figures[`backend-${b.label.startsWith('apiserver process') ? 'killed' : 'unready'}-marked-down`] = b.down;
  recordFigures(figures);
}

/**
 * Backends from DNS (services[].dns): dnsmasq in the lab serves the apiserver name; a fourth
 * apiserver is added to DNS (hosts file rewritten, SIGHUP) and removed again, RUNS times.
 * dns-backend-added: seconds from the DNS change to the first request the new apiserver
 * answers; dns-backend-removed: to the last request the removed (still healthy) one answers.
 */
async function dnsPart(lab: NetLab): Promise<void> {
  const three = BACKENDS.map((b) => b.address);
  lab.resolvConf = `nameserver ${DNS_SERVER}\n`;
  await lab.setDns(three);
  await lab.deploy(renderLab(labYaml({}, { dns: { max: 8 } })));
  await lab.steady({ timeoutMs: 30_000 });
  await lab.startBackend('m3');
  const added: Array<number | undefined> = [];
  const removed: Array<number | undefined> = [];
  let failed = 0;
  for (let i = 0; i < RUNS; i++) {
    const w = lab.watch(0.02, 1, 60);
    try {
      await waitFor('probe running', () => w.results.length >= 3, { timeoutMs: 10_000, intervalMs: 20 });
      const t0 = (await lab.setDns([...three, SPARE_BACKEND.address])) / 1000;
      const first = await waitFor('m3 answers', () => w.results.find((r) => r.t > t0 && r.ok && parseBody(r.body)?.backend === 'm3'), { timeoutMs: 20_000, intervalMs: 20 }).catch(() => undefined);
      added.push(first ? first.t - t0 : undefined);
      const t1 = (await lab.setDns(three)) / 1000;
      await sleep(10_000);
      const last = w.results.filter((r) => r.t > t1 && r.ok && parseBody(r.body)?.backend === 'm3').pop();
      removed.push(last ? last.t - t1 : 0);
      log(`dns run ${i + 1}: added -> ${added[i]?.toFixed(2) ?? 'never'} s, removed -> ${removed[i]?.toFixed(2)} s`);
    } finally {
      const rs = await w.stop();
      failed += rs.filter((r) => !r.ok).length;
    }
  }
  const f = recordFigures({ 'dns-backend-added': added, 'dns-backend-removed': removed, 'dns-change-failed-requests': [failed] });
  const show = (k: string) => `${f[k].median} s (${f[k].min}-${f[k].max}, n=${f[k].n})`;
  process.stdout.write(`DNS backends: a new apiserver serves ${show('dns-backend-added')} after the DNS change; a removed one stops ${show('dns-backend-removed')} after; ${failed} failed requests in ${RUNS} add/remove cycles\n`);
}

/**
 * The VRRP candidates (bench/candidates.ts) for choosing the default: node loss and time to
 * serving per candidate (figures node-loss-<key>, time-to-serving-<key>; none for the default's
 * own, which the lan part measures).
 */
async function advertPart(lab: NetLab): Promise<void> {
  const rows: Array<{ p: Profile; row: Row }> = [];
  // the lan part measures the defaults and the former defaults (v2) under these figure names
  for (const c of selectedCandidates().filter((x) => suffixOf(x) !== '' && !(x.key in SUFFIX))) {
    const p: Profile = { key: c.key, label: c.label, vrrp: c.vrrp, patch: c.patch, haproxyCapS: 20, haproxyRuns: 0 };
    log(`candidate ${c.key}`);
    const row = await benchProfile(lab, p);
    rows.push({ p, row });
    const sfx = suffixOf(c);
    recordFigures({ [`node-loss${sfx}`]: row.node.map((x) => x.s), [`time-to-serving${sfx}`]: row.serving.map((x) => x.s) });
  }
  const md = table(rows, [], `on ${new Date().toISOString().slice(0, 10)} (${RUNS} runs per candidate)`);
  process.stdout.write(md);
  writeFileSync(join(PKG_ROOT, 'bench', 'advert.md'), `# lbbake VRRP candidates: node loss and time to serving\n\n${md}`);
}


/**
 * The cloud lab (test/helpers/cloudlab.ts): the same faults with vip.cloud, where the router
 * delivers VIP traffic only where the emulated EC2 / Compute Engine API says, so every failover
 * includes lbbake-vip's API calls and the cloud's delay (EC2 remap 1.0 s, GCE Operations 0.5 s).
 * cloud-<cloud>-haproxy-death / -node-loss: seconds from the fault to the first answer through
 * lb-1, as the LAN figures. cloud-aws-api-outage-recovery: the API refuses every call (503
 * RequestLimitExceeded) for 20 s from the moment haproxy dies; seconds from the end of that
 * outage to the first answer through lb-1.
 */
async function cloudPart(): Promise<void> {
  const figures: Record<string, Array<number | undefined>> = {};
  const OUTAGE_S = 20;
  for (const [key, spec] of [['aws', { provider: 'aws', mode: 'secondary-ip' }], ['gce', { provider: 'gce', mode: 'alias-ip' }]] as Array<[string, CloudSpec]>) {
    const c = await CloudLab.create(spec, { remapDelay: 1.0, opDelay: 0.5 });
    const steady = async () => {
      c.clearFaults();
      await c.lab.steady({ timeoutMs: 60_000 });
      await c.ownedBy('lb-0', 60_000);
    };
    const death: Array<number | undefined> = [];
    const loss: Array<number | undefined> = [];
    const outage: Array<number | undefined> = [];
    try {
      await c.lab.deploy(cloudFiles(cloudYaml(spec)));
      await steady();
      for (let i = 0; i < RUNS; i++) {
        const a = await measure(c.lab, () => c.lab.killHaproxy('lb-0'), 'lb-1', 30);
        death.push(a.s);
        log(`cloud ${key} run ${i + 1}: haproxy dies -> ${fmtSample(a)}`);
        c.lab.startHaproxy('lb-0');
        await steady();
        const b = await measure(c.lab, async () => {
          await c.lab.killNode('lb-0');
          c.lab.setLink('lb-0', false);
        }, 'lb-1', 30);
        loss.push(b.s);
        log(`cloud ${key} run ${i + 1}: node lost -> ${fmtSample(b)}`);
        c.lab.setLink('lb-0', true);
        await c.lab.startNode('lb-0');
        await steady();
        if (key === 'aws') {
          const o = await measure(c.lab, () => {
            c.fault({ kind: 'throttle', seconds: OUTAGE_S });
            c.lab.killHaproxy('lb-0');
          }, 'lb-1', OUTAGE_S + 30);
          outage.push(o.s === undefined ? undefined : o.s - OUTAGE_S);
          log(`cloud ${key} run ${i + 1}: ${OUTAGE_S} s API outage during the failover -> answer ${o.s === undefined ? 'never' : `${f2(o.s - OUTAGE_S)} s after it ended`}`);
          c.lab.startHaproxy('lb-0');
          await steady();
        }
      }
    } finally {
      c.destroy();
    }
    figures[`cloud-${key}-haproxy-death`] = death;
    figures[`cloud-${key}-node-loss`] = loss;
    if (outage.length) figures[`cloud-${key}-api-outage-recovery`] = outage;
  }
  const all = recordFigures(figures);
  const show = (k: string) => (all[k] ? `${f2(all[k].median)} (${f2(all[k].min)}–${f2(all[k].max)}, n=${all[k].n})` : 'n/a');
  const vsLan = (k: string, lan: string) => (all[k] && all[lan] ? ` (LAN ${f2(all[lan].median)}, +${f2(all[k].median - all[lan].median)})` : '');
  process.stdout.write([
    'Cloud lab (seconds, median (min–max)):',
    `| fault | AWS secondary-ip | GCE alias-ip |`,
    '|---|---|---|',
    `| haproxy dies on MASTER | ${show('cloud-aws-haproxy-death')}${vsLan('cloud-aws-haproxy-death', 'haproxy-death')} | ${show('cloud-gce-haproxy-death')}${vsLan('cloud-gce-haproxy-death', 'haproxy-death')} |`,
    `| MASTER node lost | ${show('cloud-aws-node-loss')}${vsLan('cloud-aws-node-loss', 'node-loss')} | ${show('cloud-gce-node-loss')}${vsLan('cloud-gce-node-loss', 'node-loss')} |`,
    `| ${OUTAGE_S} s API outage during the failover: after it ends | ${show('cloud-aws-api-outage-recovery')} | |`,
    '',
  ].join('\n'));
}

/**
 * The boot agent's worst case: every metadata service accepts the connection and never answers
 * (the slowest way to fail), nothing else names the node, and the agent runs with its defaults
 * (2 s per request, 2 attempts, rounds 2, 4, 8, 16, 30 s apart within a 180 s window). Seconds
 * from its start to the fail-safe: what it can add to a boot (keepalived waits for it).
 */
async function agentPart(): Promise<void> {
  const { FakeMetadata, Node, urls, exampleText, modelOf } = await import('../test/agent/harness.js');
  const { userdataForMetadata } = await import('../src/render/userdata.js');
  const m = modelOf(exampleText());
  const fake = await new FakeMetadata(m.identity.metadataKey).start();
  const n = new Node();
  try {
    fake.set({ ec2: { kind: 'hang' }, gce: { kind: 'hang' }, azure: { kind: 'hang' }, openstack: { kind: 'hang' } });
    n.applyUserdata(userdataForMetadata(m));
    n.setAddresses(['198.18.0.7']);
    const defaults = { LBBAKE_TIMEOUT: '', LBBAKE_ATTEMPTS: '', LBBAKE_WINDOW: '', LBBAKE_ROUND_PAUSE: '' };
    const r = await n.runAgent({ ...urls(fake.url), ...defaults }, [], 600_000);
    const rounds = r.log.filter((l) => /round \d+: /.test(l)).length + 1;
    log(`agent: exit ${r.code} after ${f2(r.ms / 1000)} s, ${rounds} rounds`);
    const f = recordFigures({ 'agent-worst-case-boot-delay': [r.code === 1 ? r.ms / 1000 : undefined] });
    process.stdout.write(`boot agent worst case (every metadata service hangs, defaults): fail-safe after ${f['agent-worst-case-boot-delay']?.median} s (${rounds} rounds)\n`);
  } finally {
    n.cleanup();
    await fake.stop();
  }
}

/** Parts of `npm run bench`, in run order. A part gets a fresh lab (or builds its own) and records its own figures. */
const PARTS: Record<string, (lab: NetLab) => Promise<void>> = {
  lan: lanPart,
  dns: dnsPart,
  // the VIP follows the ability to serve; long-lived streams (bench/serve.ts)
  serve: servePart,
  advert: advertPart,
  calm: calmPart,
};
/** Parts that build their own (cloud) labs. */
const OWN_LAB: Record<string, () => Promise<void>> = {
  cloud: cloudPart,
  agent: agentPart,
};

async function main(): Promise<number> {
  const reason = missing([...LAB_TOOLS, ...IMPAIR_TOOLS, 'socat', 'dnsmasq'], { root: true });
  if (reason) {
    console.error(`bench not run: ${reason}`);
    return 1;
  }
  for (const part of selectedParts([...Object.keys(PARTS), ...Object.keys(OWN_LAB)])) {
    log(`part ${part}`);
    if (OWN_LAB[part]) {
      await OWN_LAB[part]();
      continue;
    }
    const lab = await NetLab.create();
    try {
      await PARTS[part](lab);
    } finally {
      lab.destroy();
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
