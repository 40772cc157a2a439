import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile } from '../../src/compile/compile.js';
import { metadataModeFiles } from '../../src/render/agent.js';
import { userdataForMetadata, userdataForNode } from '../../src/render/userdata.js';

const YAML = `version: 1
name: awslb
vip: { address: 10.0.0.100, cloud: { provider: aws, mode: secondary-ip } }
vrrp: { routerId: 12 }
nodes:
  - { name: lb-0, address: 10.0.0.11 }
  - { name: lb-1, address: 10.0.0.12 }
services:
  - servers: [ { name: m0, address: 10.0.1.1 } ]
`;

describe('vip.cloud hooks reach the node', () => {
  const m = compile(YAML).model!;
  const paths = (ud: string) => (parse(ud) as { write_files: Array<{ path: string; permissions: string }> }).write_files;
  it('in --node user-data, metadata-mode user-data and image files, executable', () => {
    for (const ud of [userdataForNode(m, m.nodes[0]), userdataForMetadata(m)]) {
      const hook = paths(ud).find((w) => w.path === '/usr/local/libexec/lbbake/vip-move-aws');
      expect(hook?.permissions).toBe('0755');
    }
    expect(metadataModeFiles(m, { secrets: 'at-boot', layout: 'template' }).get('usr/local/libexec/lbbake/vip-move-aws')?.mode).toBe('0755');
  });
  it('and not without vip.cloud', () => {
    const plain = compile(YAML.replace(', cloud: { provider: aws, mode: secondary-ip }', '')).model!;
    expect(userdataForMetadata(plain)).not.toContain('vip-move');
  });
});
