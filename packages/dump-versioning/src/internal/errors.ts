/**
 * Every failure the library reports is a DumpVersioningError with a stable `code` and an explicit
 * `fatal` decision: fatal errors stop the operation; non-fatal ones are returned as warnings
 * (e.g. a ref left alone because a newer run already moved it).
 */
export class DumpVersioningError extends Error {
  readonly code: string;
  readonly fatal: boolean;
  constructor(code: string, message: string, options: { fatal?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fatal = options.fatal ?? true;
  }
}

/** The store URL or its configuration is wrong (scheme, bucket, credentials, endpoint). */
export class StoreConfigError extends DumpVersioningError {}

/** A store request failed for a reason other than configuration. */
export class StoreAccessError extends DumpVersioningError {}

/** A manifest, commit entry or ref does not match its JSON schema (or its schemaVersion). */
export class ManifestError extends DumpVersioningError {}

/** A path in a manifest or dump directory would escape its directory. */
export class UnsafePathError extends DumpVersioningError {}

/** A version, commit, branch or file that was asked for does not exist. */
export class NotFoundError extends DumpVersioningError {}

/** Stored bytes do not hash to what the manifest says. */
export class IntegrityError extends DumpVersioningError {}

/** Bad arguments to a library call (empty dump directory, invalid service name, ...). */
export class InvalidInputError extends DumpVersioningError {}

/** Git could not answer (not a repository, unknown commit, shallow clone that cannot be deepened). */
export class GitError extends DumpVersioningError {}

/**
 * Something a publish did not do but that does not fail it (e.g. the ref was left at a newer commit,
 * while version and commit index were still written). Returned in `warnings`, never thrown.
 */
export class PublishWarning extends DumpVersioningError {
  constructor(code: string, message: string) {
    super(code, message, { fatal: false });
  }
}
