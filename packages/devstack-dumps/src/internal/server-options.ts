import { InvalidArgumentError, Option, type Command } from 'commander';
import { maskSecrets, type LoadTargets } from '@org/dump-set';
import { isMongoSystemDatabase } from '@org/mongo-dump';
import { InvalidMysqlUrlError, isMysqlSystemDatabase, parseMysqlUrl } from '@org/mysql-dump';
import { dumpedDatabases } from './dumped-databases.js';
import { UsageError } from './usage.js';

/** --mysql/--mongo/--wait as commander hands them over. */
export interface ServerFlags {
  mysql?: string;
  mongo?: string;
  wait: number;
}

/** The flags of the commands that load (load, provision). */
export interface LoadFlags extends ServerFlags {
  mysqlDb?: string;
  mongoDb?: string;
  replace: boolean;
}

/** Upper bound of --wait, the same as the dumpers' own. */
export const MAX_WAIT_SECONDS = 600;

/** `a,b` (repeatable): trimmed, de-duplicated names in the order given; empty entries are a usage error. */
export function nameList(flag: string) {
  return (value: string, previous: string[] | undefined): string[] => {
    const names = value.split(',').map((name) => name.trim());
    if (names.some((name) => name === '')) throw new InvalidArgumentError(`${flag} takes comma-separated names without empty entries (got ${JSON.stringify(value)})`);
    return [...new Set([...(previous ?? []), ...names])];
  };
}

/**
 * What each server accepts as a database name, checked up front so a typo gets a usage error naming the
 * flag instead of a driver message: MongoDB refuses `/\\. "$*<>:|?` and names over 63 bytes; MySQL takes
 * up to 64 characters and no trailing space.
 */
export function databaseNameProblem(engine: 'mysql' | 'mongo', name: string): string | undefined {
  if (engine === 'mongo') {
    const bad = /[/\\. "$*<>:|?\0]/.exec(name);
    if (bad) return `MongoDB database names cannot contain ${JSON.stringify(bad[0])}`;
    if (Buffer.byteLength(name) > 63) return 'MongoDB database names are at most 63 bytes';
    return undefined;
  }
  if (name.length > 64) return 'MySQL database names are at most 64 characters';
  if (/\s$/.test(name)) return 'MySQL database names cannot end with a space';
  if (name.includes('\0')) return 'MySQL database names cannot contain NUL';
  return undefined;
}

/** Commander parser for --mysql-db / --mongo-db: comma-separated database names the server accepts. */
export function databaseList(flag: '--mysql-db' | '--mongo-db', engine: 'mysql' | 'mongo') {
  const names = nameList(flag);
  return (value: string, previous: string[] | undefined): string[] => {
    const list = names(value, previous);
    for (const name of list) {
      const problem = databaseNameProblem(engine, name);
      if (problem) throw new InvalidArgumentError(`${flag} ${JSON.stringify(name)}: ${problem}`);
    }
    return list;
  };
}

/** Commander parser for the one database name of load/provision --mysql-db / --mongo-db. */
export function databaseName(flag: '--mysql-db' | '--mongo-db', engine: 'mysql' | 'mongo') {
  return (value: string): string => {
    const problem = value.trim() === '' ? 'give a database name' : databaseNameProblem(engine, value);
    if (problem) throw new InvalidArgumentError(`${flag} ${JSON.stringify(value)}: ${problem}`);
    return value;
  };
}

export function waitSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_WAIT_SECONDS) {
    throw new InvalidArgumentError(`--wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS} (got ${JSON.stringify(value)})`);
  }
  return seconds;
}

const MYSQL_SCHEMES = new Set(['mysql:', 'mariadb:']);
const MONGO_SCHEMES = new Set(['mongodb:', 'mongodb+srv:']);

