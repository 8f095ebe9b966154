import path from 'node:path';
import { loadMysql } from '@org/mysql-dump';
import { connectMongo, loadMongo } from '@org/mongo-dump';
import { DumpSetInputError, isConnectionFailure, throwEngineFailures } from './errors.js';
import { checksumsPathOf, verifyDumpSet } from './layout.js';
import { progressReporter } from './progress.js';
import { refuseSystemDatabases } from './system-databases.js';
import { lockMysqlTargets } from './load-lock.js';
import { lockMongoTargets } from './mongo-load-lock.js';
import { checkLoadTargets, rollbackMongo, rollbackMysql, type TargetState } from './servers.js';

export interface LoadTargets {
  /** `rename` maps dumped database names to target names; unlisted databases keep their name. */
  mysql?: { url: string; rename?: Record<string, string> };
  mongo?: { url: string; rename?: Record<string, string> };
}

export interface LoadSetOptions {
  /** Drop non-empty target databases first instead of refusing them. */
  replace?: boolean;
  waitSeconds?: number;
  onProgress?: (message: string) => void;
  /**
   * Load only the engines a target is given for and report the others as skipped (e.g. a developer who
   * only runs MySQL). By default a dump set engine without a target is refused.
   */
  skipEnginesWithoutTarget?: boolean;
  /** Seconds to wait for another load into the same MySQL or MongoDB database to finish (default 600). */
  lockWaitSeconds?: number;
  /**
   * Whether MongoDB targets are locked as MySQL ones are (default true). A caller that owns its databases for
   * longer than the load (refresh-dumps, from emptying to dump) gains nothing from it: the MongoDB lock is
   * a few writes (~50 ms on FerretDB), where MySQL's named lock is one query.
   */
  lockMongo?: boolean;
  /**
   * Aborting (e.g. on Ctrl-C) stops both loads and undoes what they loaded; the load rejects with the
   * signal's reason, which `targetsLeftBy` tells what each target was left holding (with replace, a target
   * already dropped stays dropped: its old content is not brought back).
   */
  signal?: AbortSignal;
}

/** What a failed or interrupted load left in one of its target databases. */
export interface TargetLeft {
  engine: 'mysql' | 'mongo';
  database: string;
  /**
   * - `unchanged`: the load never changed it; it holds what it held before (absent, empty, or its old content).
   * - `restored`: it was absent or empty; what the load created in it was removed again.
   * - `emptied`: it held objects, which replace dropped; left empty (MySQL: an empty database; MongoDB: no collections).
   * - `unknown`: undoing the load failed (the server went away?); it may hold part of the load, and with
   *   replace its old content may be gone.
   * - `drop-failed`: replace's drop of it failed; nothing was loaded into it, part of its old content may be gone.
   */
  state: 'unchanged' | 'restored' | 'emptied' | 'unknown' | 'drop-failed';
  /** What it held before the load: MySQL tables, views, routines and events; MongoDB collections and views. */
  objectsBefore: number;
}

const TARGETS_LEFT = Symbol.for('@org/dump-set.targets-left');

/**
 * What each target database was left in by the load that rejected with `error`, when that load got as far
 * as loading; undefined for any other error (a load that failed before loading changed no target).
 */
export function targetsLeftBy(error: unknown): TargetLeft[] | undefined {
  return typeof error === 'object' && error !== null ? (error as { [TARGETS_LEFT]?: TargetLeft[] })[TARGETS_LEFT] : undefined;
}

function tellTargetsLeft(error: unknown, targets: TargetLeft[]): void {
  if (typeof error !== 'object' || error === null) return;
  try {
    Object.defineProperty(error, TARGETS_LEFT, { value: targets, configurable: true });
  } catch {
    // A frozen error (none of ours) goes without the list.
  }
}

export interface LoadSetResult {
  mysqlDatabases: string[];
  mongoDatabases: string[];
  /** The servers loaded into, shaped like a manifest's `engines` (to compare with the servers that wrote the dump). */
  engines: { mysql?: { flavor: string; version: string }; mongo?: { flavor: string; version: string } };
  /** Databases of the dump set left out because their engine had no target (with skipEnginesWithoutTarget). */
  skipped: { mysql: string[]; mongo: string[] };
  durationMs: number;
}

/** Target database names for the dumped ones; every rename must name a dumped database, and none may be a system database. */
export function planTargets(engine: 'MySQL' | 'MongoDB', dumped: ReadonlyArray<string>, rename: Readonly<Record<string, string>> = {}): string[] {
  for (const source of Object.keys(rename)) {
    if (!dumped.includes(source)) {
      throw new DumpSetInputError('rename-unknown-database', `cannot rename ${engine} database ${source}: the dump set has ${dumped.length > 0 ? dumped.join(', ') : 'no such databases'}`);
    }
  }
  const targets = dumped.map((database) => rename[database] ?? database);
  const duplicate = targets.find((name, index) => targets.indexOf(name) !== index);
  if (duplicate !== undefined) throw new DumpSetInputError('rename-collision', `two ${engine} databases of the dump would be loaded into ${duplicate}; give each its own name`);
  refuseSystemDatabases(engine, targets);
  return targets;
}

