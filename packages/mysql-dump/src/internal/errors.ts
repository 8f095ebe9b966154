/**
 * Typed errors of the MySQL dumper. Each says whether it is fatal (the operation stopped and nothing was
 * published or half-loaded is left behind by us) or a warning (the caller may continue), so the CLI and the
 * refresh-dumps action can decide without parsing messages. Messages never contain passwords.
 */
export abstract class MysqlDumpError extends Error {
  abstract readonly fatal: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The URL is not a usable mysql:// URL. */
export class InvalidMysqlUrlError extends MysqlDumpError {
  readonly fatal = true;
}

/** No server answered at host:port (refused, timed out, DNS) within the connect timeout / wait budget. */
export class ServerUnreachableError extends MysqlDumpError {
  readonly fatal = true;
  /** `waitedSeconds`: how long connecting was retried; without it the advice is to pass a wait time. */
  constructor(
    readonly address: string,
    detail: string,
    options?: { cause?: unknown; waitedSeconds?: number },
  ) {
    super(
      options?.waitedSeconds
        ? `cannot reach MySQL server at ${address} (${detail} after waiting ${options.waitedSeconds} s); start it, or check host and port`
        : `cannot reach MySQL server at ${address} (${detail}); start it, check host and port, or pass a wait time to retry while it starts`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** The server rejected the user name or password. */
export class AccessDeniedError extends MysqlDumpError {
  readonly fatal = true;
}

/** The user lacks a privilege the operation needs; the message names it. */
export class MissingPrivilegeError extends MysqlDumpError {
  readonly fatal = true;
}

/** A database named by the caller does not exist. */
export class UnknownDatabaseError extends MysqlDumpError {
  readonly fatal = true;
  constructor(readonly database: string, address: string) {
    super(`database \`${database}\` does not exist on ${address}; check the database list`);
  }
}

/**
 * A data table named by the caller does not exist in the dumped databases, or (`undumpedDatabase` set) it is
 * named `database.table` with a database that is not being dumped.
 */
export class UnknownDataTableError extends MysqlDumpError {
  readonly fatal = true;
  constructor(
    readonly table: string,
    databases: string[],
    readonly undumpedDatabase?: string,
  ) {
    const names = databases.map((d) => `\`${d}\``).join(', ');
    super(
      undumpedDatabase === undefined
        ? `data table \`${table}\` does not exist in ${names}; remove it from the data tables or fix its name`
        : `data table \`${table}\` names database \`${undumpedDatabase}\`, which is not dumped (dumped: ${names}); ` +
            `add \`${undumpedDatabase}\` to the databases to dump, or remove the entry from the data tables`,
    );
  }
}

/** The load target already holds objects and replace was not requested. */
export class TargetNotEmptyError extends MysqlDumpError {
  readonly fatal = true;
  constructor(readonly database: string, objectCount: number) {
    super(
      `target database \`${database}\` is not empty (${objectCount} objects); load into an empty database or pass replace to drop it first`,
    );
  }
}

/** A dump file cannot be used: unreadable, malformed, or a statement in it failed. */
export class DumpFileError extends MysqlDumpError {
  readonly fatal = true;
}

/** A volatile column named by the caller does not exist in its data table. */
export class UnknownVolatileColumnError extends MysqlDumpError {
  readonly fatal = true;
  constructor(readonly column: string, database: string) {
    super(`volatile column \`${column}\` does not exist in database \`${database}\`; fix or remove it from the volatile columns`);
  }
}
