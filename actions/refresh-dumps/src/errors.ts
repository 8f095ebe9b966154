import { ActionError } from '@org/action-inputs';
import { DumpSetServerError, ServersFailedError } from '@org/dump-set';
import { MongoCollectionNotFoundError, MongoDatabaseNotFoundError, MongoDumpError, MongoEmptyDatabaseError, MongoUnreachableError } from '@org/mongo-dump';
import {
  MysqlDumpError,
  OversizedRowError,
  ServerUnreachableError,
  SystemDatabaseError,
  UnknownDataTableError,
  UnknownVolatileColumnError,
  UnknownDatabaseError,
  UnsafeDatabaseNameError,
} from '@org/mysql-dump';

/**
 * A step of the refresh failed (waiting for a server, loading the ancestor, a migrate command, the
 * dump, the publish). Always fatal: nothing after it runs, so nothing is published. The message names
 * the step and, when one input is the likely cause, that input.
 */
export class StepError extends ActionError {
  constructor(
    readonly step: string,
    readonly problem: string,
    readonly input?: string | string[],
  ) {
    const inputs = input === undefined ? [] : [input].flat();
    const check = inputs.length === 0 ? '' : ` (check input${inputs.length > 1 ? 's' : ''} ${inputs.map((name) => `\`${name}\``).join(' and ')})`;
    super(`${step} failed${check}: ${problem}`, true);
  }
}

/**
 * A migrate command that failed on a loaded ancestor dump: most often the migration tool ran again what the
 * dump records as applied, because its bookkeeping rows are not in the dump. Says so, and how to fix it.
 */
export function incrementalMigrateFailure(error: unknown, ancestorCommit: string): unknown {
  if (!(error instanceof StepError) || error.input !== 'migrate') return error;
  const where = `It ran on the loaded dump of ${ancestorCommit.slice(0, 12)} (incremental mode)`;
  // Only output that reads as a migration run again is explained as one (a failing migration is just that).
  const rerun = /already exists|\bduplicate (?:entry|key|column)/i.test(error.problem)
    ? `; it looks like a migration that dump already holds ran again, which means the dump lacks the rows of the migration tool's ` +
      `bookkeeping table: known ones (django_migrations, alembic_version, knex_migrations, flyway_schema_history, ...) are kept by name and ` +
      `columns; list another one in \`data-tables\` and its time columns in \`volatile-columns\` (MongoDB: \`data-collections\`)`
    : '';
  return new StepError(error.step, `${error.problem}\n${where}${rerun}. \`mode: full\` runs every migration on empty databases instead.`, error.input);
}

/** The message of anything thrown, without a trailing period so it can be embedded in a sentence. */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.\s*$/, '');
}

/**
 * Runs one step; anything it throws that is not already an action error becomes a StepError naming the
 * step (and the input to check), with every URL password masked.
 */
export async function inStep<T>(
  step: string,
  input: string | ((error: unknown) => string | string[] | undefined) | undefined,
  body: () => Promise<T>,
  mask: (text: string) => string = (text) => text,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ActionError) throw error;
    throw new StepError(step, mask(messageOf(error)), typeof input === 'function' ? input(error) : input);
  }
}

/**
 * A statement or command failed on a server that was reached (as opposed to not getting a working
 * connection at all: unreachable, refused credentials, a bad URL).
 */
export function isStatementError(error: unknown): boolean {
  return error instanceof DumpSetServerError && (error.code === 'mysql-failed' || error.code === 'mongo-failed');
}

/** A server did not answer within the wait (as opposed to answering with an error). */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof ServersFailedError) return isUnreachable(error.failures.mysql) || isUnreachable(error.failures.mongo);
  return error instanceof ServerUnreachableError || error instanceof MongoUnreachableError;
}

/** The input most likely behind a dumper's error: a data table or database list, else the server URL. */
export function databaseInputOf(error: unknown): string | string[] | undefined {
  if (error instanceof ServersFailedError) return ['mysql-url', 'mongo-url'];
  if (error instanceof UnknownVolatileColumnError) return 'volatile-columns';
  if (error instanceof UnknownDataTableError || error instanceof OversizedRowError) return 'data-tables';
  if (error instanceof MongoCollectionNotFoundError) return 'data-collections';
  if (error instanceof UnknownDatabaseError || error instanceof UnsafeDatabaseNameError || error instanceof SystemDatabaseError) return 'mysql-databases';
  // A database left without collections after migrate: most often a name the migrate command does not write to.
  if (error instanceof MongoDatabaseNotFoundError || error instanceof MongoEmptyDatabaseError) return 'mongo-databases';
  if (error instanceof MysqlDumpError) return 'mysql-url';
  if (error instanceof MongoDumpError) return 'mongo-url';
  return undefined;
}

/**
 * Awaits every promise (so nothing keeps running unobserved after a failure), then throws the first
 * rejection in list order, or returns all values.
 */
export async function settleAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
