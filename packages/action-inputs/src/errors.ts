import * as core from '@actions/core';

/**
 * An error the user can act on. `fatal` errors fail the step; non-fatal ones are reported as warnings and the
 * action goes on (e.g. a cache export that failed must not fail a build).
 */
export class ActionError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean = true,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad action input: always fatal, and the message names the input and what to do. */
export class InputError extends ActionError {
  constructor(
    readonly input: string,
    problem: string,
  ) {
    super(`Input \`${input}\`: ${problem}`, true);
  }
}

/** The one place where an error becomes core.setFailed (or a warning, when it is not fatal). */
export function reportFailure(error: unknown): void {
  if (error instanceof ActionError && !error.fatal) {
    core.warning(error.message);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && !(error instanceof ActionError) && error.stack) core.debug(error.stack);
  core.setFailed(message);
}
