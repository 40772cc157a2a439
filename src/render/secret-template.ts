/**
 * Where the secrets are in generated text, found by rendering once more with dummy secrets:
 * `--verify` checks files rendered with dummy secrets (no real secret reaches a validator or
 * its output), and `--check` compares committed output with secrets masked, so it never prints
 * a secret and works on a fresh clone whose secrets file (git-ignored) is absent. Pure.
 */
import type { Model } from '../compile/model.js';
import { pemName, pemServices, SECRET_PATTERNS, secretPattern, secretValues } from './agent-secrets.js';

/** Dummy secrets of the real ones' shape (the auth pass alphabet, a stats password). */
export const DUMMY_AUTH_PASS = 'Dq7Xw3Jz';
export const DUMMY_STATS_PASSWORD = 'lbbake-dummy-stats-password';

/**
 * A stand-in for health.clientCert where files are checked (--verify, the Packer build's check):
 * a self-signed certificate and key (CN lbbake-dummy-not-a-secret, valid until 2126) that haproxy
 * loads. Public by design; it never reaches a node's real files.
 */
export const DUMMY_CLIENT_PEM = `-----BEGIN CERTIFICATE-----
MIIBoDCCAUWgAwIBAgIUI+A65p5aT9JuSayhak02MbaQGU4wCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZbGJiYWtlLWR1bW15LW5vdC1hLXNlY3JldDAgFw0yNjEyMDYx
ODEyNTNaGA8yMTI2MTExMjE4MTI1M1owJDEiMCAGA1UEAwwZbGJiYWtlLWR1bW15
LW5vdC1hLXNlY3JldDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABL5BX2Ud875O
f883e+jm3q4r2ZLqk4a8/zuip57Vc8jgsH9FISRUgQ/klb06AmLmOXaJ82MMGClH
Po3VbaXrHvajUzBRMB0GA1UdDgQWBBRLafpOeMu0NDoM7mzUIDfHb3qCtDAfBgNV
HSMEGDAWgBRLafpOeMu0NDoM7mzUIDfHb3qCtDAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0kAMEYCIQCVu6/vCpx0pqNcUpFMcz5Co0/CR2E1TquiKJ9hNrGR
8QIhALmWa7Mf2UwpeBL81tRaZ9HUsQS5kq0iaWiA2abMaeGj
-----END CERTIFICATE-----
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOCuxVKaLPH+VGbRP
63zo+HH6pPdAEjcxrZHDUJtpbNKhRANCAAS+QV9lHfO+Tn/PN3vo5t6uK9mS6pOG
vP87oqee1XPI4LB/RSEkVIEP5JW9OgJi5jl2ifNjDBgpRz6N1W2l6x72
-----END PRIVATE KEY-----
`;

/** The model with every secret replaced by a dummy of the same kind (render guards them as usual). */
export function dummySecretsModel(m: Model): Model {
  return {
    ...m,
    vrrp: { ...m.vrrp, authPass: m.vrrp.authPass === undefined ? undefined : DUMMY_AUTH_PASS },
    stats: m.stats.enabled && m.stats.password !== undefined ? { ...m.stats, password: DUMMY_STATS_PASSWORD } : m.stats,
    services: m.services.map((s) => (s.health.client ? { ...s, health: { ...s.health, client: { ...s.health.client, pem: DUMMY_CLIENT_PEM } } } : s)),
  };
}

/** What a masked value is called, and what it may look like (a regex source). */
export interface Slot {
  /** Shown in diffs instead of the value, e.g. `<secret vrrp_auth_pass>`. */
  label: string;
  pattern: string;
  /** A real secret (else a value derived from the content, like a MIME boundary). */
  secret: boolean;
  /** Longest value (default 512 characters): matching tries every length up to it. */
  maxLength?: number;
}

export const SECRET_SLOTS: Readonly<Record<string, Slot>> = {
  vrrp_auth_pass: { label: '<secret: VRRP auth pass>', pattern: SECRET_PATTERNS.vrrp_auth_pass, secret: true },
  stats_password_hash: { label: '<secret: stats password hash>', pattern: SECRET_PATTERNS.stats_password_hash, secret: true },
};

/** The slots of a model's secrets: the fixed ones and each client PEM (health.clientCert). */
export function secretSlots(m: Model): Record<string, Slot> {
  const out: Record<string, Slot> = { ...SECRET_SLOTS };
  for (const i of pemServices(m)) {
    out[pemName(i)] = { label: `<secret: client certificate and key of ${m.services[i].name}>`, pattern: secretPattern(pemName(i)), secret: true, maxLength: 65536 };
  }
  return out;
}

/** A generated text with its secret values cut out: `parts` interleave literal text and slot names. */
export interface SecretTemplate {
  /** parts[0] slot[0] parts[1] slot[1] … parts[n] */
  parts: string[];
  slots: string[];
  /** The real value of each slot name. */
  values: Record<string, string>;
  defs: Record<string, Slot>;
}

/**
 * The template of `real` (the text rendered from the model), from `dummy` (the same text
 * rendered from dummySecretsModel): every dummy value becomes a slot. `extra` adds derived
 * values (name → [real, dummy, slot]). Undefined when filling the slots with the real values
 * does not give `real` back (the text cannot be masked reliably).
 */
