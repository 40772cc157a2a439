import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sha512Crypt, sha512CryptWithSalt } from '../../src/render/crypt.js';
import { missing } from '../helpers/tools.js';

const reason = missing(['python3']);

describe('SHA-512 crypt for the stats userlist', () => {
  it('matches the known glibc test vector', () => {
    // from Drepper's SHA-crypt specification
    expect(sha512CryptWithSalt('Hello world!', 'saltstring')).toBe(
      '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    );
  });

  it.skipIf(reason)('matches libcrypt (python3 crypt) for random passwords and salts', () => {
    const cases = ['admin', 'correct horse battery', 'p@$$w0rd!#%', 'x'.repeat(100), 'ünïcödé'];
    for (const pw of cases) {
      const ours = sha512Crypt(pw, 'ctx');
      const salt = ours.split('$')[2];
      const r = spawnSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], "$6$" + sys.argv[2]))', pw, salt], { encoding: 'utf8' });
      expect(r.stdout.trim(), pw).toBe(ours);
    }
  });

  it('is deterministic and depends on the context', () => {
    expect(sha512Crypt('pw', 'a')).toBe(sha512Crypt('pw', 'a'));
    expect(sha512Crypt('pw', 'a')).not.toBe(sha512Crypt('pw', 'b'));
  });
});
