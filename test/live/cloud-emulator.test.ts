/**
 * The cloud lab's emulated clouds keep the real clouds' semantics, proved with the real client
 * where one exists on Debian (awscli v2 for EC2) and with plain HTTP for the rest:
 * the fabric follows the API (not ARP), EC2 reassignment moves an address, IMDSv2 needs its
 * token, GCE fingerprints / Operations / route priorities, Azure's probe decides delivery, and
 * errors come in the clouds' own shapes. lbbake's node code is checked against the same emulator
 * (cloud-failover.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AWS_LAB, CloudLab, GCE_LAB } from '../helpers/cloudlab.js';
import { CLOUD_NET, LAB_TOOLS, LB_NODES, type LbName, sleep, waitFor } from '../helpers/netlab.js';
import { missing } from '../helpers/tools.js';

// awscli v2 starts in 1-3 s on a quiet machine and in tens of seconds on a loaded one; the
// tests assert behaviour, so a loaded machine only makes them slower, not red
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const reason = missing([...LAB_TOOLS, '/usr/bin/aws'], { root: true });
const addr = (n: LbName) => LB_NODES.find((x) => x.name === n)!.address;
const MD = `http://${CLOUD_NET.metadata}`;
const API = `http://${CLOUD_NET.api}`;

/** A TCP server in each node's namespace on `port` that answers its node name (no keepalived needed). */
function echoServers(c: CloudLab, port: number): () => void {
  const procs = LB_NODES.map((n) =>
    spawn('ip', ['netns', 'exec', c.lab.nodeNs(n.name), 'python3', '-c',
      `import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",${port}));s.listen(8)\n` +
      `while True:\n  c,_=s.accept();c.sendall(b"${n.name}");c.close()`], { stdio: 'ignore' }));
  return () => procs.forEach((p) => p.kill('SIGKILL'));
}

/** Who answers a TCP connection from the client to VIP:port ("" = nobody). */
function whoAnswers(c: CloudLab, port: number): string {
  const r = spawnSync('ip', ['netns', 'exec', c.lab.ns('cl'), 'python3', '-c',
    `import socket\ntry:\n  s=socket.create_connection(("${c.vip}",${port}),timeout=1);print(s.recv(64).decode())\nexcept Exception:\n  print("")`],
  { encoding: 'utf8', timeout: 10_000 });
  return r.stdout.trim();
}

/** Puts the VIP on a node's NIC and sends a gratuitous ARP for it, as keepalived would. */
function claimByArp(c: CloudLab, node: LbName): void {
  const ns = c.lab.nodeNs(node);
  spawnSync('ip', ['-n', ns, 'addr', 'replace', `${c.vip}/32`, 'dev', 'ens5']);
  const py = `import socket\nmac=open("/sys/class/net/ens5/address").read().strip()\nm=bytes.fromhex(mac.replace(":",""))\n` +
    `ip=socket.inet_aton("${c.vip}")\nf=b"\\xff"*6+m+b"\\x08\\x06"+b"\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x02"+m+ip+b"\\xff"*6+ip\n` +
    `s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(("ens5",0))\nfor _ in range(3): s.send(f)`;
  const r = spawnSync('ip', ['netns', 'exec', ns, 'python3', '-c', py], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`garp failed: ${r.stderr}`);
}

const eniAddresses = (j: unknown) =>
  Object.fromEntries(((j as { NetworkInterfaces: Array<{ NetworkInterfaceId: string; PrivateIpAddresses: Array<{ PrivateIpAddress: string }> }> })
    .NetworkInterfaces).map((e) => [e.NetworkInterfaceId, e.PrivateIpAddresses.map((a) => a.PrivateIpAddress)]));

