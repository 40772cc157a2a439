/**
 * Property tests: random valid configs always give output the real tools accept; random
 * mutations of valid configs give either such output or diagnostics — never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import { renderNode } from '../../src/render/node.js';
import { userdataForNode } from '../../src/render/userdata.js';
import type { Model } from '../../src/compile/model.js';
import { cloudInitSchema, haproxyCheck, missing, shellcheckText, tempFile } from '../helpers/tools.js';
import { keepalivedCheckText } from '../../src/io/verify.js';
import { config } from '../helpers/random-config.js';

const reason = missing(['haproxy', 'keepalived', 'cloud-init', 'shellcheck', 'ip'], { root: true });

function validateOutput(m: Model): void {
  for (const node of m.nodes.slice(0, 2)) {
    const files = renderNode(m, node);
    const [h, hd] = tempFile('haproxy.cfg', files.get('etc/haproxy/haproxy.cfg')!.content);
    const ud = userdataForNode(m, node);
    const [u, ud2] = tempFile('ud.yaml', ud);
    try {
      const hr = haproxyCheck(h);
      expect(hr.status, hr.output).toBe(0);
      expect(hr.output).not.toMatch(/\[(WARNING|ALERT)\]/);
      const kr = keepalivedCheckText(files.get('etc/keepalived/keepalived.conf')!.content, m.vip.interface ? [m.vip.interface] : []);
      expect(kr.status, kr.output).toBe(0);
      expect(kr.output).toBe('');
      const cr = cloudInitSchema(u);
      expect(cr.status, cr.output).toBe(0);
      for (const w of (parse(ud) as { write_files: Array<{ content: string }> }).write_files) {
        if (/^#!\/bin\/(ba)?sh/.test(w.content)) expect(shellcheckText(w.content).status).toBe(0);
      }
    } finally {
      hd();
      ud2();
    }
  }
}

describe.skipIf(reason)('property: random valid configs', () => {
  it('always compile without errors and pass haproxy -c, keepalived -t, cloud-init schema, shellcheck', () => {
    fc.assert(
      fc.property(config, (cfg) => {
        const res = compile(stringify(cfg));
        const errors = res.diagnostics.filter((d) => d.severity === 'error');
        expect(errors, stringify(cfg)).toEqual([]);
        validateOutput(res.model!);
      }),
      { numRuns: 8, seed: Number(process.env.LBBAKE_PROPERTY_SEED ?? 20261128) },
    );
  }, 300_000);
});

/** A random mutation: delete a key, replace a value with a random one, or inject a hostile string. */
const hostile = fc.constantFrom('a\nb', '"', '}', '{', '#x', "x'y", '$(reboot)', '`id`', 'a b', '\u0000', '\t', 'x'.repeat(300), '../../etc/passwd', '-1', '1e309', '');
const anyValue = fc.oneof(hostile, fc.integer({ min: -1000, max: 100000 }), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));

function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function mutate(cfg: Record<string, unknown>, pick: number, op: number, value: unknown): unknown {
  const copy = structuredClone(cfg);
  const all = paths(copy).filter((p) => p.length > 0);
  const path = all[pick % all.length];
  let parent: any = copy;
  for (const seg of path.slice(0, -1)) parent = parent[seg];
  const last = path[path.length - 1];
  if (op === 0) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (op === 1) parent[last] = value;
  else if (!Array.isArray(parent)) parent[`x${pick % 97}`] = value; // unknown key
  else (parent as unknown[])[Number(last)] = value;
  return copy;
}

describe.skipIf(reason)('property: random mutations of valid configs', () => {
  it('give either valid output or diagnostics, never a crash or an invalid file', () => {
    const validModels: Model[] = [];
    fc.assert(
      fc.property(config, fc.nat(), fc.integer({ min: 0, max: 2 }), anyValue, (cfg, pick, op, value) => {
        const text = stringify(mutate(cfg as Record<string, unknown>, pick, op, value));
        const res = compile(text);
        if (res.model) {
          for (const node of res.model.nodes) {
            renderNode(res.model, node);
            userdataForNode(res.model, node);
          }
          if (validModels.length < 6) validModels.push(res.model);
        } else {
          expect(res.diagnostics.some((d) => d.severity === 'error')).toBe(true);
          for (const d of res.diagnostics) {
            expect(d.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
            expect(d.line).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { numRuns: 300, seed: Number(process.env.LBBAKE_PROPERTY_SEED ?? 20261128) },
    );
    // the mutated configs that were still valid produce files the real tools accept
    expect(validModels.length).toBeGreaterThan(0);
    for (const m of validModels) validateOutput(m);
  }, 300_000);
});
