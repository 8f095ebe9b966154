/**
 * Typed errors of the MySQL dumper. Each says whether it is fatal (the operation stopped and nothing was
 * published or half-loaded is left behind by us) or a warning (the caller may continue), so the CLI and the
 * refresh-dumps action can decide without parsing messages. `code` is stable for callers to branch on.
 * Messages never contain passwords, and name no CLI flag or action input: callers add their own.
 */
export abstract class MysqlDumpError extends Error {
  abstract readonly fatal: boolean;
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The URL is not a usable mysql:// URL. */
export class InvalidMysqlUrlError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'invalid-url';
}

/** No server answered at host:port (refused, timed out, DNS) within the connect timeout / wait budget. */
export class ServerUnreachableError extends MysqlDumpError {
  readonly fatal = true;
  // Widened so NoMysqlGreetingError can name its own code (callers branch on it, e.g. to suggest a wait).
  readonly code: string = 'server-unreachable';
  /** How long connecting was retried (0: one attempt), so a caller can name its own wait option. */
  readonly waitedSeconds: number;
  constructor(
    readonly address: string,
    detail: string,
    options?: { cause?: unknown; waitedSeconds?: number },
  ) {
    const waited = options?.waitedSeconds ? ` after waiting ${options.waitedSeconds} s` : '';
    super(
      `cannot reach MySQL server at ${address} (${detail}${waited}); start it, check host and port, or wait longer for it to start`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.waitedSeconds = options?.waitedSeconds ?? 0;
  }
}

/**
 * Something at host:port accepted the TCP connection but sent no MySQL greeting within the connect timeout
 * (a MySQL server greets first, at once): another kind of server (HTTP, MongoDB...), a proxy whose server
 * is down, or a MySQL server too busy to answer. `sent`: the printable start of what it sent instead, if
 * anything. A subclass of ServerUnreachableError (no MySQL server answered there) with its own code, not
 * retried while waiting, and a message that does not send the user to start a server that is running.
 */
export class NoMysqlGreetingError extends ServerUnreachableError {
  override readonly code = 'no-greeting';
  constructor(
    address: string,
    detail: string,
    options: { cause?: unknown; timeoutSeconds: number; sent?: string | undefined },
  ) {
    super(address, detail, options.cause === undefined ? undefined : { cause: options.cause });
    const none = `server at ${address} accepted the TCP connection but sent no MySQL greeting within the ${options.timeoutSeconds} s connect timeout (${detail})`;
    this.message =
      options.sent === undefined
        ? `${none}; is it another kind of server (HTTP, MongoDB...), a proxy whose server is down, or a MySQL server too busy to answer? Check host and port`
        : `${none}, and it sends "${options.sent}" instead: it is not a MySQL server; check host and port`;
  }
}

/** The server rejected the user name or password. */
export class AccessDeniedError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'access-denied';
}

/** The server accepts no account from the client's host (error 1130), whatever the credentials. */
export class HostNotAllowedError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'host-not-allowed';
  constructor(readonly address: string, serverMessage: string, options?: { cause?: unknown }) {
    super(
      `MySQL server at ${address} does not accept connections from this host (${serverMessage}); ` +
        'grant the account access from this host, or connect as another user',
      options,
    );
  }
}

/**
 * Connecting failed for a reason none of the other classes covers (a server error such as a broken
 * `mysql` schema, or a handshake the driver cannot complete). Names host:port and the server's message.
 */
export class ConnectFailedError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'connect-failed';
  constructor(readonly address: string, serverMessage: string, options?: { cause?: unknown }) {
    super(`cannot connect to MySQL server at ${address}: ${serverMessage}; check the server and its error log`, options);
  }
}

/**
 * The TLS the URL asks for (`ssl-mode`, `ssl-ca`) could not be set up: the server offers none, its
 * certificate is not trusted or not issued for the host, or the CA file cannot be read. Names host:port and
 * what to change.
 */
export class TlsError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'tls-failed';
  constructor(readonly address: string, problem: string, options?: { cause?: unknown }) {
    super(`TLS to MySQL server at ${address}: ${problem}`, options);
  }
}

/** A server error after connecting that none of the other classes covers; names host:port and the operation. */
export class MysqlServerError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'server-error';
  constructor(readonly address: string, serverMessage: string, operation: string | undefined, options?: { cause?: unknown }) {
    super(`MySQL server at ${address} failed${operation ? ` while ${operation}` : ''}: ${serverMessage}`, options);
  }
}

/** The user lacks a privilege the operation needs; the message names it. */
export class MissingPrivilegeError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'missing-privilege';
}

/** A database named by the caller does not exist. */
export class UnknownDatabaseError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'unknown-database';
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
  readonly code = 'unknown-data-table';
  constructor(
    readonly table: string,
    databases: string[],
    readonly undumpedDatabase?: string,
    /** The database where `table` is a view (its rows are its tables'): data tables must be base tables. */
    readonly viewIn?: string,
  ) {
    const names = databases.map((d) => `\`${d}\``).join(', ');
    super(
      viewIn !== undefined
        ? `data table \`${table}\` is a view in \`${viewIn}\`, and data tables must be base tables; remove it from the data tables (list the tables it selects from instead)`
        : undumpedDatabase === undefined
          ? `data table \`${table}\` does not exist in ${names}; remove it from the data tables or fix its name`
          : `data table \`${table}\` names database \`${undumpedDatabase}\`, which is not dumped (dumped: ${names}); ` +
            `add \`${undumpedDatabase}\` to the databases to dump, or remove the entry from the data tables`,
    );
  }
}

