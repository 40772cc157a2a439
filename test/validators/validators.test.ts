/** Every generated file passes the real tool that reads it. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fixtureNames, loadFixture } from '../helpers/golden.js';
import { renderNode } from '../../src/render/node.js';
import { userdataForNode } from '../../src/render/userdata.js';
import { cloudInitSchema, haproxyCheck, keepalivedCheck, missing, shellcheckText, tempFile } from '../helpers/tools.js';
import { keepalivedCheckText } from '../../src/io/verify.js';

const reason = missing(['haproxy', 'keepalived', 'cloud-init', 'shellcheck', 'ip'], { root: true });

describe.skipIf(reason)('generated files pass the real validators', () => {
  for (const name of fixtureNames()) {
    const m = loadFixture(name);
    for (const node of m.nodes) {
      const files = renderNode(m, node);
      it(`${name}/${node.name}: haproxy -c accepts haproxy.cfg with no warnings`, () => {
        const [f, done] = tempFile('haproxy.cfg', files.get('etc/haproxy/haproxy.cfg')!.content);
        try {
          const r = haproxyCheck(f);
          expect(r.output).toContain('Configuration file is valid');
          expect(r.output).not.toMatch(/\[(WARNING|ALERT)\]/);
          expect(r.status).toBe(0);
        } finally {
          done();
        }
      });
      it(`${name}/${node.name}: keepalived -t accepts keepalived.conf`, () => {
        const r = keepalivedCheckText(files.get('etc/keepalived/keepalived.conf')!.content, m.vip.interface ? [m.vip.interface] : []);
        expect(r.output).toBe('');
        expect(r.status).toBe(0);
      });
      it(`${name}/${node.name}: cloud-init schema accepts the user-data, shellcheck its scripts`, () => {
        const ud = userdataForNode(m, node);
        const [f, done] = tempFile('user-data.yaml', ud);
        try {
          const r = cloudInitSchema(f);
          expect(r.output).toContain('Valid cloud-config');
          expect(r.status).toBe(0);
        } finally {
          done();
        }
        const doc = parse(ud) as { write_files: Array<{ path: string; content: string }> };
        const scripts = doc.write_files.filter((w) => /^#!\/bin\/(ba)?sh/.test(w.content));
        expect(scripts.length).toBeGreaterThan(0);
        for (const s of scripts) {
          const r = shellcheckText(s.content);
          expect(r.output, s.path).toBe('');
          expect(r.status).toBe(0);
        }
      });
    }
  }
});

describe.skipIf(reason)('the validators catch broken files (the checks can fail)', () => {
  it('haproxy -c rejects a broken haproxy.cfg', () => {
    const [f, done] = tempFile('haproxy.cfg', 'listen x\n    bind :80\n    bogus_directive 1\n');
    try {
      expect(haproxyCheck(f).status).not.toBe(0);
    } finally {
      done();
    }
  });
  it('keepalived -t rejects an unknown keyword', () => {
    const [f, done] = tempFile('k.conf', 'global_defs {\n bogus_keyword 1\n}\n');
    try {
      expect(keepalivedCheck(f).status).not.toBe(0);
    } finally {
      done();
    }
  });
  it('cloud-init schema rejects a wrong type', () => {
    const [f, done] = tempFile('ud.yaml', '#cloud-config\npackages: haproxy\n');
    try {
      expect(cloudInitSchema(f).status).not.toBe(0);
    } finally {
      done();
    }
  });
});
