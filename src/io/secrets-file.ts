import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SECRET_KEYS, type SecretKey, type SecretSources } from '../compile/secrets.js';
import { NOT_REGULAR, readRegularFile, TOO_LARGE, type ReadFailure } from './read.js';

/** A file: secret holds one line; anything larger is the wrong file, refused unread. */
export const MAX_SECRET_FILE_BYTES = 4096;
/** The secrets file holds a few lines. */
const MAX_SECRETS_FILE_BYTES = 64 * 1024;

/** The secrets file kept beside lb.yaml: `lb.yaml` → `lb.secrets.yaml`. */
export function secretsFilePath(file: string): string {
  return join(dirname(file), `${basename(file).replace(/\.ya?ml$/i, '')}.secrets.yaml`);
}

/** What went wrong reading a file, in words (for messages). */
export function readFailureReason(err: ReadFailure, limit: number): string {
  switch (err.code) {
    case 'ENOENT':
      return 'it does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of its path is a file, not a directory';
    case NOT_REGULAR:
      return 'it is not a regular file (a device, FIFO, socket or terminal), which lbbake never reads';
    case TOO_LARGE:
      return `it is ${err.size ?? 'more than ' + limit} bytes (at most ${limit})`;
    default:
      return err.code ?? String(err);
  }
}

/**
 * Real secret sources for FILE: the process environment, files beside it (regular files of at
 * most MAX_SECRET_FILE_BYTES, never a device or FIFO), and its secrets file. Problems with the
 * secrets file are diagnostics about that file.
 */
export function secretSources(file: string | undefined, env: NodeJS.ProcessEnv, cwd: string): { sources: SecretSources; diags: Diagnostic[]; store?: string } {
  const diags: Diagnostic[] = [];
  const stored: SecretSources['stored'] = {};
  const store = file === undefined ? undefined : secretsFilePath(file);
  if (store !== undefined) {
    let text: string | undefined;
    try {
      text = readRegularFile(store, MAX_SECRETS_FILE_BYTES).toString('utf8');
    } catch (err) {
      const e = err as ReadFailure;
      if (e.code !== 'ENOENT') {
        diags.push({ severity: 'error', code: 'SECRETS_FILE_INVALID', path: '', file: store, message: `${store} cannot be read: ${readFailureReason(e, MAX_SECRETS_FILE_BYTES)}; fix it, or move it away to have lbbake generate new secrets` });
      }
    }
    if (text !== undefined) {
      if ((statSync(store).mode & 0o077) !== 0) {
        diags.push({ severity: 'warning', code: 'SECRETS_FILE_MODE', path: '', file: store, message: `${store} can be read by other users; chmod 600 ${store}` });
      }
      let data: unknown;
      try {
        data = parseYaml(text);
      } catch {
        data = undefined;
      }
      if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
        diags.push({ severity: 'error', code: 'SECRETS_FILE_INVALID', path: '', file: store, message: `${store} is not a YAML mapping of secrets (vrrpAuthPass: …, statsPassword: …); fix it, or move it away to have lbbake generate new secrets` });
      } else {
        for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
          const v = (data as Record<string, unknown> | null)?.[key];
          if (typeof v === 'string' && v !== '') stored[key] = v;
        }
      }
    }
  }
  const base = file === undefined ? cwd : dirname(file);
  return {
    sources: {
      env,
      readFile: (p, maxBytes = MAX_SECRET_FILE_BYTES) => {
        try {
          return readRegularFile(isAbsolute(p) ? p : join(base, p), maxBytes).toString('utf8');
        } catch (err) {
          throw Object.assign(err as ReadFailure, { reason: readFailureReason(err as ReadFailure, maxBytes) });
        }
      },
      stored,
      storeName: store === undefined ? 'a secrets file' : basename(store),
    },
    diags,
    store,
  };
}
