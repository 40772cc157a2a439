/**
 * The VRRP settings the bench compares to choose lbbake's default (vrrp.version and
 * advertInterval): measured for node loss (part `advert`) and for calm under stress (part
 * `calm`). A candidate whose rendered keepalived.conf equals the defaults' is the default: its
 * figures carry no suffix (node-loss, false-failovers-netem, ...); the others carry -<key>.
 */
import { type LabVrrp, labYaml, renderLab } from '../test/helpers/netlab.js';

export interface Candidate {
  key: string;
  label: string;
  vrrp: LabVrrp;
  /** An edit of the rendered keepalived.conf, for settings lb.yaml has no key for (yet). */
  patch?: (conf: string) => string;
}


export const CANDIDATES: Candidate[] = [
  { key: 'advert-0.1-down5', label: 'VRRPv3, advert 0.1 s, BACKUP waits 5 adverts', vrrp: { version: 3, advertInterval: 0.1, downTimerAdverts: 5 } },
  {
    key: 'advert-0.1-down5-nort',
    label: 'VRRPv3, advert 0.1 s, BACKUP waits 5 adverts, keepalived at normal priority (no vrrp_rt_priority)',
    vrrp: { version: 3, advertInterval: 0.1, downTimerAdverts: 5 },
    patch: (conf) => conf.replace(/^\s*vrrp_rt_priority \d+\n/m, ''),
  },
  { key: 'advert-0.1', label: 'VRRPv3, advert 0.1 s, BACKUP waits 3 adverts (RFC)', vrrp: { version: 3, advertInterval: 0.1, downTimerAdverts: 3 } },
  { key: 'advert-0.2', label: 'VRRPv3, advert 0.2 s, BACKUP waits 3 adverts (RFC)', vrrp: { version: 3, advertInterval: 0.2, downTimerAdverts: 3 } },
  { key: 'advert-0.3', label: 'VRRPv3, advert 0.3 s, BACKUP waits 3 adverts (RFC)', vrrp: { version: 3, advertInterval: 0.3, downTimerAdverts: 3 } },
  { key: 'v2', label: 'VRRPv2, advert 1 s, PASS auth (the former default timers)', vrrp: { version: 2, advertInterval: 1, auth: { pass: 'k8sHA-18' } } },
];

/** Candidates named in env var `name` (comma-separated keys), else all. Exits on an unknown key. */
export function selectedCandidates(name = 'BENCH_CANDIDATES'): Candidate[] {
  const want = (process.env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = want.filter((k) => !CANDIDATES.some((c) => c.key === k));
  if (unknown.length) {
    console.error(`unknown candidate(s) in ${name}: ${unknown.join(', ')}; known: ${CANDIDATES.map((c) => c.key).join(', ')}`);
    process.exit(2);
  }
  return want.length ? CANDIDATES.filter((c) => want.includes(c.key)) : CANDIDATES;
}

const kconf = (yamlText: string) => renderLab(yamlText)['lb-0'].get('etc/keepalived/keepalived.conf')!.content.replace(/auth_pass "[^"]*"/, '');

/** '' for the candidate that is lbbake's default, else `-<key>`. */
export function suffixOf(c: Candidate): string {
  const own = c.patch ? c.patch(kconf(labYaml(c.vrrp))) : kconf(labYaml(c.vrrp));
  return own === kconf(labYaml()) ? '' : `-${c.key}`;
}
