import {
  InputError,
  type InputReader,
  actionsInputReader,
  readBoolean,
  readChoice,
  readLines,
  readList,
  readOptionalPositiveInt,
  readRequired,
  readString,
} from '@org/action-inputs';
import { InvalidInputError, checkBranchName } from '@org/dump-versioning';
import { isMongoSystemDatabase, mongoUrlDatabase } from '@org/mongo-dump';
import { InvalidMysqlUrlError, isMysqlSystemDatabase, parseMysqlUrl, parseVolatileColumns } from '@org/mysql-dump';

export const modes = ['auto', 'full', 'incremental'] as const;
export type Mode = (typeof modes)[number];

/** Every input of action.yml, read once, named exactly as there. */
export interface Inputs {
  service: string;
  migrate: string[];
  workingDirectory: string;
  mysqlUrl: string;
  mysqlDatabases: string[];
  /** Empty: the dumper's default, the Django reference tables that exist (a listed table must exist). */
  dataTables: string[];
  /** `table.column` -> fixed value (null: NULL), on top of the migration tools' bookkeeping tables' own. */
  volatileColumns: Record<string, string | null>;
  mongoUrl: string;
  mongoDatabases: string[];
  dataCollections: string[];
  store: string;
  s3Endpoint: string;
  awsRegion: string;
  branch: string;
  mode: Mode;
  migrationsGlob: string[];
  keep: number | undefined;
  waitTimeout: number;
  dryRun: boolean;
}

const serviceName = /^[a-z0-9][a-z0-9._-]*$/;

export function getInputs(read: InputReader = actionsInputReader): Inputs {
  const service = readRequired(read, 'service', 'set it to the service name, e.g. `lms`');
  if (!serviceName.test(service)) {
    throw new InputError('service', `"${service}" may only hold lower-case letters, digits, ".", "_" and "-"`);
  }
  const mysqlUrl = readString(read, 'mysql-url');
  const mongoUrl = readString(read, 'mongo-url');
  if (mysqlUrl === '' && mongoUrl === '') {
    throw new InputError('mysql-url', 'neither `mysql-url` nor `mongo-url` is set; give at least one database server');
  }
  checkUrl('mysql-url', mysqlUrl, ['mysql:', 'mariadb:']);
  checkMongoUrl(mongoUrl);
  const migrate = readLines(read, 'migrate');
  if (migrate.length === 0) {
    throw new InputError('migrate', 'is required; give the command that migrates, e.g. `python manage.py migrate --noinput`');
  }
  const waitTimeout = readOptionalPositiveInt(read, 'wait-timeout') ?? 60;
  // The dumpers cap every wait at 600 s: a larger value would be cut short without a word.
  if (waitTimeout > 600) throw new InputError('wait-timeout', `is ${waitTimeout}; give at most 600 seconds (a server that needs longer to start is better waited for in an earlier step)`);
  // An engine's options without its server: most likely an unset secret (which reads as empty), and that
  // engine would be left out of the dump set without a word.
  for (const [url, urlInput, options] of [
    [mysqlUrl, 'mysql-url', ['mysql-databases', 'data-tables', 'volatile-columns']],
    [mongoUrl, 'mongo-url', ['mongo-databases', 'data-collections']],
  ] as const) {
    const given = options.filter((name) => readString(read, name) !== '');
    if (url === '' && given.length > 0) {
      throw new InputError(urlInput, `is empty but ${given.map((name) => `\`${name}\``).join(' and ')} ${given.length > 1 ? 'are' : 'is'} set; give the server's URL (a secret that is not set reads as empty), or remove ${given.length > 1 ? 'them' : 'it'} if the service has no such database`);
    }
  }
  const migrationsGlob = readLines(read, 'migrations-glob');
  const mysqlDatabases = mysqlUrl === '' ? [] : mysqlDatabasesOf(mysqlUrl, readList(read, 'mysql-databases'), service);
  checkMysqlOptions(mysqlUrl);
  const mongoDatabases = mongoUrl === '' ? [] : mongoDatabasesOf(mongoUrl, readList(read, 'mongo-databases'), service);
  refuseSystemDatabases('mysql-databases', mysqlDatabases, isMysqlSystemDatabase, 'MySQL');
  refuseSystemDatabases('mongo-databases', mongoDatabases, isMongoSystemDatabase, 'MongoDB');
  return {
    service,
    migrate,
    workingDirectory: readString(read, 'working-directory') || '.',
    mysqlUrl,
    mysqlDatabases,
    dataTables: readList(read, 'data-tables'),
    volatileColumns: volatileColumnsOf(readList(read, 'volatile-columns')),
    mongoUrl,
    mongoDatabases,
    dataCollections: readList(read, 'data-collections'),
    store: readRequired(read, 'store', 'give `s3://bucket/prefix`, `file:///abs/dir` or a path'),
    s3Endpoint: readString(read, 's3-endpoint'),
    awsRegion: readString(read, 'aws-region'),
    branch: branchInput(readString(read, 'branch')),
    mode: readChoice(read, 'mode', modes, 'auto'),
    migrationsGlob: migrationsGlob.length > 0 ? migrationsGlob : ['**/migrations/[0-9]*.py'],
    keep: readOptionalPositiveInt(read, 'keep'),
    waitTimeout,
    dryRun: readBoolean(read, 'dry-run', false),
  };
}

