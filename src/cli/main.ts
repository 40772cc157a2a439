import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { EXIT, InternalError, REPORT_BUGS, UsageError, WriteError } from '../diagnostics/errors.js';
import { STDIN_FILE } from '../io/load.js';
import { lbbakeVersion } from '../io/paths.js';

export { lbbakeVersion } from '../io/paths.js';
import type { Io } from './common.js';

const require = createRequire(import.meta.url);
// yargs' CommonJS build: its help wraps at word boundaries (the ESM build cuts words in two)
const yargs = require('yargs') as typeof import('yargs').default;

export { EXIT } from '../diagnostics/errors.js';
export type { Io } from './common.js';


/** A subcommand's options and its handler, which returns the exit code. */
export interface CommandModule {
  builder: (y: Argv) => Argv<any>;
  handler: (args: any, io: Io) => number | Promise<number>;
}

/**
 * Every subcommand, in help order. Only the module of the command being run is loaded (start-up
 * time: the Packer generator alone costs ~20 ms to import). Adding a command = one file in
 * commands/ (exporting builder and handler) + one entry here.
 */
export const COMMANDS: Array<{ command: string; describe: string; load: () => Promise<CommandModule> }> = [
  { command: 'validate <file>', describe: 'check lb.yaml and print every problem with line:col and a fix', load: () => import('./commands/validate.js') },
  { command: 'render <file>', describe: 'write the files one node ends up with, as a root-relative tree (default output/<name>/<node>/)', load: () => import('./commands/render.js') },
  { command: 'gen-userdata <file>', describe: 'write cloud-init user-data (#cloud-config) to stdout or -o FILE', load: () => import('./commands/gen-userdata.js') },
  { command: 'gen-packer <file>', describe: 'write a Packer HCL2 project that bakes the LB image (default output/<name>/packer/)', load: () => import('./commands/gen-packer.js') },
  { command: 'init [file]', describe: 'write a commented starter lb.yaml (default ./lb.yaml); --from-env takes over the install guide\'s variables', load: () => import('./commands/init.js') },
  { command: 'explain <file>', describe: 'print the plan a reviewer needs: states, priorities, failover budget, firewall rules, cloud prerequisites; with --against OLD.yaml: what changed and the order to replace the nodes (--json: as data)', load: () => import('./commands/explain.js') },
];

const EXAMPLES: Array<[string, string]> = [
  ['$0 validate lb.yaml', 'check lb.yaml, print each problem with line:col and a fix'],
  ['$0 render lb.yaml --node lb-0', 'write output/<name>/lb-0/etc/... (what lb-0 runs)'],
  ['$0 gen-userdata lb.yaml --node lb-0 -o user-data.yaml', "cloud-init user-data with lb-0's role fixed in it"],
  ['$0 init lb.yaml', 'write a commented starter lb.yaml'],
  ['$0 explain lb.yaml', 'states, priorities, failover budget in seconds, firewall rules, per-cloud prerequisites'],
  ['$0 explain lb.yaml --against old.yaml', 'what changed since old.yaml, which nodes need new files or a new image, and the replacement order'],
  ['$0 init --from-env', "lb.yaml from the install guide's K8SHA_VIP, K8SHA_KA_AUTH, K8SHA_NETIF, K8S_MASTER0.."],
  ['$0 gen-userdata lb.yaml --node lb-0 --cloud aws --encoding gzip -o ud.gz', "gzip it and check it against AWS's 16 KB limit"],
];

/**
 * The lbbake CLI as a testable function: parses argv, runs one command, prints through io and
 * returns the exit code (0 ok, 1 invalid input, 2 usage, 3 validator rejected output, 70 bug).
 */
export async function main(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  // `-` is standard input; yargs would read it as an empty option name
  argv = argv.map((a) => (a === '-' ? STDIN_FILE : a));
  let parser = yargs(argv)
    .scriptName('lbbake')
    .usage('$0 <command> [options]\n\nTurns one lb.yaml into keepalived + haproxy configs, cloud-init user-data and Packer projects.')
    .option('json', { type: 'boolean', default: false, describe: 'print diagnostics as JSON on stdout' })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors (exit 1)' })
    .option('color', { type: 'boolean', describe: 'colour diagnostics (default: only on a terminal, never with NO_COLOR)' });
  const names = COMMANDS.map((c) => c.command.split(' ')[0]);
  const wanted = argv.find((a) => names.includes(a));
  for (const c of COMMANDS) {
    if (c.command.split(' ')[0] === wanted) {
      const mod = await c.load();
      parser = parser.command(c.command, c.describe, mod.builder, async (args) => {
        code = await mod.handler(args, io);
      });
    } else {
      parser = parser.command(c.command, c.describe);
    }
  }
  for (const [cmd, text] of EXAMPLES) parser = parser.example(cmd, text);
  parser = parser
    .demandCommand(1, `name a command: ${COMMANDS.map((c) => c.command.split(' ')[0]).join(', ')}`)
    .strict()
    .version(lbbakeVersion())
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw !msg && err ? err : new UsageError(msg ?? err?.message);
    });
  try {
    let out = '';
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      out = output;
    });
    if (out) io.stdout(out.endsWith('\n') ? out : out + '\n');
    return code;
  } catch (err) {
    if (err instanceof WriteError) {
      io.stderr(`lbbake: ${err.message}\n`);
      return EXIT.INVALID;
    }
    if (err instanceof UsageError) {
      io.stderr(`lbbake: ${err.message}\nRun lbbake --help for usage.\n`);
      return EXIT.USAGE;
    }
    const e = err as NodeJS.ErrnoException;
    if (!(err instanceof InternalError) && typeof e?.code === 'string' && typeof e.syscall === 'string') {
      // the environment refused an operation lbbake did not expect to fail: say which, no stack
      io.stderr(`lbbake: cannot ${e.syscall}${e.path ? ` ${e.path}` : ''}: ${e.code}\n`);
      return EXIT.INVALID;
    }
    const msg = err instanceof InternalError ? err.message : ((err as Error)?.stack ?? String(err));
    io.stderr(`lbbake: internal error: ${msg}\n${REPORT_BUGS}\n`);
    return EXIT.INTERNAL;
  }
}

/** The real process's Io (the bins' edge). */
export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}
