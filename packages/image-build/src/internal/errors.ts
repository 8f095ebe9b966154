/**
 * Every error this package throws says whether it must fail the build (`fatal`) or may be reported
 * as a warning, so the action can decide in one place without string matching.
 */
export abstract class ImageBuildError extends Error {
  abstract readonly fatal: boolean;
}

/** A value of an action input is unusable: names the input and what to write instead. Fatal. */
export class InputError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly input: string,
    problem: string,
    fix: string,
  ) {
    super(`Input \`${input}\`: ${problem}. ${fix}`);
    this.name = 'InputError';
  }
}

/** The Dockerfile cannot be used (unreadable, no such stage). Fatal. */
export class DockerfileError extends ImageBuildError {
  readonly fatal = true;
  constructor(message: string) {
    super(message);
    this.name = 'DockerfileError';
  }
}

/** The registry refused the credentials (401/403). Fatal; the message never contains the password. */
export class RegistryAuthError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly registry: string,
    readonly status: number | undefined,
    options: ErrorOptions = {},
  ) {
    super(
      `Registry ${registry} refused the credentials${status ? ` (HTTP ${status})` : ''}: ` +
        'check the `username` and `password` inputs and that the token may push to this repository.',
      options,
    );
    this.name = 'RegistryAuthError';
  }
}

/**
 * A registry other than the one logged in to / pushed to (a base image's, usually) wants credentials
 * the build does not have. The `username`/`password` inputs do not apply to it, so they are not named. Fatal.
 */
export class OtherRegistryAuthError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly host: string,
    readonly status: number | undefined,
    readonly reference: string | undefined,
    readonly detail: string,
    readonly registry: string,
    options: ErrorOptions = {},
  ) {
    super(
      `Registry ${host} refused access${reference ? ` to ${reference}` : ''}${status ? ` (HTTP ${status})` : ''}: ${detail}. ` +
        `It is not ${registry}, the registry this action logs in and pushes to, so \`username\`/\`password\` do not apply to it: if the image is private, ` +
        `log in to ${host} in an earlier step (e.g. docker/login-action); otherwise the reference (the Dockerfile's FROM, a build arg) is wrong.`,
      options,
    );
    this.name = 'OtherRegistryAuthError';
  }
}

/** The registry took the credentials but does not let them push to this repository (403, `denied`). Fatal. */
export class RegistryPushDeniedError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly repository: string,
    readonly status: number | undefined,
    readonly detail: string,
    options: ErrorOptions = {},
  ) {
    super(
      `The push to ${repository} was denied${status ? ` (HTTP ${status})` : ''}: ${detail}. ` +
        'The credentials may not write to this repository: give the token push permission on it (ghcr.io: `packages: write` ' +
        'and the package\'s access settings), or push to a repository it may write to (`image`).',
      options,
    );
    this.name = 'RegistryPushDeniedError';
  }
}

/**
 * A host other than the registry pushed to refused the connection (a base image's registry, usually).
 * Not a passing outage of the target, so not retried. Fatal.
 */
export class OtherRegistryUnreachableError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly host: string,
    readonly reference: string | undefined,
    readonly detail: string,
    readonly registry: string,
    options: ErrorOptions = {},
  ) {
    super(
      `Cannot connect to ${host}${reference ? `, the registry of ${reference},` : ''} (${detail}). ` +
        `It is not ${registry}, the registry this action pushes to, so this is not retried: check the reference (the Dockerfile's FROM, a build arg) ` +
        'and that the registry runs and is reachable from the runner.',
      options,
    );
    this.name = 'OtherRegistryUnreachableError';
  }
}

/**
 * The registry's host name does not resolve (DNS: `no such host`). Not retried, since waiting does
 * not fix a misspelt host; names the input that holds the host. Fatal.
 */
export class RegistryHostError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly registry: string,
    readonly detail: string,
    readonly input?: string,
    options: ErrorOptions = {},
  ) {
    super(
      `${input ? `Input \`${input}\`: registry` : 'Registry'} host \`${registry}\` does not resolve (${detail}). ` +
        `Check the host name${input ? ` in \`${input}\`` : ''}, and that the runner's DNS can resolve it.`,
      options,
    );
    this.name = 'RegistryHostError';
  }
}

/** The buildx builder or the Docker engine behind it does not answer. Fatal: nothing can be built. */
export class EngineUnreachableError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly builder: string,
    readonly dockerHost: string | undefined,
    readonly detail: string,
  ) {
    const where = builder ? `the buildx builder \`${builder}\` (input \`builder\`)` : `the Docker engine at ${dockerHost ? `DOCKER_HOST=${dockerHost}` : 'the default socket (DOCKER_HOST is not set)'}`;
    super(
      `Cannot reach ${where}: ${detail}. Start the engine or fix DOCKER_HOST, or set a builder up before this step ` +
        '(docker/setup-buildx-action) and pass its name in `builder`.',
    );
    this.name = 'EngineUnreachableError';
  }
}

/**
 * A registry operation still failed after every retry. Fatal for pushes; the cause is kept. `hint`
 * (a sentence) says what to check when the failure points somewhere (nothing answering at the host).
 */
export class RegistryUnavailableError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly operation: string,
    readonly attempts: number,
    readonly lastError: string,
    options: ErrorOptions & { hint?: string } = {},
  ) {
    super(`${operation} failed after ${attempts} attempts: ${lastError}${options.hint ? `. ${options.hint}` : ''}`, 'cause' in options ? { cause: options.cause } : {});
    this.name = 'RegistryUnavailableError';
  }
}

/** The progress stream could not be read completely; the report is partial. A warning, never fatal. */
export class ProgressStreamError extends ImageBuildError {
  readonly fatal = false;
  constructor(message: string) {
    super(message);
    this.name = 'ProgressStreamError';
  }
}

/**
 * Hides URL user info in text an input error echoes (`http://user:pw@host` -> `http://***@host`,
 * `user:pw@host` -> `***@host`): a proxy password must not reach the log before it is masked.
 * Everything up to the last `@` goes, after the first `scheme://` if there is one, so a password
 * holding `@`, `/` or spaces cannot show through either.
 */
export function redactUserInfo(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  const keep = scheme && scheme.index + scheme[0].length <= at ? scheme.index + scheme[0].length : 0;
  return `${text.slice(0, keep)}***${text.slice(at)}`;
}

/** The builder cannot do what the inputs ask (the docker driver on the classic image store): fatal, says how to get one that can. */
export class BuilderCapabilityError extends ImageBuildError {
  readonly fatal = true;
  constructor(
    readonly builder: string,
    readonly wants: string,
  ) {
    super(
      `The buildx builder ${builder ? `\`${builder}\`` : '(current)'} uses the docker driver on the classic image store, which cannot ${wants}. ` +
        'Add `docker/setup-buildx-action` before this step (it creates a docker-container builder), or enable the containerd image store in the Docker engine, or set `cache: none`.',
    );
    this.name = 'BuilderCapabilityError';
  }
}
