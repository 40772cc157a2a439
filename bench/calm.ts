/**
 * `npm run bench:calm`: no false failover in a calm run. The lab pair runs lbbake's defaults for
 * CALM_SECONDS (default 300) while a client probes the VIP every 100 ms; prints the failed
 * requests, the LB nodes that answered, and every keepalived state change. A figure, not a test.
 */
import { missing } from '../test/helpers/tools.js';
import { LAB_TOOLS, labYaml, NetLab, parseBody, renderLab } from '../test/helpers/netlab.js';

const SECONDS = Math.max(10, Math.min(1800, Number(process.env.CALM_SECONDS ?? 300) || 300));

async function main(): Promise<void> {
  const reason = missing(LAB_TOOLS, { root: true });
  if (reason) {
    console.log(`calm run skipped: ${reason}`);
    return;
  }
  const lab = await NetLab.create();
  try {
    await lab.deploy(renderLab(labYaml()));
    await lab.steady();
    const before = { lb0: lab.readLog('lb-0', 'keepalived'), lb1: lab.readLog('lb-1', 'keepalived') };
    const w = lab.watch(0.1, 0.5, SECONDS);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const rs = await w.stop();
    const states = (node: 'lb-0' | 'lb-1', prev: string) =>
      lab
        .readLog(node, 'keepalived')
        .slice(prev.length)
        .split('\n')
        .filter((l) => /Entering (MASTER|BACKUP|FAULT) STATE/.test(l));
    const changes = [...states('lb-0', before.lb0).map((l) => `lb-0: ${l}`), ...states('lb-1', before.lb1).map((l) => `lb-1: ${l}`)];
    const via = new Map<string, number>();
    for (const r of rs) if (r.ok) via.set(parseBody(r.body)?.lb ?? '?', (via.get(parseBody(r.body)?.lb ?? '?') ?? 0) + 1);
    const failed = rs.filter((r) => !r.ok).length;
    console.log(`calm run, lbbake defaults, ${SECONDS} s: ${rs.length} requests, ${failed} failed, answered via ${[...via].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`keepalived state changes during the run: ${changes.length}${changes.length ? '\n  ' + changes.join('\n  ') : ''}`);
    console.log(failed === 0 && changes.length === 0 && via.size === 1 ? 'RESULT: no false failover' : 'RESULT: the VIP moved or requests failed (see above)');
  } finally {
    lab.destroy();
  }
}

await main();