describe.skipIf(reason)('emulated EC2 (secondary IP) driven by the real awscli v2', () => {
  let c: CloudLab;
  let stopEcho = () => {};
  beforeAll(async () => {
    c = await CloudLab.create({ provider: 'aws', mode: 'secondary-ip' }, { remapDelay: 1.0 });
    stopEcho = echoServers(c, 7000);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && c) console.error(c.diagnose());
  });
  afterAll(() => {
    stopEcho();
    c?.destroy();
  });

  it('IMDSv2: no token 401, bad PUT 400, X-Forwarded-For 403; with the token the instance\'s own MAC, ENI and role credentials', () => {
    expect(c.http('lb-0', 'GET', `${MD}/latest/meta-data/mac`).status).toBe(401);
    expect(c.http('lb-0', 'PUT', `${MD}/latest/api/token`).status).toBe(400);
    expect(c.http('lb-0', 'PUT', `${MD}/latest/api/token`, { 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '1.2.3.4' }).status).toBe(403);
    const tok = c.http('lb-0', 'PUT', `${MD}/latest/api/token`, { 'X-aws-ec2-metadata-token-ttl-seconds': '60' });
    expect(tok.status).toBe(200);
    const get = (who: LbName, t: string, p: string) => c.http(who, 'GET', `${MD}/latest/meta-data/${p}`, { 'X-aws-ec2-metadata-token': t });
    expect(get('lb-0', tok.body, 'mac').body).toBe('02:00:5e:18:00:0b');
    expect(get('lb-0', tok.body, 'network/interfaces/macs/02:00:5e:18:00:0b/interface-id').body).toBe(AWS_LAB.eni('lb-0'));
    expect(get('lb-0', 'not-the-token', 'mac').status).toBe(401);
    // a token is bound to the instance that asked for it
    expect(get('lb-1', tok.body, 'mac').status).toBe(401);
    const role = get('lb-0', tok.body, 'iam/security-credentials/').body;
    expect(role).toBe(AWS_LAB.role);
    const cred = JSON.parse(get('lb-0', tok.body, `iam/security-credentials/${role}`).body);
    expect(Object.keys(cred).sort()).toEqual(['AccessKeyId', 'Code', 'Expiration', 'LastUpdated', 'SecretAccessKey', 'Token', 'Type']);
    expect(cred.Type).toBe('AWS-HMAC');
  });

  it('awscli on an instance takes region and role credentials from IMDSv2, and its SigV4 signature verifies', () => {
    const r = c.aws('lb-0', ['describe-network-interfaces', '--filters', `Name=addresses.private-ip-address,Values=${c.vip}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ NetworkInterfaces: [] }); // nobody holds the VIP yet: an empty set, not an error
    expect(c.state().counts['lb-0 DescribeNetworkInterfaces ok']).toBe(1);
  });

  it('assign moves the address only with AllowReassignment (then the old ENI loses it); the fabric follows after the remap delay, GARP or not', async () => {
    spawnSync('ip', ['-n', c.lab.nodeNs('lb-0'), 'addr', 'replace', `${c.vip}/32`, 'dev', 'ens5']);
    const a = c.aws('lb-0', ['assign-private-ip-addresses', '--network-interface-id', AWS_LAB.eni('lb-0'), '--private-ip-addresses', c.vip]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.json).toMatchObject({ NetworkInterfaceId: AWS_LAB.eni('lb-0'), AssignedPrivateIpAddresses: [{ PrivateIpAddress: c.vip }] });
    expect(c.owners()).toEqual(['lb-0']);
    await c.ownedBy('lb-0', 5_000);
    expect(whoAnswers(c, 7000)).toBe('lb-0');

    // in use: refused without --allow-reassignment, in EC2's error shape as awscli prints it
    const refused = c.aws('lb-1', ['assign-private-ip-addresses', '--network-interface-id', AWS_LAB.eni('lb-1'), '--private-ip-addresses', c.vip]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/An error occurred \(InvalidIPAddress\.InUse\) when calling the AssignPrivateIpAddresses operation: Address 198\.18\.0\.100 is in use\./);

    // a gratuitous ARP from lb-1 moves nothing: the fabric delivers by the API only
    claimByArp(c, 'lb-1');
    await sleep(500);
    expect(whoAnswers(c, 7000)).toBe('lb-0');

    const t0 = Date.now();
    const moved = c.aws('lb-1', ['assign-private-ip-addresses', '--network-interface-id', AWS_LAB.eni('lb-1'), '--private-ip-addresses', c.vip, '--allow-reassignment']);
    expect(moved.status, moved.stderr).toBe(0);
    const d = c.aws('router', ['describe-network-interfaces', '--network-interface-ids', AWS_LAB.eni('lb-0'), AWS_LAB.eni('lb-1')],
      { AWS_ACCESS_KEY_ID: AWS_LAB.staticKey.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_LAB.staticKey.secretAccessKey, AWS_DEFAULT_REGION: AWS_LAB.region });
    expect(d.status, d.stderr).toBe(0);
    expect(eniAddresses(d.json)).toEqual({ [AWS_LAB.eni('lb-0')]: [addr('lb-0')], [AWS_LAB.eni('lb-1')]: [addr('lb-1'), c.vip] });
    // reassigned in the API at once, in the fabric (and IMDS local-ipv4s) only after the remap delay
    await c.ownedBy('lb-1', 5_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(whoAnswers(c, 7000)).toBe('lb-1');
    const tok = c.http('lb-1', 'PUT', `${MD}/latest/api/token`, { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }).body;
    expect(c.http('lb-1', 'GET', `${MD}/latest/meta-data/network/interfaces/macs/02:00:5e:18:00:0c/local-ipv4s`, { 'X-aws-ec2-metadata-token': tok }).body)
      .toBe(`${addr('lb-1')}\n${c.vip}`);
  });

  it('refuses an address outside the subnet and an unknown ENI, with the codes and messages awscli shows', () => {
    const out = c.aws('lb-0', ['assign-private-ip-addresses', '--network-interface-id', AWS_LAB.eni('lb-0'), '--private-ip-addresses', '198.19.0.5']);
    expect(out.stderr).toMatch(/\(InvalidParameterValue\) when calling the AssignPrivateIpAddresses operation/);
    const none = c.aws('lb-0', ['assign-private-ip-addresses', '--network-interface-id', 'eni-0000000000000dead', '--private-ip-addresses', c.vip]);
    expect(none.stderr).toMatch(/\(InvalidNetworkInterfaceID\.NotFound\) when calling the AssignPrivateIpAddresses operation: The networkInterface ID 'eni-0000000000000dead' does not exist/);
  });

  it('a wrong secret is refused (SignatureDoesNotMatch), and awscli does not retry it', () => {
    const r = c.aws('router', ['describe-network-interfaces'],
      { AWS_ACCESS_KEY_ID: AWS_LAB.staticKey.accessKeyId, AWS_SECRET_ACCESS_KEY: 'wrong', AWS_DEFAULT_REGION: AWS_LAB.region });
    expect(r.stderr).toMatch(/\(SignatureDoesNotMatch\)/);
  });

  it('throttling answers 503 RequestLimitExceeded, which awscli recognises and retries (3 attempts) before giving up', () => {
    const before = c.state().counts['lb-0 DescribeNetworkInterfaces RequestLimitExceeded'] ?? 0;
    c.fault({ kind: 'throttle', seconds: 30, callers: ['lb-0'] });
    try {
      const r = c.aws('lb-0', ['describe-network-interfaces']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/\(RequestLimitExceeded\) when calling the DescribeNetworkInterfaces operation \(reached max retries: 2\): Request limit exceeded\./);
      expect((c.state().counts['lb-0 DescribeNetworkInterfaces RequestLimitExceeded'] ?? 0) - before).toBe(3);
      // the fault is per caller: lb-1 is served meanwhile
      expect(c.aws('lb-1', ['describe-network-interfaces']).status).toBe(0);
    } finally {
      c.clearFaults();
    }
  });
});

describe.skipIf(reason)('emulated EC2 route table (route mode) driven by awscli v2', () => {
  let c: CloudLab;
  let stopEcho = () => {};
  beforeAll(async () => {
    c = await CloudLab.create({ provider: 'aws', mode: 'route' }, { remapDelay: 0.3, srcDestCheck: true });
    stopEcho = echoServers(c, 7000);
  });
  afterAll(() => {
    stopEcho();
    c?.destroy();
  });

  it('replace-route retargets the VIP/32; traffic to an ENI with source/dest check on is dropped until it is disabled', async () => {
    // the VIP lies outside the VPC: the nodes hold it locally, the route table decides
    for (const n of ['lb-0', 'lb-1'] as const) spawnSync('ip', ['-n', c.lab.nodeNs(n), 'addr', 'replace', `${c.vip}/32`, 'dev', 'ens5']);
    const rt = c.aws('lb-0', ['describe-route-tables', '--route-table-ids', AWS_LAB.routeTable]);
    expect(rt.status, rt.stderr).toBe(0);
    const routes = (rt.json as { RouteTables: Array<{ Routes: Array<{ DestinationCidrBlock: string; NetworkInterfaceId?: string }> }> }).RouteTables[0].Routes;
    expect(routes.find((r) => r.DestinationCidrBlock === `${c.vip}/32`)?.NetworkInterfaceId).toBe(AWS_LAB.eni('lb-1'));
    await waitFor('blackholed', () => c.state().deliveredTo === 'blackhole', { timeoutMs: 30_000 });
    expect(whoAnswers(c, 7000)).toBe('');

    const r = c.aws('lb-0', ['replace-route', '--route-table-id', AWS_LAB.routeTable, '--destination-cidr-block', `${c.vip}/32`,
      '--network-interface-id', AWS_LAB.eni('lb-0')]);
    expect(r.status, r.stderr).toBe(0);
    expect(c.owners()).toEqual(['lb-0']);
    await sleep(600);
    expect(whoAnswers(c, 7000)).toBe(''); // source/dest check still on
    for (const n of ['lb-0', 'lb-1'] as const) {
      const m = c.aws(n, ['modify-network-interface-attribute', '--network-interface-id', AWS_LAB.eni(n), '--no-source-dest-check']);
      expect(m.status, m.stderr).toBe(0);
    }
    await c.ownedBy('lb-0', 5_000);
    expect(whoAnswers(c, 7000)).toBe('lb-0');
    const missingRoute = c.aws('lb-0', ['replace-route', '--route-table-id', AWS_LAB.routeTable, '--destination-cidr-block', '198.19.9.9/32',
      '--network-interface-id', AWS_LAB.eni('lb-0')]);
    expect(missingRoute.stderr).toMatch(/\(InvalidParameterValue\) when calling the ReplaceRoute operation: There is no route defined for '198\.19\.9\.9\/32' in the route table\. Use CreateRoute instead\./);
    const exists = c.aws('lb-0', ['create-route', '--route-table-id', AWS_LAB.routeTable, '--destination-cidr-block', `${c.vip}/32`,
      '--network-interface-id', AWS_LAB.eni('lb-1')]);
    expect(exists.stderr).toMatch(/\(RouteAlreadyExists\) when calling the CreateRoute operation/);
  });
});

interface GceOp { name: string; status: string; error?: { errors: Array<{ code: string; message: string }> }; selfLink: string }

describe.skipIf(reason)('emulated Compute Engine: metadata server, alias IPs, Operations, routes', () => {
  let c: CloudLab;
  let stopEcho = () => {};
  const tokenOf = (n: LbName) => JSON.parse(c.http(n, 'GET', `${MD}/computeMetadata/v1/instance/service-accounts/default/token`, { 'Metadata-Flavor': 'Google' }).body).access_token as string;
  const api = (n: LbName, method: string, path: string, body?: object) => {
    const r = c.http(n, method, `${API}/compute/v1/projects/${GCE_LAB.project}/${path}`, { Authorization: `Bearer ${tokenOf(n)}`, 'Content-Type': 'application/json' },
      body === undefined ? undefined : JSON.stringify(body));
    return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
  };
  const inst = (n: LbName) => api(n, 'GET', `zones/${GCE_LAB.zone(n)}/instances/${GCE_LAB.instance(n)}`).json.networkInterfaces[0];
  const setAliases = (n: LbName, fingerprint: string | undefined, ranges: string[]) =>
    api(n, 'PATCH', `zones/${GCE_LAB.zone(n)}/instances/${GCE_LAB.instance(n)}/updateNetworkInterface?networkInterface=nic0`,
      { aliasIpRanges: ranges.map((r) => ({ ipCidrRange: r })), ...(fingerprint ? { fingerprint } : {}) });
  const wait = (n: LbName, op: GceOp) => api(n, 'POST', `zones/${GCE_LAB.zone(n)}/operations/${op.name}/wait`).json as GceOp;

  beforeAll(async () => {
    c = await CloudLab.create({ provider: 'gce', mode: 'alias-ip' }, { opDelay: 0.5 });
    stopEcho = echoServers(c, 7000);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && c) console.error(c.diagnose());
  });
  afterAll(() => {
    stopEcho();
    c?.destroy();
  });

  it('metadata needs Metadata-Flavor: Google and answers with it; name, zone path, project, token', () => {
    expect(c.http('lb-0', 'GET', `${MD}/computeMetadata/v1/instance/name`).status).toBe(403);
    const name = c.http('lb-0', 'GET', `${MD}/computeMetadata/v1/instance/name`, { 'Metadata-Flavor': 'Google' });
    expect([name.status, name.body, name.headers['Metadata-Flavor']]).toEqual([200, GCE_LAB.instance('lb-0'), 'Google']);
    expect(c.http('lb-1', 'GET', `${MD}/computeMetadata/v1/instance/zone`, { 'Metadata-Flavor': 'Google' }).body).toMatch(/^projects\/\d+\/zones\/europe-west1-c$/);
    const t = JSON.parse(c.http('lb-0', 'GET', `${MD}/computeMetadata/v1/instance/service-accounts/default/token`, { 'Metadata-Flavor': 'Google' }).body);
    expect(Object.keys(t).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(c.http('lb-0', 'GET', `${API}/compute/v1/projects/${GCE_LAB.project}/zones/europe-west1-b/instances/k8s-lb-a`).status).toBe(401);
  });

  it('updateNetworkInterface: fingerprint missing 400, stale 412; an Operation that is RUNNING, then DONE; the fabric moves at DONE', async () => {
    spawnSync('ip', ['-n', c.lab.nodeNs('lb-0'), 'addr', 'replace', `${c.vip}/32`, 'dev', 'ens5']);
    const before = inst('lb-0');
    expect(setAliases('lb-0', undefined, [`${c.vip}/32`]).status).toBe(400);
    expect(setAliases('lb-0', 'c3RhbGU=', [`${c.vip}/32`]).status).toBe(412);
    const r = setAliases('lb-0', before.fingerprint, [`${c.vip}/32`]);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ kind: 'compute#operation', status: 'RUNNING', operationType: 'updateNetworkInterface' });
    expect(c.owners()).toEqual([]); // not applied before DONE
    const done = wait('lb-0', r.json);
    expect(done.status).toBe('DONE');
    expect(done.error).toBeUndefined();
    const after = inst('lb-0');
    expect(after.aliasIpRanges).toEqual([{ ipCidrRange: `${c.vip}/32` }]);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(setAliases('lb-0', before.fingerprint, []).status).toBe(412);
    await c.ownedBy('lb-0', 3_000);
    expect(whoAnswers(c, 7000)).toBe('lb-0');
    claimByArp(c, 'lb-1');
    await sleep(300);
    expect(whoAnswers(c, 7000)).toBe('lb-0');
  });

  it('an alias held by another instance: the Operation ends DONE with IP_IN_USE_BY_ANOTHER_RESOURCE; outside the subnet is a 400', () => {
    const op = setAliases('lb-1', inst('lb-1').fingerprint, [`${c.vip}/32`]).json as GceOp;
    const done = wait('lb-1', op);
    expect(done.status).toBe('DONE');
    expect(done.error?.errors[0]).toEqual({ code: 'IP_IN_USE_BY_ANOTHER_RESOURCE', message: `IP '${c.vip}' is already being used by another resource.` });
    expect(c.owners()).toEqual(['lb-0']);
    const out = setAliases('lb-1', inst('lb-1').fingerprint, ['198.19.0.7/32']);
    expect(out.status).toBe(400);
    expect(out.json.error.errors[0].reason).toBe('invalid');
  });

  it('aggregatedList shows every zone (with NO_RESULTS_ON_PAGE warnings) and the alias holder', () => {
    const l = api('lb-1', 'GET', 'aggregated/instances').json;
    expect(Object.keys(l.items).sort()).toEqual(['zones/europe-west1-b', 'zones/europe-west1-c', 'zones/europe-west1-d']);
    expect(l.items['zones/europe-west1-d'].warning.code).toBe('NO_RESULTS_ON_PAGE');
    expect(l.items['zones/europe-west1-b'].instances[0].networkInterfaces[0].aliasIpRanges).toEqual([{ ipCidrRange: `${c.vip}/32` }]);
  });

  it('throttling is a 429 rateLimitExceeded in the API\'s JSON error shape', () => {
    c.fault({ kind: 'throttle', seconds: 20, callers: ['lb-1'] });
    try {
      const r = api('lb-1', 'GET', 'aggregated/instances');
      expect(r.status).toBe(429);
      expect(r.json.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded' }] });
    } finally {
      c.clearFaults();
    }
  });
});

describe.skipIf(reason)('emulated Compute Engine routes: specificity, priority, ECMP, canIpForward', () => {
  let c: CloudLab;
  let stopEcho = () => {};
  const token = () => GCE_LAB.staticToken;
  const api = (method: string, path: string, body?: object) => {
    const r = c.http('lb-0', method, `${API}/compute/v1/projects/${GCE_LAB.project}/${path}`, { Authorization: `Bearer ${token()}`, 'Content-Type': 'application/json' },
      body === undefined ? undefined : JSON.stringify(body));
    return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
  };
  const link = (n: LbName) => `https://www.googleapis.com/compute/v1/projects/${GCE_LAB.project}/zones/${GCE_LAB.zone(n)}/instances/${GCE_LAB.instance(n)}`;
  const insert = (name: string, priority: number, n: LbName) => {
    const r = api('POST', 'global/routes', { name, network: `https://www.googleapis.com/compute/v1/projects/${GCE_LAB.project}/global/networks/default`,
      destRange: `${c.vip}/32`, priority, nextHopInstance: link(n) });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return api('POST', `global/operations/${r.json.name}/wait`).json as GceOp;
  };
  beforeAll(async () => {
    c = await CloudLab.create({ provider: 'gce', mode: 'route' }, { opDelay: 0.2 });
    stopEcho = echoServers(c, 7000);
    for (const n of ['lb-0', 'lb-1'] as const) spawnSync('ip', ['-n', c.lab.nodeNs(n), 'addr', 'replace', `${c.vip}/32`, 'dev', 'ens5']);
  });
  afterAll(() => {
    stopEcho();
    c?.destroy();
  });

  it('equal priorities split traffic (ECMP), a lower priority value wins, deleting it moves traffic back', async () => {
    await c.ownedBy('lb-1', 5_000); // the lab's initial route lab-vip (priority 1000) -> lb-1
    expect(insert('lab-vip-a', 1000, 'lb-0').status).toBe('DONE');
    await waitFor('ECMP over both nodes', () => c.state().deliveredTo === `${addr('lb-0')},${addr('lb-1')}`, { timeoutMs: 30_000 });
    expect(c.owners()).toEqual(['lb-0', 'lb-1']);
    expect(insert('lab-vip-b', 900, 'lb-0').status).toBe('DONE');
    await c.ownedBy('lb-0', 5_000);
    expect(whoAnswers(c, 7000)).toBe('lb-0');
    const dup = api('POST', 'global/routes', { name: 'lab-vip-b', network: 'global/networks/default', destRange: `${c.vip}/32`, priority: 900, nextHopInstance: link('lb-1') });
    expect(dup.status).toBe(409);
    for (const name of ['lab-vip-a', 'lab-vip-b']) {
      const d = api('DELETE', `global/routes/${name}`);
      expect(d.status).toBe(200);
      expect((api('POST', `global/operations/${d.json.name}/wait`).json as GceOp).status).toBe('DONE');
    }
    await c.ownedBy('lb-1', 5_000);
    const listed = api('GET', `global/routes?filter=${encodeURIComponent(`destRange = "${c.vip}/32"`)}`).json;
    expect(listed.items.map((r: { name: string }) => r.name)).toEqual(['lab-vip']);
    expect(api('GET', `global/routes?filter=${encodeURIComponent('name = "x" AND priority > 3')}`).status).toBe(400);
    expect(api('POST', 'global/routes', { name: 'in-subnet', network: 'global/networks/default', destRange: '198.18.0.100/32', nextHopInstance: link('lb-0') }).status).toBe(400);
  });
});

describe.skipIf(reason)('emulated Azure internal load balancer: the health probe decides delivery', () => {
  let c: CloudLab;
  let stop = () => {};
  beforeAll(async () => {
    c = await CloudLab.create({ provider: 'azure' }, { probePort: 61000, probeInterval: 0.5 });
    stop = echoServers(c, 7000);
  });
  afterAll(() => {
    stop();
    c?.destroy();
  });

  it('no probe answers: no delivery; one node answers 200: all new flows go to it; both: spread', async () => {
    for (const n of ['lb-0', 'lb-1'] as const) spawnSync('ip', ['-n', c.lab.nodeNs(n), 'addr', 'replace', `${c.vip}/32`, 'dev', 'ens5']);
    await waitFor('unreachable', () => c.state().deliveredTo === 'unreachable', { timeoutMs: 30_000 });
    const probe = (n: LbName) => spawn('ip', ['netns', 'exec', c.lab.nodeNs(n), 'python3', '-c',
      'import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s):\n    s.send_response(200);s.end_headers()\n  def log_message(*a): pass\nh.HTTPServer(("0.0.0.0",61000),H).serve_forever()'],
    { stdio: 'ignore' });
    const p1 = probe('lb-1');
    try {
      await c.ownedBy('lb-1', 5_000);
      expect(whoAnswers(c, 7000)).toBe('lb-1');
      const p0 = probe('lb-0');
      try {
        await waitFor('both healthy', () => c.owners().join() === 'lb-0,lb-1', { timeoutMs: 30_000 });
      } finally {
        p0.kill('SIGKILL');
      }
      await c.ownedBy('lb-1', 5_000);
    } finally {
      p1.kill('SIGKILL');
    }
    await waitFor('none healthy', () => c.owners().length === 0, { timeoutMs: 30_000 });
  });
});
