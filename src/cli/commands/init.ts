import { existsSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import type { Argv } from 'yargs';
import { parse, stringify } from 'yaml';
import { secretsFilePath } from '../../io/secrets-file.js';
import { readRegularFile } from '../../io/read.js';
import { formatDiagnostic, hasErrors } from '../../diagnostics/diagnostic.js';
import { defaultStarter, renderStarter, starterFromEnv } from '../../render/starter.js';
import { SCHEMA_PATH } from '../../io/paths.js';
import { compile } from '../../compile/compile.js';
import { generateSecret } from '../../compile/secrets.js';
import { AUTH_PASS_MAX } from '../../facts/alphabets.js';
import { writeFileAtomic } from '../../io/write.js';
import { type Io } from '../common.js';
import { EXIT, InternalError, UsageError } from '../../diagnostics/errors.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', default: 'lb.yaml', describe: 'file to create' })
    .option('from-env', { type: 'boolean', default: false, describe: 'use K8SHA_VIP, K8SHA_KA_AUTH, K8SHA_NETIF, K8S_MASTER0.. (and LBBAKE_NODE0..) from the environment' })
    .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing file' })
    .option('schema', { type: 'string', describe: 'schema reference for the yaml-language-server line (default: path to the installed schema)' });

/**
 * The `$schema` reference written into the starter: the schema of the running lbbake, as a
 * path relative to the new file when the file is inside the project that installed lbbake
 * (`npm i -D lbbake` gives node_modules/lbbake/schema/lb.schema.json, the same on every
 * checkout) or inside an lbbake checkout; else the absolute path (a global install).
 */
export function defaultSchemaRef(file: string, schemaPath = SCHEMA_PATH): string {
  const pkgRoot = dirname(dirname(schemaPath));
  const project = basename(dirname(pkgRoot)) === 'node_modules' ? dirname(dirname(pkgRoot)) : pkgRoot;
  const abs = resolve(file);
  if (!abs.startsWith(project + sep)) return schemaPath;
  return relative(dirname(abs), schemaPath).split(sep).join('/');
}

/** 8 random characters keepalived.conf can carry (letters and digits, unbiased). */
const randomPass = (): string => generateSecret(AUTH_PASS_MAX);

export function handler(a: { file: string; fromEnv: boolean; force: boolean; schema?: string }, io: Io): number {
  const file = resolve(io.cwd, a.file);
  if (existsSync(file) && !a.force) throw new UsageError(`${a.file} already exists; pass --force to overwrite it`);
  const store = secretsFilePath(file);
  let starter = defaultStarter();
  let authPass: string | undefined;
  if (a.fromEnv) {
    const r = starterFromEnv(io.env, randomPass, basename(store));
    for (const e of r.errors) io.stderr(`lbbake init: error: ${e.variable} ${e.what}\n`);
    if (!r.starter) return EXIT.INVALID;
    starter = r.starter;
    authPass = r.authPass;
    io.stderr(`lbbake init: taken over from the guide's variables, with these changes:\n`);
    for (const c of r.changes) io.stderr(`  - ${c.variable}: ${c.what}\n`);
  }
  const text = renderStarter(starter, a.schema ?? defaultSchemaRef(file));
  const check = compile(text);
  if (hasErrors(check.diagnostics)) {
    const detail = check.diagnostics.map((d) => formatDiagnostic(a.file, d)).join('\n');
    // values from the environment are the user's input; the plain starter is lbbake's own
    if (a.fromEnv) {
      io.stderr(`lbbake init: error: the variables do not make a valid lb.yaml (nothing written):\n${detail}\n`);
      return EXIT.INVALID;
    }
    throw new InternalError(`init produced an invalid lb.yaml:\n${detail}`);
  }
  if (authPass !== undefined) {
    // beside lb.yaml, where every lbbake command looks for it (0600; *.secrets.yaml is git-ignored)
    let kept: Record<string, unknown> = {};
    if (existsSync(store)) {
      let old: unknown;
      try {
        old = parse(readRegularFile(store, 64 * 1024).toString('utf8'));
      } catch {
        old = undefined;
      }
      if (old === null || typeof old !== 'object' || Array.isArray(old)) {
        io.stderr(`lbbake init: error: ${basename(store)} exists but is not a readable YAML mapping of secrets; move it away and rerun (nothing written)\n`);
        return EXIT.INVALID;
      }
      kept = old as Record<string, unknown>;
    }
    writeFileAtomic(store, `# secrets for ${starter.input.name}, from lbbake init --from-env; keep this file private (mode 0600), out of git\n${stringify({ ...kept, vrrpAuthPass: authPass }, { lineWidth: 0 })}`, 0o600);
  }
  writeFileAtomic(file, text, 0o644);
  const warnings = check.diagnostics.length;
  io.stderr(`wrote ${a.file}${authPass !== undefined ? ` and ${basename(store)}` : ''}${warnings ? ` (${warnings} warnings: run lbbake validate ${a.file})` : ''}; next: lbbake explain ${a.file}\n`);
  return EXIT.OK;
}