/** The load target already holds objects and replace was not requested. */
export class TargetNotEmptyError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'target-not-empty';
  constructor(readonly database: string, readonly objectCount: number) {
    super(
      `MySQL database \`${database}\` is not empty (${objectCount} ${objectCount === 1 ? 'object' : 'objects'}); load into an empty database or replace it`,
    );
  }
}

/**
 * A write (load, replace, empty, roll back) targets one of the server's own databases. Refused before
 * connecting: dropping `mysql` takes the server's accounts and grants with it.
 */
export class SystemDatabaseError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'system-database';
  constructor(readonly database: string, operation: 'load' | 'dump' = 'load') {
    super(
      operation === 'load'
        ? `\`${database}\` is a MySQL system database; refusing to drop or load into it — give the service's own database name`
        : `\`${database}\` is a MySQL system database (the server's own accounts or state, not a service's schema); refusing to dump it — give the service's own database name`,
    );
  }
}

/**
 * A database name that cannot be a dump file name safely (`<name>.sql`): a path separator, `.` or `..`, a
 * leading dot, a control character, or too long for the file system. Raised before anything is written.
 */
export class UnsafeDatabaseNameError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'unsafe-database-name';
  constructor(readonly database: string, problem: string) {
    super(`database name ${JSON.stringify(database)} ${problem}, so it cannot name a dump file safely; nothing was written — rename the database (or leave it out of the databases to dump)`);
  }
}

/**
 * A row of a data table whose INSERT would exceed the server's max_allowed_packet: no client could load it.
 * Names the table and the row (its primary key, or its position without one).
 */
export class OversizedRowError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'row-too-large';
  constructor(
    readonly database: string,
    readonly table: string,
    readonly row: string,
    readonly bytes: number,
    readonly maxAllowedPacket: number,
  ) {
    super(
      `row ${row} of data table \`${table}\` in \`${database}\` needs an INSERT of ${bytes} bytes, more than the server's ` +
        `max_allowed_packet (${maxAllowedPacket}), so the dump could not be loaded; nothing was written — raise max_allowed_packet ` +
        `(on the servers that dump and load), or remove \`${table}\` from the data tables`,
    );
  }
}

/** A dump file cannot be used: unreadable, malformed, or a statement in it failed. */
export class DumpFileError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'dump-file';
}

/**
 * A dump file holds a statement that files written by dumpMysql never contain (the load allowlist,
 * statement-allowlist.ts), so the file was not written by it. Raised before anything of the load ran.
 * `file`, `line` (where the statement starts), `statement` (its first 80 characters), `reason`.
 */
export class RefusedStatementError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'refused-statement';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly statement: string,
    readonly reason: string,
  ) {
    super(
      `${file} line ${line}: refused \`${statement}\`: it contains ${reason}. Dumps written by devstack-dumps never contain this, ` +
        'so this dump set was not written by `devstack-dumps dump` or refresh-dumps; the load was refused and nothing of it was kept. ' +
        'Re-create the dump set with `devstack-dumps dump` (or refresh-dumps), and check who can write to the dump store: ' +
        'whoever can runs SQL on every server that loads from it',
    );
  }
}

/** A volatile column named by the caller does not exist in its data table. */
export class UnknownVolatileColumnError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'unknown-volatile-column';
  constructor(
    readonly column: string,
    database: string,
    /** The table is no data table of any dumped database (so the column would fix nothing). */
    notDataTable = false,
  ) {
    super(
      notDataTable
        ? `volatile column \`${column}\`: its table is not dumped with rows in ${database}; add the table to the data tables, or fix or remove the entry`
        : `volatile column \`${column}\` does not exist in database \`${database}\`; fix or remove it from the volatile columns`,
    );
  }
}

/** A volatile column entry that is not `table.column=value`. */
export class InvalidVolatileColumnError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'invalid-volatile-column';
  constructor(readonly entry: string) {
    super(`volatile column entry "${entry}" is not \`table.column=value\` (\`table.column=NULL\` for NULL), e.g. \`knex_migrations.migration_time=2000-01-01 00:00:00\``);
  }
}

/**
 * A view, routine, trigger or event that cannot be written so it loads under any database name with its
 * meaning kept (names the object and what to change in the source database).
 */
export class UnportableObjectError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'unportable-object';
  constructor(
    readonly database: string,
    readonly object: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A database holds MariaDB sequences, which the dump cannot yet write so that they reload right (their
 * DDL would come back as a plain table without the sequence's row, NEXTVAL restarting at 1).
 */
export class SequenceNotSupportedError extends MysqlDumpError {
  readonly fatal = true;
  readonly code = 'sequence-not-supported';
  constructor(
    readonly database: string,
    readonly sequences: string[],
  ) {
    super(
      `database \`${database}\` has ${sequences.length === 1 ? 'a sequence' : 'sequences'} ${sequences.map((s) => `\`${s}\``).join(', ')}: ` +
        'sequences are not supported yet; the dump would reload them as plain tables restarting at 1, so nothing was written. ' +
        'Drop or replace the sequences (e.g. with AUTO_INCREMENT) before dumping',
    );
  }
}
