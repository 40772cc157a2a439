import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixtureNames, generatedTree, loadFixture, readTree, writeGolden } from '../helpers/golden.js';

const update = process.env.UPDATE_GOLDEN === '1';
// regenerating in CI would make every golden comparison pass by construction
if (update && process.env.CI === 'true') throw new Error('UPDATE_GOLDEN=1 refuses to run with CI=true: golden files are reviewed and committed, never regenerated in CI');

describe('golden output trees', () => {
  const names = fixtureNames();
  it('has fixtures', () => expect(names.length).toBeGreaterThanOrEqual(5));

  for (const name of names) {
    it(`${name}: generated tree equals expected/`, () => {
      const tree = generatedTree(loadFixture(name));
      const dir = join(FIXTURES, name, 'expected');
      if (update) writeGolden(dir, tree);
      const expected = readTree(dir);
      expect([...tree.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [rel, content] of tree) expect(content, rel).toBe(expected.get(rel));
    });

    it(`${name}: output is deterministic`, () => {
      const a = generatedTree(loadFixture(name));
      const b = generatedTree(loadFixture(name));
      expect([...a.entries()]).toEqual([...b.entries()]);
      for (const [rel, content] of a) {
        expect(content.endsWith('\n'), `${rel} ends with a newline`).toBe(true);
        expect(content.includes('\r'), `${rel} has no CR`).toBe(false);
      }
    });
  }
});
