import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Model } from '../compile/model.js';
import { SECRET_KEYS, type SecretKey, type SecretSources } from '../compile/secrets.js';
import { statsHashContext } from '../render/node.js';

/** The secrets file kept beside lb.yaml: `lb.yaml` → `lb.secrets.yaml`. */
export function secretsFilePath(file: string): string {
  return join(dirname(file), `${basename(file).replace(/\.ya?ml$/i, '')}.secrets.yaml`);
}

/** Real secret sources for FILE: the process environment, files beside it, its secrets file. */
export function secretSources(file: string, env: NodeJS.ProcessEnv): { sources: SecretSources; diags: Diagnostic[]; hashCache?: string; exists: boolean } {
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
      env,
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
export const HASH_CACHE_KEY = 'statsPasswordHash';

export function hashFingerprint(m: Model, password: string): string {
  return createHash('sha256').update(`lbbake-hash-cache\0${statsHashContext(m)}\0${password}`).digest('hex').slice(0, 32);
}
