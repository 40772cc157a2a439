import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../../src/render/crypt.js';
import { main, type Io } from '../../../src/cli/main.js';
import { metadataModeFiles, SECRETS_PATH } from '../../../src/render/agent.js';
import { secretValues } from '../../../src/render/agent-secrets.js';
import { imageFiles } from '../../../src/render/packer/image-files.js';
import { packerProject, PLUGINS, PROFILES, SOURCE_TYPES } from '../../../src/render/packer/project.js';
import { inputs, modelOf, rel, ROOT } from './util.js';

const EXAMPLE = join(ROOT, 'examples', 'k8s-apiserver.yaml');

function hclFiles(files: Map<string, { content: string }>, profile: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, f] of files) if (p.startsWith(`${profile}/`) && p.endsWith('.pkr.hcl')) out.set(p.slice(profile.length + 1), f.content);
  return out;
}

async function parseProfile(files: Map<string, { content: string }>, profile: string): Promise<Record<string, any>> {
  const parsed: Record<string, any> = {};
  for (const [name, text] of hclFiles(files, profile)) parsed[name] = await parse(`${profile}/${name}`, text);
  return parsed;
}

function io(cwd: string): Io & { out: string; err: string } {
  const o = { out: '', err: '' };
  return Object.assign(o, {
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    stderrIsTTY: false,
    env: {},
    cwd,
  });
}

