import yargs, { type Argv } from 'yargs';
import { InternalError } from './render.js';
import { WriteError } from './write.js';
import { EXIT, type Io, UsageError } from './commands/common.js';
import * as validate from './commands/validate.js';
import * as render from './commands/render.js';
import * as genUserdata from './commands/gen-userdata.js';
import * as init from './commands/init.js';
import * as explain from './commands/explain.js';

export { EXIT, type Io } from './commands/common.js';

export const REPORT_BUGS = 'This is a bug in lbbake. Please report it with the command you ran and your lb.yaml (secrets removed).';

/** A subcommand: yargs metadata plus a handler that returns the exit code. */
interface Command {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<any>;
  handler: (args: any, io: Io) => number | Promise<number>;
}

/** Every subcommand, in help order. Adding a command = one file in commands/ + one entry here. */
const COMMANDS: Command[] = [validate, render, genUserdata, init, explain];

const EXAMPLES: Array<[string, string]> = [
  ['$0 validate lb.yaml', 'check lb.yaml, print each problem with line:col and a fix'],
  ['$0 render lb.yaml --node lb-0', 'write output/<name>/lb-0/etc/... (what lb-0 runs)'],
  ['$0 gen-userdata lb.yaml --node lb-0 -o user-data.yaml', "cloud-init user-data with lb-0's role fixed in it"],
  ['$0 init lb.yaml', 'write a commented starter lb.yaml'],
  ['$0 explain lb.yaml', 'states, priorities, failover budget in seconds, firewall rules, per-cloud prerequisites'],
  ['$0 init --from-env', "lb.yaml from the install guide's K8SHA_VIP, K8SHA_KA_AUTH, K8SHA_NETIF, K8S_MASTER0.."],
  ['$0 gen-userdata lb.yaml --node lb-0 --cloud aws --encoding gzip -o ud.gz', "gzip it and check it against AWS's 16 KB limit"],
];

/**
 * The lbbake CLI as a testable function: parses argv, runs one command, prints through io and
 * returns the exit code (0 ok, 1 invalid input, 2 usage, 3 validator rejected output, 70 bug).
 */
export async function main(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  let parser = yargs(argv)
    .scriptName('lbbake')
    .usage('$0 <command> [options]\n\nTurns one lb.yaml into keepalived + haproxy configs, cloud-init user-data and Packer projects.')
    .option('json', { type: 'boolean', default: false, describe: 'print diagnostics as JSON on stdout' })
    .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors (exit 1)' })
    .option('color', { type: 'boolean', describe: 'colour diagnostics (default: only on a terminal, never with NO_COLOR)' });
  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, c.builder, async (args) => {
      code = await c.handler(args, io);
    });
  }
  for (const [cmd, text] of EXAMPLES) parser = parser.example(cmd, text);
  parser = parser
    .demandCommand(1, `name a command: ${COMMANDS.map((c) => c.command.split(' ')[0]).join(', ')}`)
    .strict()
    .version()
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
