/**
 * `lbbake explain NEW --against OLD`: what changed between two revisions of lb.yaml, which node
 * needs what on each delivery path, and in which order to replace the nodes so the VIP stays up.
 * Pure: two compiled models in, a Rollout out; secrets appear only as "changed" / "unchanged".
 */
import { createRequire } from 'node:module';
import type { Model, NodeModel } from '../compile/model.js';
import { InternalError } from '../diagnostics/errors.js';
import { AGENT_PATHS, UNITS } from '../facts/node.js';
import { type FileSet } from './files.js';
import { maskSecrets, placeholder, placeholderModel, type SecretName, secretValues } from './agent-secrets.js';
import { metadataModeFiles } from './agent.js';
import { nodeTree } from './node.js';
import { packerProject } from './packer/project.js';

const require = createRequire(import.meta.url);

/** One difference between the two lb.yaml revisions, in lb.yaml's terms. */
export interface SettingChange {
  /** e.g. `services[kubernetes-apiserver].servers[master-3]`, `vrrp.routerId`. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  old?: string;
  new?: string;
  /** A secret: neither value is shown. */
  secret?: boolean;
}

/** One file of a node whose content, mode or owner differs. */
export interface FileChange {
  /** Absolute path on the node. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** The file's text differs beyond its secrets. */
  content: boolean;
  /** Secrets in the file that differ (names only, never values). */
  secrets: string[];
  /** Mode or owner differ. */
  meta: boolean;
  /** What makes a running node use it (when updated in place). */
  apply: string;
  /** Unified diff with secrets masked (only when asked for). */
  diff?: string;
}

/** What one node needs on each delivery path. */
export interface NodeRollout {
  name: string;
  /** added: only in NEW; removed: only in OLD; changed: its files differ; unchanged. */
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** Its role in OLD (what runs now) and in NEW. */
  old?: { state: string; priority: number; address: string };
  new?: { state: string; priority: number; address: string };
  files: FileChange[];
  /** Per delivery path: what this node needs. */
  paths: {
    render: string;
    userdata: string;
    userdataNode: string;
    packer: string;
  };
}

/** One step of the replacement order. */
export interface RolloutStep {
  node: string;
  action: 'replace' | 'launch' | 'handover' | 'remove' | 'nothing';
  text: string;
}

export interface Rollout {
  cluster: { old: string; new: string };
  changes: SettingChange[];
  /** Secrets that differ (names only). */
  secrets: string[];
  /** Notes on how the comparison was made (e.g. secrets assumed from the other file). */
  notes: string[];
  nodes: NodeRollout[];
  outputs: {
    /** `gen-userdata` without --node (one user-data for every node). */
    userdata: { changed: boolean; secretsOnly: boolean };
    /** `gen-userdata --node NAME`, per node. */
    userdataNode: Record<string, boolean>;
    /** `gen-userdata --secrets-only` (the only user-data a baked node gets). */
    secretsOnly: { changed: boolean };
    /** `gen-packer`: the project's files that differ; the image is rebuilt when any but README.md does. */
    packer: { changed: boolean; imageChanged: boolean; files: string[] };
  };
  /** false: old and new nodes cannot run side by side (the reasons say why and what to do). */
  rollingSafe: boolean;
  unsafe: Unsafe[];
  steps: RolloutStep[];
}

// ---------------------------------------------------------------------------------------------
// settings: a flat, secret-free view of a model, keyed like lb.yaml

/** Model keys that are derived from others or bookkeeping (never shown as a change). */
const DERIVED = new Set(['pointer', 'priorityExplicit', 'stateExplicit', 'handoverWeight', 'weightExplicit', 'peers', 'paths', 'hook', 'notifyMaster', 'resolvers', 'serverPrefix', 'timers', 'scriptName']);
/** Model keys holding secrets: compared, never shown. */
const SECRET_FIELDS: Record<string, string> = { authPass: 'auth.pass', password: 'password' };
/** Model keys spelled differently in lb.yaml. */
const RENAMED: Record<string, string> = { bindAddress: 'bind' };

function leaf(v: unknown): string {
  if (Array.isArray(v)) return v.map(leaf).join(', ');
  if (v !== null && typeof v === 'object') {
    return Object.entries(v)
      .filter(([k, x]) => !DERIVED.has(k) && !isSecret(k) && x !== undefined)
      .map(([k, x]) => `${RENAMED[k] ?? k} ${leaf(x)}`)
      .join(', ');
  }
  return String(v);
}

