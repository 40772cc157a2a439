import { createHash, randomInt } from 'node:crypto';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { LbInput } from './model.js';
import { AUTH_PASS_MAX, SECRET_ALPHABET } from '../facts/alphabets.js';
import { vrrpVersion } from './normalize.js';

/** The secrets lbbake knows, by their key in the secrets file. */
export const SECRET_KEYS = {
  vrrpAuthPass: { path: '/vrrp/auth/pass', length: AUTH_PASS_MAX, what: 'VRRP auth pass', envExample: 'VRRP_PASS', fileExample: 'vrrp-pass.txt' },
  statsPassword: { path: '/stats/password', length: 24, what: 'stats password', envExample: 'STATS_PASSWORD', fileExample: 'stats-password.txt' },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

/** A POSIX environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where secret values come from; the CLI edge supplies real IO, tests supply maps. */
export interface SecretSources {
  env: Record<string, string | undefined>;
  /**
   * Reads a file:PATH reference (PATH relative to lb.yaml's folder), at most maxBytes (default:
   * the limit of a one-line secret); throws on failure (with `reason` in words when known).
   */
  readFile(path: string, maxBytes?: number): string;
  /** Values kept in the secrets file beside lb.yaml from earlier runs. */
  stored: Partial<Record<SecretKey, string>>;
  /** Name of the secrets file, for messages. */
  storeName: string;
  /** Makes a new value; default: strong random (generateSecret). */
  generate?(key: SecretKey, length: number): string;
}

/**
 * Sources with no IO, for library use and tests: no environment, no files, and generated values
 * derived from the cluster name, so output is reproducible. NOT secret: the CLI never uses them.
 */
export function deterministicSources(seed: string): SecretSources {
  return {
    env: {},
    readFile: (p) => {
      throw Object.assign(new Error(`no file access: ${p}`), { code: 'ENOTSUP' });
    },
    stored: {},
    storeName: 'the secrets file',
    generate: (key, length) => createHash('sha256').update(`lbbake-test-secret:${seed}:${key}`).digest('base64url').replace(/[-_]/g, 'x').slice(0, length),
  };
}

export interface ResolvedSecrets {
  input: LbInput;
  diagnostics: Diagnostic[];
  /** Values generated in this run, to be kept in the secrets file. */
  generated: Partial<Record<SecretKey, string>>;
}

/** A strong random value from an unambiguous alphabet (uniform: randomInt, no modulo bias). */
export function generateSecret(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)];
  return s;
}

/**
 * Replaces `env:NAME` / `file:PATH` references with their values and fills absent secrets
 * (VRRP auth with VRRP version 2; the stats password when the stats page is on) from the
 * secrets file or a newly generated value. Inline values get a SECRET_INLINE warning.
 * Diagnostics never contain a secret value.
 */
