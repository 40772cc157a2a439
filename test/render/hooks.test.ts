import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { hookFiles, hookScript } from '../../src/render/hooks.js';
import { compile } from '../../src/compile/compile.js';
import { renderKeepalived } from '../../src/render/node.js';
import { missing, shellcheckText } from '../helpers/tools.js';
import { EXAMPLE } from '../helpers/io.js';
import { useTempDir } from '../helpers/tmp.js';

const dir = useTempDir('lbbake-ux-hooks');

function withCloud(cloud: object) {
  const doc = parse(readFileSync(EXAMPLE, 'utf8'));
  doc.vip.cloud = cloud;
  return compile(stringify(doc));
}

/** A PATH of stub aws/gcloud/curl/logger/sleep that log every call, one line each, to $STUB_LOG. */
function stubs(): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const rec = `printf '%s' "$(basename "$0")" >> "$STUB_LOG"; for a in "$@"; do printf " [%s]" "$a" >> "$STUB_LOG"; done; echo >> "$STUB_LOG"`;
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${rec}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  script(
    'curl',
    `for a in "$@"; do url=$a; done
case "$url" in
  */latest/api/token) echo TOKEN ;;
  */meta-data/network/interfaces/macs/02:00:5e:00:53:01/interface-id) echo eni-0123456789abcdef0 ;;
  */meta-data/placement/region) echo eu-west-1 ;;
  */instance/name) echo lb-0 ;;
  */instance/zone) echo projects/123/zones/europe-west1-b ;;
  */project/project-id) echo proj-1 ;;
  *) exit 22 ;;
esac`,
  );
  script('aws', 'exit 0');
  script('gcloud', `case "$*" in *"instances list"*) printf 'lb-1\\teurope-west1-c\\n' ;; esac; exit 0`);
  script('logger', 'exit 0');
  script('sleep', 'exit 0');
  mkdirSync(join(dir, 'sys/class/net/eth0'), { recursive: true });
  writeFileSync(join(dir, 'sys/class/net/eth0/address'), '02:00:5e:00:53:01\n');
  return bin;
}

function runHook(provider: 'aws' | 'gce', args: string[]) {
  const bin = stubs();
  const hook = join(dir, `vip-move-${provider}`);
  writeFileSync(hook, hookScript(provider));
  chmodSync(hook, 0o755);
  const log = join(dir, `calls-${provider}-${args[0]}.log`);
  writeFileSync(log, '');
  const r = spawnSync('/bin/sh', [hook, ...args], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, STUB_LOG: log, LBBAKE_SYSFS: join(dir, 'sys') },
    timeout: 10_000,
  });
  return { status: r.status, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter((l) => !l.startsWith('logger')) };
}

