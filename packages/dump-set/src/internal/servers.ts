import type { MongoClient } from 'mongodb';
import type { Pool } from 'mysql2/promise';
import { MongoTargetNotEmptyError, connectMongo } from '@org/mongo-dump';
import { MysqlDumpError, TargetNotEmptyError, openMysqlSession, type MysqlSession } from '@org/mysql-dump';
import { escapeId } from 'sql-escaper';
import { DumpSetServerError, throwEngineFailures } from './errors.js';
import { maskSecretsOf, serverAddress } from './mask.js';
import { refuseSystemDatabases } from './system-databases.js';

// Same bound as the dumpers': a wait never exceeds 10 minutes.
const MAX_WAIT_SECONDS = 600;

const boundedWait = (seconds: number) => Math.min(Math.max(seconds, 0), MAX_WAIT_SECONDS);

/**
 * One MySQL connection through the dumper's session (the same connect timeout, bounded retries while the
 * server is unreachable, and typed errors: unreachable, access denied, bad URL); any other connect failure
 * becomes one DumpSetServerError naming the server, password masked.
 */
export async function connectMysql(url: string, waitSeconds = 0, signal?: AbortSignal): Promise<MysqlSession> {
  try {
    return await openMysqlSession({ url, connections: 1, wait: boundedWait(waitSeconds), signal });
  } catch (error) {
    if (error instanceof MysqlDumpError || (signal?.aborted && error === signal.reason)) throw error;
    throw new DumpSetServerError('mysql-connect', maskSecretsOf(`cannot connect to MySQL at ${serverAddress(url)}: ${(error as Error).message}`, [url]), { cause: error });
  }
}

/**
 * Waits (bounded, at most 600 s) until each given server answers; throws the dumpers' unreachable
 * error naming host:port (never the password) when one does not.
 */
export async function waitForServers(sources: { mysqlUrl?: string; mongoUrl?: string }, seconds: number, signal?: AbortSignal): Promise<void> {
  const [mysql, mongo] = await Promise.allSettled([
    sources.mysqlUrl === undefined ? undefined : connectMysql(sources.mysqlUrl, seconds, signal).then((session) => session.close()),
    sources.mongoUrl === undefined ? undefined : connectMongo(sources.mongoUrl, { waitSeconds: boundedWait(seconds), signal }).then((client) => client.close()),
  ]);
  // Aborted (Ctrl-C): that, not the servers' state, is what ended the wait.
  signal?.throwIfAborted();
  throwEngineFailures({ ...(mysql.status === 'rejected' ? { mysql } : {}), ...(mongo.status === 'rejected' ? { mongo } : {}) });
}

async function withMysql<T>(url: string, operation: string, body: (connection: Pool) => Promise<T>, waitSeconds = 0, signal?: AbortSignal): Promise<T> {
  const session = await connectMysql(url, waitSeconds, signal);
  try {
    return await failsAs('mysql-failed', `${operation} on MySQL`, url, () => body(session.pool));
  } finally {
    await session.close().catch(() => undefined);
  }
}

