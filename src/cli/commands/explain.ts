import type { Argv } from 'yargs';
import type { Model } from '../../compile/model.js';
import { SECRET_KEYS, type SecretKey } from '../../compile/secrets.js';
import { buildPlan, formatPlan } from '../../render/plan.js';
import { buildRollout, formatRollout } from '../../render/rollout.js';
import { type Common, type Io, loadModel } from '../common.js';
import { EXIT, UsageError } from '../../diagnostics/errors.js';
import { STDIN_FILE } from '../../io/load.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: 'lb.yaml, or - for standard input' })
    .option('against', {
      type: 'string',
      describe: 'OLD.yaml (what runs now): print what changed, which nodes need new files or a new image, and in which order to replace them',
    })
    .option('diff', { type: 'boolean', default: false, describe: 'with --against: also print each changed file as a unified diff (secrets masked)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the plan as JSON on stdout (diagnostics instead, when lb.yaml has errors)' });

/** The secret values a model resolved, by their secrets-file key. */
function secretsOf(m: Model): Partial<Record<SecretKey, string>> {
  const out: Partial<Record<SecretKey, string>> = {};
  if (m.vrrp.authPass !== undefined) out.vrrpAuthPass = m.vrrp.authPass;
  if (m.stats.enabled && m.stats.password !== undefined) out.statsPassword = m.stats.password;
  return out;
}

export function handler(a: Common & { against?: string; diff: boolean }, io: Io): number {
  if (a.against === undefined) {
    if (a.diff) throw new UsageError('--diff needs --against OLD.yaml');
    const loaded = loadModel(a, io, { quiet: a.json, stdin: true });
    if (typeof loaded === 'number') return loaded;
    const plan = buildPlan(loaded.model);
    io.stdout(a.json ? JSON.stringify(plan, null, 2) + '\n' : formatPlan(plan));
    return EXIT.OK;
  }
  if (a.against === '' || a.against === STDIN_FILE) throw new UsageError('--against needs the path of the old lb.yaml');
  const neu = loadModel(a, io, { quiet: a.json, stdin: true });
  if (typeof neu === 'number') return neu;
  // OLD is often a copy (git show ...) without its secrets file: it then has NEW's secrets
  const old = loadModel({ ...a, file: a.against }, io, { quiet: a.json, fallbackSecrets: secretsOf(neu.model) });
  if (typeof old === 'number') return old;
  const notes: string[] = [];
  const what = (keys: SecretKey[]) => keys.map((k) => SECRET_KEYS[k].what).join(' and ');
  const both = neu.generated.filter((k) => old.borrowed.includes(k));
  const oldOnly = old.borrowed.filter((k) => !both.includes(k));
  const newOnly = neu.generated.filter((k) => !both.includes(k));
  if (oldOnly.length > 0) notes.push(`${a.against} has no ${what(oldOnly)} of its own (no secrets file beside it): taken to be the same as ${a.file}'s`);
  if (both.length > 0) notes.push(`neither file has a stored ${what(both)} (no secrets file beside them): compared as the same`);
  if (newOnly.length > 0) notes.push(`${a.file} has no ${what(newOnly)} yet (no secrets file beside it): lbbake generates new ones when you generate output, so they differ from ${a.against}'s`);
  const rollout = buildRollout(old.model, neu.model, { diff: a.diff, notes });
  io.stdout(a.json ? JSON.stringify(rollout, null, 2) + '\n' : formatRollout(rollout, { old: a.against, new: a.file === STDIN_FILE ? '-' : a.file }));
  return EXIT.OK;
}
