/**
 * Something `pnpm act` needs is missing or unusable (act, Docker, the job image). Always fatal: the run
 * stops before act starts, and the message is printed as one line saying what to install or start.
 */
export class PrerequisiteError extends Error {
  readonly fatal = true;
  override readonly name = 'PrerequisiteError';
}

/** The command line of `pnpm act` itself is wrong. Always fatal, printed as one line with the usage. */
export class UsageError extends Error {
  readonly fatal = true;
  override readonly name = 'UsageError';
}