const keyed = (v: unknown): v is Array<{ name: string }> =>
  Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string');

/** A field that holds (or may hold) a secret: compared, never shown. */
const isSecret = (k: string) => k in SECRET_FIELDS || /pass|secret|token|private/i.test(k);

function flatten(v: unknown, path: string, out: Map<string, string>, secrets: Map<string, string>): void {
  if (Array.isArray(v) && v.length === 0) return;
  if (keyed(v)) {
    for (const item of v) {
      const p = `${path}[${item.name}]`;
      out.set(p, leaf(Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'name'))));
      flatten(Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'name')), p, out, secrets);
    }
    return;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    out.set(path, leaf(v));
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (DERIVED.has(k) || x === undefined) continue;
    const name = SECRET_FIELDS[k] ?? RENAMED[k] ?? k;
    const p = path ? `${path}.${name}` : name;
    if (isSecret(k)) {
      secrets.set(p, JSON.stringify(x));
      continue;
    }
    flatten(x, p, out, secrets);
  }
}

/** The model as `path -> value` (secrets apart), lb.yaml's names; target.os is the OS id. */
function settings(m: Model): { values: Map<string, string>; secrets: Map<string, string> } {
  const values = new Map<string, string>();
  const secrets = new Map<string, string>();
  const { os, ...rest } = m;
  values.set('target.os', os.id);
  flatten(rest, '', values, secrets);
  return { values, secrets };
}

function settingChanges(a: Model, b: Model): { changes: SettingChange[]; secrets: string[] } {
  const A = settings(a);
  const B = settings(b);
  const changes: SettingChange[] = [];
  const keys = [...new Set([...A.values.keys(), ...B.values.keys()])];
  // a keyed item (node, service, server) added or removed is one change, not one per field
  const coveredBy = (k: string, other: Map<string, string>) => keyedPrefixes(k).find((p) => !other.has(p) && p !== k) !== undefined;
  for (const k of keys) {
    const o = A.values.get(k);
    const n = B.values.get(k);
    if (o === n) continue;
    if (o === undefined) {
      if (!coveredBy(k, A.values)) changes.push({ path: k, kind: 'added', new: n });
    } else if (n === undefined) {
      if (!coveredBy(k, B.values)) changes.push({ path: k, kind: 'removed', old: o });
    } else if (!/\]$/.test(k)) {
      // a keyed item's summary line changes with each field; its fields are reported instead
      changes.push({ path: k, kind: 'changed', old: o, new: n });
    }
  }
  const secretKeys = [...new Set([...A.secrets.keys(), ...B.secrets.keys()])];
  const secrets: string[] = [];
  for (const k of secretKeys) {
    const o = A.secrets.get(k);
    const n = B.secrets.get(k);
    if (o === n) continue;
    secrets.push(k);
    changes.push({ path: k, kind: o === undefined ? 'added' : n === undefined ? 'removed' : 'changed', secret: true });
  }
  return { changes, secrets };
}

/** `a[x].b[y].c` -> [`a[x]`, `a[x].b[y]`]: the keyed items a path lies in, outermost first. */
function keyedPrefixes(p: string): string[] {
  const out: string[] = [];
  const re = /\[[^\]]*\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(p))) out.push(p.slice(0, m.index + m[0].length));
  return out;
}

// ---------------------------------------------------------------------------------------------
// files

const SECRET_LABEL: Record<SecretName, string> = { vrrp_auth_pass: 'VRRP auth pass', stats_password_hash: 'stats password' };

/** A file set with secrets replaced by their placeholders (what can be shown and compared). */
function masked(m: Model, render: (m: Model) => FileSet): FileSet {
  const values = secretValues(m);
  const out: FileSet = new Map();
  for (const [rel, f] of render(placeholderModel(m))) out.set(rel, { ...f, content: maskSecrets(f.content, values) });
  return out;
}

function applyOf(o: Model, n: Model, path: string): string {
  for (const m of [n, o]) {
    if (path === m.paths.keepalivedConf) return `systemctl reload ${UNITS.keepalived}`;
    if (path === m.paths.haproxyCfg) return `systemctl reload ${UNITS.haproxy}`;
    if (path === m.paths.sysctlDropIn) return `sysctl -p ${path}`;
  }
  return 'nothing (keepalived runs it at the next transition)';
}