export function resolveSecrets(input: LbInput, src: SecretSources): ResolvedSecrets {
  const diagnostics: Diagnostic[] = [];
  const generated: ResolvedSecrets['generated'] = {};
  const out: LbInput = structuredClone(input);

  const resolve = (key: SecretKey, given: string | undefined): string | undefined => {
    const meta = SECRET_KEYS[key];
    if (given === undefined) {
      const kept = src.stored[key];
      if (kept !== undefined) return kept;
      const fresh = src.generate ? src.generate(key, meta.length) : generateSecret(meta.length);
      generated[key] = fresh;
      return fresh;
    }
    if (given.startsWith('env:')) {
      const name = given.slice(4);
      if (!ENV_NAME.test(name)) {
        diagnostics.push({
          severity: 'error',
          code: 'SECRET_REF_INVALID',
          path: meta.path,
          message: name === '' ? `env: needs the name of an environment variable, e.g. env:${meta.envExample}` : `env:${name.length > 40 ? name.slice(0, 40) + '…' : name} is not an environment variable name (letters, digits and _, not starting with a digit), e.g. env:${meta.envExample}`,
        });
        return undefined;
      }
      const v = src.env[name];
      if (v === undefined || v === '') {
        diagnostics.push({ severity: 'error', code: 'SECRET_ENV_MISSING', path: meta.path, message: `environment variable ${name} is not set or empty; export it before running lbbake, or remove the reference to have lbbake generate the ${meta.what}` });
        return undefined;
      }
      return v;
    }
    if (given.startsWith('file:')) {
      const path = given.slice(5);
      if (path === '') {
        diagnostics.push({ severity: 'error', code: 'SECRET_REF_INVALID', path: meta.path, message: `file: needs a path (relative to lb.yaml), e.g. file:${meta.fileExample}` });
        return undefined;
      }
      try {
        return src.readFile(path).replace(/\r?\n$/, '');
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { reason?: string };
        const reason = e.reason ?? e.code ?? 'error';
        diagnostics.push({ severity: 'error', code: 'SECRET_FILE_UNREADABLE', path: meta.path, message: `cannot read file:${path}: ${reason}; a file: secret is a regular file with one line (mode 0600), its path relative to lb.yaml` });
        return undefined;
      }
    }
    diagnostics.push({ severity: 'warning', code: 'SECRET_INLINE', path: meta.path, message: `the ${meta.what} is written in lb.yaml, where it ends up in git and reviews; use env:NAME or file:PATH, or leave it out and lbbake generates one into ${src.storeName}` });
    return given;
  };

  out.services.forEach((svc, i) => {
    const cc = svc.health?.clientCert;
    if (!cc) return;
    const cert = readPem(src, cc.cert, `/services/${i}/health/clientCert/cert`, 'cert', diagnostics);
    const key = readPem(src, cc.key, `/services/${i}/health/clientCert/key`, 'key', diagnostics);
    if (cert !== undefined && key !== undefined) svc.health = { ...svc.health, clientCert: { cert, key } };
  });

  // VRRPv3 has no authentication: a pass is resolved (or generated) only for VRRPv2
  if (vrrpVersion(out.vrrp) === 2) {
    const v = resolve('vrrpAuthPass', out.vrrp.auth?.pass);
    if (v !== undefined) out.vrrp.auth = { pass: v };
  }
  const stats = out.stats ?? {};
  if (stats.enabled !== false) {
    const v = resolve('statsPassword', stats.password);
    if (v !== undefined) out.stats = { ...stats, password: v };
  }
  return { input: out, diagnostics, generated };
}

/** Most bytes a PEM file of health.clientCert may have (a certificate chain and its key fit easily). */
export const MAX_PEM_BYTES = 64 * 1024;

/** One or more PEM certificates, nothing else (whitespace between them allowed). */
export const PEM_CERTS = /^(?:\s*-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;
/** One unencrypted PEM private key (PKCS#8, EC or RSA). */
export const PEM_KEY = /^\s*-----BEGIN ((?:EC |RSA )?)PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1PRIVATE KEY-----\s*$/;

/**
 * Reads a file: PEM of health.clientCert and checks its shape: certificates only, or one
 * unencrypted private key (haproxy cannot ask for a passphrase). Returns the text with LF line
 * ends and one final newline; undefined after reporting a diagnostic (never with the content).
 */
function readPem(src: SecretSources, ref: string, path: string, what: 'cert' | 'key', diagnostics: Diagnostic[]): string | undefined {
  const file = ref.slice('file:'.length);
  let text: string;
  try {
    text = src.readFile(file, MAX_PEM_BYTES);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reason?: string };
    diagnostics.push({ severity: 'error', code: 'SECRET_FILE_UNREADABLE', path, message: `cannot read ${ref}: ${e.reason ?? e.code ?? 'error'}; give the PEM ${what === 'cert' ? 'certificate' : 'private key'} as file:PATH relative to lb.yaml` });
    return undefined;
  }
  const ok = what === 'cert' ? PEM_CERTS.test(text) : PEM_KEY.test(text);
  if (!ok) {
    const encrypted = what === 'key' && /ENCRYPTED/.test(text);
    diagnostics.push({
      severity: 'error',
      code: 'HEALTH_CERT_INVALID',
      path,
      message: what === 'cert'
        ? `${ref} is not a PEM certificate (-----BEGIN CERTIFICATE----- …); give the client certificate the cluster's CA signed (a chain may follow it)`
        : encrypted
          ? `${ref} is an encrypted private key, which haproxy cannot load unattended; decrypt it (openssl pkey -in KEY -out KEY.plain) and keep that file at mode 0600`
          : `${ref} is not a PEM private key (-----BEGIN PRIVATE KEY----- …); give the key of the client certificate`,
    });
    return undefined;
  }
  // each block as BEGIN line, base64 lines, END line (LF): the shape the boot agent accepts
  return [...text.matchAll(/-----BEGIN ([A-Z ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g)]
    .map((b) => `-----BEGIN ${b[1]}-----\n${b[2].split(/\r?\n/).filter(Boolean).join('\n')}\n-----END ${b[1]}-----\n`)
    .join('');
}
