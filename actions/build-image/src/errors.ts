import { ActionError } from '@org/action-inputs';
import { ImageBuildError } from '@org/image-build';

/** A bake run failed in a build step (not the registry): fatal, names the flavour and the step. */
export class BuildFailedError extends ActionError {
  constructor(message: string) {
    super(message, true);
  }
}

/** `lint: error` and the Dockerfile has findings (each one is an annotation already). Fatal. */
export class LintFailedError extends ActionError {
  constructor(count: number, file: string) {
    super(`The Dockerfile cache lint found ${count} problem${count === 1 ? '' : 's'} in ${file} (see the annotations): fix them, or set \`lint: warn\`.`, true);
  }
}

/** A `docker` command failed; the message carries its last error lines, never its stdin. */
export class DockerCommandError extends ActionError {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly detail: string,
  ) {
    super(`\`docker ${command}\` exited with ${exitCode}${detail ? `: ${detail}` : ''}`, true);
  }
}

/**
 * image-build's errors carry their own fatal-or-warning decision; they become ActionErrors here so
 * `reportFailure` makes that decision in one place. Anything else stays as it is (fatal).
 */
export function toActionError(error: unknown): unknown {
  if (error instanceof ImageBuildError && !(error instanceof ActionError)) {
    const converted = new ActionError(error.message, error.fatal);
    converted.stack = error.stack;
    return converted;
  }
  return error;
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
