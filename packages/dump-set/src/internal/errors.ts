/**
 * Failures of the dump-set layer itself. Server failures keep the dumpers' own typed errors
 * (`MysqlDumpError`, `MongoDumpError` subclasses), which already name host:port without passwords.
 * Every class here is fatal: a dump set that is incomplete or not what was published is never used.
 */
export class DumpSetError extends Error {
  readonly code: string;
  readonly fatal = true;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad arguments: no source, empty database list, a rename for a database the dump lacks, a non-empty output directory. */
export class DumpSetInputError extends DumpSetError {}

/** A dump set directory is not a complete, unaltered dump set (missing, altered, extra or malformed file). */
export class DumpSetFileError extends DumpSetError {}

/** A server step outside the dumpers failed (emptying databases, checking load targets). */
export class DumpSetServerError extends DumpSetError {}
