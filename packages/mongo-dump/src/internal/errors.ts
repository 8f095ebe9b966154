/**
 * Every failure this package reports is one of these classes. `severity` is decided per class, not per
 * throw site. Every class here is 'fatal': a dump or load that cannot be exact must not produce output
 * (the type keeps room for warnings so callers already branch on it).
 */
export type MongoDumpSeverity = 'fatal' | 'warning';

export abstract class MongoDumpError extends Error {
  abstract readonly severity: MongoDumpSeverity;
  /** Stable for callers to branch on (messages name no CLI flag or action input; callers add their own). */
  abstract readonly code: string;
  override name = this.constructor.name;
}

/** The URL does not parse as a MongoDB connection string. */
export class MongoUrlError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'invalid-url';
  constructor(readonly maskedUrl: string, reason: string) {
    super(`invalid MongoDB URL ${maskedUrl}: ${reason}; expected mongodb://[user:password@]host:port`);
  }
}

/** No server answered at host:port within the selection timeout (and the bounded wait, if any). */
export class MongoUnreachableError extends MongoDumpError {
  readonly severity = 'fatal';
  // Widened so MongoNoHandshakeError can name its own code (callers branch on it, e.g. to suggest a wait).
  readonly code: string = 'server-unreachable';
  constructor(
    readonly hosts: string,
    readonly waitedSeconds: number,
    reason: string,
  ) {
    const waited = waitedSeconds > 0 ? ` after waiting ${waitedSeconds} s` : '';
    super(
      `MongoDB server at ${hosts} is unreachable${waited} (${reason}); ` +
        'start it, check host and port, or wait longer for it to start',
    );
  }
}

/**
 * Something at host:port accepted TCP connections, but no MongoDB handshake completed within the selection
 * timeout (and the bounded wait, if any): a server of another kind that waits for its client (HTTP...), a
 * TLS mismatch (the URL's `tls` against the port's listener), or a proxy whose server is not running. A
 * subclass of MongoUnreachableError (no MongoDB server answered there), with its own code and a message
 * that does not send the user to start a server that is running.
 */
export class MongoNoHandshakeError extends MongoUnreachableError {
  override readonly code = 'no-handshake';
  constructor(
    hosts: string,
    waitedSeconds: number,
    reason: string,
    /** What the URL asked for and what a raw TCP connection saw, to say what to check. */
    readonly seen: { tls: boolean; closedSilently: boolean },
  ) {
    super(hosts, waitedSeconds, reason);
    const waited = waitedSeconds > 0 ? ` after waiting ${waitedSeconds} s` : '';
    let advice: string;
    if (seen.tls) {
      advice = 'the URL asks for TLS (tls=true): does the server offer TLS on this port? Give the port of its TLS listener, or leave tls out if it has none';
    } else if (seen.closedSilently) {
      advice = 'it closes connections without a word: a port forward or proxy whose server is not running, a server that requires TLS (add tls=true), or one refusing connections; check the server behind that port';
    } else {
      advice = 'is it another kind of server (HTTP...), a server that requires TLS (add tls=true), or a proxy whose server is down? Check host and port';
    }
    this.message = `server at ${hosts} accepted TCP connections but completed no MongoDB handshake${waited} (${reason}); ${advice}`;
  }
}

/**
 * The server at host:port sent bytes that are no MongoDB reply: a greeting before any request (MySQL, SSH,
 * SMTP servers speak first; MongoDB never does) or a non-MongoDB answer to the probe's hello. Found by a
 * raw TCP probe before the driver reads from it (the driver would read such bytes as a reply and can
 * exhaust memory on them). Not retried: the port is wrong, not starting.
 */
export class MongoWrongProtocolError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'wrong-protocol';
  constructor(readonly hosts: string, readonly what: string) {
    super(`server at ${hosts} is not a MongoDB server: ${what}; check host and port in the URL`);
  }
}

/** The server rejected the credentials in the URL. */
export class MongoAuthFailedError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'auth-failed';
  constructor(readonly hosts: string, user: string, authDatabase?: string) {
    // A root user of the official image (MONGO_INITDB_ROOT_*) lives in `admin`, not in the path database.
    const where = authDatabase === undefined ? '' : ` (looked up in database "${authDatabase}", the URL's path: add ?authSource=admin if the user was created in admin)`;
    super(`MongoDB at ${hosts} rejected the credentials of user "${user}"${where}; check the user and password in the URL`);
  }
}

/** The user may connect but lacks a privilege this run needs. */
export class MongoPrivilegeError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'missing-privilege';
  constructor(readonly action: string, readonly database: string, serverMessage: string) {
    super(`MongoDB refused "${action}" on database "${database}" (${serverMessage}); grant the user that privilege`);
  }
}

/** A database named in `databases` does not exist on the server. */
export class MongoDatabaseNotFoundError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'unknown-database';
  constructor(readonly database: string, readonly hosts: string) {
    super(`database "${database}" does not exist on MongoDB ${hosts}; check the database list`);
  }
}

