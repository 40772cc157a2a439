/**
 * The docs are part of the contract: generated tables match their sources, and every YAML block
 * in README.md and docs/*.md is tagged and checked. A block is fenced as
 *   ```yaml lb.yaml            a complete lb.yaml: must validate with no errors
 *   ```yaml lb.yaml-fragment   part of one: merged over examples/k8s-apiserver.yaml, must validate
 *   ```yaml other              anything else (cloud-config, CI files): must parse as YAML
 * An untagged ```yaml block fails, so examples can never silently go unchecked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import { deterministicSources } from '../../src/compile/secrets.js';
import { DUMMY_CLIENT_PEM } from '../../src/render/secret-template.js';
import { CODES_BEGIN, CODES_END, codesTable } from '../../src/diagnostics/codes.js';
import { METRICS_BEGIN, METRICS_END, metricsTable } from '../../src/render/metrics.js';
import { TARGETS_BEGIN, TARGETS_END, targetsTable } from '../../src/facts/targets-table.js';
import { ROOT } from '../helpers/cli.js';
// @ts-expect-error plain JS module
import { BEGIN, END, table } from '../../scripts/schema-table.mjs';
// @ts-expect-error plain JS module
import { schemaModule, TARGET } from '../../scripts/schema-ts.mjs';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const docs = [
  { file: 'README.md', text: readme },
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => ({ file: `docs/${f}`, text: readFileSync(join(ROOT, 'docs', f), 'utf8') })),
];
const example = parse(readFileSync(join(ROOT, 'examples', 'k8s-apiserver.yaml'), 'utf8')) as Record<string, unknown>;

interface Block {
  file: string;
  line: number;
  tag: string;
  body: string;
}

const blocks: Block[] = docs.flatMap(({ file, text }) =>
  [...text.matchAll(/^```yaml([^\n]*)\n([\s\S]*?)^```/gm)].map((m) => ({
    file,
    line: text.slice(0, m.index).split('\n').length,
    tag: m[1].trim(),
    body: m[2],
  })),
);

/** Deep merge: mappings merge key by key, everything else (lists too) replaces. */
function merge(base: unknown, over: unknown): unknown {
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
    return out;
  }
  return over;
}

/** file: references in examples (health.clientCert) read a certificate or key: the public dummy's parts. */
const DUMMY_KEY_AT = DUMMY_CLIENT_PEM.indexOf('-----BEGIN PRIVATE KEY');
const docSources = () => ({
  ...deterministicSources('docs'),
  readFile: (p: string) => (/key/.test(p) ? DUMMY_CLIENT_PEM.slice(DUMMY_KEY_AT) : DUMMY_CLIENT_PEM.slice(0, DUMMY_KEY_AT)),
});
const errorsOf = (text: string) => compile(text, docSources()).diagnostics.filter((d) => d.severity === 'error');

describe('README', () => {
  it('config reference is generated from the current schema', () => {
    const a = readme.indexOf(BEGIN);
    const b = readme.indexOf(END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a + BEGIN.length + 1, b), 'run npm run gen:docs').toBe(table());
  });

  it('the table of metrics is generated from src/render/metrics.ts', () => {
    const a = readme.indexOf(METRICS_BEGIN);
    const b = readme.indexOf(METRICS_END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a + METRICS_BEGIN.length + 1, b), 'run npm run gen:docs').toBe(metricsTable());
  });

  it('the list of diagnostic codes is generated from src/diagnostics/codes.ts', () => {
    const a = readme.indexOf(CODES_BEGIN);
    const b = readme.indexOf(CODES_END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a + CODES_BEGIN.length + 1, b), 'run npm run gen:docs').toBe(codesTable());
  });

  it('the target table is generated from src/facts/os.ts', () => {
    const a = readme.indexOf(TARGETS_BEGIN);
    const b = readme.indexOf(TARGETS_END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a + TARGETS_BEGIN.length + 1, b), 'run npm run gen:docs').toBe(targetsTable());
  });

  it('src/compile/lb-schema.ts (the source of the LbInput type) is generated from the current schema', () => {
    expect(readFileSync(TARGET, 'utf8'), 'run npm run gen:docs').toBe(schemaModule());
  });

  it('names the two commands', () => {
    expect(readme).toContain('npm ci && npm run example');
    expect(readme).toContain('npm test');
  });
});

describe('YAML examples in README.md and docs/', () => {
  it('every ```yaml block is tagged lb.yaml, lb.yaml-fragment or other', () => {
    const bad = blocks.filter((b) => !['lb.yaml', 'lb.yaml-fragment', 'other'].includes(b.tag));
    expect(bad.map((b) => `${b.file}:${b.line} \`\`\`yaml ${b.tag}`)).toEqual([]);
  });

  it('there are complete examples and fragments to check', () => {
    expect(blocks.filter((b) => b.tag === 'lb.yaml').length).toBeGreaterThanOrEqual(1);
    expect(blocks.filter((b) => b.tag === 'lb.yaml-fragment').length).toBeGreaterThanOrEqual(1);
  });

  for (const b of blocks.filter((x) => x.tag === 'lb.yaml')) {
    it(`${b.file}:${b.line} (complete lb.yaml) validates`, () => {
      expect(errorsOf(b.body)).toEqual([]);
    });
  }

  for (const b of blocks.filter((x) => x.tag === 'lb.yaml-fragment')) {
    it(`${b.file}:${b.line} (fragment, merged over the bundled example) validates`, () => {
      const merged = merge(example, parse(b.body));
      expect(errorsOf(JSON.stringify(merged))).toEqual([]);
    });
  }

  for (const b of blocks.filter((x) => x.tag === 'other')) {
    it(`${b.file}:${b.line} parses as YAML`, () => {
      expect(() => parse(b.body)).not.toThrow();
    });
  }

  it('a broken example is caught (the check can fail)', () => {
    expect(errorsOf('version: 1\nname: x\n').length).toBeGreaterThan(0);
    const merged = merge(example, parse('vrrp: { routerId: 300 }'));
    expect(errorsOf(JSON.stringify(merged)).map((d) => d.code)).toContain('OUT_OF_RANGE');
  });
});