describe.each(inputs().map((f) => [rel(f), f]))('packer project for %s', (_name, file) => {
  const m = modelOf(file);
  const files = packerProject(m);

  it('is deterministic: generating twice gives the same bytes', () => {
    const again = packerProject(modelOf(file));
    expect([...again.keys()]).toEqual([...files.keys()]);
    for (const [p, f] of files) expect(again.get(p)?.content, p).toBe(f.content);
  });

  it('holds no secret value from lb.yaml in any file', () => {
    const secrets: string[] = [];
    if (m.vrrp.authPass) secrets.push(m.vrrp.authPass);
    if (m.stats.enabled && m.stats.password !== undefined) {
      secrets.push(m.stats.password, sha512Crypt(m.stats.password, `${m.name}/${m.stats.user}`));
    }
    secrets.push(...Object.values(secretValues(m)).filter((v): v is string => v !== undefined));
    // only VRRPv3 without a stats page has none
    if (m.vrrp.version === 2 || m.stats.enabled) expect(secrets.length, 'the input has a secret (given or generated)').toBeGreaterThan(0);
    for (const s of secrets) {
      for (const [p, f] of files) expect(f.content.includes(s), `${p} contains a secret`).toBe(false);
    }
    // also not when file contents are searched as one blob (e.g. split across files never happens)
    const blob = [...files.values()].map((f) => f.content).join('\n');
    for (const s of secrets) expect(blob).not.toContain(s);
  });

  it('profiles differ only in packer.pkr.hcl, and there only in the packer block', async () => {
    const modern = hclFiles(files, 'modern');
    const old = hclFiles(files, '1.6');
    expect([...modern.keys()].sort()).toEqual([...old.keys()].sort());
    for (const [name, text] of modern) if (name !== 'packer.pkr.hcl') expect(old.get(name), name).toBe(text);

    const pm = await parseProfile(files, 'modern');
    const po = await parseProfile(files, '1.6');
    const pk = pm['packer.pkr.hcl'];
    const po16 = po['packer.pkr.hcl'];
    expect(Object.keys(pk)).toEqual(['packer']);
    expect(Object.keys(po16)).toEqual(['packer']);
    expect(pk.packer[0].required_version).toBe('>= 1.7.0');
    expect(po16.packer[0].required_version).toBe('>= 1.6.0');
    expect(po16.packer[0].required_plugins).toBeUndefined();
    const plugins = pk.packer[0].required_plugins[0];
    expect(Object.keys(plugins).sort()).toEqual(PLUGINS.map(([n]) => n).sort());
    for (const [n, source, version] of PLUGINS) expect(plugins[n]).toEqual({ source, version });
  });

  it('parses with a real HCL2 parser, with the sources, steps and variables the issue asks for', async () => {
    for (const profile of PROFILES) {
      const p = await parseProfile(files, profile);
      const all = Object.values(p);
      // 1.6 rules hold for both profiles outside the packer block: no data blocks, no templatefile()
      expect(all.some((x) => 'data' in x)).toBe(false);
      for (const [, text] of hclFiles(files, profile)) {
        expect(text.replace(/^\s*#.*$/gm, '')).not.toMatch(/templatefile\(/);
      }

      const src = p['sources.pkr.hcl'].source;
      expect(Object.keys(src).sort()).toEqual([...SOURCE_TYPES].sort());
      const qemu = src.qemu.lb[0];
      expect(qemu.cd_label).toBe('cidata');
      expect(qemu.accelerator).toBe('${var.qemu_accelerator}');

      const b = p['build.pkr.hcl'].build[0];
      expect(b.sources).toEqual(SOURCE_TYPES.map((t) => `source.${t}.lb`));
      expect(b.provisioner.file).toHaveLength(1);
      const shells = b.provisioner.shell;
      expect(shells.map((x: any) => x.only ?? null)).toEqual([null, null, ['azure-arm.lb']]);
      expect(b['post-processor'].manifest).toHaveLength(1);
      // the JSON form groups blocks by type; the order of the steps comes from the text
      const text = hclFiles(files, profile).get('build.pkr.hcl')!;
      expect([...text.matchAll(/^  provisioner "(\w+)"/gm)].map((x) => x[1])).toEqual(['shell', 'file', 'shell', 'shell']);
      const scripts = [...text.matchAll(/\$\{local\.scripts_dir\}\/([\w.-]+)/g)].map((x) => x[1]);
      expect(scripts).toEqual([
        '10-wait-cloud-init.sh',
        '20-install-packages.sh',
        '30-install-files.sh',
        '40-check-configs.sh',
        '50-enable-services.sh',
        '90-cleanup.sh',
        '95-azure-deprovision.sh',
      ]);

      const vars = p['variables.pkr.hcl'].variable;
      for (const [name, [v]] of Object.entries<any>(vars)) {
        expect(v.type, name).toBeDefined();
        expect(v.description, name).toMatch(/\S/);
        expect('default' in v, `${name} has a default`).toBe(true);
      }
      expect(Object.values<any>(vars).filter(([v]) => v.validation).length).toBeGreaterThanOrEqual(5);
    }
  });

  it('every script in the project is used by the build, and every used script exists', () => {
    const build = files.get('1.6/build.pkr.hcl')!.content;
    const used = [...build.matchAll(/\$\{local\.scripts_dir\}\/([\w.-]+)/g)].map((x) => `scripts/${x[1]}`);
    const present = [...files.keys()].filter((p) => p.startsWith('scripts/'));
    expect(used.sort()).toEqual(present.sort());
  });

  it('bakes the boot agent\'s metadata-mode files (secrets at boot) and the install script places every one', () => {
    const baked = imageFiles(m);
    const want = metadataModeFiles(m, { secrets: 'at-boot', layout: 'copies' });
    expect([...baked.keys()]).toEqual([...want.keys()]);
    for (const [p, f] of want) expect(baked.get(p), p).toEqual(f);
    expect(baked.has(SECRETS_PATH.slice(1))).toBe(false);
    expect(baked.has('etc/systemd/system/lbbake-agent.service')).toBe(true);

    const install = files.get('scripts/30-install-files.sh')!.content;
    for (const [p, f] of baked) {
      const [u, g] = f.owner.split(':');
      expect(install).toContain(`install -D -m ${f.mode} -o ${u} -g ${g} "$src/${p}" "/${p}"`);
      expect(files.get(`files/lbbake-rootfs/${p}`)?.content).toBe(f.content);
    }
    expect([...files.keys()].filter((p) => p.startsWith('files/')).length).toBe(baked.size);
    const pm = m.os.packageManager === 'apt' ? 'apt-get install -y haproxy keepalived' : 'dnf -y install haproxy keepalived';
    expect(files.get('scripts/20-install-packages.sh')!.content).toContain(pm);
    expect(files.get('scripts/50-enable-services.sh')!.content).toContain(
      `systemctl enable lbbake-agent.service ${m.vrrp.firewall ? 'lbbake-vrrp-firewall.service ' : ''}haproxy.service keepalived.service`,
    );
  });
});

describe('lbbake gen-packer', () => {
  it('writes both profiles to output/<name>/packer by default and --profile 1.6 writes only that one', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lbbake-gp-'));
    try {
      const a = io(cwd);
      expect(await main(['gen-packer', EXAMPLE], a)).toBe(0);
      const dir = join(cwd, 'output', 'k8s-apiserver', 'packer');
      for (const p of ['modern/packer.pkr.hcl', '1.6/packer.pkr.hcl', 'scripts/90-cleanup.sh', 'seed/user-data', 'README.md']) {
        expect(existsSync(join(dir, p)), p).toBe(true);
      }
      expect(a.err).toContain('packer init');

      const b = io(cwd);
      expect(await main(['gen-packer', EXAMPLE, '--profile', '1.6'], b)).toBe(0);
      expect(existsSync(join(dir, 'modern'))).toBe(false); // the directory is replaced as a whole
      expect(readFileSync(join(dir, '1.6', 'packer.pkr.hcl'), 'utf8')).toContain('>= 1.6.0');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('refuses to replace a directory it did not write (exit 2) and leaves it alone', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lbbake-gp-'));
    try {
      const dir = join(cwd, 'mine');
      mkdirSync(dir);
      writeFileSync(join(dir, 'notes.txt'), 'keep me');
      const a = io(cwd);
      expect(await main(['gen-packer', EXAMPLE, '-o', dir], a)).toBe(2);
      expect(a.err).toMatch(/not written by gen-packer/);
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
      expect(existsSync(join(dir, 'README.md'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('exits 1 on an invalid lb.yaml and writes nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lbbake-gp-'));
    try {
      const bad = join(cwd, 'bad.yaml');
      writeFileSync(bad, 'version: 1\nname: Bad Name\n');
      const a = io(cwd);
      expect(await main(['gen-packer', bad, '-o', join(cwd, 'out')], a)).toBe(1);
      expect(existsSync(join(cwd, 'out'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('rejects an unknown --profile (exit 2)', async () => {
    const a = io(tmpdir());
    expect(await main(['gen-packer', EXAMPLE, '--profile', '1.5'], a)).toBe(2);
  });
});