export function secretTemplate(m: Model, real: string, dummy: string, extra: Record<string, [string, string, Slot]> = {}): SecretTemplate | undefined {
  const realValues = { ...secretValues(m) } as Record<string, string>;
  const dummyValues = { ...secretValues(dummySecretsModel(m)) } as Record<string, string>;
  const defs: Record<string, Slot> = secretSlots(m);
  for (const [name, [r, d, slot]] of Object.entries(extra)) {
    realValues[name] = r;
    dummyValues[name] = d;
    defs[name] = slot;
  }
  const names = Object.keys(dummyValues).filter((n) => dummyValues[n] !== '' && realValues[n] !== undefined);
  if (names.length === 0) return real === dummy ? { parts: [real], slots: [], values: {}, defs } : undefined;
  // cut the dummy text at each occurrence of a dummy value (the longer one where two start together)
  const parts: string[] = [];
  const slots: string[] = [];
  let pos = 0;
  for (;;) {
    let best: { at: number; name: string } | undefined;
    for (const name of names) {
      const at = dummy.indexOf(dummyValues[name], pos);
      if (at >= 0 && (!best || at < best.at || (at === best.at && dummyValues[name].length > dummyValues[best.name].length))) best = { at, name };
    }
    if (!best) break;
    parts.push(dummy.slice(pos, best.at));
    slots.push(best.name);
    pos = best.at + dummyValues[best.name].length;
  }
  parts.push(dummy.slice(pos));
  const t: SecretTemplate = { parts, slots, values: realValues, defs };
  return fill(t, realValues) === real ? t : undefined;
}

/** The template's text with each slot filled from `values`. */
export function fill(t: SecretTemplate, values: Record<string, string>): string {
  let out = t.parts[0];
  for (let i = 0; i < t.slots.length; i++) out += (values[t.slots[i]] ?? '') + t.parts[i + 1];
  return out;
}

/** The template's text with each slot shown by its label (for diffs). */
export function display(t: SecretTemplate): string {
  return fill(t, Object.fromEntries(Object.entries(t.defs).map(([k, s]) => [k, s.label])));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The slot values a text has when it equals the template everywhere but in the slots (the
 * same slot the same value throughout, each value matching its slot's pattern), else undefined.
 * A plain scan, not one regex: a 40 KB user-data is beyond the regex engine's size limit.
 */
export function matchTemplate(t: SecretTemplate, text: string): Record<string, string> | undefined {
  if (!text.startsWith(t.parts[0])) return undefined;
  const full = Object.fromEntries(Object.entries(t.defs).map(([k, d]) => [k, new RegExp(`^(?:${d.pattern})$`)]));
  const found: Record<string, string> = {};
  const step = (i: number, pos: number): boolean => {
    if (i === t.slots.length) return pos === text.length;
    const name = t.slots[i];
    const next = t.parts[i + 1];
    const known = found[name];
    if (known !== undefined) return text.startsWith(known + next, pos) && step(i + 1, pos + known.length + next.length);
    // candidate values: every length at which the next literal text follows (shortest first)
    const max = t.defs[name]?.maxLength ?? 512;
    for (let at = text.indexOf(next, pos); at >= 0 && at - pos <= max; at = text.indexOf(next, at + 1)) {
      const v = text.slice(pos, at);
      if (!full[name]?.test(v)) continue;
      found[name] = v;
      if (step(i + 1, at + next.length)) return true;
      delete found[name];
      if (next === '') break;
    }
    return false;
  };
  return step(0, t.parts[0].length) ? found : undefined;
}

/**
 * `text` with anything that may be a secret replaced by a label, for printing a diff of a
 * committed file whose secrets are unknown: lines that equal a template line but for its
 * slots, then every shape a secret takes in lbbake's output (crypt hashes, auth_pass, the
 * secrets JSON), then any of the known real values.
 */
export function maskUnknown(text: string, t?: SecretTemplate): string {
  const lines = text.split('\n');
  if (t) {
    const shown = display(t).split('\n');
    const withSlots = new Map<string, RegExp>();
    const tpl = fill(t, Object.fromEntries(Object.keys(t.defs).map((k) => [k, `\0${k}\0`]))).split('\n');
    tpl.forEach((line, i) => {
      if (!line.includes('\0')) return;
      const src = line
        .split(/\0([^\0]*)\0/)
        .map((piece, j) => (j % 2 === 1 ? `(?:${t.defs[piece]?.pattern ?? '.*'})` : escapeRe(piece)))
        .join('');
      withSlots.set(shown[i], new RegExp(`^${src}$`));
    });
    for (let i = 0; i < lines.length; i++) {
      for (const [label, re] of withSlots) {
        if (re.test(lines[i])) {
          lines[i] = label;
          break;
        }
      }
    }
  }
  let out = lines.join('\n');
  out = out.replace(/\$(1|5|6|2[aby]|y)\$[^\s"':]+/g, '<secret: password hash>');
  // (the agent's placeholders, @@LBBAKE_SECRET_…@@, are no secrets)
  out = out.replace(/(auth_pass\s+)(?!"?@@LBBAKE_SECRET_)("[^"\n]*"|\S+)/g, '$1"<secret: VRRP auth pass>"');
  out = out.replace(/("(?:vrrp_auth_pass|stats_password_hash)"\s*:\s*)"[^"\n]*"/g, '$1"<secret>"');
  out = out.replace(/((?:vrrpAuthPass|statsPassword)\s*:\s*)\S[^\n]*/g, '$1<secret>');
  if (t) {
    for (const [name, v] of Object.entries(t.values)) {
      if (t.defs[name]?.secret && v.length >= 4) out = out.split(v).join(t.defs[name].label);
    }
  }
  return out;
}
