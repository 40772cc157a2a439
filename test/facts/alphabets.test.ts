/**
 * One source for accepted and rendered characters: every pattern in the schema comes from
 * SCHEMA_PATTERNS (src/facts/alphabets.ts), and everything a pattern admits passes the
 * renderer's guard for the way that value is rendered. A schema pattern wider than the guard
 * made every generator exit 70 on valid input (a health path /readyz?exclude=etcd).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUARD_CHARS, SCHEMA_PATTERNS } from '../../src/facts/alphabets.js';
import { compile } from '../../src/compile/compile.js';
import { renderNode } from '../../src/render/node.js';
import { userdataForMetadata } from '../../src/render/userdata.js';
import { packerProject } from '../../src/render/packer/project.js';
import { SCHEMA_PATH } from '../../src/io/paths.js';

const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));

function patternsIn(node: unknown, ptr = '', out = new Map<string, string>()): Map<string, string> {
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.pattern === 'string') out.set(ptr, o.pattern);
    for (const [k, v] of Object.entries(o)) patternsIn(v, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  }
  return out;
}

describe('schema patterns and the renderer guard come from src/facts/alphabets.ts', () => {
  it('every pattern in schema/lb.schema.json is SCHEMA_PATTERNS (node scripts/schema-patterns.mjs --write)', () => {
    const inSchema = Object.fromEntries(patternsIn(schema));
    const fromAlphabets = Object.fromEntries(Object.entries(SCHEMA_PATTERNS).map(([p, e]) => [p, e.source]));
    expect(inSchema, 'add new patterns to SCHEMA_PATTERNS in src/facts/alphabets.ts, then npm run build && node scripts/schema-patterns.mjs --write').toEqual(fromAlphabets);
  });

  for (const [ptr, e] of Object.entries(SCHEMA_PATTERNS)) {
    it(`${ptr}: every value the schema admits stays within its declared characters and the guard (${e.rendered})`, () => {
      const declared = new RegExp(`^[${e.chars}]*$`);
      const guard = e.rendered === 'never' ? declared : new RegExp(`^[${GUARD_CHARS[e.rendered]}]*$`);
      fc.assert(
        fc.property(fc.stringMatching(new RegExp(e.source)), (v) => declared.test(v) && guard.test(v)),
        { numRuns: 300 },
      );
    });
  }
});

describe('values the schema allows render through every generator', () => {
  const example = readFileSync(new URL('../../examples/k8s-apiserver.yaml', import.meta.url), 'utf8');
  const paths = ['/readyz?exclude=etcd', '/livez?verbose&exclude=etcd', '/healthz/%2F~x-y_z.a'];
  for (const p of paths) {
    it(`health path ${p}`, () => {
      const res = compile(example.replace('path: /readyz', `path: "${p}"`));
      expect(res.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const m = res.model!;
      expect(renderNode(m, m.nodes[0]).get('etc/haproxy/haproxy.cfg')!.content).toContain(`uri ${p}\n`);
      expect(userdataForMetadata(m)).toContain('#cloud-config');
      expect(packerProject(m, { profiles: ['modern'] }).size).toBeGreaterThan(0);
    });
  }
});
