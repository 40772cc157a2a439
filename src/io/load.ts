import { NOT_REGULAR, readRegularFile, readUpTo, TOO_LARGE, type ReadFailure } from './read.js';
import type { Code, Diagnostic } from '../diagnostics/diagnostic.js';

/** lb.yaml is a few KB; anything this large is a mistake (or an attack), refused unread. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export type LoadResult = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic };

const fail = (code: Code, message: string, line?: number, col?: number): LoadResult => ({
  ok: false,
  diagnostic: { severity: 'error', code, path: '', message, line, col },
});

/** The file argument `-`: read lb.yaml from standard input (validate and explain). */
export const STDIN_FILE = '<stdin>';

/**
 * Reads lb.yaml as UTF-8 text (from standard input for STDIN_FILE). Never throws: every
 * problem is a diagnostic (exit 1). Only a regular file of at most MAX_INPUT_BYTES is read; a
 * FIFO or device is refused without blocking.
 */
export function loadFile(file: string): LoadResult {
  let bytes: Buffer;
  try {
    bytes = file === STDIN_FILE ? readUpTo(0, MAX_INPUT_BYTES, 'standard input') : readRegularFile(file, MAX_INPUT_BYTES);
  } catch (err) {
    return fromFsError(file, err as ReadFailure);
  }
  return decode(bytes);
}

/** Decodes UTF-8 strictly (a BOM is dropped); reports the line:col of the first bad byte. */
export function decode(bytes: Buffer): LoadResult {
  const utf16 = utf16Kind(bytes);
  if (utf16) {
    return fail('NOT_UTF8', `the file is ${utf16} text, not UTF-8; save lb.yaml as UTF-8 (e.g. iconv -f ${utf16.split(' ')[0].toLowerCase()} -t utf-8 lb.yaml > lb-utf8.yaml)`, 1, 1);
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    if (text.includes('\0')) {
      const before = text.slice(0, text.indexOf('\0'));
      const line = before.split('\n').length;
      return fail('NOT_TEXT', 'the file contains NUL bytes, so it is not a YAML text file; save lb.yaml as UTF-8 text', line, before.length - before.lastIndexOf('\n'));
    }
    return { ok: true, text };
  } catch {
    let bad = 0;
    // find the first offending byte by decoding growing prefixes in chunks
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b < 0x80) continue;
      const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
      try {
        if (len === 0) throw new Error();
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + len));
        i += len - 1;
      } catch {
        bad = i;
        break;
      }
    }
    const before = bytes.subarray(0, bad).toString('utf8');
    const line = before.split('\n').length;
    const col = before.length - before.lastIndexOf('\n');
    return fail('NOT_UTF8', `byte 0x${bytes[bad].toString(16)} at offset ${bad} is not valid UTF-8; save lb.yaml as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8 lb.yaml > lb-utf8.yaml)`, line, col);
  }
}

/** UTF-16 (by its byte-order mark, or ASCII with every other byte NUL), or undefined. */
function utf16Kind(b: Buffer): string | undefined {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'UTF-16LE (byte-order mark FF FE)';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'UTF-16BE (byte-order mark FE FF)';
  const n = Math.min(b.length - (b.length % 2), 64);
  if (n < 4) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0 && b[i + 1] !== 0) even++;
    if (b[i + 1] === 0 && b[i] !== 0) odd++;
  }
  if (odd === n / 2) return 'UTF-16LE';
  if (even === n / 2) return 'UTF-16BE';
  return undefined;
}

function fromFsError(file: string, err: ReadFailure): LoadResult {
  const code = err.code;
  if (code === 'ENOENT') return fail('FILE_NOT_FOUND', `${file} does not exist; check the path, or create one with lbbake init ${file}`);
  if (code === 'EACCES' || code === 'EPERM') return fail('FILE_UNREADABLE', `${file} cannot be read (permission denied); check its permissions`);
  if (code === 'EISDIR') return fail('NOT_A_FILE', `${file} is a directory; pass the path of your lb.yaml`);
  if (code === NOT_REGULAR) return fail('NOT_A_FILE', `${file} is not a regular file (a device, FIFO or socket); pass the path of your lb.yaml, or - to read it from standard input`);
  if (code === TOO_LARGE) {
    return fail('FILE_TOO_LARGE', `${file} is ${err.size ?? 'more than ' + MAX_INPUT_BYTES} bytes; an lb.yaml is a few KB (limit ${MAX_INPUT_BYTES} bytes). Check that this is the right file`);
  }
  if (code === 'ENOTDIR') return fail('FILE_NOT_FOUND', `${file} does not exist: a part of its path is a file, not a directory`);
  return fail('FILE_UNREADABLE', `${file} cannot be read (${code ?? String(err)})`);
}
