/**
 * Live HA suite: the keepalived + haproxy configs lbbake renders, run unmodified by real daemons
 * in a network of namespaces (test/helpers/netlab.ts). Needs root; in CI a missing tool fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/tools.js';
import { type LbName, labYaml, NetLab, parseBody, type ProbeResult, renderLab, waitFor } from '../helpers/netlab.js';

const reason = missing(['ip', 'keepalived', 'haproxy', 'openssl', 'python3', 'unshare', 'nsenter', 'bridge', 'pgrep'], { root: true });

const servedBy = (rs: ProbeResult[]) => rs.filter((r) => r.ok).map((r) => parseBody(r.body));

describe.skipIf(reason)('live HA pair (keepalived + haproxy in network namespaces)', () => {
  let lab: NetLab;

  /** Writes both nodes' rendered files for this lb.yaml and (re)starts both nodes. */
  async function deploy(yamlText: string): Promise<void> {
    const files = renderLab(yamlText);
    for (const n of ['lb-0', 'lb-1'] as const) await lab.killNode(n);
    for (const n of ['lb-0', 'lb-1'] as const) lab.writeNodeFiles(n, files[n]);
    await lab.startNode('lb-0');
    await lab.startNode('lb-1');
  }

  /** Waits until the client is served through `lb` (one request) and returns that answer. */
  const servedThrough = (lb: LbName, timeoutMs = 20_000) =>
    waitFor(`client served through ${lb}`, () => {
      const [r] = lab.get(1, 1);
      return r?.ok && parseBody(r.body)?.lb === lb ? r : undefined;
    }, { timeoutMs, intervalMs: 200 });

  beforeAll(async () => {
    lab = await NetLab.create();
    await deploy(labYaml());
  });

  afterAll(() => lab?.destroy());

  it('1) the MASTER holds the VIP and the client reaches all three backends through it', async () => {
    await waitFor('lb-0 holds the VIP', () => lab.hasVip('lb-0'));
    await servedThrough('lb-0');
    expect(lab.vipHolders()).toEqual(['lb-0']);
    const rs = lab.get(6, 2);
    expect(rs.every((r) => r.ok), JSON.stringify(rs)).toBe(true);
    const seen = servedBy(rs);
    expect(new Set(seen.map((s) => s?.backend))).toEqual(new Set(['m0', 'm1', 'm2']));
    expect(seen.every((s) => s?.lb === 'lb-0')).toBe(true);
  });
});