describe('vip.cloud in lb.yaml', () => {
  it('aws secondary-ip: notify_master in keepalived.conf and the hook file for user-data', () => {
    const res = withCloud({ provider: 'aws', mode: 'secondary-ip' });
    expect(res.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const m = res.model!;
    const conf = renderKeepalived(m, m.nodes[0]);
    expect(conf).toContain('    notify_master "/usr/local/libexec/lbbake/vip-move-aws secondary-ip eth0 10.168.222.18"\n');
    const files = hookFiles(m);
    expect([...files.keys()]).toEqual(['usr/local/libexec/lbbake/vip-move-aws']);
    expect(files.get('usr/local/libexec/lbbake/vip-move-aws')).toMatchObject({ mode: '0755', owner: 'root:root' });
  });
  it('aws route and gce modes build their commands', () => {
    const aws = withCloud({ provider: 'aws', mode: 'route', routeTableIds: ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210'] }).model!;
    expect(aws.vip.cloud?.notifyMaster).toBe('/usr/local/libexec/lbbake/vip-move-aws route eth0 10.168.222.18/32 rtb-0123456789abcdef0 rtb-0fedcba9876543210');
    const alias = withCloud({ provider: 'gce', mode: 'alias-ip' }).model!;
    expect(alias.vip.cloud?.notifyMaster).toBe('/usr/local/libexec/lbbake/vip-move-gce alias-ip 10.168.222.18/32');
    const route = withCloud({ provider: 'gce', mode: 'route', routeName: 'k8s-vip' }).model!;
    expect(route.vip.cloud?.notifyMaster).toBe('/usr/local/libexec/lbbake/vip-move-gce route 10.168.222.18/32 k8s-vip default');
  });
  it('without vip.cloud there is no notify_master and no hook', () => {
    const m = compile(readFileSync(EXAMPLE, 'utf8')).model!;
    expect(renderKeepalived(m, m.nodes[0])).not.toContain('notify_master');
    expect(hookFiles(m).size).toBe(0);
  });
  it('rejects a mode of the other cloud, a missing route table, a bad id', () => {
    const codes = (c: object) => withCloud(c).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path}`);
    expect(codes({ provider: 'aws', mode: 'alias-ip' })).toContain('BAD_VALUE /vip/cloud/mode');
    expect(codes({ provider: 'gce', mode: 'secondary-ip' })).toContain('BAD_VALUE /vip/cloud/mode');
    expect(codes({ provider: 'aws', mode: 'route' })).toContain('MISSING_KEY /vip/cloud');
    expect(codes({ provider: 'gce', mode: 'route' })).toContain('MISSING_KEY /vip/cloud');
    expect(codes({ provider: 'aws', mode: 'route', routeTableIds: ['rtb-x; rm -rf /'] })).toContain('BAD_STRING /vip/cloud/routeTableIds/0');
    expect(codes({ provider: 'azure', mode: 'route' })).toContain('BAD_VALUE /vip/cloud/provider');
  });
});

const noShellcheck = missing(['shellcheck']);
describe.skipIf(noShellcheck)('hooks are shellcheck-clean POSIX sh', () => {
  for (const p of ['aws', 'gce'] as const) {
    it(`vip-move-${p}`, () => {
      const script = hookScript(p);
      expect(script.startsWith('#!/bin/sh\n')).toBe(true);
      const r = shellcheckText(script);
      expect(r.status, r.output).toBe(0);
    });
  }
});

describe('hooks call the cloud CLI exactly so (stub CLIs record their calls)', () => {
  it('aws secondary-ip: IMDSv2 token, ENI of the interface, assign with --allow-reassignment', () => {
    const r = runHook('aws', ['secondary-ip', 'eth0', '10.168.222.18']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([
      'curl [-sSf] [-X] [PUT] [-H] [X-aws-ec2-metadata-token-ttl-seconds: 300] [http://169.254.169.254/latest/api/token]',
      'curl [-sSf] [-H] [X-aws-ec2-metadata-token: TOKEN] [http://169.254.169.254/latest/meta-data/network/interfaces/macs/02:00:5e:00:53:01/interface-id]',
      'curl [-sSf] [-H] [X-aws-ec2-metadata-token: TOKEN] [http://169.254.169.254/latest/meta-data/placement/region]',
      'aws [--region] [eu-west-1] [ec2] [assign-private-ip-addresses] [--network-interface-id] [eni-0123456789abcdef0] [--private-ip-addresses] [10.168.222.18] [--allow-reassignment]',
    ]);
  });
  it('aws route: replace-route in every table', () => {
    const r = runHook('aws', ['route', 'eth0', '10.168.222.18/32', 'rtb-0123456789abcdef0', 'rtb-0fedcba9876543210']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('aws'))).toEqual([
      'aws [--region] [eu-west-1] [ec2] [replace-route] [--route-table-id] [rtb-0123456789abcdef0] [--destination-cidr-block] [10.168.222.18/32] [--network-interface-id] [eni-0123456789abcdef0]',
      'aws [--region] [eu-west-1] [ec2] [replace-route] [--route-table-id] [rtb-0fedcba9876543210] [--destination-cidr-block] [10.168.222.18/32] [--network-interface-id] [eni-0123456789abcdef0]',
    ]);
  });
  it('gce alias-ip: release from the holder, then add to this instance', () => {
    const r = runHook('gce', ['alias-ip', '10.168.222.18/32']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([
      'curl [-sSf] [-H] [Metadata-Flavor: Google] [http://metadata.google.internal/computeMetadata/v1/instance/name]',
      'curl [-sSf] [-H] [Metadata-Flavor: Google] [http://metadata.google.internal/computeMetadata/v1/instance/zone]',
      'curl [-sSf] [-H] [Metadata-Flavor: Google] [http://metadata.google.internal/computeMetadata/v1/project/project-id]',
      'gcloud [compute] [instances] [list] [--project] [proj-1] [--filter] [networkInterfaces[0].aliasIpRanges.ipCidrRange=10.168.222.18/32] [--format] [value(name,zone.basename())]',
      'gcloud [compute] [instances] [network-interfaces] [update] [lb-1] [--project] [proj-1] [--zone] [europe-west1-c] [--network-interface] [nic0] [--aliases] []',
      'gcloud [compute] [instances] [network-interfaces] [update] [lb-0] [--project] [proj-1] [--zone] [europe-west1-b] [--network-interface] [nic0] [--aliases] [10.168.222.18/32]',
    ]);
  });
  it('gce route: delete, then create with this instance as next hop', () => {
    const r = runHook('gce', ['route', '10.168.222.18/32', 'k8s-vip', 'default']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('gcloud'))).toEqual([
      'gcloud [compute] [routes] [delete] [k8s-vip] [--project] [proj-1] [--quiet]',
      'gcloud [compute] [routes] [create] [k8s-vip] [--project] [proj-1] [--network] [default] [--destination-range] [10.168.222.18/32] [--next-hop-instance] [lb-0] [--next-hop-instance-zone] [europe-west1-b] [--priority] [100]',
    ]);
  });
  it('a failing CLI is retried a bounded number of times, then the hook fails', () => {
    const bin = stubs();
    writeFileSync(join(bin, 'aws'), `#!/bin/sh\necho "aws $*" >> "$STUB_LOG"\nexit 255\n`);
    const hook = join(dir, 'vip-move-aws');
    writeFileSync(hook, hookScript('aws'));
    const log = join(dir, 'calls-fail.log');
    writeFileSync(log, '');
    const r = spawnSync('/bin/sh', [hook, 'secondary-ip', 'eth0', '10.168.222.18'], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, STUB_LOG: log, LBBAKE_SYSFS: join(dir, 'sys'), LBBAKE_TRIES: '3' },
      timeout: 10_000,
    });
    expect(r.status).not.toBe(0);
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('aws '))).toHaveLength(3);
    expect(r.stderr).toMatch(/giving up after 3 attempts/);
    // restore the recording stub for other tests
    stubs();
  });
});

