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

/**
 * Neither server could be connected to: each engine's own typed error is kept, so someone who forgot to
 * start both learns it from one run instead of one server per run. Fatal.
 */
export class ServersFailedError extends DumpSetError {
  constructor(readonly failures: { mysql: Error; mongo: Error }) {
    super('servers-failed', `neither server could be used. MySQL: ${withoutPeriod(failures.mysql.message)}. MongoDB: ${withoutPeriod(failures.mongo.message)}`);
  }
}

const withoutPeriod = (text: string) => text.replace(/\.\s*$/, '');

/** The dumpers' codes for not getting a working connection (as opposed to a statement failing on one). */
const CONNECTION_CODES = new Set(['server-unreachable', 'no-greeting', 'no-handshake', 'wrong-protocol', 'access-denied', 'auth-failed', 'host-not-allowed', 'connect-failed', 'tls-failed', 'invalid-url']);

/** The dumpers' error for not getting a working connection to a server. */
export function isConnectionFailure(error: unknown): error is Error & { code: string } {
  return error instanceof Error && CONNECTION_CODES.has(String((error as { code?: unknown }).code));
}

/**
 * Throws after two concurrent engine steps settled: two connection failures as one ServersFailedError,
 * else the MySQL failure, else the MongoDB one. `mysql`/`mongo` hold a rejection reason when that side failed.
 */
export function throwEngineFailures(failed: { mysql?: { reason: unknown }; mongo?: { reason: unknown } }): void {
  const { mysql, mongo } = failed;
  if (mysql && mongo && isConnectionFailure(mysql.reason) && isConnectionFailure(mongo.reason)) throw new ServersFailedError({ mysql: mysql.reason, mongo: mongo.reason });
  if (mysql) throw mysql.reason;
  if (mongo) throw mongo.reason;
}