/**
 * Loads a dump set: verifies every file first (checksum list beside the directory when present, then
 * layout and the dumpers' checks), checks every target of both engines, then loads MySQL and Mongo
 * concurrently. If one engine fails, what either loaded is dropped again, so a failed load leaves the
 * targets as it found them (absent or empty), except that a target replace had already dropped is left
 * empty. The rejection's error tells which target was left how (see targetsLeftBy).
 */
export async function loadSet(dir: string, targets: LoadTargets, options: LoadSetOptions = {}): Promise<LoadSetResult> {
  const started = performance.now();
  const verified = await verifyDumpSet(dir);
  options.onProgress?.(
    verified.verifiedBy === 'checksums'
      ? `verified ${verified.files.length} files (sha256 of every file)`
      : // A directory copied without its sibling list (cp -r, tar, scp) can only be checked for shape.
        `verified ${verified.files.length} files (layout and contents only: no ${path.basename(checksumsPathOf(dir))} beside the directory, which dump and pull write, so a changed file cannot be told)`,
  );
  const mysqlDumped = [...verified.mysql.keys()];
  const mongoDumped = [...verified.mongo.keys()];
  const skipping = options.skipEnginesWithoutTarget ?? false;
  if (!skipping && mysqlDumped.length > 0 && !targets.mysql) throw new DumpSetInputError('no-mysql-target', `the dump set holds MySQL database(s) ${mysqlDumped.join(', ')}; give a MySQL server to load them into`);
  if (!skipping && mongoDumped.length > 0 && !targets.mongo) throw new DumpSetInputError('no-mongo-target', `the dump set holds MongoDB database(s) ${mongoDumped.join(', ')}; give a MongoDB server to load them into`);
  const skipped = { mysql: targets.mysql ? [] : mysqlDumped, mongo: targets.mongo ? [] : mongoDumped };
  const mysql = targets.mysql && mysqlDumped.length > 0 ? { url: targets.mysql.url, rename: targets.mysql.rename ?? {}, databases: planTargets('MySQL', mysqlDumped, targets.mysql.rename) } : undefined;
  const mongo = targets.mongo && mongoDumped.length > 0 ? { url: targets.mongo.url, rename: targets.mongo.rename ?? {}, databases: planTargets('MongoDB', mongoDumped, targets.mongo.rename) } : undefined;
  if (!mysql && !mongo) {
    const held = [mysqlDumped.length > 0 ? `MySQL database(s) ${mysqlDumped.join(', ')}` : '', mongoDumped.length > 0 ? `MongoDB database(s) ${mongoDumped.join(', ')}` : ''].filter(Boolean);
    throw new DumpSetInputError('nothing-to-load', `the dump set holds ${held.join(' and ')}, and no server was given for ${held.length > 1 ? 'either engine' : 'that engine'}`);
  }

  const wait = options.waitSeconds ?? 0;
  const replace = options.replace ?? false;
  const lockOptions = { waitSeconds: wait, lockWaitSeconds: options.lockWaitSeconds ?? 600, onWaiting: options.onProgress, ...(options.signal ? { signal: options.signal } : {}) };
  // One load at a time per target database, checked and loaded under the locks (see load-lock.ts and
  // mongo-load-lock.ts). MySQL's are taken first, then Mongo's: every load takes its locks in that one
  // order, so a MySQL+Mongo load and a Mongo-only load of the same Mongo database cannot deadlock.
  const unlockMysql = mysql
    ? await lockMysqlTargets(mysql.url, mysql.databases, lockOptions).catch(async (error: unknown) => {
        // The lock is a load's first connection: when MySQL cannot be reached, MongoDB's state is told too.
        if (mongo && isConnectionFailure(error)) {
          const mongoFailure = await connectMongo(mongo.url).then(
            (client) => client.close().then(() => undefined),
            (reason: unknown) => reason,
          );
          if (mongoFailure !== undefined) throwEngineFailures({ mysql: { reason: error }, mongo: { reason: mongoFailure } });
        }
        throw error;
      })
    : undefined;
  let unlockMongo: (() => Promise<void>) | undefined;
  try {
    unlockMongo = mongo && options.lockMongo !== false ? await lockMongoTargets(mongo.url, mongo.databases, lockOptions) : undefined;
    return await checkAndLoad(dir, mysql, mongo, skipped, { replace, wait, onProgress: options.onProgress, signal: options.signal }, started);
  } finally {
    await unlockMongo?.();
    await unlockMysql?.();
  }
}

type Target = { url: string; rename: Record<string, string>; databases: string[] };

