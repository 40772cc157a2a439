import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { type Code, type Diagnostic, escapePointerToken, pointerSegments } from '../diagnostics/diagnostic.js';
import { SCHEMA_PATH } from '../io/paths.js';
import { ajvOptions, IPV4_SOURCE } from './schema-options.js';

const require = createRequire(import.meta.url);

type JsonSchema = Record<string, unknown>;

let cached: { validate: ValidateFunction; schema: JsonSchema; precompiled: boolean } | undefined;

/** The JSON Schema the validator uses: the very file shipped at schema/lb.schema.json. */
export function loadSchema(): JsonSchema {
  return compiled().schema;
}

/** Whether the validator in use is the build-time precompiled one (same schema, by sha256). */
export function usesPrecompiledValidator(): boolean {
  return compiled().precompiled;
}

function compiled() {
  if (!cached) {
    const text = readFileSync(SCHEMA_PATH, 'utf8');
    const schema = JSON.parse(text) as JsonSchema;
    cached = precompiled(text, schema) ?? { validate: compileWithAjv(schema), schema, precompiled: false };
  }
  return cached;
}

/**
 * The validator scripts/gen-validator.mjs generated at build time, if its schema hash matches
 * the shipped schema: saves loading ajv and compiling the schema on every run.
 */
function precompiled(text: string, schema: JsonSchema) {
  let mod: (ValidateFunction & { schemaSha256?: string; default?: ValidateFunction }) | undefined;
  try {
    mod = require('../generated/schema-validate.cjs');
  } catch {
    return undefined; // running from src/ (tests) or a build without it
  }
  const hash = createHash('sha256').update(text).digest('hex');
  if (!mod || mod.schemaSha256 !== hash) return undefined;
  return { validate: (mod.default ?? mod) as ValidateFunction, schema, precompiled: true };
}

function compileWithAjv(schema: JsonSchema): ValidateFunction {
  // ajv ships CommonJS with a default export
  const Ajv = (require('ajv') as { default: typeof import('ajv').default }).default;
  const ajv = new Ajv({ ...ajvOptions });
  ajv.addFormat('ipv4', IPV4);
  ajv.addKeyword({ keyword: 'x-fix', schemaType: 'string' });
  return ajv.compile(schema);
}

const IPV4 = new RegExp(IPV4_SOURCE);

/** Diagnostic codes whose pointer names a key (line:col of the key, not its value). */
export const KEY_CODES: ReadonlySet<string> = new Set(['UNKNOWN_KEY']);

/** Checks the shape of lb.yaml against the JSON Schema; returns every problem at once. */
export function checkSchema(data: unknown): Diagnostic[] {
  const { validate, schema } = compiled();
  if (validate(data)) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    const d = toDiagnostic(e, schema, data);
    if (!d) continue;
    const key = `${d.code} ${d.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

function subschema(schema: JsonSchema, schemaPath: string): JsonSchema | undefined {
  // schemaPath is like '#/properties/vrrp/properties/routerId/maximum'; drop the keyword.
  const parts = schemaPath.replace(/^#\//, '').split('/').slice(0, -1);
  let cur: unknown = schema;
  for (const p of parts) cur = (cur as Record<string, unknown> | undefined)?.[p];
  return cur as JsonSchema | undefined;
}

function valueAt(data: unknown, ptr: string): unknown {
  let cur = data;
  for (const seg of pointerSegments(ptr)) cur = (cur as Record<string, unknown> | undefined)?.[seg];
  return cur;
}

/** Values at these pointers are secrets: never echoed in a message. */
const SECRET_PATHS = new Set(['/vrrp/auth/pass', '/stats/password']);

/** Longest value echoed in a message; longer ones are cut and their length given. */
const MAX_SHOWN = 80;

/** A value as a message shows it: JSON, YAML's own words for .inf/.nan, at most MAX_SHOWN characters. */
export function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  if (typeof v === 'string' && v.length > MAX_SHOWN) return `${JSON.stringify(v.slice(0, MAX_SHOWN - 20))}… (${v.length} characters)`;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 20)}… (${text.length} characters)` : text;
}

function fieldName(ptr: string): string {
  const last = ptr.split('/').pop() ?? '';
  return /^\d+$/.test(last) ? ptr.split('/').slice(-2).join('/') : last;
}

