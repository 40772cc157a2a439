import { statsHashContext } from './node.js';
import { sha512Crypt } from './crypt.js';
import type { Model } from '../compile/model.js';
import { InternalError } from '../diagnostics/errors.js';
import { AUTH_PASS_SOURCE } from '../facts/alphabets.js';

export { SECRETS_PATH } from '../facts/node.js';
export const PLACEHOLDER_PREFIX = '@@LBBAKE_SECRET_';

export type SecretName = 'vrrp_auth_pass' | 'stats_password_hash';

/**
 * What the agent accepts for each secret (Python `re.fullmatch`, also valid in JS): the
 * characters render's guard lets into a config, so a tampered secrets file cannot inject a line.
 */
export const SECRET_PATTERNS: Readonly<Record<SecretName, string>> = {
  vrrp_auth_pass: AUTH_PASS_SOURCE,
  stats_password_hash: '\\$6\\$[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{86}',
};

export function placeholder(name: SecretName): string {
  return `${PLACEHOLDER_PREFIX}${name}@@`;
}

/**
 * The secret values of a cluster, as they appear in the rendered files: the VRRP password and
 * the stats password's crypt hash (the same salt render uses, so the text is identical).
 */
export function secretValues(m: Model): Partial<Record<SecretName, string>> {
  const out: Partial<Record<SecretName, string>> = {};
  if (m.vrrp.authPass !== undefined) out.vrrp_auth_pass = m.vrrp.authPass;
  if (m.stats.enabled && m.stats.password !== undefined) {
    out.stats_password_hash = sha512Crypt(m.stats.password, statsHashContext(m));
  }
  return out;
}

/** The secrets file's content: sorted keys, 2-space JSON, trailing newline. */
export function secretsJson(m: Model): string {
  const values = secretValues(m);
  const sorted = Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(sorted, null, 2) + '\n';
}

/** The model with the VRRP password replaced by its placeholder (render still guards it). */
export function placeholderModel(m: Model): Model {
  if (m.vrrp.authPass === undefined) return m;
  return { ...m, vrrp: { ...m.vrrp, authPass: placeholder('vrrp_auth_pass') } };
}

/**
 * Replaces every secret value in text rendered from placeholderModel(m) by its placeholder
 * (today only the stats hash, which render computes from the password).
 */
export function maskSecrets(text: string, values: Partial<Record<SecretName, string>>): string {
  const hash = values.stats_password_hash;
  return hash === undefined ? text : text.split(hash).join(placeholder('stats_password_hash'));
}

/** What the agent does at boot: fills every placeholder from the secrets. */
export function fillSecrets(text: string, values: Partial<Record<SecretName, string>>): string {
  let out = text;
  for (const [name, value] of Object.entries(values) as Array<[SecretName, string]>) {
    if (!new RegExp(`^(?:${SECRET_PATTERNS[name]})$`).test(value)) {
      throw new InternalError(`secret ${name} does not match the pattern the agent accepts`);
    }
    out = out.split(placeholder(name)).join(value);
  }
  return out;
}
