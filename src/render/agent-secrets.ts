import { statsHashContext } from './node.js';
import { sha512Crypt } from './crypt.js';
import type { Model } from '../compile/model.js';
import { InternalError } from '../diagnostics/errors.js';
import { AUTH_PASS_SOURCE } from '../facts/alphabets.js';

export { SECRETS_PATH } from '../facts/node.js';
export const PLACEHOLDER_PREFIX = '@@LBBAKE_SECRET_';

/** The fixed secrets, and one PEM per service with health.clientCert (health_pem_<service index>). */
export type FixedSecretName = 'vrrp_auth_pass' | 'stats_password_hash';
export type SecretName = FixedSecretName | `health_pem_${number}`;

/**
 * What the agent accepts for each secret (Python `re.fullmatch`, also valid in JS): the
 * characters render's guard lets into a config, so a tampered secrets file cannot inject a line.
 */
export const SECRET_PATTERNS: Readonly<Record<FixedSecretName, string>> = {
  vrrp_auth_pass: AUTH_PASS_SOURCE,
  stats_password_hash: '\\$6\\$[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{86}',
};

/** health.clientCert as the node gets it: certificate(s), then one unencrypted key, LF line ends (normalized by the secrets stage). */
export const PEM_PATTERN =
  '(?:-----BEGIN CERTIFICATE-----\\n(?:[A-Za-z0-9+/=]+\\n)+-----END CERTIFICATE-----\\n)+' +
  '-----BEGIN ((?:EC |RSA )?)PRIVATE KEY-----\\n(?:[A-Za-z0-9+/=]+\\n)+-----END \\1PRIVATE KEY-----\\n';

/** The pattern a secret's value must match. */
export function secretPattern(name: SecretName): string {
  return name.startsWith('health_pem_') ? PEM_PATTERN : SECRET_PATTERNS[name as FixedSecretName];
}

/** The secret names a cluster has: the fixed ones and a PEM per service with health.clientCert. */
export function secretNames(m: Model): SecretName[] {
  return [...(Object.keys(SECRET_PATTERNS) as FixedSecretName[]), ...pemServices(m).map((i) => pemName(i))];
}

/** Indexes of the services whose https check presents a client certificate. */
export function pemServices(m: Model): number[] {
  return m.services.flatMap((s, i) => (s.health.type === 'https' && s.health.client ? [i] : []));
}

export const pemName = (serviceIndex: number): SecretName => `health_pem_${serviceIndex}`;

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
  for (const i of pemServices(m)) out[pemName(i)] = m.services[i].health.client!.pem;
  return out;
}

/** The secrets file's content: sorted keys, 2-space JSON, trailing newline. */
export function secretsJson(m: Model): string {
  const values = secretValues(m);
  const sorted = Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(sorted, null, 2) + '\n';
}

/** The model with the VRRP password and the client PEMs replaced by their placeholders (render still guards them). */
export function placeholderModel(m: Model): Model {
  return {
    ...m,
    vrrp: m.vrrp.authPass === undefined ? m.vrrp : { ...m.vrrp, authPass: placeholder('vrrp_auth_pass') },
    services: m.services.map((s, i) => (s.health.client ? { ...s, health: { ...s.health, client: { ...s.health.client, pem: placeholder(pemName(i)) } } } : s)),
  };
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
    if (!new RegExp(`^(?:${secretPattern(name)})$`).test(value)) {
      throw new InternalError(`secret ${name} does not match the pattern the agent accepts`);
    }
    out = out.split(placeholder(name)).join(value);
  }
  return out;
}
