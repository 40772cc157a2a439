import { main } from '../../src/main.js';
import type { Io } from '../../src/commands/common.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with a fake Io; stderrIsTTY and env are the test's to choose. */
export async function run(argv: string[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stderrIsTTY: opts.tty ?? false,
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

export const EXAMPLE = new URL('../../examples/k8s-apiserver.yaml', import.meta.url).pathname;
