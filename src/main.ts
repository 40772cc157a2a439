import { basename, join } from 'node:path';
import yargs from 'yargs';
import { type Diagnostic, diagnosticsToJson, formatDiagnostic, hasErrors } from './diagnostics.js';
import { loadFile } from './load.js';
import type { Model, NodeModel } from './model.js';
import { compile } from './pipeline.js';
import { InternalError, renderNode } from './render.js';
import { userdataForNode } from './userdata.js';
import { writeFileAtomic, writeTree } from './write.js';

export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, VALIDATOR: 3, INTERNAL: 70 } as const;

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (colour and source excerpts). */
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const REPORT_BUGS = 'This is a bug in lbbake. Please report it with the command you ran and your lb.yaml (secrets removed).';

class UsageError extends Error {}

/** A command's outcome: its exit code. Printing is done through io. */
type Handler = (args: Record<string, unknown>) => number;

interface Common {
  file: string;
  json: boolean;
  strict: boolean;
  color: boolean | undefined;
}

/**
 * The lbbake CLI as a testable function: parses argv, runs the pipeline, prints, and returns
 * the exit code (0 ok, 1 invalid input, 2 usage, 3 validator rejected output, 70 internal).
 */
export async function main(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  const run =
    (h: Handler) =>
    (args: Record<string, unknown>): void => {
      code = h(args);
    };
  const parser = yargs(argv)
    .scriptName('lbbake')
    .usage('$0 <command> [options]\n\nTurns one lb.yaml into keepalived + haproxy configs, cloud-init user-data and Packer projects.')
    .option('json', { type: 'boolean', default: false, describe: 'print diagnostics as JSON on stdout' })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors (exit 1)' })
    .option('color', { type: 'boolean', describe: 'colour diagnostics (default: only on a terminal, never with NO_COLOR)' })
    .command('validate <file>', 'check lb.yaml and print every problem', (y) => y.positional('file', { type: 'string', demandOption: true }), run((a) => cmdValidate(a as unknown as Common, io)))
    .command(
      'render <file>',
      "write the files one node ends up with, as a root-relative tree (default output/<name>/<node>/)",
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true })
          .option('node', { type: 'string', demandOption: true, describe: 'node name from nodes[]' })
          .option('o', { alias: 'output', type: 'string', describe: 'output directory' }),
      run((a) => cmdRender(a as unknown as Common & { node: string; o?: string }, io)),
    )
    .command(
      'gen-userdata <file>',
      'write cloud-init user-data (#cloud-config) to stdout or -o FILE',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true })
          .option('node', { type: 'string', describe: "fix this node's role in the user-data (else: roles from instance metadata)" })
          .option('o', { alias: 'output', type: 'string', describe: 'output file (default: stdout)' }),
      run((a) => cmdGenUserdata(a as unknown as Common & { node?: string; o?: string }, io)),
    )
    .example('$0 validate lb.yaml', 'check lb.yaml, print each problem with line:col and a fix')
    .example('$0 render lb.yaml --node lb-0', 'write output/<name>/lb-0/etc/...')
    .example('$0 gen-userdata lb.yaml --node lb-0 -o user-data.yaml', "user-data with lb-0's role fixed in it")
    .demandCommand(1, 'name a command: validate, render or gen-userdata')
    .strict()
    .version()
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err instanceof Error && !(err instanceof UsageError) && !msg ? err : new UsageError(msg ?? err?.message);
    });
  try {
    let out = '';
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      out = output;
    });
    if (out) io.stdout(out.endsWith('\n') ? out : out + '\n');
    return code;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`lbbake: ${err.message}\nRun lbbake --help for usage.\n`);
      return EXIT.USAGE;
    }
    const msg = err instanceof InternalError ? err.message : ((err as Error)?.stack ?? String(err));
    io.stderr(`lbbake: internal error: ${msg}\n${REPORT_BUGS}\n`);
    return EXIT.INTERNAL;
  }
}

function useColor(a: Common, io: Io): boolean {
  if (a.color !== undefined) return a.color;
  return io.stderrIsTTY && !io.env.NO_COLOR;
}

/** Loads and compiles FILE, printing diagnostics. Returns the model, or the exit code. */
function load(a: Common, io: Io): Model | number {
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
  report(a, io, diags, text);
  const failed = hasErrors(diags) || (a.strict && diags.length > 0);
  if (failed || !model) return EXIT.INVALID;
  return model;
}

function report(a: Common, io: Io, diags: Diagnostic[], text: string | undefined): void {
  if (a.json) {
    io.stdout(JSON.stringify(diagnosticsToJson(a.file, diags), null, 2) + '\n');
    return;
  }
  const color = useColor(a, io);
  for (const d of diags) {
    io.stderr(formatDiagnostic(a.file, d, { color, source: io.stderrIsTTY ? text : undefined }) + '\n');
  }
}

function cmdValidate(a: Common, io: Io): number {
  const res = load(a, io);
  if (typeof res === 'number') return res;
  if (!a.json) io.stderr(`${a.file}: valid (${res.nodes.length} nodes, ${res.services.length} services)\n`);
  return EXIT.OK;
}

function findNode(m: Model, name: string): NodeModel {
  const node = m.nodes.find((n) => n.name === name);
  if (!node) throw new UsageError(`--node ${name}: no such node in ${m.name}; nodes are ${m.nodes.map((n) => n.name).join(', ')}`);
  return node;
}

function cmdRender(a: Common & { node: string; o?: string }, io: Io): number {
  const m = load(a, io);
  if (typeof m === 'number') return m;
  const node = findNode(m, a.node);
  const dir = a.o ?? join(io.cwd, 'output', m.name, node.name);
  const files = renderNode(m, node);
  const written = writeTree(dir, files);
  if (!a.json) io.stderr(`wrote ${written.length} files for ${node.name} (${node.state}, priority ${node.priority}) under ${dir}\n`);
  return EXIT.OK;
}

function cmdGenUserdata(a: Common & { node?: string; o?: string }, io: Io): number {
  const m = load(a, io);
  if (typeof m === 'number') return m;
  if (a.node === undefined) {
    throw new UsageError('gen-userdata without --node (roles from instance metadata) is not available yet; pass --node NAME');
  }
  const text = userdataForNode(m, findNode(m, a.node));
  if (a.o) {
    writeFileAtomic(a.o, text, 0o600);
    if (!a.json) io.stderr(`wrote ${a.o} (${Buffer.byteLength(text)} bytes) for ${basename(a.file)}\n`);
  } else {
    io.stdout(text);
  }
  return EXIT.OK;
}
