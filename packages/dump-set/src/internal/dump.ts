import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { dumpMysql } from '@org/mysql-dump';
import { dumpMongo } from '@org/mongo-dump';
import { DumpSetFileError, DumpSetInputError, isConnectionFailure, throwEngineFailures } from './errors.js';
import { checkDumpSetContents, checksumsPathOf, describeFiles, readDumpSetContents, writeChecksumsFile } from './layout.js';
import { progressReporter } from './progress.js';

export interface MysqlSource {
  url: string;
  databases: string[];
  /** `table` or `db.table`; default: the Django reference tables present (migration tools' bookkeeping tables always). */
  dataTables?: string[];
  /** `table.column` -> fixed value (null: NULL), on top of the bookkeeping tables' own. */
  volatileColumns?: Record<string, string | null>;
}

export interface MongoSource {
  url: string;
  databases: string[];
  /** `collection` or `db.collection`; default: none (schema only). */
  dataCollections?: string[];
}

export interface DumpSources {
  mysql?: MysqlSource;
  mongo?: MongoSource;
}

export interface DumpSetResult {
  dir: string;
  /** Relative paths in byte order. */
  files: string[];
  /** Rows (documents) written per `database.table` (`database.collection`) that was dumped with them. */
  rows: { mysql: Record<string, number>; mongo: Record<string, number> };
  engines: { mysql?: { flavor: string; version: string }; mongo?: { flavor: string; version: string } };
}

export interface DumpSetOptions {
  /** Seconds each dumper retries while its server is unreachable (a service container still starting). */
  waitSeconds?: number;
  onProgress?: (message: string) => void;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function checkSources(sources: DumpSources) {
  if (!sources.mysql && !sources.mongo) throw new DumpSetInputError('no-source', 'nothing to dump: give a MySQL and/or a MongoDB source');
  for (const [engine, source] of [['MySQL', sources.mysql], ['MongoDB', sources.mongo]] as const) {
    if (source && source.databases.length === 0) throw new DumpSetInputError('no-database', `the ${engine} source names no database; list the databases to dump`);
  }
}

async function assertEmptyOrAbsent(dir: string) {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) throw new DumpSetInputError('out-not-empty', `output directory ${dir} is not empty; dump into a new or empty directory`);
}

/**
 * Dumps MySQL and Mongo concurrently into a staging directory beside `outDir`, checks that the result
 * is exactly a valid dump set (the files the dumpers reported, in the shared layout, parseable), writes
 * `<outDir>.checksums.json`, and only then renames the staging directory to `outDir`. On any failure
 * nothing is left at `outDir`.
 */