async function withMongo<T>(url: string, operation: string, body: (client: MongoClient) => Promise<T>, waitSeconds = 0, signal?: AbortSignal): Promise<T> {
  // The Mongo dumper's connect-and-ping: bounded wait, one error naming host:port when unreachable.
  const client = await connectMongo(url, { waitSeconds: boundedWait(waitSeconds), signal });
  try {
    return await failsAs('mongo-failed', `${operation} on MongoDB`, url, () => body(client));
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Drops and re-creates the databases (MySQL keeps the charset/collation it had), so a migrate starts
 * empty. A system database (mysql, admin...) is refused before connecting. Connects to every server
 * first (waiting, bounded, for servers still starting): an unreachable server or wrong credentials fail
 * with the dumpers' typed errors before anything is dropped anywhere.
 */
export async function emptyDatabases(
  targets: { mysql?: { url: string; databases: string[] }; mongo?: { url: string; databases: string[] } },
  options: { waitSeconds?: number } = {},
): Promise<void> {
  const { mysql, mongo } = targets;
  // Before connecting anywhere: nothing is dropped on either server when one list names a system database.
  refuseSystemDatabases('MySQL', mysql?.databases ?? []);
  refuseSystemDatabases('MongoDB', mongo?.databases ?? []);
  const wait = boundedWait(options.waitSeconds ?? 0);
  const [mysqlSession, mongoClient] = await Promise.allSettled([
    mysql ? connectMysql(mysql.url, wait) : undefined,
    mongo ? connectMongo(mongo.url, { waitSeconds: wait }) : undefined,
  ]);
  try {
    throwEngineFailures({ ...(mysqlSession.status === 'rejected' ? { mysql: mysqlSession } : {}), ...(mongoClient.status === 'rejected' ? { mongo: mongoClient } : {}) });
    const connection = (mysqlSession as PromiseFulfilledResult<MysqlSession | undefined>).value?.pool;
    const client = (mongoClient as PromiseFulfilledResult<MongoClient | undefined>).value;
    await Promise.all([
      mysql &&
        connection &&
        failsAs('mysql-failed', 'emptying databases on MySQL', mysql.url, async () => {
          for (const database of mysql.databases) {
            const [rows] = await connection.query('SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
            const existing = (rows as { charset: string; collation: string }[])[0];
            const charset = existing ? ` CHARACTER SET ${existing.charset} COLLATE ${existing.collation}` : '';
            await connection.query(`DROP DATABASE IF EXISTS ${escapeId(database, true)}`);
            await connection.query(`CREATE DATABASE ${escapeId(database, true)}${charset}`);
          }
        }),
      mongo &&
        client &&
        failsAs('mongo-failed', 'emptying databases on MongoDB', mongo.url, async () => {
          for (const database of mongo.databases) await client.db(database).dropDatabase();
        }),
    ]);
  } finally {
    if (mysqlSession.status === 'fulfilled') await mysqlSession.value?.close().catch(() => undefined);
    if (mongoClient.status === 'fulfilled') await mongoClient.value?.close().catch(() => undefined);
  }
}

/** Runs `body` on a connected server, turning its failure into one DumpSetServerError naming the server (password masked). */
async function failsAs<T>(code: 'mysql-failed' | 'mongo-failed', operation: string, url: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw new DumpSetServerError(code, maskSecretsOf(`${operation} ${serverAddress(url)} failed: ${(error as Error).message}`, [url]), { cause: error });
  }
}

/** Objects in each MySQL database (absent databases are left out). */
async function mysqlObjectCounts(url: string, databases: string[], waitSeconds: number, signal?: AbortSignal): Promise<Map<string, number>> {
  if (databases.length === 0) return new Map();
  return withMysql(
    url,
    'checking load targets',
    async (connection) => {
      const [rows] = await connection.query(
        `SELECT s.SCHEMA_NAME AS name,
                (SELECT COUNT(*) FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME)
              + (SELECT COUNT(*) FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = s.SCHEMA_NAME)
              + (SELECT COUNT(*) FROM information_schema.EVENTS e WHERE e.EVENT_SCHEMA = s.SCHEMA_NAME) AS objects
           FROM information_schema.SCHEMATA s WHERE s.SCHEMA_NAME IN (?)`,
        [databases],
      );
      return new Map((rows as { name: string; objects: number | string }[]).map((row) => [row.name, Number(row.objects)]));
    },
    waitSeconds,
    signal,
  );
}

/**
 * What a load must restore if it fails half-way, and what each target held before it: which MySQL targets
 * existed, the objects of each MySQL target (absent ones left out) and the collections of each Mongo one.
 */
export interface TargetState {
  mysqlExisting: Set<string>;
  mysqlObjects: Map<string, number>;
  mongoCollections: Map<string, number>;
}

/**
 * Checks every target of both engines before either load starts, so a non-empty Mongo target cannot
 * be found after the MySQL load already ran. Refuses non-empty targets unless `replace`.
 */
export async function checkLoadTargets(
  targets: { mysql?: { url: string; databases: string[] }; mongo?: { url: string; databases: string[] } },
  replace: boolean,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<TargetState> {
  const [mysqlChecked, mongoChecked] = await Promise.allSettled([
    targets.mysql ? mysqlObjectCounts(targets.mysql.url, targets.mysql.databases, waitSeconds, signal) : new Map<string, number>(),
    targets.mongo
      ? withMongo(
          targets.mongo.url,
          'checking load targets',
          async (client) => new Map(await Promise.all(targets.mongo!.databases.map(async (database) => [database, (await client.db(database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)] as const))),
          waitSeconds,
          signal,
        )
      : new Map<string, string[]>(),
  ]);
  signal?.throwIfAborted();
  throwEngineFailures({ ...(mysqlChecked.status === 'rejected' ? { mysql: mysqlChecked } : {}), ...(mongoChecked.status === 'rejected' ? { mongo: mongoChecked } : {}) });
  const mysqlCounts = (mysqlChecked as PromiseFulfilledResult<Map<string, number>>).value;
  const mongoCollections = (mongoChecked as PromiseFulfilledResult<Map<string, string[]>>).value;
  if (!replace) {
    for (const [database, objects] of mysqlCounts) if (objects > 0) throw new TargetNotEmptyError(database, objects);
    for (const [database, collections] of mongoCollections) if (collections.length > 0) throw new MongoTargetNotEmptyError(database, collections);
  }
  return {
    mysqlExisting: new Set(mysqlCounts.keys()),
    mysqlObjects: mysqlCounts,
    mongoCollections: new Map([...mongoCollections].map(([database, collections]) => [database, collections.length])),
  };
}

/**
 * Puts MySQL targets a failed load changed back to how it found them: absent, or empty if they existed
 * (a target replace dropped is left empty: its old content is gone).
 */
export async function rollbackMysql(url: string, databases: string[], state: Pick<TargetState, 'mysqlExisting'>): Promise<void> {
  refuseSystemDatabases('MySQL', databases);
  await withMysql(url, 'rolling back a failed load', async (connection) => {
    for (const database of databases) {
      await connection.query(`DROP DATABASE IF EXISTS ${escapeId(database, true)}`);
      if (state.mysqlExisting.has(database)) await connection.query(`CREATE DATABASE ${escapeId(database, true)}`);
    }
  });
}

/** Drops what a load created in Mongo targets it changed (each was empty or absent before, or dropped by replace). */
export async function rollbackMongo(url: string, databases: string[]): Promise<void> {
  refuseSystemDatabases('MongoDB', databases);
  await withMongo(url, 'rolling back a failed load', async (client) => {
    for (const database of databases) await client.db(database).dropDatabase();
  });
}
