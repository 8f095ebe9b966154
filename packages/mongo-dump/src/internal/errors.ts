/**
 * Every failure this package reports is one of these classes. `severity` is decided per class, not per
 * throw site. Every class here is 'fatal': a dump or load that cannot be exact must not produce output
 * (the type keeps room for warnings so callers already branch on it).
 */
export type MongoDumpSeverity = 'fatal' | 'warning';

export abstract class MongoDumpError extends Error {
  abstract readonly severity: MongoDumpSeverity;
  override name = this.constructor.name;
}

/** The URL does not parse as a MongoDB connection string. */
export class MongoUrlError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly maskedUrl: string, reason: string) {
    super(`invalid MongoDB URL ${maskedUrl}: ${reason}; expected mongodb://[user:password@]host:port`);
  }
}

/** No server answered at host:port within the selection timeout (and the bounded wait, if any). */
export class MongoUnreachableError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(
    readonly hosts: string,
    readonly waitedSeconds: number,
    reason: string,
  ) {
    const waited = waitedSeconds > 0 ? ` after waiting ${waitedSeconds} s` : '';
    super(
      `MongoDB server at ${hosts} is unreachable${waited} (${reason}); ` +
        'start it, check host and port, or pass a wait time while it starts',
    );
  }
}

/** The server rejected the credentials in the URL. */
export class MongoAuthFailedError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly hosts: string, user: string) {
    super(`MongoDB at ${hosts} rejected the credentials of user "${user}"; check the user and password in the URL`);
  }
}

/** The user may connect but lacks a privilege this run needs. */
export class MongoPrivilegeError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly action: string, readonly database: string, serverMessage: string) {
    super(`MongoDB refused "${action}" on database "${database}" (${serverMessage}); grant the user that privilege`);
  }
}

/** A database named in `databases` does not exist on the server. */
export class MongoDatabaseNotFoundError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly database: string, readonly hosts: string) {
    super(`database "${database}" does not exist on MongoDB ${hosts}; check the database list`);
  }
}

/** An entry of `dataCollections` names no collection of the dumped databases. */
export class MongoCollectionNotFoundError extends MongoDumpError {
  readonly severity = 'fatal';
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
}

/** The output directory already holds a dump of this database; we never overwrite a published dump. */
export class MongoOutputExistsError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly path: string) {
    super(`${path} already exists; dump into an empty directory`);
  }
}

/** The target database of a load holds collections and `replace` was not given. */
export class MongoTargetNotEmptyError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly database: string, collections: readonly string[]) {
    const shown = collections.slice(0, 5).join(', ') + (collections.length > 5 ? ', ...' : '');
    super(`target database "${database}" is not empty (${shown}); pass replace (--replace) to drop it first`);
  }
}

/** The dump directory is missing a file, or a file does not parse; found before anything is loaded. */
export class MongoDumpDirectoryError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly path: string, problem: string) {
    super(`dump directory problem at ${path}: ${problem}; use a complete dump written by devstack-dumps or mongodump`);
  }
}

/** The server refused to re-create an object of the dump (e.g. an option FerretDB does not implement). */
export class MongoLoadRejectedError extends MongoDumpError {
  readonly severity = 'fatal';
  constructor(readonly object: string, serverMessage: string) {
    super(`the server refused to create ${object}: ${serverMessage}`);
  }
}
