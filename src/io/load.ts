import { readFileSync, statSync } from 'node:fs';
import type { Code, Diagnostic } from '../diagnostics/diagnostic.js';

/** lb.yaml is a few KB; anything this large is a mistake (or an attack), refused unread. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export type LoadResult = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic };

const fail = (code: Code, message: string, line?: number, col?: number): LoadResult => ({
  ok: false,
  diagnostic: { severity: 'error', code, path: '', message, line, col },
});

/** Reads lb.yaml as UTF-8 text. Never throws: every problem is a diagnostic (exit 1). */
export function loadFile(file: string): LoadResult {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) return fail('NOT_A_FILE', `${file} is a directory; pass the path of your lb.yaml`);
    if (!st.isFile()) return fail('NOT_A_FILE', `${file} is not a regular file; pass the path of your lb.yaml`);
    size = st.size;
  } catch (err) {
    return fromFsError(file, err);
  }
  if (size > MAX_INPUT_BYTES) {
    return fail('FILE_TOO_LARGE', `${file} is ${size} bytes; an lb.yaml is a few KB (limit ${MAX_INPUT_BYTES} bytes). Check that this is the right file`);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return fromFsError(file, err);
  }
  return decode(bytes);
}

/** Decodes UTF-8 strictly (a BOM is dropped); reports the line:col of the first bad byte. */
export function decode(bytes: Buffer): LoadResult {
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
    return fail('NOT_UTF8', `byte 0x${bytes[bad].toString(16)} at offset ${bad} is not valid UTF-8; save lb.yaml as UTF-8 (e.g. iconv -f latin1 -t utf-8)`, line, col);
  }
}

function fromFsError(file: string, err: unknown): LoadResult {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return fail('FILE_NOT_FOUND', `${file} does not exist; check the path, or create one with lbbake init ${file}`);
  if (code === 'EACCES' || code === 'EPERM') return fail('FILE_UNREADABLE', `${file} cannot be read (permission denied); check its permissions`);
  if (code === 'EISDIR') return fail('NOT_A_FILE', `${file} is a directory; pass the path of your lb.yaml`);
  return fail('FILE_UNREADABLE', `${file} cannot be read (${code ?? String(err)})`);
}