async function checkAndLoad(
  dir: string,
  mysql: Target | undefined,
  mongo: Target | undefined,
  skipped: LoadSetResult['skipped'],
  options: { replace: boolean; wait: number; onProgress: ((message: string) => void) | undefined; signal: AbortSignal | undefined },
  started: number,
): Promise<LoadSetResult> {
  const { replace, wait } = options;
  const state = await checkLoadTargets({ ...(mysql ? { mysql } : {}), ...(mongo ? { mongo } : {}) }, replace, wait, options.signal);
  const report = progressReporter(options.onProgress);
  // The targets each loader started loading into (after replace dropped them): the others kept what they held,
  // except those whose drop for replace failed (`dropping` only), which may be partly dropped.
  const changed = { mysql: new Set<string>(), mongo: new Set<string>() };
  const dropping = { mysql: new Set<string>(), mongo: new Set<string>() };
  const onTarget = (engine: 'mysql' | 'mongo') => (database: string, step: 'drop' | 'load') => (step === 'drop' ? dropping : changed)[engine].add(database);
  const [mysqlLoad, mongoLoad] = await Promise.allSettled([
    mysql &&
      loadMysql({
        url: mysql.url,
        dir,
        databaseRename: mysql.rename,
        replace,
        wait,
        ...(options.signal ? { signal: options.signal } : {}),
        onTarget: onTarget('mysql'),
        onProgress: (p) =>
          report(`mysql:${p.database}`, p.bytesDone, p.bytesTotal, () => `mysql ${p.database}: ${p.bytesTotal > 0 ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100}% loaded (${p.statements} statements)`),
      }),
    mongo &&
      loadMongo({
        url: mongo.url,
        dir,
        databaseRename: mongo.rename,
        replace,
        waitSeconds: wait,
        ...(options.signal ? { signal: options.signal } : {}),
        onTarget: onTarget('mongo'),
        onProgress: (p) => report(`mongo:${p.database}:${p.phase}`, p.done, p.total, () => `mongo ${p.database}: ${p.phase} ${p.done}/${p.total}`),
      }),
  ]);
  if (mysqlLoad.status === 'rejected' || mongoLoad.status === 'rejected') {
    const reason: unknown = mysqlLoad.status === 'rejected' ? mysqlLoad.reason : (mongoLoad as PromiseRejectedResult).reason;
    tellTargetsLeft(reason, await undoLoad(mysql, mongo, state, {
      // A loader that succeeded changed every target; one that failed undid only part of it (MySQL: the
      // database it was loading, not those it had loaded before), so every target it changed is undone here.
      mysql: mysqlLoad.status === 'fulfilled' ? new Set(mysql?.databases) : changed.mysql,
      mongo: mongoLoad.status === 'fulfilled' ? new Set(mongo?.databases) : changed.mongo,
    }, dropping));
    throw reason;
  }
  const mysqlEngine = mysqlLoad.value?.engine;
  const mongoEngine = mongoLoad.value?.engine;
  return {
    mysqlDatabases: mysql?.databases ?? [],
    mongoDatabases: mongo?.databases ?? [],
    engines: {
      ...(mysqlEngine ? { mysql: { flavor: mysqlEngine.flavor, version: mysqlEngine.version } } : {}),
      ...(mongoEngine ? { mongo: { flavor: mongoEngine.flavor, version: mongoEngine.version } } : {}),
    },
    skipped,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Puts back every target a failed load changed (absent, or empty if it existed; one replace dropped stays
 * dropped) and says what each target was left in. Targets neither loader changed are not touched.
 */
async function undoLoad(
  mysql: Target | undefined,
  mongo: Target | undefined,
  state: TargetState,
  changed: { mysql: Set<string>; mongo: Set<string> },
  /** Targets replace started dropping; those not in `changed` failed to drop and are not undone (their old content may be there). */
  dropping: { mysql: Set<string>; mongo: Set<string> } = { mysql: new Set(), mongo: new Set() },
): Promise<TargetLeft[]> {
  const mysqlUndo = mysql?.databases.filter((database) => changed.mysql.has(database)) ?? [];
  const mongoUndo = mongo?.databases.filter((database) => changed.mongo.has(database)) ?? [];
  const [mysqlUndone, mongoUndone] = await Promise.all([
    mysql && mysqlUndo.length > 0 ? rollbackMysql(mysql.url, mysqlUndo, state).then(() => true, () => false) : true,
    mongo && mongoUndo.length > 0 ? rollbackMongo(mongo.url, mongoUndo).then(() => true, () => false) : true,
  ]);
  const left = (engine: TargetLeft['engine'], database: string, undone: boolean, objectsBefore: number): TargetLeft => ({
    engine,
    database,
    // A failed drop of an empty or absent target (MongoDB drops every replace target) lost nothing.
    state: !changed[engine].has(database) ? (dropping[engine].has(database) && objectsBefore > 0 ? 'drop-failed' : 'unchanged') : !undone ? 'unknown' : objectsBefore > 0 ? 'emptied' : 'restored',
    objectsBefore,
  });
  return [
    ...(mysql?.databases ?? []).map((database) => left('mysql', database, mysqlUndone, state.mysqlObjects.get(database) ?? 0)),
    ...(mongo?.databases ?? []).map((database) => left('mongo', database, mongoUndone, state.mongoCollections.get(database) ?? 0)),
  ];
}
