import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { type Diagnostic, diagnosticsToJson, formatDiagnostic, hasErrors } from '../diagnostics.js';
import { loadFile } from '../load.js';
import type { Model, NodeModel } from '../model.js';
import { compile } from '../pipeline.js';
import { SECRET_KEYS, type SecretKey, type SecretSources } from '../secrets.js';
import { writeFileAtomic } from '../write.js';
import { createHash } from 'node:crypto';
import { seedSha512Crypt, sha512Crypt } from '../crypt.js';
import { statsHashContext } from '../render.js';
import type { Drift } from '../drift.js';

export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, VALIDATOR: 3, INTERNAL: 70 } as const;

/** Everything a command may touch of the outside world (tests pass their own). */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (colour and source excerpts). */
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Wrong flags or arguments: exit 2. */
export class UsageError extends Error {}

/** Options every command shares. */
export interface Common {
  file: string;
  json: boolean;
  strict: boolean;
  color: boolean | undefined;
}

export function useColor(a: Common, io: Io): boolean {
  if (a.color !== undefined) return a.color;
  return io.stderrIsTTY && !io.env.NO_COLOR;
}

/** Prints diagnostics: JSON on stdout with --json, else compiler-style lines on stderr. */
export function report(a: Common, io: Io, diags: Diagnostic[], text: string | undefined): void {
  if (a.json) {
    io.stdout(JSON.stringify(diagnosticsToJson(a.file, diags), null, 2) + '\n');
    return;
  }
  const color = useColor(a, io);
  for (const d of diags) {
    io.stderr(formatDiagnostic(a.file, d, { color, source: io.stderrIsTTY ? text : undefined }) + '\n');
  }
}

/** The secrets file kept beside lb.yaml: `lb.yaml` → `lb.secrets.yaml`. */
export function secretsFilePath(file: string): string {
  return join(dirname(file), `${basename(file).replace(/\.ya?ml$/i, '')}.secrets.yaml`);
}

/** Real secret sources for FILE: the process environment, files beside it, its secrets file. */
function secretSources(file: string, io: Io): { sources: SecretSources; diags: Diagnostic[]; hashCache?: string; exists: boolean } {
  const store = secretsFilePath(file);
  const diags: Diagnostic[] = [];
  const stored: SecretSources['stored'] = {};
  let hashCache: string | undefined;
  const exists = existsSync(store);
  if (exists) {
    try {
      const mode = statSync(store).mode & 0o077;
      if (mode !== 0) {
        diags.push({ severity: 'warning', code: 'SECRETS_FILE_MODE', path: '', message: `${store} can be read by other users; chmod 600 ${store}` });
      }
      const data = parseYaml(readFileSync(store, 'utf8')) as Record<string, unknown> | null;
      for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
        const v = data?.[key];
        if (typeof v === 'string' && v !== '') stored[key] = v;
      }
      if (typeof data?.[HASH_CACHE_KEY] === 'string') hashCache = data[HASH_CACHE_KEY] as string;
    } catch {
      diags.push({ severity: 'error', code: 'SECRETS_FILE_INVALID', path: '', message: `${store} cannot be read as YAML; fix it or delete it to have lbbake generate new secrets` });
    }
  }
  const base = dirname(file);
  return {
    sources: {
      env: io.env,
      readFile: (p) => readFileSync(isAbsolute(p) ? p : join(base, p), 'utf8'),
      stored,
      storeName: basename(store),
    },
    diags,
    hashCache,
    exists,
  };
}

/**
 * The stats password's SHA-512 crypt hash costs ~40 ms (5000 rounds), a large share of a
 * command's run time. The secrets file keeps it, keyed by a fingerprint of the password and its
 * context, so later runs reuse it; a changed password or user simply misses the cache.
 */
const HASH_CACHE_KEY = 'statsPasswordHash';

function hashFingerprint(m: Model, password: string): string {
  return createHash('sha256').update(`lbbake-hash-cache\0${statsHashContext(m)}\0${password}`).digest('hex').slice(0, 32);
}

/**
 * Loads and compiles FILE and prints its diagnostics. Returns the model, or the exit code
 * (1) when there are errors, or warnings under --strict. With `keepSecrets`, secrets generated
 * in this run are written to the secrets file beside FILE (0600) so later runs reuse them.
 */
