import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/common.js';

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

/**
 * A private copy of examples/k8s-apiserver.yaml: gen-userdata stores generated secrets beside
 * its input, which must not land in the repository's examples/.
 */
export const EXAMPLE = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'lbbake-ux-example-'));
  const f = join(dir, 'k8s-apiserver.yaml');
  copyFileSync(new URL('../../examples/k8s-apiserver.yaml', import.meta.url), f);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return f;
})();
