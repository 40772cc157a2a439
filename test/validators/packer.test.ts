/**
 * The generated Packer project through the real tools: Debian's packer 1.6.6 (fmt -check,
 * validate), shellcheck, cloud-init schema, and the image's own config check script run with
 * the real haproxy -c and keepalived -t (in a throwaway network namespace).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageFiles } from '../../src/render/packer/image-files.js';
import { packerProject } from '../../src/render/packer/project.js';
import { checkTargets } from '../../src/render/packer/scripts.js';
import { cloudInitSchema, missing, shellcheckText } from '../helpers/tools.js';
import { errorLines, inputs, modelOf, packer, rel, tempTree, validateVars } from '../render/packer/util.js';

const packerReason = missing(['packer', 'shellcheck', 'cloud-init']);

describe.skipIf(packerReason).each(inputs().map((f) => [rel(f), f]))('packer 1.6.6 on the project for %s', (_n, file) => {
  const m = modelOf(file);
  const files = packerProject(m);
  let dir = '';
  let cleanup = () => {};
  let vars: string[] = [];
  beforeAll(() => {
    [dir, cleanup] = tempTree(files);
    vars = validateVars(dir);
  });
  afterAll(() => cleanup());

  it('packer fmt -check passes on both profiles', () => {
    for (const profile of ['1.6', 'modern']) {
      const r = packer(['fmt', '-check', profile], dir);
      expect(r, profile).toEqual({ status: 0, out: '' });
    }
  });

  it('packer validate passes on the 1.6 profile: every source but openstack fully', () => {
    const r = packer(['validate', ...vars, '-except=openstack.lb', '1.6'], dir);
    expect(errorLines(r.out), r.out).toEqual([]);
    expect(r.status, r.out).toBe(0);
  });

  it('packer validate -syntax-only passes on the whole 1.6 project', () => {
    const r = packer(['validate', '-syntax-only', ...vars, '1.6'], dir);
    expect(r.out).toContain('Syntax-only check passed. Everything looks okay.');
    expect(r.status).toBe(0);
  });

  it('openstack: the block decodes; the only error is the missing credentials (given, it would log in)', () => {
    const r = packer(['validate', ...vars, '-only=openstack.lb', '1.6'], dir);
    expect(errorLines(r.out)).toEqual(['Error: 1 error(s) occurred:']);
    expect(r.out).toContain('* Missing input for argument [auth_url]');
    expect(r.out).not.toMatch(/Unsupported argument|not expected here/);
    expect(r.status).toBe(1);
  });

  it('the modern profile fails on 1.6.6 only because of its packer block', () => {
    const r = packer(['validate', ...vars, '-except=openstack.lb', 'modern'], dir);
    expect(errorLines(r.out).sort(), r.out).toEqual(['Error: Unsupported Packer Core version', 'Error: Unsupported block type']);
    expect(r.out).toContain('Blocks of type "required_plugins" are not expected here.');
    expect(r.status).toBe(1);
  });

  it('shellcheck passes on every build script', () => {
    const scripts = [...files].filter(([p]) => p.startsWith('scripts/'));
    expect(scripts.length).toBe(7);
    for (const [p, f] of scripts) {
      expect(f.content.startsWith('#!/bin/sh\n'), p).toBe(true);
      const r = shellcheckText(f.content);
      expect(r, p).toEqual({ status: 0, output: '' });
    }
  });

  it('cloud-init schema accepts the qemu seed', () => {
    const r = cloudInitSchema(join(dir, 'seed', 'user-data'));
    expect(r.output).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
  });
});

describe.skipIf(packerReason)('packer 1.6.6 on the variable validation blocks', () => {
  const files = packerProject(modelOf(inputs()[0]));
  let dir = '';
  let cleanup = () => {};
  let vars: string[] = [];
  beforeAll(() => {
    [dir, cleanup] = tempTree(files);
    vars = validateVars(dir);
  });
  afterAll(() => cleanup());

  it('rejects bad values with the messages the project defines', () => {
    const bad: Array<[string, RegExp]> = [
      ['qemu_accelerator=xen', /qemu_accelerator must be one of/],
      ['image_name=Bad_Name', /image_name must start with a letter/],
      ['qemu_disk_size=4T', /qemu_disk_size must be a number followed by M or G/],
      ['image_version=v 1', /image_version must be empty or hold only/],
      ['qemu_memory=128', /qemu_memory must be at least 512/],
    ];
    for (const [v, msg] of bad) {
      const r = packer(['validate', ...vars, `-var=${v}`, '-only=qemu.lb', '1.6'], dir);
      expect(r.status, v).toBe(1);
      expect(r.out, v).toMatch(msg);
    }
    // and the defaults with the stand-in values pass
    expect(packer(['validate', ...vars, '-only=qemu.lb', '1.6'], dir).status).toBe(0);
  });
});

const checkReason = missing(['haproxy', 'keepalived', 'ip'], { root: true });

describe.skipIf(checkReason).each(inputs().map((f) => [rel(f), f]))('the image config check (step 4) for %s', (_n, file) => {
  const m = modelOf(file);
  const files = packerProject(m);
  let dir = '';
  let cleanup = () => {};
  beforeAll(() => {
    [dir, cleanup] = tempTree(files);
  });
  afterAll(() => cleanup());

  /** Runs scripts/40-check-configs.sh against the uploaded tree instead of the image's root. */
  function runCheck(): { status: number; out: string } {
    const root = join(dir, 'files', 'lbbake-rootfs');
    const script = readFileSync(join(dir, 'scripts', '40-check-configs.sh'), 'utf8')
      .replaceAll('"/usr/lib/lbbake/', `"${root}/usr/lib/lbbake/`)
      .replaceAll('"/etc/lbbake/', `"${root}/etc/lbbake/`)
      .replace('ns=lbbake-check', `ns=lbbk-pk${process.pid}`);
    expect(script).toContain(`ns=lbbk-pk${process.pid}`);
    const f = join(dir, 'check-here.sh');
    writeFileSync(f, script);
    const r = spawnSync('sh', [f], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }

  it('passes with the real haproxy -c and keepalived -t on every node\'s baked files', () => {
    const r = runCheck();
    expect(r.out).toContain('lbbake: all baked configs are valid');
    expect(r.status, r.out).toBe(0);
    const targets = checkTargets(imageFiles(m));
    expect(targets.keepalived).toHaveLength(m.nodes.length);
    expect(targets.haproxy.length).toBeGreaterThanOrEqual(1);
    expect(r.out.match(/^lbbake: haproxy -c -f /gm)).toHaveLength(targets.haproxy.length);
    expect(r.out.match(/^lbbake: keepalived -t -f /gm)).toHaveLength(m.nodes.length);
    expect(r.out.match(/Configuration file is valid/g)).toHaveLength(targets.haproxy.length);
    expect(r.out).not.toMatch(/\[WARNING\]|\[ALERT\]/);
  });

  it('fails the build when a baked config is broken', () => {
    const victim = join(dir, 'files', 'lbbake-rootfs', checkTargets(imageFiles(m)).haproxy[0]);
    const good = readFileSync(victim, 'utf8');
    try {
      writeFileSync(victim, good + '\nfrontend broken\n    bind :notaport\n');
      const r = runCheck();
      expect(r.status).toBe(1);
      expect(r.out).toContain('a baked config was rejected');
    } finally {
      writeFileSync(victim, good);
    }
  });
});