export function loadModel(a: Common, io: Io, opts: { quiet?: boolean; keepSecrets?: boolean } = {}): Model | number {
  const loaded = loadFile(a.file);
  let diags: Diagnostic[];
  let model: Model | undefined;
  let text: string | undefined;
  if (!loaded.ok) {
    diags = [loaded.diagnostic];
    report(a, io, diags, text);
  } else {
    text = loaded.text;
    const { sources, diags: storeDiags, hashCache, exists } = secretSources(a.file, io);
    const res = hasErrors(storeDiags) ? undefined : compile(loaded.text, sources);
    diags = [...storeDiags, ...(res?.diagnostics ?? [])];
    model = res?.model;
    if (!opts.quiet || hasErrors(diags) || a.strict) report(a, io, diags, text);
    if (res?.model) {
      const m = res.model;
      const pw = m.stats.enabled ? m.stats.password : undefined;
      const fp = pw === undefined ? undefined : hashFingerprint(m, pw);
      const cached = fp && hashCache?.startsWith(`${fp} `) ? hashCache.slice(fp.length + 1) : undefined;
      if (pw !== undefined && cached) seedSha512Crypt(pw, statsHashContext(m), cached);
      const generated = Object.keys(res.generatedSecrets).length > 0;
      // write the file when secrets were generated, or (only if it exists) to refresh the hash cache
      if (opts.keepSecrets && (generated || (exists && fp && !cached))) {
        const store = secretsFilePath(a.file);
        const all: Record<string, string> = { ...sources.stored, ...res.generatedSecrets };
        if (pw !== undefined && fp) all[HASH_CACHE_KEY] = `${fp} ${sha512Crypt(pw, statsHashContext(m))}`;
        writeFileAtomic(store, `# secrets generated by lbbake for ${m.name}; keep this file private (mode 0600), out of git\n${stringify(all, { lineWidth: 0 })}`, 0o600);
        if (!a.json && generated) io.stderr(`lbbake: generated ${Object.keys(res.generatedSecrets).map((k) => SECRET_KEYS[k as SecretKey].what).join(' and ')} into ${store} (0600); keep it, out of git\n`);
      }
    }
  }
  const failed = hasErrors(diags) || (a.strict && diags.length > 0);
  if (failed || !model) return EXIT.INVALID;
  return model;
}

export function findNode(m: Model, name: string): NodeModel {
  const node = m.nodes.find((n) => n.name === name);
  if (!node) throw new UsageError(`--node ${name}: no such node in ${m.name}; nodes are ${m.nodes.map((n) => n.name).join(', ')}`);
  return node;
}

/** Prints `--check` results: diffs on stdout, a summary on stderr. Exit 1 when anything drifted. */
export function reportDrift(drifts: Drift[], io: Io): number {
  for (const d of drifts) io.stdout(d.diff);
  if (drifts.length === 0) {
    io.stderr('lbbake: up to date\n');
    return EXIT.OK;
  }
  io.stderr(`lbbake: ${drifts.length} file(s) differ from what lb.yaml generates: ${drifts.map((d) => d.path).join(', ')}; regenerate them (run the same command without --check) and commit the result\n`);
  return EXIT.INVALID;
}

/**
 * `--verify`: runs the real validators on generated files before anything is written. Returns
 * EXIT.VALIDATOR (3) when a tool rejected a file, else undefined. Tools that are missing or need
 * root are reported as not checked.
 */
export async function verifyOrFail(files: Map<string, string>, m: Model, io: Io): Promise<number | undefined> {
  const { verifyFiles } = await import('../verify.js');
  const findings = verifyFiles(files, { interfaces: [m.vip.interface] });
  let failed = false;
  for (const f of findings) {
    if (f.skipped) io.stderr(`lbbake: not verified: ${f.file} with ${f.tool} (${f.skipped})\n`);
    else if (!f.ok) {
      failed = true;
      io.stderr(`lbbake: ${f.tool} rejected generated ${f.file}:\n${f.output.trim()}\n`);
    } else io.stderr(`lbbake: verified ${f.file} with ${f.tool}\n`);
  }
  if (failed) {
    io.stderr('lbbake: nothing was written. This is most likely a bug in lbbake; please report it with your lb.yaml (secrets removed).\n');
    return EXIT.VALIDATOR;
  }
  return undefined;
}