function fileChanges(o: Model, n: Model, node: string, diff: boolean): FileChange[] {
  const on = o.nodes.find((x) => x.name === node);
  const nn = n.nodes.find((x) => x.name === node);
  const tree = (m: Model, x: NodeModel | undefined): FileSet => (x ? nodeTree(m, x) : new Map());
  const realO = tree(o, on);
  const realN = tree(n, nn);
  const maskO = on ? masked(o, (m) => nodeTree(m, on)) : new Map();
  const maskN = nn ? masked(n, (m) => nodeTree(m, nn)) : new Map();
  const vo = secretValues(o);
  const vn = secretValues(n);
  const out: FileChange[] = [];
  for (const rel of [...new Set([...realO.keys(), ...realN.keys()])].sort()) {
    const a = realO.get(rel);
    const b = realN.get(rel);
    if (a && b && a.content === b.content && a.mode === b.mode && a.owner === b.owner) continue;
    const ma = maskO.get(rel)?.content ?? '';
    const mb = maskN.get(rel)?.content ?? '';
    const secrets = (Object.keys(SECRET_LABEL) as SecretName[]).filter(
      (s) => vo[s] !== vn[s] && (ma.includes(placeholder(s)) || mb.includes(placeholder(s))),
    );
    const path = `/${rel}`;
    out.push({
      path,
      kind: !a ? 'added' : !b ? 'removed' : 'changed',
      content: ma !== mb,
      secrets: secrets.map((s) => SECRET_LABEL[s]),
      meta: Boolean(a && b && (a.mode !== b.mode || a.owner !== b.owner)),
      apply: !b ? `rm ${path}` : applyOf(o, n, path),
      ...(diff && ma !== mb ? { diff: unifiedDiff(node, path, ma, mb) } : {}),
    });
  }
  return out;
}

/** A unified diff (3 lines of context) of two masked texts, by the `diff` package. */
function unifiedDiff(node: string, path: string, a: string, b: string): string {
  const lib = require('diff') as typeof import('diff');
  return lib.createTwoFilesPatch(`old/${node}${path}`, `new/${node}${path}`, a, b, undefined, undefined, { context: 3, headerOptions: lib.FILE_HEADERS_ONLY });
}

// ---------------------------------------------------------------------------------------------
// the rollout

function role(x: NodeModel | undefined): { state: string; priority: number; address: string } | undefined {
  return x ? { state: x.state, priority: x.priority, address: x.address } : undefined;
}

/** The node that holds the VIP while every node is healthy: the MASTER (highest priority). */
function masterOf(m: Model): NodeModel {
  return [...m.nodes].sort((a, b) => (a.state === b.state ? b.priority - a.priority : a.state === 'MASTER' ? -1 : 1))[0];
}

/** A change with which old and new nodes cannot run side by side, and what to do instead. */
export interface Unsafe {
  reason: string;
  fix: string;
}

function unsafeReasons(o: Model, n: Model): Unsafe[] {
  const r: Unsafe[] = [];
  const both = "old and new nodes would not accept each other's VRRP adverts, so each side takes the VIP (two MASTERs)";
  const split =
    'split the change: roll out everything else first; then change only this on every node in place (lbbake render NEW --node <node>, copy etc/keepalived/keepalived.conf, systemctl reload keepalived), BACKUPs first and all within a few seconds; or replace every node in one maintenance window';
  if (o.vrrp.routerId !== n.vrrp.routerId) r.push({ reason: `vrrp.routerId changes (${o.vrrp.routerId} -> ${n.vrrp.routerId}): ${both}`, fix: split });
  if (o.vrrp.version !== n.vrrp.version) r.push({ reason: `vrrp.version changes (${o.vrrp.version} -> ${n.vrrp.version}): ${both}`, fix: split });
  if (o.vrrp.mode !== n.vrrp.mode) r.push({ reason: `vrrp.mode changes (${o.vrrp.mode} -> ${n.vrrp.mode}): ${both}`, fix: split });
  if (o.vrrp.authPass !== n.vrrp.authPass) r.push({ reason: `the VRRP auth pass changes (value not shown): ${both}`, fix: split });
  if (o.vrrp.version === 2 && n.vrrp.version === 2 && o.vrrp.advertInterval !== n.vrrp.advertInterval) {
    r.push({ reason: `vrrp.advertInterval changes (${o.vrrp.advertInterval} -> ${n.vrrp.advertInterval}): VRRPv2 drops adverts with another interval ("advertisement interval mismatch"): ${both}`, fix: split });
  }
  if (o.vip.address !== n.vip.address) {
    r.push({ reason: `vip.address changes (${o.vip.address} -> ${n.vip.address}): old and new nodes serve different VIPs`, fix: 'this is a new VIP for the clients: move the clients (kubeconfigs, kubelets, DNS) to it, then retire the old nodes' });
  }
  if (n.vrrp.mode === 'unicast' && o.vrrp.mode === 'unicast') {
    const oa = new Map(o.nodes.map((x) => [x.name, x.address]));
    const na = new Map(n.nodes.map((x) => [x.name, x.address]));
    const moved = [...na.keys()].filter((k) => oa.get(k) !== na.get(k));
    if (moved.length > 0) {
      r.push({
        reason: `nodes are added or their addresses change (${moved.join(', ')}): the old nodes' unicast_peer lists do not name them and check_unicast_src drops their adverts, so a new node hears no MASTER and takes the VIP too`,
        fix: 'first update keepalived.conf on the nodes that stay in place (lbbake render NEW --node <node>, copy etc/keepalived/keepalived.conf, systemctl reload keepalived), BACKUPs first; then follow the order below',
      });
    }
  }
  return r;
}