/** An entry of `dataCollections` names no collection of the dumped databases. */
export class MongoCollectionNotFoundError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'unknown-data-collection';
  constructor(readonly entry: string, searched: readonly string[]) {
    super(
      `data collection "${entry}" does not exist in database(s) ${searched.map((d) => `"${d}"`).join(', ')}; ` +
        'fix or remove it from the data collection list',
    );
  }
}

/** A collection this package cannot dump or load faithfully (documents of a view, odd file names...). */
export class MongoUnsupportedError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'unsupported';
}

/** The output directory already holds a dump of this database; we never overwrite a published dump. */
export class MongoOutputExistsError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'output-exists';
  constructor(readonly path: string) {
    super(`${path} already exists; dump into an empty directory`);
  }
}

/** The target database of a load holds collections and `replace` was not given. */
export class MongoTargetNotEmptyError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'target-not-empty';
  constructor(readonly database: string, readonly collections: readonly string[]) {
    const count = `${collections.length} ${collections.length === 1 ? 'collection' : 'collections'}`;
    const shown = collections.slice(0, 5).join(', ') + (collections.length > 5 ? ', ...' : '');
    super(`MongoDB database "${database}" is not empty (${count}: ${shown}); load into an empty database or replace it`);
  }
}

/** The dump directory is missing a file, or a file does not parse; found before anything is loaded. */
export class MongoDumpDirectoryError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'dump-directory';
  constructor(readonly path: string, problem: string) {
    super(`dump directory problem at ${path}: ${problem}; use a complete dump written by devstack-dumps or mongodump`);
  }
}

/**
 * A document of a dump that is valid BSON but would not be loaded byte for byte (a date outside the JS
 * range, BSON undefined, a DBPointer, duplicate field names, unsorted regex flags, invalid UTF-8...):
 * the load decodes and re-encodes documents, and refuses rather than change one silently.
 */
export class MongoInexactDocumentError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'inexact-document';
  constructor(
    readonly path: string,
    /** `db.collection` as dumped. */
    readonly collection: string,
    /** 1-based position in the file. */
    readonly position: number,
    /** The `_id` as relaxed Extended JSON, when it has a readable one. */
    readonly id: string | undefined,
    readonly problem: string,
  ) {
    const which = id === undefined ? `document ${position} (no readable _id)` : `document ${position} (_id ${id})`;
    super(
      `${which} of collection "${collection}" in ${path} cannot be loaded without changing it: ${problem}; ` +
        'fix that document in the source database and dump again, or load this dump with mongorestore, which copies documents as they are',
    );
  }
}

/** The server refused to re-create an object of the dump (e.g. an option FerretDB does not implement). */
export class MongoLoadRejectedError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'load-rejected';
  constructor(readonly object: string, serverMessage: string) {
    super(`the server refused to create ${object}: ${serverMessage}`);
  }
}

/**
 * The server answered the connection check with an error none of the other classes covers (e.g. one
 * that persisted through the wait while it started). Names host:port and the server's message.
 */
export class MongoConnectFailedError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'connect-failed';
  constructor(readonly hosts: string, serverMessage: string) {
    super(`cannot connect to MongoDB at ${hosts}: ${serverMessage}; check the server and its log`);
  }
}

/**
 * The server answered the handshake (a MongoDB hello reply came back), but the driver would not use it:
 * usually the URL's `replicaSet` names a set the server is not a member of (or it is standalone). Keeps
 * the code of MongoConnectFailedError, whose callers it concerns; says what to change instead of
 * calling a running server unreachable.
 */
export class MongoNotSelectableError extends MongoConnectFailedError {
  constructor(hosts: string, readonly problem: string, advice: string) {
    super(hosts, problem);
    this.message = `MongoDB at ${hosts} answered, but ${problem}; ${advice}`;
  }
}

/**
 * A database to dump has no collections (system ones are not dumped): its dump would hold no file (so no
 * checksum, no publish, no load), and MongoDB creates a database with its first collection: refused.
 */
export class MongoEmptyDatabaseError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'empty-database';
  constructor(readonly database: string) {
    super(
      `MongoDB database "${database}" has no collection to dump (system.* collections are never dumped): its dump would hold no file, ` +
        'and a load could not re-create it (MongoDB creates a database with its first collection); leave it out of the database list, or create its collections first',
    );
  }
}

/**
 * The TLS the URL asks for (`tls=true`, `tlsCAFile`, ...) could not be set up: the server's certificate is
 * not trusted or not issued for the host, or a file the URL names cannot be read. Not retried: waiting
 * does not change a certificate.
 */
export class MongoTlsError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'tls-failed';
  constructor(readonly hosts: string, problem: string) {
    super(`TLS to MongoDB at ${hosts}: ${problem}`);
  }
}

/**
 * A load or drop targets one of the server's own databases. Refused before connecting: admin holds the
 * users and roles, local the replication state, config the sharding metadata.
 */
export class MongoSystemDatabaseError extends MongoDumpError {
  readonly severity = 'fatal';
  readonly code = 'system-database';
  constructor(readonly database: string) {
    super(`"${database}" is a MongoDB system database; refusing to drop or load into it — give the service's own database name`);
  }
}
