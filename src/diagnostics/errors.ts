/**
 * Exit codes and the error classes that map to them: the one place the CLI edge (cli/main.ts)
 * looks to turn an outcome into a process exit code. Checks never throw these for problems in
 * lb.yaml; those are diagnostics.
 */

/** Documented exit codes (README "Exit codes"). */
export const EXIT = { OK: 0, INVALID: 1, USAGE: 2, VALIDATOR: 3, INTERNAL: 70 } as const;

/** Wrong flags or arguments: exit 2. */
export class UsageError extends Error {}

/** A bug in lbbake, never a user error: exit 70. */
export class InternalError extends Error {}

/**
 * Output could not be written (disk full, permission denied, a file where a directory belongs …):
 * exit 1. The message names the path the user asked for (never a temporary name) and the reason.
 */
export class WriteError extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(`${message}; nothing was written (previous output is unchanged)`);
  }
}

export const REPORT_BUGS = 'This is a bug in lbbake. Please report it with the command you ran and your lb.yaml (secrets removed).';
