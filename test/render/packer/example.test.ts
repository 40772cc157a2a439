/**
 * The committed packer/ folder: the generated project for examples/k8s-apiserver.yaml (kept in
 * sync with the generator) and the CI workflow example users copy.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { packerProject } from '../../../src/render/packer/project.js';
import { modelOf, ROOT } from './util.js';

const COMMITTED = join(ROOT, 'packer', 'k8s-apiserver');
const HINT = 'packer/k8s-apiserver is out of date: run `npm run gen:packer-example` and commit the result';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [relative(COMMITTED, p)];
  });
}

describe('the committed packer/ folder', () => {
  it('is exactly what gen-packer writes for examples/k8s-apiserver.yaml', () => {
    const want = packerProject(modelOf(join(ROOT, 'examples', 'k8s-apiserver.yaml')));
    expect(walk(COMMITTED).sort(), HINT).toEqual([...want.keys()].sort());
    for (const [p, f] of want) expect(readFileSync(join(COMMITTED, p), 'utf8'), `${p}: ${HINT}`).toBe(f.content);
  });

  it('has a GitHub Actions example that inits, fmt-checks, validates and builds with -only', () => {
    const text = readFileSync(join(ROOT, 'packer', 'ci', 'github-actions.yml'), 'utf8');
    const wf = parseYaml(text);
    const project: string = wf.env.PROJECT;
    expect(statSync(join(ROOT, project, 'packer.pkr.hcl')).isFile()).toBe(true);
    const runs: string[] = Object.values<any>(wf.jobs).flatMap((j) => j.steps.map((s: any) => s.run ?? ''));
    const all = runs.join('\n');
    for (const cmd of ['packer init', 'packer fmt -check', 'packer validate', 'packer build -only=qemu.lb', 'packer build -only=amazon-ebs.lb', 'gen-packer']) {
      expect(all, cmd).toContain(cmd);
    }
    expect(wf.jobs.qemu.needs).toBe('check');
  });
});
