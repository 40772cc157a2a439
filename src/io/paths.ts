import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The package root (holds templates/, agent/ and schema/), whether running from src/io/ or dist/src/io/. */
export const PKG_ROOT = existsSync(join(here, '..', '..', 'package.json')) ? join(here, '..', '..') : join(here, '..', '..', '..');
export const TEMPLATES_DIR = join(PKG_ROOT, 'templates');
/** The boot agent, a plain Python program (agent/lbbake-agent.py). */
export const AGENT_SOURCE = join(PKG_ROOT, 'agent', 'lbbake-agent.py');
/** The VRRP state tracker keepalived runs (agent/lbbake-vrrp-state.py). */
export const TRACKER_SOURCE = join(PKG_ROOT, 'agent', 'lbbake-vrrp-state.py');
/** lbbake-vip, the cloud VIP mover (agent/lbbake-vip.py), shipped only with vip.cloud aws/gce. */
export const VIP_PROGRAM_SOURCE = join(PKG_ROOT, 'agent', 'lbbake-vip.py');
export const SCHEMA_PATH = join(PKG_ROOT, 'schema', 'lb.schema.json');

/** lbbake's own version, from its package.json (never the project that installed it). */
export function lbbakeVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(join(PKG_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}