function volatileColumnsOf(entries: string[]): Record<string, string | null> {
  try {
    return parseVolatileColumns(entries);
  } catch (error) {
    throw new InputError('volatile-columns', (error as Error).message);
  }
}

/**
 * The MySQL databases: `mysql-databases`, else the database `mysql-url` names (a service's usual
 * DATABASE_URL), else one named after the service.
 */
function mysqlDatabasesOf(url: string, listed: string[], service: string): string[] {
  const path = new URL(url).pathname.replace(/^\/+|\/+$/g, '');
  let named: string | undefined;
  try {
    named = path === '' ? undefined : decodeURIComponent(path);
  } catch {
    throw new InputError('mysql-url', `has a database path that is not valid percent-encoding (\`/${path}\`); give the server only, and the databases in \`mysql-databases\``);
  }
  return databasesOf('mysql-url', 'mysql-databases', named, listed, service, isMysqlSystemDatabase);
}

/**
 * The MongoDB databases, by the same rule as MySQL's: the URL's path database is where an app writing
 * through `get_default_database()` puts its collections, so it is the one to empty, migrate and dump.
 */
function mongoDatabasesOf(url: string, listed: string[], service: string): string[] {
  let named: string | undefined;
  try {
    named = mongoUrlDatabase(url);
  } catch {
    throw new InputError('mongo-url', 'has a database path that is not valid percent-encoding; give the server only, and the databases in `mongo-databases`');
  }
  return databasesOf('mongo-url', 'mongo-databases', named, listed, service, isMongoSystemDatabase);
}

/**
 * The list input, else the database the URL names, else one named after the service. A URL naming a
 * database the list leaves out is refused rather than silently ignored (the migrate command would write
 * there, and the action would dump another); a URL naming a system database (`.../mysql`, `.../admin`, a
 * common admin URL) is read as the server only.
 */
function databasesOf(urlInput: string, listInput: string, named: string | undefined, listed: string[], service: string, isSystem: (name: string) => boolean): string[] {
  if (named === undefined || isSystem(named)) return orDefault(listed, [service]);
  if (listed.length === 0) return [named];
  if (!listed.includes(named)) {
    throw new InputError(urlInput, `names the database \`${named}\`, but \`${listInput}\` lists ${listed.map((name) => `\`${name}\``).join(', ')}; remove the path from the URL or list that database`);
  }
  return listed;
}

/** Every run drops and re-creates its databases: a server's own databases must never be among them. */
function refuseSystemDatabases(input: string, databases: string[], isSystem: (name: string) => boolean, engine: string): void {
  const system = databases.find(isSystem);
  if (system === undefined) return;
  throw new InputError(
    input,
    `\`${system}\` is a ${engine} system database, and the action drops and re-creates the databases it migrates; ` +
      `list the service's own database(s) in \`${input}\` (without it, the one named after \`service\` is used)`,
  );
}

/** The `branch` input: empty (the default branch) or a branch's short name as git allows it. */
function branchInput(value: string): string {
  if (value === '') return value;
  try {
    return checkBranchName(value);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InputError('branch', error.message);
    throw error;
  }
}

function orDefault(values: string[], fallback: string[]): string[] {
  return values.length > 0 ? values : fallback;
}

/** The URL's options (`ssl-mode`, `ssl-ca`) as the dumper reads them: a bad one fails here, before any work. */
function checkMysqlOptions(url: string): void {
  if (url === '') return;
  try {
    parseMysqlUrl(url);
  } catch (error) {
    if (error instanceof InvalidMysqlUrlError) throw new InputError('mysql-url', error.message);
    throw error;
  }
}

/** mongodb:// or mongodb+srv://, with one host or several (a replica set), which WHATWG URL cannot parse. */
function checkMongoUrl(value: string): void {
  if (value === '') return;
  if (!/^mongodb(\+srv)?:\/\/[^/?#]+/i.test(value)) {
    throw new InputError('mongo-url', 'is not a MongoDB URL; expected mongodb://[user:password@]host:port[,host:port...][/database][?options] or mongodb+srv://');
  }
}

function checkUrl(input: string, value: string, protocols: string[]): void {
  if (value === '') return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(input, `is not a URL; expected ${protocols[0]}//user:password@host:port`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new InputError(input, `expected a ${protocols.join(' or ')} URL, got "${url.protocol}"`);
  }
}
