/**
 * lb.yaml metrics: the haproxy frontend that serves haproxy's exporter and keepalived's state,
 * the exposition it returns, and its agreement with the tracker that fills the table. The live
 * proof (real Prometheus scraping both nodes): test/live/observe.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import type { Model } from '../../src/compile/model.js';
import { renderHaproxy, renderKeepalived } from '../../src/render/node.js';
import { KEEPALIVED_METRICS, keepalivedExpositionLines } from '../../src/render/metrics.js';
import { TRACKER_SOURCE } from '../../src/io/paths.js';
import { EXAMPLE } from '../helpers/io.js';
import { haproxyCheck, missing, tempFile } from '../helpers/tools.js';

function model(edit: (d: any) => void): Model {
  const d = parse(readFileSync(EXAMPLE, 'utf8'));
  edit(d);
  const r = compile(stringify(d));
  if (!r.model) throw new Error(JSON.stringify(r.diagnostics));
  return r.model;
}

const plain = model((d) => (d.metrics = { bind: 'node' }));
const cloud = model((d) => {
  d.metrics = {};
  d.vip.cloud = { provider: 'aws', mode: 'secondary-ip' };
});

describe('metrics rendering', () => {
  it('off without lb.yaml metrics: no frontend, no table; the tracker still runs (for status)', () => {
    const m = model(() => {});
    expect(renderHaproxy(m, m.nodes[0])).not.toContain('lbbake-metrics');
    expect(renderKeepalived(m, m.nodes[0])).toContain('vrrp_notify_fifo_script "/usr/local/libexec/lbbake/vrrp-state state=/run/lbbake/vrrp.json"\n');
  });

  it('on: the frontend on each node\'s address, haproxy\'s exporter, the table, the tracker told where to publish', () => {
    const cfg = renderHaproxy(plain, plain.nodes[1]);
    expect(cfg).toContain('frontend lbbake-metrics\n    bind 10.168.222.190:8405\n    mode http\n');
    expect(cfg).toContain('    http-request use-service prometheus-exporter if { path /metrics }\n');
    expect(cfg).toContain('backend lbbake-keepalived\n    stick-table type string len 16 size 32 store gpt0\n');
    expect(renderKeepalived(plain, plain.nodes[1])).toContain(
      'vrrp_notify_fifo_script "/usr/local/libexec/lbbake/vrrp-state state=/run/lbbake/vrrp.json haproxy=/run/haproxy/admin.sock table=lbbake-keepalived"\n',
    );
    expect(renderKeepalived(cloud, cloud.nodes[0])).toContain('table=lbbake-keepalived cloud=/run/lbbake/cloud-owner.json"\n');
  });

  it('the exposition has HELP and TYPE for every metric it serves, the cloud ones only with vip.cloud', () => {
    for (const [m, withCloud] of [[plain, false], [cloud, true]] as const) {
      const lines = keepalivedExpositionLines(m);
      for (const d of KEEPALIVED_METRICS) {
        const has = lines.includes(`# TYPE ${d.name} ${d.type}`);
        expect(has, d.name).toBe(!d.cloud || withCloud);
        if (has) {
          expect(lines).toContain(`# HELP ${d.name} ${d.help}`);
          expect(lines.some((l) => l.startsWith(`${d.name}{`) || l.startsWith(`${d.name} `)), d.name).toBe(true);
        }
      }
      expect(lines.filter((l) => l.startsWith('lbbake_vrrp_state{'))).toHaveLength(4);
    }
    expect(keepalivedExpositionLines(cloud)).toContain('lbbake_cloud_vip_owner{provider="aws"} %[str(cloud.owner),table_gpt0(lbbake-keepalived)]');
  });

  it('every table key the exposition reads is one the tracker publishes, and back', () => {
    const read = new Set([...keepalivedExpositionLines(cloud).join('\n').matchAll(/%\[str\(([^)]+)\),table_gpt0/g)].map((x) => x[1]));
    read.add('published'); // read by set-var for the age
    const py = [
      'import importlib.util, json, sys, tempfile, os',
      'spec = importlib.util.spec_from_file_location("t", sys.argv[1]); t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)',
      'd = tempfile.mkdtemp(); f = os.path.join(d, "c.json"); open(f, "w").write("{}")',
      'print(json.dumps(sorted(t.values({"keepalived": "running", "state": "MASTER"}, f))))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', py, TRACKER_SOURCE], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([...read].sort());
  });

  it.skipIf(missing(['haproxy']))('haproxy -c accepts the frontend, with and without the cloud metrics', () => {
    for (const text of [renderHaproxy(cloud, cloud.nodes[0]), renderHaproxy(plain, plain.nodes[0])]) {
      expect(text).toContain('lbbake-metrics');
      const [f, done] = tempFile('haproxy.cfg', text);
      try {
        const r = haproxyCheck(f);
        expect(r.output).not.toMatch(/\[(WARNING|ALERT)\]/);
        expect(r.status, r.output).toBe(0);
      } finally {
        done();
      }
    }
  });
});