const noKeepalived = missing(['keepalived', 'unshare', 'ip'], { root: true });
describe.skipIf(noKeepalived)('keepalived -t accepts the notify_master line', () => {
  it('with the hook installed at its path (private mount namespace + throwaway netns)', () => {
    const m = withCloud({ provider: 'aws', mode: 'secondary-ip' }).model!;
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, renderKeepalived(m, m.nodes[0]));
    const hook = join(dir, 'hook-aws');
    writeFileSync(hook, hookFiles(m).get('usr/local/libexec/lbbake/vip-move-aws')!.content);
    const ns = `lbbk-ux-${process.pid}`;
    const check = (install: boolean) => {
      spawnSync('ip', ['netns', 'add', ns]);
      try {
        spawnSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'uxp0']);
        // /usr/local is replaced by a tmpfs only inside this mount namespace; the host is untouched
        const setup = install ? `mkdir -p /usr/local/libexec/lbbake && install -m 0755 ${hook} /usr/local/libexec/lbbake/vip-move-aws && ` : '';
        return spawnSync('unshare', ['--mount', 'sh', '-c', `mount -t tmpfs tmpfs /usr/local && ${setup}ip netns exec ${ns} keepalived -t -f ${conf}`], { encoding: 'utf8', timeout: 30_000 });
      } finally {
        spawnSync('ip', ['netns', 'del', ns]);
      }
    };
    // (keepalived 2.2.7 -t does not report a missing notify script, so only the positive case is checked)
    const ok = check(true);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toMatch(/unknown keyword|error/i);
  });
});