/** Commander parser for --mysql / --mongo: the scheme must fit; the password never appears in the error. */
export function serverUrl(flag: '--mysql' | '--mongo') {
  const schemes = flag === '--mysql' ? MYSQL_SCHEMES : MONGO_SCHEMES;
  return (value: string): string => {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(value)?.[0].toLowerCase();
    if (scheme === undefined || !schemes.has(scheme)) {
      const expected = flag === '--mysql' ? 'a mysql:// or mariadb:// URL' : 'a mongodb:// or mongodb+srv:// URL';
      throw new InvalidArgumentError(`${flag} must be ${expected} (got ${maskSecrets(value)})`);
    }
    // An `@` after the first `/`, `?` or `#` means the user info holds one of them unescaped: the URL
    // would be read with part of the password as host or database (and printed as such).
    const authorityEnd = value.slice(scheme.length + 2).search(/[/?#]/);
    if (authorityEnd >= 0 && value.slice(scheme.length + 2 + authorityEnd).includes('@')) {
      throw new InvalidArgumentError(`${flag}: the user name or password holds an unescaped "/", "?" or "#"; percent-encode them (%2F, %3F, %23) and "@" (%40)`);
    }
    // Its options (ssl-mode, ssl-ca) as the loader and dumper read them, so a bad one is a usage error now.
    if (flag === '--mysql') {
      try {
        parseMysqlUrl(value);
      } catch (error) {
        if (error instanceof InvalidMysqlUrlError) throw new InvalidArgumentError(`${flag}: ${error.message}`);
        throw error;
      }
    }
    return value;
  };
}

/** --mysql/--mongo options, shared by dump, load, provision and status. */
export function addServerOptions(command: Command): Command {
  return command
    // From the environment too: a password on the command line shows in `ps` and the shell history.
    .addOption(new Option('--mysql <url>', 'MySQL/MariaDB server, mysql://user:password@host:port[?ssl-mode=VERIFY_IDENTITY&ssl-ca=ca.pem]').env('DEVSTACK_DUMPS_MYSQL').argParser(serverUrl('--mysql')))
    .addOption(new Option('--mongo <url>', 'MongoDB/FerretDB server, mongodb://[user:password@]host:port[/?tls=true&tlsCAFile=ca.pem]').env('DEVSTACK_DUMPS_MONGO').argParser(serverUrl('--mongo')))
    .option('--wait <seconds>', `retry for up to this many seconds while a server starts (max ${MAX_WAIT_SECONDS})`, waitSeconds, 0);
}

/** The database named in a URL's path (`mysql://h:1/shop` -> shop), if any. */
export function databaseInUrl(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*\/([^?]+)/i.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

/** The databases to dump: the flag's list, else the database in the URL path; otherwise a usage error naming the flag. */
export function databasesToDump(flag: '--mysql-db' | '--mongo-db', url: string, listed: string[] | undefined): string[] {
  if (listed && listed.length > 0) return listed;
  const fromUrl = databaseInUrl(url);
  if (fromUrl !== undefined) return [fromUrl];
  throw new UsageError(`${flag} is missing: name the database(s) to dump (e.g. ${flag} lms), or put one in the URL path`);
}

/**
 * `--mysql-db`/`--mongo-db` of load/provision: loads the only database of a one-database dump under
 * another name. Returns the rename map loadSet takes.
 */
export function renameOnly(flag: '--mysql-db' | '--mongo-db', dumped: ReadonlyArray<string>, name: string | undefined): Record<string, string> | undefined {
  if (name === undefined) return undefined;
  if (dumped.length !== 1) {
    const has = dumped.length === 0 ? 'none' : dumped.join(', ');
    throw new UsageError(`${flag} loads the only database of a one-database dump under another name, but this dump has ${dumped.length === 0 ? 'no such database' : `${dumped.length} (${has})`}; drop ${flag}`);
  }
  return { [dumped[0]!]: name };
}

/** Any server given? Otherwise a usage error. */
export function requireServer(flags: { mysql?: string; mongo?: string }, command: string): void {
  if (flags.mysql === undefined && flags.mongo === undefined) throw new UsageError(`${command} needs --mysql and/or --mongo (or DEVSTACK_DUMPS_MYSQL / DEVSTACK_DUMPS_MONGO)`);
}

/**
 * The database a load's server URL names in its path, which `dump` reads from too: a load must not
 * ignore it (with --replace it would drop the dump's own database instead). A system database there
 * (`.../mysql`, `.../admin`, common in admin URLs) names the server only.
 */
export function loadTargetInUrl(flag: '--mysql' | '--mongo', url: string | undefined): string | undefined {
  const named = url === undefined ? undefined : databaseInUrl(url);
  if (named === undefined) return undefined;
  return (flag === '--mysql' ? isMysqlSystemDatabase(named) : isMongoSystemDatabase(named)) ? undefined : named;
}

/**
 * The rename of a load: --mysql-db/--mongo-db, or the database the server URL names (the same thing said
 * in the URL). Both, naming different databases, is a usage error; so is a URL database for a dump of several.
 */
export function loadRename(flag: '--mysql-db' | '--mongo-db', dumped: ReadonlyArray<string>, named: string | undefined, url: string | undefined): Record<string, string> | undefined {
  const server = flag === '--mysql-db' ? '--mysql' : '--mongo';
  const inUrl = loadTargetInUrl(server, url);
  if (inUrl === undefined) return renameOnly(flag, dumped, named);
  // The dump has nothing of this engine: nothing to rename (the engine is skipped or refused elsewhere).
  if (dumped.length === 0 && named === undefined) return undefined;
  if (named !== undefined && named !== inUrl) {
    throw new UsageError(`${server} names the database \`${inUrl}\` in its path and ${flag} names \`${named}\`; give the target database once`);
  }
  if (dumped.length > 1) {
    throw new UsageError(
      `${server} names the database \`${inUrl}\` in its path, but this dump has ${dumped.length} databases (${dumped.join(', ')}), each loaded under its own name; drop the database from the URL`,
    );
  }
  return renameOnly(flag, dumped, inUrl);
}

/** loadSet targets for a dump set directory: the given servers, with --mysql-db/--mongo-db (or the URL's database) as renames. */
export async function loadTargetsFor(dir: string, flags: Omit<LoadFlags, 'wait' | 'replace'>): Promise<LoadTargets> {
  const dumped = await dumpedDatabases(dir);
  const mysqlRename = loadRename('--mysql-db', dumped.mysql, flags.mysqlDb, flags.mysql);
  const mongoRename = loadRename('--mongo-db', dumped.mongo, flags.mongoDb, flags.mongo);
  return {
    ...(flags.mysql !== undefined ? { mysql: { url: flags.mysql, ...(mysqlRename ? { rename: mysqlRename } : {}) } } : {}),
    ...(flags.mongo !== undefined ? { mongo: { url: flags.mongo, ...(mongoRename ? { rename: mongoRename } : {}) } } : {}),
  };
}
