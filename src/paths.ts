import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The package root (holds templates/ and schema/), whether running from src/ or dist/src/. */
export const PKG_ROOT = existsSync(join(here, '..', 'package.json')) ? join(here, '..') : join(here, '..', '..');
export const TEMPLATES_DIR = join(PKG_ROOT, 'templates');
export const SCHEMA_PATH = join(PKG_ROOT, 'schema', 'lb.schema.json');
