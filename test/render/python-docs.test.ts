/**
 * withoutDocs: the boot agent a node runs is its source without docstrings and comment-only lines
 * (every byte counts in AWS's 16 KB of user-data); its code must stay exactly the same.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withoutDocs } from '../../src/render/python-docs.js';
import { installedAgent } from '../../src/render/agent.js';
import { AGENT_SOURCE } from '../../src/io/paths.js';
import { compile } from '../../src/compile/compile.js';
import { EXAMPLE } from '../helpers/io.js';
import { missing, tempFile } from '../helpers/tools.js';

/** python3: the module's AST with every docstring removed, as text. */
const AST = [
  'import ast, sys',
  't = ast.parse(open(sys.argv[1]).read())',
  'for n in ast.walk(t):',
  '    b = getattr(n, "body", None)',
  '    if isinstance(b, list) and b and isinstance(b[0], ast.Expr) and isinstance(getattr(b[0], "value", None), ast.Constant) and isinstance(b[0].value.value, str):',
  '        n.body = b[1:] or [ast.Pass()]',
  'print(ast.dump(t))',
].join('\n');

function astOf(text: string): string {
  const [f, done] = tempFile('x.py', text);
  try {
    const r = spawnSync('python3', ['-c', AST, f], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout;
  } finally {
    done();
  }
}

describe('withoutDocs (the installed boot agent)', () => {
  it('drops docstrings and comment-only lines, keeps code and comments after code, and a docstring-only body becomes pass', () => {
    const src = [
      '#!/usr/bin/python3',
      '"""Module doc,',
      'two lines."""',
      '',
      '# a comment line',
      'import os  # kept',
      '',
      '',
      'class E(Exception):',
      '    """Only a docstring."""',
      '',
      '',
      'def f(a,',
      '      b):',
      '    """Doc."""',
      '    # inside',
      '    x = """not a docstring"""',
      '    return x',
      '',
    ].join('\n');
    expect(withoutDocs(src)).toBe(['#!/usr/bin/python3', '', 'import os  # kept', '', '', 'class E(Exception):', '    pass', '', '', 'def f(a,', '      b):', '    x = """not a docstring"""', '    return x', ''].join('\n'));
  });

  it.skipIf(missing(['python3']))('the installed agent is the source\'s code exactly (same AST once docstrings are gone), and smaller', () => {
    const m = compile(readFileSync(EXAMPLE, 'utf8')).model!;
    const installed = installedAgent(m);
    const source = readFileSync(AGENT_SOURCE, 'utf8');
    expect(astOf(installed)).toBe(astOf(source));
    expect(installed.length).toBeLessThan(source.length * 0.95);
    expect(installed).not.toMatch(/^\s*"""/m);
  });

  it.skipIf(missing(['pyflakes3']))('the installed agent is clean under pyflakes3', () => {
    const [f, done] = tempFile('lbbake-agent.py', installedAgent(compile(readFileSync(EXAMPLE, 'utf8')).model!));
    try {
      const r = spawnSync('pyflakes3', [f], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
    } finally {
      done();
    }
  });
});
