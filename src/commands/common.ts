import { type Diagnostic, diagnosticsToJson, formatDiagnostic, hasErrors } from '../diagnostics.js';
import { loadFile } from '../load.js';
import type { Model, NodeModel } from '../model.js';
import { compile } from '../pipeline.js';

export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, VALIDATOR: 3, INTERNAL: 70 } as const;

/** Everything a command may touch of the outside world (tests pass their own). */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (colour and source excerpts). */
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Wrong flags or arguments: exit 2. */
export class UsageError extends Error {}

/** Options every command shares. */
export interface Common {
  file: string;
  json: boolean;
  strict: boolean;
  color: boolean | undefined;
}

export function useColor(a: Common, io: Io): boolean {
  if (a.color !== undefined) return a.color;
  return io.stderrIsTTY && !io.env.NO_COLOR;
}

/** Prints diagnostics: JSON on stdout with --json, else compiler-style lines on stderr. */
export function report(a: Common, io: Io, diags: Diagnostic[], text: string | undefined): void {
  if (a.json) {
    io.stdout(JSON.stringify(diagnosticsToJson(a.file, diags), null, 2) + '\n');
    return;
  }
  const color = useColor(a, io);
  for (const d of diags) {
    io.stderr(formatDiagnostic(a.file, d, { color, source: io.stderrIsTTY ? text : undefined }) + '\n');
  }
}

/**
 * Loads and compiles FILE and prints its diagnostics. Returns the model, or the exit code
 * (1) when there are errors, or warnings under --strict.
 */
export function loadModel(a: Common, io: Io, opts: { quiet?: boolean } = {}): Model | number {
  const loaded = loadFile(a.file);
  let diags: Diagnostic[];
  let model: Model | undefined;
  let text: string | undefined;
  if (!loaded.ok) {
    diags = [loaded.diagnostic];
  } else {
    text = loaded.text;
    const res = compile(loaded.text);
    diags = res.diagnostics;
    model = res.model;
  }
  if (!opts.quiet || hasErrors(diags) || a.strict) report(a, io, diags, text);
  const failed = hasErrors(diags) || (a.strict && diags.length > 0);
  if (failed || !model) return EXIT.INVALID;
  return model;
}

export function findNode(m: Model, name: string): NodeModel {
  const node = m.nodes.find((n) => n.name === name);
  if (!node) throw new UsageError(`--node ${name}: no such node in ${m.name}; nodes are ${m.nodes.map((n) => n.name).join(', ')}`);
  return node;
}
