import nunjucks from 'nunjucks';
import { InternalError } from '../diagnostics/errors.js';
import { GUARD_CHARS } from '../facts/alphabets.js';
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
 * already guarantees this (its patterns and this guard come from facts/alphabets.ts, and a test
 * checks every pattern stays within the guard); this second line of defence turns any slip into
 * an internal error instead of an injected line.
 */
const SAFE_VALUE = new RegExp(`^[${GUARD_CHARS.token}]*$`);
/** Values with a wider alphabet (by view key), each safe in the position its template puts it. */
const WIDER: Record<string, RegExp> = {
  authPass: new RegExp(`^[${GUARD_CHARS['auth-pass']}]*$`),
  passwordHash: /^\$6\$[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$|^$/,
  // the /metrics/keepalived exposition, one double-quoted haproxy argument (render/metrics.ts):
  // quotes inside are escaped, lines joined by the two characters \n
  exposition: /^(?:[A-Za-z0-9 _.,;:()[\]{}%='#/+-]|\\["\\n])*$/,
};
/** Values with a wider alphabet by their place in the view (indexes as *). */
const WIDER_AT: Record<string, RegExp> = {
  // haproxy takes a query string (? = &) in a check URI as is
  'services.*.health.path': new RegExp(`^[${GUARD_CHARS['health-path']}]*$`),
};
const FREE_TEXT = new Set(['header', 'checkExplain', 'osLabel']);

function guard(view: unknown, path = ''): void {
  if (typeof view === 'string') {
    const key = path.split('.').pop() ?? '';
    const allowed = WIDER_AT[path.replace(/\.\d+(?=\.|$)/g, '.*')] ?? WIDER[key] ?? SAFE_VALUE;
    if (!FREE_TEXT.has(key) && !allowed.test(view)) {
      // never the value itself: it may be a secret
      const bad = [...new Set([...view].filter((c) => !allowed.test(c)))].slice(0, 5).map((c) => JSON.stringify(c)).join(' ');
      throw new InternalError(`refusing to render unsafe value at ${path} (${view.length} characters; unsafe: ${bad || 'its shape'})`);
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
