import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Document, type Node } from 'yaml';
import { type Diagnostic, pointerSegments } from '../diagnostics/diagnostic.js';

/** A parsed lb.yaml: the plain data plus what is needed to map JSON Pointers back to line:col. */
export interface ParsedSource {
  data: unknown;
  doc: Document.Parsed | undefined;
  lineCounter: LineCounter;
  diagnostics: Diagnostic[];
}

/** Aliases expanded beyond this count are treated as an alias bomb. */
const MAX_ALIAS_COUNT = 100;
/** Deeper nesting than this is never a valid lb.yaml and is refused before conversion. */
const MAX_DEPTH = 32;

const YAML_FIXES: Record<string, string> = {
  DUPLICATE_KEY: 'remove or rename one of the two keys',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'align the keys of one mapping at the same column, with spaces',
  MISSING_CHAR: 'close the quote or bracket that was opened',
  MULTIPLE_DOCS: 'keep a single YAML document (no --- separators)',
  RESOURCE_EXHAUSTION: 'the document is nested far too deeply; lb.yaml needs only a few levels',
};

/** Messages in lbbake's words for YAML library errors whose own text speaks to programmers. */
const OWN_WORDS: Record<string, string> = {
  MULTIPLE_DOCS: 'lb.yaml holds more than one YAML document (a line --- starts another one)',
};

/** The key (and its JSON Pointer) whose key node starts at this offset, if any. */
function keyAt(doc: Document.Parsed, offset: number): { key: string; pointer: string } | undefined {
  const walk = (node: unknown, ptr: string): { key: string; pointer: string } | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (k === undefined) continue;
        const here = `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) return { key: k, pointer: here };
        const inner = walk(pair.value, here);
        if (inner) return inner;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const inner = walk(node.items[i], `${ptr}/${i}`);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return walk(doc.contents, '');
}

/**
 * Parses YAML text. Never throws: syntax problems (bad indentation, duplicate keys, tabs,
 * alias bombs, excessive nesting) come back as diagnostics with line:col.
 */
export function parseSource(text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  // merge: YAML 1.1 merge keys (<<: *anchor) are expanded, as most YAML tools do
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true, merge: true });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = e.linePos?.[0];
    const fix = YAML_FIXES[e.code] ?? 'fix the YAML syntax at this position';
    // lbbake's own words where the library's address a programmer (parseAllDocuments, …)
    let first = OWN_WORDS[e.code] ?? e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    let path = '';
    if (e.code === 'DUPLICATE_KEY') {
      const dup = keyAt(doc, e.pos[0]);
      if (dup) {
        path = dup.pointer;
        first = `the key ${JSON.stringify(dup.key.length > 60 ? dup.key.slice(0, 40) + '…' : dup.key)} appears twice in this mapping`;
      }
    }
    diagnostics.push({
      severity: doc.errors.includes(e as never) ? 'error' : 'warning',
      code: `YAML_${e.code}`,
      path,
      message: `${first}; ${fix}`,
      line: pos?.line,
      col: pos?.col,
    });
  }
  if (diagnostics.some((d) => d.severity === 'error')) {
    return { data: undefined, doc, lineCounter, diagnostics };
  }
  const depth = nodeDepth(doc.contents as Node | null, 0);
  if (depth > MAX_DEPTH) {
    diagnostics.push({
      severity: 'error',
      code: 'YAML_TOO_DEEP',
      path: '',
      message: `the document is nested ${depth} levels deep; lb.yaml never needs more than a few levels, check the indentation`,
      line: 1,
      col: 1,
    });
    return { data: undefined, doc, lineCounter, diagnostics };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    diagnostics.push({
      severity: 'error',
      code: 'YAML_ALIAS_LIMIT',
      path: '',
      message: `${(err as Error).message.split('\n')[0]}; lb.yaml needs no more than a few anchors/aliases, write the values out`,
      line: 1,
      col: 1,
    });
    return { data: undefined, doc, lineCounter, diagnostics };
  }
  return { data, doc, lineCounter, diagnostics };
}

function nodeDepth(node: Node | null, depth: number): number {
  if (depth > MAX_DEPTH) return depth;
  if (isMap(node)) {
    let max = depth + 1;
    for (const p of node.items) max = Math.max(max, nodeDepth(p.value as Node | null, depth + 1));
    return max;
  }
  if (isSeq(node)) {
    let max = depth + 1;
    for (const it of node.items) max = Math.max(max, nodeDepth(it as Node | null, depth + 1));
    return max;
  }
  return depth;
}

/**
 * Finds the line:col of a JSON Pointer in the source. `atKey` points at the key of the last
 * segment (for unknown keys) instead of its value. Falls back to the nearest existing parent.
 */
export function locate(src: ParsedSource, ptr: string, atKey = false): { line: number; col: number } | undefined {
  if (!src.doc) return undefined;
  let node: unknown = src.doc.contents;
  let offset: number | undefined = rangeStart(node);
  const segs = pointerSegments(ptr);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      if (i === segs.length - 1 && atKey) {
        offset = rangeStart(pair.key) ?? offset;
        node = undefined;
        break;
      }
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const pos = src.lineCounter.linePos(offset);
  return { line: pos.line, col: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? r[0] : undefined;
}

/** Fills in line:col for diagnostics that only carry a JSON Pointer. */
export function correlate(src: ParsedSource, diags: Diagnostic[], keyCodes: ReadonlySet<string>): Diagnostic[] {
  return diags.map((d) => {
    if (d.line !== undefined) return d;
    const pos = locate(src, d.path, keyCodes.has(d.code)) ?? { line: 1, col: 1 };
    return { ...d, ...pos };
  });
}
