import { createHash, createHmac } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS = 5000;

/**
 * SHA-512 crypt(3) (`$6$salt$hash`, Drepper's algorithm, 5000 rounds), as haproxy's userlist
 * `password` accepts via libcrypt. The salt is derived from the password and `context`, so the
 * same input always gives the same hash (deterministic output) without a fixed salt.
 */
export function sha512Crypt(password: string, context: string): string {
  const key = `${context}\0${password}`;
  let hash = memo.get(key);
  if (hash === undefined) {
    hash = computeSha512Crypt(password, context);
    memo.set(key, hash);
  }
  return hash;
}

/** 5000 rounds cost ~40 ms: every node's haproxy.cfg and the secrets file share one result. */
const memo = new Map<string, string>();

/**
 * Seeds the memo with a hash computed in an earlier run (the secrets file's cache). Ignored
 * unless it is a well-formed SHA-512 crypt string with the salt this password and context give.
 */
export function seedSha512Crypt(password: string, context: string, hash: string): void {
  if (!/^\$6\$[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$/.test(hash)) return;
  if (hash.split('$')[2] !== saltFor(password, context)) return;
  memo.set(`${context}\0${password}`, hash);
}

function saltFor(password: string, context: string): string {
  const mac = createHmac('sha256', `lbbake-salt:${context}`).update(password).digest();
  let salt = '';
  for (let i = 0; i < 16; i++) salt += ALPHABET[mac[i] % 64];
  return salt;
}

function computeSha512Crypt(password: string, context: string): string {
  return sha512CryptWithSalt(password, saltFor(password, context));
}

/** SHA-512 crypt with an explicit salt (at most 16 characters from the crypt alphabet). */
export function sha512CryptWithSalt(password: string, salt: string): string {
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const B = createHash('sha512').update(P).update(S).update(P).digest();
  const a = createHash('sha512').update(P).update(S);
  let n = P.length;
  for (; n > 64; n -= 64) a.update(B);
  a.update(B.subarray(0, n));
  for (let len = P.length; len > 0; len >>= 1) a.update(len & 1 ? B : P);
  let A = a.digest();

  const dp = createHash('sha512');
  for (let i = 0; i < P.length; i++) dp.update(P);
  const DP = dp.digest();
  const Pseq = repeatTo(DP, P.length);

  const ds = createHash('sha512');
  for (let i = 0; i < 16 + A[0]; i++) ds.update(S);
  const DS = ds.digest();
  const Sseq = repeatTo(DS, S.length);

  for (let r = 0; r < ROUNDS; r++) {
    const c = createHash('sha512');
    c.update(r & 1 ? Pseq : A);
    if (r % 3) c.update(Sseq);
    if (r % 7) c.update(Pseq);
    c.update(r & 1 ? A : Pseq);
    A = c.digest();
  }

  const order = [
    [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
    [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
    [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
  ];
  let out = '';
  for (const [x, y, z] of order) out += b64(A[x], A[y], A[z], 4);
  out += b64(0, 0, A[63], 2);
  return `$6$${salt.slice(0, 16)}$${out}`;
}

function repeatTo(digest: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = digest[i % 64];
  return out;
}

function b64(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ALPHABET[w & 0x3f];
    w >>= 6;
  }
  return s;
}