export async function dumpSet(sources: DumpSources, outDir: string, options: DumpSetOptions = {}): Promise<DumpSetResult> {
  checkSources(sources);
  const out = path.resolve(outDir);
  await assertEmptyOrAbsent(out);
  await mkdir(path.dirname(out), { recursive: true });
  const staging = path.join(path.dirname(out), `.${path.basename(out)}.partial-${randomUUID()}`);
  await mkdir(staging);
  // After one engine failed, the other's progress would announce files that are about to be discarded.
  let failed = false;
  const onProgress = options.onProgress;
  const report = progressReporter(
    onProgress &&
      ((message) => {
        if (!failed) onProgress(message);
      }),
  );
  const wait = options.waitSeconds ?? 0;
  let wroteChecksums = false;
  try {
    const [mysql, mongo] = await settleBoth(
      sources.mysql &&
        dumpMysql({
          url: sources.mysql.url,
          databases: sources.mysql.databases,
          ...(sources.mysql.dataTables ? { dataTables: sources.mysql.dataTables } : {}),
          ...(sources.mysql.volatileColumns ? { volatileColumns: sources.mysql.volatileColumns } : {}),
          outDir: staging,
          wait,
          onProgress: (p) => report(`mysql:${p.database}:${p.phase}`, p.done, p.total, () => `mysql ${p.database}: ${p.phase === 'done' ? 'written' : `${p.phase} ${p.done}/${p.total}`}`),
        }),
      sources.mongo &&
        dumpMongo({
          url: sources.mongo.url,
          databases: sources.mongo.databases,
          dataCollections: sources.mongo.dataCollections ?? [],
          outDir: staging,
          waitSeconds: wait,
          onProgress: (p) => report(`mongo:${p.database}:${p.phase}`, p.done, p.total, () => `mongo ${p.database}: ${p.phase} ${p.done}/${p.total}`),
        }),
      () => (failed = true),
    );
    const reported = [...(mysql?.files ?? []), ...(mongo?.files ?? [])].sort(byteOrder);
    const contents = await readDumpSetContents(staging);
    if (contents.files.join('\n') !== reported.join('\n')) {
      const extra = contents.files.filter((file) => !reported.includes(file));
      const missing = reported.filter((file) => !contents.files.includes(file));
      throw new DumpSetFileError('dump-incomplete', `the dump written to ${staging} does not hold exactly the dumped files (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'}); nothing was written to ${out}`);
    }
    await checkDumpSetContents(staging, contents);
    options.onProgress?.(`checksums of ${contents.files.length} files`);
    // Written before the rename: a crash in between leaves a list without a directory, never a directory with a stale list.
    const engines = {
      ...(mysql ? { mysql: { flavor: mysql.engine.flavor, version: mysql.engine.version } } : {}),
      ...(mongo ? { mongo: { flavor: mongo.engine.flavor, version: mongo.engine.version } } : {}),
    };
    await writeChecksumsFile(out, await describeFiles(staging, contents.files), engines);
    wroteChecksums = true;
    await rmdir(out).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, out);
    const rows = {
      mysql: Object.fromEntries(Object.entries(mysql?.dataRows ?? {}).flatMap(([db, tables]) => Object.entries(tables).map(([table, count]) => [`${db}.${table}`, count]))),
      mongo: Object.fromEntries((mongo?.databases ?? []).flatMap((db) => Object.entries(db.dataCollections).map(([collection, count]) => [`${db.name}.${collection}`, count]))),
    };
    return { dir: out, files: contents.files, rows, engines };
  } catch (error) {
    // Cleanup problems are reported, never thrown: the caller needs the error that stopped the dump.
    await removeQuietly(staging, options.onProgress);
    if (wroteChecksums) await removeQuietly(checksumsPathOf(out), options.onProgress);
    throw error;
  }
}

/**
 * Awaits both dumps to the end, so neither still writes into the staging directory while it is being
 * removed, then throws the failure that happened first (the other engine's may follow from the same
 * cause, or be unrelated), else returns both results.
 */
async function settleBoth<A, B>(a: Promise<A> | undefined, b: Promise<B> | undefined, onFirstFailure: () => void): Promise<[A | undefined, B | undefined]> {
  const failures: Array<{ side: 'mysql' | 'mongo'; reason: unknown }> = [];
  const observe = <T>(side: 'mysql' | 'mongo', promise: Promise<T> | undefined) =>
    promise?.catch((reason: unknown) => {
      if (failures.push({ side, reason }) === 1) onFirstFailure();
      return undefined;
    });
  const [left, right] = await Promise.all([observe('mysql', a), observe('mongo', b)]);
  if (failures.length === 0) return [left, right];
  const [first, second] = failures as [(typeof failures)[number], (typeof failures)[number] | undefined];
  // Neither server reachable: both named at once. Otherwise the failure that happened first.
  if (second && isConnectionFailure(first.reason) && isConnectionFailure(second.reason)) throwEngineFailures({ [first.side]: first, [second.side]: second });
  throw first.reason;
}

/** Removes a file or directory tree, retrying while a just-finished writer's files are still closing. */
async function removeQuietly(target: string, onProgress: DumpSetOptions['onProgress']): Promise<void> {
  try {
    await rm(target, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (error) {
    onProgress?.(`could not remove ${target}: ${(error as Error).message}; remove it by hand`);
  }
}