function toDiagnostic(e: ErrorObject, schema: JsonSchema, data: unknown): Diagnostic | undefined {
  const sub = subschema(schema, e.schemaPath) ?? {};
  const desc = typeof sub.description === 'string' ? ` (${sub.description})` : '';
  const path = e.instancePath;
  const value = SECRET_PATHS.has(path) ? '(secret value not shown)' : valueAt(data, path);
  const err = (code: Code, p: string, message: string): Diagnostic => ({ severity: 'error', code, path: p, message });
  switch (e.keyword) {
    case 'if':
      // "must match then schema": the errors inside the then-branch say what is wrong
      return undefined;
    case 'false schema':
      // a key that only some choices take (vip.cloud keys per provider)
      return err('UNKNOWN_KEY', path, `${fieldName(path)} does not apply to this ${path.startsWith('/vip/cloud/') ? 'vip.cloud.provider' : 'choice'} (the config reference says which it is for); remove it`);
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((sub.properties as object | undefined) ?? {}).filter((k) => k !== '$schema');
      const near = closest(key, allowed);
      return err(
        'UNKNOWN_KEY',
        `${path}/${escapePointerToken(key)}`,
        `unknown key ${show(key)}; ${near ? `did you mean ${show(near)}? ` : ''}allowed here: ${allowed.join(', ')}`,
      );
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      const prop = (sub.properties as Record<string, JsonSchema> | undefined)?.[key];
      const pdesc = typeof prop?.description === 'string' ? ` (${prop.description})` : '';
      return err('MISSING_KEY', path, `missing required key ${show(key)}${pdesc}; add it here`);
    }
    case 'type': {
      const want = yamlType((e.params as { type: string }).type);
      if (path === '') {
        const what = value === null || value === undefined ? 'the file is empty' : `it is ${typeOf(value)}`;
        return err('WRONG_TYPE', path, `lb.yaml must be a mapping of keys (version: 1, name: …, vip: …); ${what}. Start from lbbake init`);
      }
      const shown = value === null ? 'nothing (null)' : `${typeOf(value)} ${show(value)}`;
      return err('WRONG_TYPE', path, `${fieldName(path)} must be ${want}, not ${shown}${desc}`);
    }
    case 'const':
      if (path === '/version') {
        return err('UNSUPPORTED_VERSION', path, `unsupported spec version ${show(value)}; this lbbake reads version: 1`);
      }
      return err('BAD_VALUE', path, `must be ${show((e.params as { allowedValue: unknown }).allowedValue)}`);
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      return err('BAD_VALUE', path, `${show(value)} is not allowed; use one of ${allowed.map(show).join(', ')}`);
    }
    case 'format':
      if ((e.params as { format: string }).format === 'ipv4') {
        return err('BAD_IPV4', path, `${show(value)} is not an IPv4 address; write four numbers 0..255 like 10.0.0.10 (no prefix, no hostname)`);
      }
      return err('BAD_VALUE', path, `${show(value)} has the wrong format${desc}`);
    case 'pattern':
      return err('BAD_STRING', path, `${show(value)} cannot be used for ${fieldName(path)}: ${typeof sub['x-fix'] === 'string' ? sub['x-fix'] : 'see the schema'}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const range = rangeText(sub);
      const code = /port$/i.test(path) ? 'BAD_PORT' : 'OUT_OF_RANGE';
      return err(code, path, `${show(value)} is out of range; use ${range}${desc}`);
    }
    case 'minItems':
    case 'maxItems':
      return err('BAD_COUNT', path, `${fieldName(path)} ${e.message}${desc}`);
    case 'minLength':
    case 'maxLength':
      return err('BAD_LENGTH', path, `${fieldName(path)} ${e.message}`);
    default:
      return err('SCHEMA', path, `${e.message ?? 'invalid'}${desc}`);
  }
}

function rangeText(sub: JsonSchema): string {
  const lo = sub.minimum ?? (sub.exclusiveMinimum !== undefined ? `more than ${sub.exclusiveMinimum}` : undefined);
  const hi = sub.maximum;
  if (typeof lo === 'number' && hi !== undefined) return `${lo}..${hi}`;
  if (lo !== undefined && hi !== undefined) return `${lo} and at most ${hi}`;
  return lo !== undefined ? `at least ${lo}` : `at most ${hi}`;
}

/** JSON Schema type names in YAML words, with an article. */
function yamlType(t: string): string {
  if (t === 'object') return 'a mapping';
  if (t === 'array') return 'a list';
  return article(t);
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'the not-a-number' : 'the infinite number';
  if (typeof v === 'number' && !Number.isInteger(v)) return 'the fraction';
  return `the ${typeof v}`;
}

/** The allowed key closest to a misspelt one (edit distance ≤ 2), if any. */
function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}