/** Options of buildRollout. */
export interface RolloutOptions {
  /** Include unified diffs (secrets masked) of every changed file. */
  diff?: boolean;
  /** Notes from loading the two files (e.g. which secrets were taken from the other file). */
  notes?: string[];
}

/**
 * What changed from `o` (OLD, what runs now) to `n` (NEW): settings, each node's files, each
 * output, whether old and new nodes can run side by side, and the order of replacement (BACKUPs
 * first, then hand the VIP over, then the former MASTER). Pure; never contains a secret value
 * (throws InternalError if it would).
 */
export function buildRollout(o: Model, n: Model, opts: RolloutOptions = {}): Rollout {
  const { changes, secrets } = settingChanges(o, n);
  const names = [...new Set([...o.nodes.map((x) => x.name), ...n.nodes.map((x) => x.name)])];

  // outputs
  const ud = (m: Model) => metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' });
  const same = (a: FileSet, b: FileSet) => a.size === b.size && [...a].every(([k, f]) => b.get(k)?.content === f.content && b.get(k)?.mode === f.mode && b.get(k)?.owner === f.owner);
  const udSame = same(ud(o), ud(n));
  const secretsChanged = JSON.stringify(secretValues(o)) !== JSON.stringify(secretValues(n));
  const po = packerProject(o);
  const pn = packerProject(n);
  const packerFiles = [...new Set([...po.keys(), ...pn.keys()])].filter((k) => po.get(k)?.content !== pn.get(k)?.content || po.get(k)?.mode !== pn.get(k)?.mode).sort();
  const imageChanged = packerFiles.some((f) => f !== 'README.md');

  const nodes: NodeRollout[] = names.map((name) => {
    const on = o.nodes.find((x) => x.name === name);
    const nn = n.nodes.find((x) => x.name === name);
    const files = fileChanges(o, n, name, opts.diff ?? false);
    const status: NodeRollout['status'] = !on ? 'added' : !nn ? 'removed' : files.length > 0 ? 'changed' : 'unchanged';
    const onlySecrets = files.length > 0 && files.every((f) => !f.content && !f.meta && f.kind === 'changed');
    const applies = [...new Set(files.map((f) => f.apply).filter((a) => !a.startsWith('nothing')))];
    const paths: NodeRollout['paths'] =
      status === 'added'
        ? {
            render: `new node: lbbake render NEW --node ${name}, copy the tree onto it, install haproxy and keepalived, start them`,
            userdata: `new node: launch it with the new user-data and metadata ${n.identity.metadataKey}=${name}`,
            userdataNode: `new node: launch it with lbbake gen-userdata NEW --node ${name}`,
            packer: `new node: launch it from the new image with the --secrets-only user-data and metadata ${n.identity.metadataKey}=${name}`,
          }
        : status === 'removed'
          ? {
              render: 'remove the node (hand the VIP over first if it holds it)',
              userdata: 'remove the node (hand the VIP over first if it holds it)',
              userdataNode: 'remove the node (hand the VIP over first if it holds it)',
              packer: 'remove the node (hand the VIP over first if it holds it)',
            }
          : status === 'unchanged'
            ? {
                render: 'nothing: its files are the same',
                userdata: udSame ? 'nothing' : 'nothing: its files are the same (the user-data differs only in other nodes\' files); launch it from the new user-data the next time it is replaced',
                userdataNode: 'nothing',
                packer: imageChanged ? 'nothing: its files are the same (the image differs only in other nodes\' files); use the new image the next time it is replaced' : 'nothing',
              }
            : {
                render: `copy ${files.map((f) => f.path).join(', ')} from lbbake render NEW --node ${name}, then ${applies.join(' and ') || 'nothing to reload'}`,
                userdata: onlySecrets
                  ? `replace it with a VM launched from the new user-data (or in place: write the new ${AGENT_PATHS.secrets} (0600) and systemctl restart ${UNITS.agent})`
                  : 'replace it with a VM launched from the new user-data (the boot agent reinstalls the old files at every boot, so do not edit them in place)',
                userdataNode: `replace it with a VM launched from lbbake gen-userdata NEW --node ${name} (or in place, as for render)`,
                packer: onlySecrets
                  ? `no new image: replace it with a VM from the same image and the new --secrets-only user-data (or in place: write the new ${AGENT_PATHS.secrets} (0600) and systemctl restart ${UNITS.agent})`
                  : 'replace it with a VM from the new image (and the --secrets-only user-data of NEW)',
              };
    return { name, status, ...(on ? { old: role(on) } : {}), ...(nn ? { new: role(nn) } : {}), files, paths };
  });

  const unsafe = unsafeReasons(o, n);
  const steps = orderSteps(o, n, nodes);

  const rollout: Rollout = {
    cluster: { old: o.name, new: n.name },
    changes,
    secrets,
    notes: opts.notes ?? [],
    nodes,
    outputs: {
      userdata: { changed: !udSame || secretsChanged, secretsOnly: udSame && secretsChanged },
      userdataNode: Object.fromEntries(nodes.map((x) => [x.name, x.status !== 'unchanged'])),
      secretsOnly: { changed: secretsChanged },
      packer: { changed: packerFiles.length > 0, imageChanged, files: packerFiles },
    },
    rollingSafe: unsafe.length === 0,
    unsafe,
    steps,
  };
  const text = JSON.stringify(rollout);
  for (const m of [o, n]) {
    for (const v of Object.values(secretValues(m))) {
      if (v && text.includes(v)) throw new InternalError('the rollout would show a secret');
    }
    for (const v of [m.vrrp.authPass, m.stats.enabled ? m.stats.password : undefined]) {
      if (v && v.length >= 4 && text.includes(JSON.stringify(v).slice(1, -1))) throw new InternalError('the rollout would show a secret');
    }
  }
  return rollout;
}

