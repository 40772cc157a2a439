/**
 * health.clientCert through the CLI: the certificate and key (file: references beside lb.yaml)
 * reach the node as a root-only PEM and haproxy's `crt`; `--verify` checks haproxy.cfg with a
 * dummy certificate (the real key never reaches a validator); `--check` compares with the PEM
 * masked and never prints it; gen-packer bakes no key; no diagnostic shows a key.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE } from '../helpers/cli.js';
import { run } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';
import { haproxyCheck, missing, shellcheckText } from '../helpers/tools.js';
import { spawnSync } from 'node:child_process';

const tmp = useTempDir('lbbake-health-cert');
const noOpenssl = missing(['openssl', 'haproxy', 'shellcheck']);

/** A project whose apiserver check presents a client certificate made by openssl (a real key). */
function project(name: string): { lb: string; key: string } {
  const d = join(tmp, name);
  mkdirSync(join(d, 'pki'), { recursive: true });
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=lbbake-health',
    '-keyout', join(d, 'pki', 'health.key'), '-out', join(d, 'pki', 'health.crt')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const text = readFileSync(EXAMPLE, 'utf8').replace('health: { type: https, path: /readyz }',
    'health: { type: https, path: /readyz, clientCert: { cert: file:pki/health.crt, key: file:pki/health.key } }');
  writeFileSync(join(d, 'lb.yaml'), text);
  const key = readFileSync(join(d, 'pki', 'health.key'), 'utf8').split('\n')[1];
  return { lb: join(d, 'lb.yaml'), key };
}

describe.skipIf(noOpenssl)('health.clientCert through the CLI', () => {
  it('render --verify: the PEM is a 0600 file haproxy loads, verified with a dummy; --check masks it', async () => {
    const { lb, key } = project('render');
    const out = join(tmp, 'render-out');
    const r = await run(['render', lb, '--node', 'lb-0', '--verify', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/verified .*etc\/haproxy\/haproxy\.cfg \(haproxy -c\)/);
    expect(r.stderr + r.stdout).not.toContain(key);
    const pem = join(out, 'etc/haproxy/lbbake-kubernetes-apiserver-client.pem');
    expect(readFileSync(pem, 'utf8')).toContain(key);
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'etc/haproxy/haproxy.cfg'), 'utf8')).toContain(' crt /etc/haproxy/lbbake-kubernetes-apiserver-client.pem ');
    // unchanged: no drift
    const same = await run(['render', lb, '--node', 'lb-0', '--check', '-o', out]);
    expect(same.code, same.stderr + same.stdout).toBe(0);
    // a different key on the node: drift, reported without either key
    const other = readFileSync(pem, 'utf8').replace(key, key.split('').reverse().join(''));
    writeFileSync(pem, other);
    const drift = await run(['render', lb, '--node', 'lb-0', '--check', '-o', out]);
    expect(drift.code).toBe(1);
    expect(drift.stdout + drift.stderr).not.toContain(key);
    expect(drift.stdout + drift.stderr).not.toContain(key.split('').reverse().join(''));
  });

  it('metadata-mode user-data carries the PEM in the secrets file only; gen-packer bakes none', async () => {
    const { lb, key } = project('userdata');
    const ud = join(tmp, 'ud.yaml');
    const r = await run(['gen-userdata', lb, '--encoding', 'plain', '-o', ud]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(ud, 'utf8');
    // once: in /etc/lbbake/secrets.json (JSON-escaped), nowhere else
    expect(text.split(key).length - 1).toBe(1);
    expect(text).toContain('@@LBBAKE_SECRET_health_pem_0@@');
    const pk = join(tmp, 'packer');
    const p = await run(['gen-packer', lb, '-o', pk]);
    expect(p.code, p.stderr).toBe(0);
    const all = spawnSync('grep', ['-rl', key, pk], { encoding: 'utf8' });
    expect(all.stdout).toBe('');
    // the build's config check loads a public dummy certificate instead
    const check = readFileSync(join(pk, 'scripts', '40-check-configs.sh'), 'utf8');
    expect(check).toContain('crt /etc/haproxy/lbbake-kubernetes-apiserver-client.pem|crt $work/client-0.pem');
    const sc = shellcheckText(check);
    expect(sc.output).toBe('');
    // the same steps as the script, with the image's paths replaced by this project's files: haproxy -c passes
    const work = join(tmp, 'check-work');
    mkdirSync(work, { recursive: true });
    const pemLines = check.split("<<'LBBAKE_PEM'\n")[1].split('LBBAKE_PEM')[0];
    writeFileSync(join(work, 'client-0.pem'), pemLines);
    const cfg = readFileSync(join(pk, 'files/lbbake-rootfs/usr/lib/lbbake/shared/etc/haproxy/haproxy.cfg'), 'utf8')
      .replace(/@@LBBAKE_SECRET_stats_password_hash@@/, '$6$lbbakebuildcheck$CS7p9yhzCMMBgzNgGz1c2DimBzWZpzphi2q0K.j4.sWw6PNeVEn4kqqsn/koIjGssoD3nhjXZRiISGwMW8/HI/')
      .replace('crt /etc/haproxy/lbbake-kubernetes-apiserver-client.pem', `crt ${join(work, 'client-0.pem')}`);
    writeFileSync(join(work, 'haproxy.cfg'), cfg);
    const h = haproxyCheck(join(work, 'haproxy.cfg'));
    expect(h.output).toContain('Configuration file is valid');
  });
});
