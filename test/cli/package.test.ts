import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/tmp.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const work = useTempDir('lbbake-ux-pack');

const sh = (cmd: string, args: string[], cwd: string) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, npm_config_update_notifier: 'false' } });

describe('npm pack → install in an empty folder → the bins work', () => {
  let app: string;
  beforeAll(() => {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], timeout: 240_000 });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });
    const r = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tgz!)], app);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);

  it('npx lbbake --version prints the package version', () => {
    const r = sh('npx', ['--no-install', 'lbbake', '--version'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
  it('npx lbbake --help shows the examples', () => {
    const r = sh('npx', ['--no-install', 'lbbake', '--help'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('lbbake init --from-env');
    expect(r.stdout).toContain('lbbake explain lb.yaml');
  });
  it('npx lbbake validate on the shipped example', () => {
    const r = sh('npx', ['--no-install', 'lbbake', 'validate', 'node_modules/lbbake/examples/k8s-apiserver.yaml'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/valid \(2 nodes, 1 services\)/);
  });
  it('npx gen-userdata (the second bin) writes #cloud-config', () => {
    const r = sh('npx', ['--no-install', 'gen-userdata', 'node_modules/lbbake/examples/k8s-apiserver.yaml', '--node', 'lb-0'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith('#cloud-config\n')).toBe(true);
  });
  it('lbbake init in the project points the editor at node_modules/lbbake/schema/lb.schema.json', () => {
    const r = sh('npx', ['--no-install', 'lbbake', 'init'], app);
    expect(r.status, r.stderr).toBe(0);
    const text = execFileSync('head', ['-1', join(app, 'lb.yaml')], { encoding: 'utf8' });
    expect(text).toBe('# yaml-language-server: $schema=node_modules/lbbake/schema/lb.schema.json\n');
    const v = sh('npx', ['--no-install', 'lbbake', 'validate', 'lb.yaml'], app);
    expect(v.status, v.stderr).toBe(0);
  });
});
