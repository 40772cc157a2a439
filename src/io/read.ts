import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** Why a bounded read failed: an errno code (ENOENT, EACCES, …), or one of these. */
export type ReadFailure = NodeJS.ErrnoException & { code: string; size?: number };

/** Not a regular file (a directory, device, FIFO, socket): refused unread. */
export const NOT_REGULAR = 'ENOTREG';
/** Larger than the limit: refused unread. */
export const TOO_LARGE = 'ETOOLARGE';

const fail = (code: string, message: string, extra: object = {}): ReadFailure => Object.assign(new Error(message), { code }, extra) as ReadFailure;

/**
 * Reads a regular file of at most `maxBytes`, without ever blocking or reading unbounded:
 * it is opened non-blocking (a FIFO cannot hang the open), checked with fstat on the open
 * descriptor (a directory, device, FIFO, socket or /dev/stdin that is not a file is refused),
 * and read only up to the limit. Throws a ReadFailure (code ENOENT, EACCES, ENOTREG,
 * ETOOLARGE, …).
 */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    // a socket (e.g. /dev/stdin of a process fed by a socket) or a device without a driver
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENODEV' || code === 'EOPNOTSUPP') throw fail(NOT_REGULAR, `${path} is not a regular file`);
    throw err as ReadFailure;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fail('EISDIR', `${path} is a directory`);
    if (!st.isFile()) throw fail(NOT_REGULAR, `${path} is not a regular file`);
    if (st.size > maxBytes) throw fail(TOO_LARGE, `${path} is ${st.size} bytes`, { size: st.size });
    return readUpTo(fd, maxBytes, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a descriptor (stdin: fd 0) to its end, refusing more than `maxBytes`. Blocks while the
 * writer has not finished, as any reader of a pipe does.
 */
export function readUpTo(fd: number, maxBytes: number, what = 'input'): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        // a non-blocking pipe with nothing yet: wait briefly (stdin only; files never say EAGAIN)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if ((err as NodeJS.ErrnoException).code === 'EOF') break;
      throw err as ReadFailure;
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw fail(TOO_LARGE, `${what} is larger than ${maxBytes} bytes`, { size: total });
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}
