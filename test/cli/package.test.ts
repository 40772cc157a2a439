/**
 * What users install: a clean copy of the repository (its tracked and new files, nothing
 * generated or git-ignored) runs `npm run example` (which generates a secrets file beside the
 * example), then `npm pack`; the tarball holds nothing generated, installs into an empty
 * project, and its bins work there, `--version` printing lbbake's own version.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/tmp.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const work = useTempDir('lbbake-ux-pack');
const OWN_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

const sh = (cmd: string, args: string[], cwd: string) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, npm_config_update_notifier: 'false' } });

/** A clean clone of the work tree: the files git tracks or would track, nothing ignored. */
function cleanClone(to: string): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    try {
      mkdirSync(dirname(join(to, f)), { recursive: true });
      cpSync(join(ROOT, f), join(to, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted, not yet committed
    }
  }
  // the clone's own npm ci would fetch the same packages; reuse ours (read-only)
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
}

describe('clean clone → npm run example → npm pack → install in an empty project', () => {
  let app: string;
  let packed: string[];
  beforeAll(() => {
    const clone = join(work, 'clone');
    cleanClone(clone);
    for (const args of [['run', 'build'], ['run', 'example']]) {
      const r = sh('npm', args, clone);
      expect(r.status, `npm ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // dist/ was just built from the clone (prepare would build it once more)
    const r = sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], clone);
    expect(r.status, r.stderr).toBe(0);
    packed = (JSON.parse(r.stdout)[0].files as Array<{ path: string }>).map((f) => f.path);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    app = join(work, 'app');
    mkdirSync(app);
    // a host project with a version of its own, which lbbake must never print as its own
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'host-project', version: '9.9.9', private: true }));
    const i = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tgz!)], app);
    expect(i.status, i.stderr).toBe(0);
  }, 300_000);

  it('the tarball holds nothing generated: no secrets file, no output, no test files', () => {
    expect(packed).toContain('examples/k8s-apiserver.yaml');
    expect(packed.filter((f) => /secrets\.yaml$|^output\/|^test\/|\.tgz$|lbbake-tmp/.test(f))).toEqual([]);
  });
  it("npx lbbake --version prints lbbake's own version, not the host project's", () => {
    const r = sh('npx', ['--no-install', 'lbbake', '--version'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(OWN_VERSION);
  });
  it('lbbake --help shows the examples', () => {
    const r = sh(join(app, 'node_modules/.bin/lbbake'), ['--help'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('lbbake init --from-env');
    expect(r.stdout).toContain('lbbake explain lb.yaml');
  });
  it('lbbake validate on the shipped example', () => {
    const r = sh(join(app, 'node_modules/.bin/lbbake'), ['validate', 'node_modules/lbbake/examples/k8s-apiserver.yaml'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/valid \(2 nodes, 1 services\)/);
  });
  it('gen-userdata (the second bin) writes #cloud-config', () => {
    const r = sh(join(app, 'node_modules/.bin/gen-userdata'), ['node_modules/lbbake/examples/k8s-apiserver.yaml', '--node', 'lb-0'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith('#cloud-config\n')).toBe(true);
  });
  it('lbbake init in the project points the editor at node_modules/lbbake/schema/lb.schema.json', () => {
    const r = sh(join(app, 'node_modules/.bin/lbbake'), ['init'], app);
    expect(r.status, r.stderr).toBe(0);
    const text = execFileSync('head', ['-1', join(app, 'lb.yaml')], { encoding: 'utf8' });
    expect(text).toBe('# yaml-language-server: $schema=node_modules/lbbake/schema/lb.schema.json\n');
    const v = sh(join(app, 'node_modules/.bin/lbbake'), ['validate', 'lb.yaml'], app);
    expect(v.status, v.stderr).toBe(0);
  });
});
