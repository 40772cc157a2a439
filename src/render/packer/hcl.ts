/**
 * A tiny HCL2 writer: enough of the native syntax for Packer templates, printed exactly the way
 * `packer fmt` (hclwrite) prints it, so generated files pass `packer fmt -check` as written.
 *
 * Layout rules copied from hclwrite's formatter:
 * - two spaces of indentation per nesting level;
 * - in a run of consecutive lines that each hold a whole `name = value` (no blank line, comment,
 *   block or multi-line value between them) the `=` signs are aligned;
 * - a line that opens a multi-line value (`tags = {`) ends such a run and keeps one space.
 */

/** An HCL expression. Plain JS strings are literal strings (quoted and escaped). */
export type Expr = string | number | boolean | Raw | Template | ListExpr | MapExpr;

/** An expression written verbatim, e.g. `var.region` or `list(string)`. */
export interface Raw {
  kind: 'raw';
  text: string;
}

/** A quoted string whose `${...}` interpolations are kept, e.g. "${path.root}/../files". */
export interface Template {
  kind: 'template';
  text: string;
}

export interface ListExpr {
  kind: 'list';
  items: Expr[];
  /** One item per line (default: on one line). */
  multiline: boolean;
}

/** An object constructor; always printed one entry per line. */
export interface MapExpr {
  kind: 'map';
  entries: Array<[string, Expr]>;
}

export type BodyItem =
  | { kind: 'attr'; name: string; value: Expr }
  | { kind: 'block'; type: string; labels: string[]; body: BodyItem[] }
  | { kind: 'blank' }
  | { kind: 'comment'; text: string };

export const raw = (text: string): Raw => ({ kind: 'raw', text });
export const tmpl = (text: string): Template => ({ kind: 'template', text });
export const list = (items: Expr[], multiline = false): ListExpr => ({ kind: 'list', items, multiline });
export const map = (entries: Array<[string, Expr]>): MapExpr => ({ kind: 'map', entries });
export const attr = (name: string, value: Expr): BodyItem => ({ kind: 'attr', name, value });
export const block = (type: string, labels: string[], body: BodyItem[]): BodyItem => ({ kind: 'block', type, labels, body });
export const blank = (): BodyItem => ({ kind: 'blank' });
export const comment = (text: string): BodyItem => ({ kind: 'comment', text });

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Escapes a literal string: quotes, backslashes, control characters and template sequences. */
export function quote(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch.charCodeAt(0) < 0x20) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `"${out.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{')}"`;
}

function quoteTemplate(s: string): string {
  if (/["\\\n\r\t]/.test(s)) throw new Error(`template string needs no escaping, got ${JSON.stringify(s)}`);
  return `"${s}"`;
}

function key(k: string): string {
  return IDENT.test(k) ? k : quote(k);
}

function isSingleLine(e: Expr): boolean {
  if (typeof e !== 'object') return true;
  if (e.kind === 'map') return e.entries.length === 0;
  if (e.kind === 'list') return !e.multiline && e.items.every(isSingleLine);
  return true;
}

/** Lines of an expression; the first line continues the current one, the others are indented. */
function exprLines(e: Expr, indent: string): string[] {
  if (typeof e === 'string') return [quote(e)];
  if (typeof e === 'number') {
    if (!Number.isFinite(e)) throw new Error(`not a finite number: ${e}`);
    return [String(e)];
  }
  if (typeof e === 'boolean') return [String(e)];
  switch (e.kind) {
    case 'raw':
      return [e.text];
    case 'template':
      return [quoteTemplate(e.text)];
    case 'list': {
      if (isSingleLine(e)) return [`[${e.items.map((i) => exprLines(i, indent)[0]).join(', ')}]`];
      const inner = indent + '  ';
      const lines = ['['];
      for (const item of e.items) {
        const l = exprLines(item, inner);
        lines.push(inner + l[0], ...l.slice(1));
        lines[lines.length - 1] += ',';
      }
      lines.push(indent + ']');
      return lines;
    }
    case 'map': {
      if (e.entries.length === 0) return ['{}'];
      const inner = indent + '  ';
      return ['{', ...bodyLines(e.entries.map(([k, v]) => ({ kind: 'attr', name: key(k), value: v })), inner), indent + '}'];
    }
  }
}

function bodyLines(items: BodyItem[], indent: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < items.length) {
    const it = items[i];
    if (it.kind === 'attr' && isSingleLine(it.value)) {
      // a run of single-line attributes: align the `=`
      let j = i;
      while (j < items.length) {
        const x = items[j];
        if (x.kind !== 'attr' || !isSingleLine(x.value)) break;
        j++;
      }
      const run = items.slice(i, j) as Array<{ kind: 'attr'; name: string; value: Expr }>;
      const width = Math.max(...run.map((a) => a.name.length));
      for (const a of run) out.push(`${indent}${a.name.padEnd(width)} = ${exprLines(a.value, indent)[0]}`);
      i = j;
      continue;
    }
    if (it.kind === 'attr') {
      const l = exprLines(it.value, indent);
      out.push(`${indent}${it.name} = ${l[0]}`, ...l.slice(1));
    } else if (it.kind === 'block') {
      const head = [it.type, ...it.labels.map(quote)].join(' ');
      if (it.body.length === 0) out.push(`${indent}${head} {}`);
      else out.push(`${indent}${head} {`, ...bodyLines(it.body, indent + '  '), `${indent}}`);
    } else if (it.kind === 'blank') {
      out.push('');
    } else {
      for (const line of it.text.split('\n')) out.push(line ? `${indent}# ${line}` : `${indent}#`);
    }
    i++;
  }
  return out;
}

/** Prints a whole file: top-level items, LF line ends, one trailing newline. */
export function printHcl(items: BodyItem[]): string {
  return bodyLines(items, '').join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
