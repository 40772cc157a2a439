import type { Model, NodeModel } from '../compile/model.js';
import { InternalError } from '../diagnostics/errors.js';
import { metricsSupported } from '../facts/os.js';
import { vrrpInstanceName } from '../facts/node.js';

/** Where haproxy serves the metrics (lb.yaml metrics): its own exporter and keepalived's state. */
export const METRICS_PATHS = { haproxy: '/metrics', keepalived: '/metrics/keepalived' } as const;
/** The haproxy frontend that serves both, and the table the VRRP state tracker writes into. */
export const METRICS_FRONTEND = 'lbbake-metrics';
export const METRICS_TABLE = 'lbbake-keepalived';

/** The VRRP states /metrics/keepalived reports: keepalived's three, and STOP while keepalived is not running. */
export const VRRP_STATES = ['MASTER', 'BACKUP', 'FAULT', 'STOP'] as const;
/** States whose entries keepalived reports (and the tracker counts). */
const COUNTED = ['MASTER', 'BACKUP', 'FAULT'] as const;

/** One metric of /metrics/keepalived: what the README lists and the exposition template holds. */
export interface MetricDef {
  name: string;
  type: 'gauge' | 'counter';
  labels: string[];
  help: string;
  /** Only with vip.cloud. */
  cloud?: boolean;
}

/** Every metric lbbake itself publishes (haproxy's own exporter adds its haproxy_* ones). */
export const KEEPALIVED_METRICS: readonly MetricDef[] = [
  { name: 'lbbake_vrrp_state', type: 'gauge', labels: ['vrrp_instance', 'state'], help: '1 for the VRRP state this node is in (MASTER, BACKUP, FAULT; STOP while keepalived is not running), 0 for the others' },
  { name: 'lbbake_vrrp_priority', type: 'gauge', labels: ['vrrp_instance'], help: 'the priority keepalived reported with its last state change' },
  { name: 'lbbake_vrrp_transitions_total', type: 'counter', labels: ['vrrp_instance', 'state'], help: 'state changes into each state since the node booted (kept across keepalived restarts)' },
  { name: 'lbbake_vrrp_last_transition_timestamp_seconds', type: 'gauge', labels: ['vrrp_instance'], help: 'when the last state change happened (Unix time)' },
  { name: 'lbbake_vrrp_published_age_seconds', type: 'gauge', labels: [], help: "seconds since lbbake's tracker last published keepalived's state (it does so at each change and every 5 s; far above 5 means the tracker or keepalived is gone)" },
  { name: 'lbbake_cloud_vip_owner', type: 'gauge', labels: ['provider'], help: "1 when the cloud's last ownership check found the VIP routed to this node, 0 when not", cloud: true },
  { name: 'lbbake_cloud_check_timestamp_seconds', type: 'gauge', labels: ['provider'], help: 'when that check ran (Unix time; 0: never on this node since boot)', cloud: true },
];

/** A value read from the tracker's table (a missing key reads as 0). */
const cell = (key: string) => `%[str(${key}),table_gpt0(${METRICS_TABLE})]`;

/**
 * The exposition haproxy returns on /metrics/keepalived: Prometheus text format whose values
 * haproxy reads from the table at each request (a log-format string). One line per entry.
 */
export function keepalivedExpositionLines(m: Model): string[] {
  const inst = `vrrp_instance="${vrrpInstanceName(m.name)}"`;
  const out: string[] = [];
  const head = (name: string) => {
    const d = KEEPALIVED_METRICS.find((x) => x.name === name);
    if (!d) throw new InternalError(`metric ${name} is not defined`);
    out.push(`# HELP ${d.name} ${d.help}`, `# TYPE ${d.name} ${d.type}`);
  };
  head('lbbake_vrrp_state');
  for (const s of VRRP_STATES) out.push(`lbbake_vrrp_state{${inst},state="${s}"} ${cell(s)}`);
  head('lbbake_vrrp_priority');
  out.push(`lbbake_vrrp_priority{${inst}} ${cell('prio')}`);
  head('lbbake_vrrp_transitions_total');
  for (const s of COUNTED) out.push(`lbbake_vrrp_transitions_total{${inst},state="${s}"} ${cell(`n.${s}`)}`);
  head('lbbake_vrrp_last_transition_timestamp_seconds');
  out.push(`lbbake_vrrp_last_transition_timestamp_seconds{${inst}} ${cell('since')}`);
  head('lbbake_vrrp_published_age_seconds');
  out.push('lbbake_vrrp_published_age_seconds %[date,sub(txn.lbbake_published)]');
  // lbbake-vip's ownership check (aws, gce; azure's probe needs none)
  if (m.vip.cloud && m.vip.cloud.provider !== 'azure') {
    const p = `provider="${m.vip.cloud.provider}"`;
    head('lbbake_cloud_vip_owner');
    out.push(`lbbake_cloud_vip_owner{${p}} ${cell('cloud.owner')}`);
    head('lbbake_cloud_check_timestamp_seconds');
    out.push(`lbbake_cloud_check_timestamp_seconds{${p}} ${cell('cloud.at')}`);
  }
  return out;
}

/** The exposition as one double-quoted haproxy argument body: \n between lines, quotes escaped. */
function quotedForHaproxy(lines: string[]): string {
  return lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\n') + '\\n';
}

/** What haproxy.cfg.njk needs for the metrics frontend, or false when metrics are off. */
export function metricsView(m: Model, node: NodeModel):
  | false
  | { frontend: string; bind: string; table: string; paths: typeof METRICS_PATHS; exposition: string } {
  if (!m.metrics.enabled) return false;
  // the rules refuse metrics there (METRICS_UNSUPPORTED); this is the renderer's own guard
  if (!metricsSupported(m.os)) throw new InternalError(`metrics are not supported on ${m.os.id} (haproxy ${m.os.haproxyVersion.join('.')})`);
  return {
    frontend: METRICS_FRONTEND,
    bind: `${m.metrics.bind === 'node' ? node.address : m.metrics.bind}:${m.metrics.port}`,
    table: METRICS_TABLE,
    paths: METRICS_PATHS,
    exposition: quotedForHaproxy(keepalivedExpositionLines(m)),
  };
}

export const METRICS_BEGIN = '<!-- metrics:begin (generated from src/render/metrics.ts by npm run gen:docs) -->';
export const METRICS_END = '<!-- metrics:end -->';

/** The README's table of every metric /metrics/keepalived serves. */
export function metricsTable(): string {
  const lines = ['| metric (`/metrics/keepalived`) | type | labels | meaning |', '|---|---|---|---|'];
  for (const d of KEEPALIVED_METRICS) {
    const labels = d.labels.map((l) => `\`${l}\``).join(', ') || '-';
    lines.push(`| \`${d.name}\` | ${d.type} | ${labels} | ${d.help}${d.cloud ? ' (with `vip.cloud` only)' : ''} |`);
  }
  return lines.join('\n') + '\n';
}
