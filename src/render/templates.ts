import nunjucks from 'nunjucks';
import { InternalError } from '../diagnostics/errors.js';
import { AUTH_PASS_CHARS } from '../facts/alphabets.js';
import { TEMPLATES_DIR } from '../io/paths.js';

/**
 * The nunjucks environment for templates/ (throwOnUndefined: a missing view key is a bug) and
 * the guard every view passes before it is rendered. Templates get values, never logic.
 */
let env: nunjucks.Environment | undefined;
function templates(): nunjucks.Environment {
  env ??= new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  return env;
}

/**
 * Every string that reaches a generated config must be a plain token of that syntax. The schema
 * already guarantees this; this second line of defence turns any slip into an internal error
 * instead of an injected line.
 */
const SAFE_VALUE = /^[A-Za-z0-9_.:/\-+=@%,~ ]*$/;
/** Values with a wider alphabet, each safe in the (quoted) position its template puts it. */
const WIDER: Record<string, RegExp> = {
  authPass: new RegExp(`^[${AUTH_PASS_CHARS}]*$`),
  passwordHash: /^\$6\$[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$|^$/,
};
const FREE_TEXT = new Set(['header', 'checkExplain', 'osLabel']);

function guard(view: unknown, path = ''): void {
  if (typeof view === 'string') {
    const key = path.split('.').pop() ?? '';
    if (!FREE_TEXT.has(key) && !(WIDER[key] ?? SAFE_VALUE).test(view)) {
      throw new InternalError(`refusing to render unsafe value at ${path}: ${JSON.stringify(view)}`);
    }
    if (/[\r\n\0]/.test(view)) throw new InternalError(`refusing to render a line break at ${path}`);
  } else if (Array.isArray(view)) {
    view.forEach((v, i) => guard(v, `${path}.${i}`));
  } else if (view !== null && typeof view === 'object') {
    for (const [k, v] of Object.entries(view)) guard(v, path ? `${path}.${k}` : k);
  }
}

/** Renders one template under templates/ with a guarded view; the result ends with a newline. */
export function renderTemplateFile(name: string, view: object): string {
  guard(view);
  const out = templates().render(name, view);
  return out.endsWith('\n') ? out : out + '\n';
}
