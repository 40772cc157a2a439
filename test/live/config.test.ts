/**
 * Static properties of the rendered keepalived.conf that the live suite found necessary
 * (runs without root; the live proof is in failover.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { labYaml, renderLab } from '../helpers/netlab.js';

describe('keepalived.conf properties proven in the namespace lab', () => {
  for (const [label, yaml] of [
    ['defaults', labYaml()],
    ['fast (VRRPv3)', labYaml({ version: 3, advertInterval: 0.25, auth: null })],
    ['multicast, preempt', labYaml({ mode: 'multicast', preempt: true })],
  ] as const) {
    it(`${label}: a node that steps down after a split brain sends one last advert (vrrp_higher_prio_send_advert in global_defs)`, () => {
      for (const files of Object.values(renderLab(yaml))) {
        const conf = files.get('etc/keepalived/keepalived.conf')!.content;
        const globalDefs = /global_defs \{([^}]*)\}/.exec(conf)?.[1] ?? '';
        expect(globalDefs).toMatch(/^\s*vrrp_higher_prio_send_advert$/m);
        expect(conf).not.toMatch(/vrrp_strict/); // strict mode forbids it
      }
    });
  }
});
