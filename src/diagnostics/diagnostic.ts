import type { Code } from './codes.js';

export type { Code } from './codes.js';

/** One problem found in lb.yaml (or, for internal errors, in lbbake itself). */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable code from the catalogue (codes.ts), e.g. AUTH_PASS_LENGTH. Users grep for it and CI keys on it. */
  code: Code;
  /** JSON Pointer (RFC 6901) into the document, '' for the whole file. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
  line?: number;
  col?: number;
  /** The file this is about when it is not lb.yaml itself (e.g. the secrets file beside it). */
  file?: string;
}

/** Escapes one JSON Pointer token. */
export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Builds a JSON Pointer from path segments. */
export function pointer(...segments: Array<string | number>): string {
  return segments.map((s) => '/' + escapePointerToken(s)).join('');
}

/** Splits a JSON Pointer into its unescaped segments. */
export function pointerSegments(ptr: string): string[] {
  if (ptr === '') return [];
  return ptr
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Sorts diagnostics by position, then code, so output is stable. */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return [...diags].sort(
    (a, b) =>
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      a.path.localeCompare(b.path) ||
      a.code.localeCompare(b.code),
  );
}

export interface FormatOptions {
  /** Source text, to print the offending line with a caret under it. */
  source?: string;
  color?: boolean;
}

const RED = '\x1b[31;1m';
const YELLOW = '\x1b[33;1m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/**
 * Formats one diagnostic like a compiler:
 * `lb.yaml:14:15 error[PRIORITY_RANGE] /nodes/1/priority: message`
 */
export function formatDiagnostic(file: string, d: Diagnostic, opts: FormatOptions = {}): string {
  const name = d.file ?? file;
  const where = d.line !== undefined ? `${name}:${d.line}:${d.col ?? 1}` : name;
  const sev = opts.color ? `${d.severity === 'error' ? RED : YELLOW}${d.severity}${RESET}` : d.severity;
  let out = `${where} ${sev}[${d.code}] ${d.path || '/'}: ${d.message}`;
  if (opts.source !== undefined && d.line !== undefined && d.file === undefined) {
    const srcLine = opts.source.split(/\r?\n/)[d.line - 1];
    if (srcLine !== undefined) {
      const gutter = String(d.line).padStart(4) + ' | ';
      const caret = ' '.repeat(gutter.length + Math.max(0, (d.col ?? 1) - 1)) + '^';
      out += '\n' + (opts.color ? DIM + gutter + RESET : gutter) + srcLine.replace(/\t/g, ' ') + '\n' + caret;
    }
  }
  return out;
}

/** Machine-readable form for `--json`. */
export function diagnosticsToJson(file: string, diags: readonly Diagnostic[]): object {
  return {
    file,
    errors: diags.filter((d) => d.severity === 'error').length,
    warnings: diags.filter((d) => d.severity === 'warning').length,
    diagnostics: diags.map((d) => ({ file, ...d })),
  };
}