function orderSteps(o: Model, n: Model, nodes: NodeRollout[]): RolloutStep[] {
  const steps: RolloutStep[] = [];
  const master = masterOf(o);
  const byName = new Map(nodes.map((x) => [x.name, x]));
  const todo = nodes.filter((x) => x.status !== 'unchanged');
  if (todo.length === 0) return [{ node: '', action: 'nothing', text: 'nothing to do: every node keeps the same files' }];
  const wait = 'wait until it is BACKUP with its services up (journalctl -u keepalived: "Entering BACKUP STATE"; lbbake-agent status where installed)';
  // new nodes first, then the changed BACKUPs, lowest priority first (the least likely to hold the VIP)
  for (const x of todo.filter((t) => t.status === 'added')) {
    steps.push({ node: x.name, action: 'launch', text: `launch ${x.name} (new node, priority ${x.new!.priority}); ${wait}` });
  }
  const backups = todo.filter((t) => t.status === 'changed' && t.name !== master.name).sort((a, b) => a.old!.priority - b.old!.priority);
  for (const x of backups) {
    steps.push({ node: x.name, action: 'replace', text: `replace ${x.name} (BACKUP, priority ${x.old!.priority}): stop the old VM, start the new one with the same address; ${wait}` });
  }
  const m = byName.get(master.name)!;
  const others = nodes.filter((x) => x.name !== master.name && x.status !== 'removed');
  const heir = [...others].sort((a, b) => (b.new?.priority ?? b.old!.priority) - (a.new?.priority ?? a.old!.priority))[0];
  if (m.status !== 'unchanged') {
    steps.push({
      node: master.name,
      action: 'handover',
      text: `on ${master.name} (MASTER): lbbake-agent handover, which drops its priority so ${heir ? heir.name : 'a BACKUP'} takes the VIP gracefully and waits until it has (without the agent: echo ${master.handoverWeight} > /etc/keepalived/lbbake-handover)`,
    });
    if (m.status === 'removed') {
      steps.push({ node: master.name, action: 'remove', text: `remove ${master.name}` });
    } else {
      const after = n.vrrp.preempt && masterOf(n).name === master.name
        ? `with preempt on it takes the VIP back once its check passes (a second graceful move)`
        : `the VIP stays where it is`;
      steps.push({ node: master.name, action: 'replace', text: `replace ${master.name} (the former MASTER): stop the old VM, start the new one with the same address; ${after}` });
    }
  }
  for (const x of todo.filter((t) => t.status === 'removed' && t.name !== master.name)) {
    steps.push({ node: x.name, action: 'remove', text: `remove ${x.name}` });
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------
// text

const plural = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;

/** The rollout as text for a terminal or a review comment. */
export function formatRollout(r: Rollout, labels: { old: string; new: string }): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`${labels.new} against ${labels.old}${r.cluster.old !== r.cluster.new ? ` (cluster ${r.cluster.old} -> ${r.cluster.new})` : ` (cluster ${r.cluster.new})`}`);
  for (const note of r.notes) line(`note: ${note}`);
  line();
  if (r.changes.length === 0 && r.nodes.every((x) => x.status === 'unchanged') && !r.outputs.packer.changed) {
    line('no changes: both generate the same files');
    return out.join('\n') + '\n';
  }
  line('changes:');
  for (const c of r.changes) {
    const sign = c.kind === 'added' ? '+' : c.kind === 'removed' ? '-' : '~';
    const what = c.secret ? `${c.kind} (value not shown)` : c.kind === 'added' ? c.new : c.kind === 'removed' ? c.old : `${c.old} -> ${c.new}`;
    line(`  ${sign} ${c.path}${what !== undefined && what !== '' ? `: ${what}` : ''}`);
  }
  line();
  line('nodes:');
  for (const x of r.nodes) {
    const roleText = x.old ? `${x.old.state}, priority ${x.old.priority}` : `new, priority ${x.new!.priority}`;
    line(`  ${x.name} (${roleText}): ${x.status}`);
    for (const f of x.files) {
      const parts = [f.content && f.kind === 'changed' ? 'content' : '', f.secrets.length ? `${f.secrets.join(', ')} (value not shown)` : '', f.meta ? 'mode/owner' : ''].filter(Boolean);
      line(`    ${f.kind === 'added' ? '+' : f.kind === 'removed' ? '-' : '~'} ${f.path}${parts.length ? `: ${parts.join(', ')}` : ''}; then ${f.apply}`);
    }
    if (x.status !== 'unchanged') {
      line(`    user-data (metadata mode): ${x.paths.userdata}`);
      line(`    user-data --node:          ${x.paths.userdataNode}`);
      line(`    Packer image:              ${x.paths.packer}`);
      line(`    render (in place):         ${x.paths.render}`);
    }
  }
  line();
  line('outputs:');
  const o = r.outputs;
  line(`  gen-userdata (every node):   ${o.userdata.changed ? (o.userdata.secretsOnly ? 'changed (secrets only)' : 'changed') : 'unchanged'}`);
  const perNode = Object.entries(o.userdataNode);
  line(`  gen-userdata --node:         ${perNode.filter(([, c]) => c).map(([k]) => k).join(', ') || 'none'} changed`);
  line(`  gen-userdata --secrets-only: ${o.secretsOnly.changed ? 'changed' : 'unchanged'}`);
  line(`  gen-packer:                  ${o.packer.imageChanged ? `the image changes: rebuild it (${plural(o.packer.files.filter((f) => f !== 'README.md').length, 'project file differs', 'project files differ')})` : o.packer.changed ? 'only the project README differs: no new image' : 'unchanged: no new image'}`);
  line();
  if (!r.rollingSafe) {
    line('NOT SAFE to replace one node at a time as it stands:');
    for (const u of r.unsafe) {
      line(`  - ${u.reason}`);
      line(`    instead: ${u.fix}`);
    }
    line();
  }
  line('order (BACKUPs first, then hand the VIP over, then the former MASTER):');
  r.steps.forEach((s, i) => line(`  ${i + 1}. ${s.text}`));
  for (const x of r.nodes) for (const f of x.files) if (f.diff) out.push('', f.diff.trimEnd());
  return out.join('\n') + '\n';
}
