import type { Db, Document } from 'mongodb';
import { listCollectionNames, listIndexes } from './catalog.js';
import { connectMongo, detectEngine, withPrivilege, type MongoEngine } from './connect.js';
import { mongoDriver } from './driver.js';
import { bsonFileOf, checkBsonFile, readBsonFile, readDumpDirectory, type DumpedDatabase } from './dump-directory.js';
import { MongoLoadRejectedError, MongoTargetNotEmptyError, MongoUnsupportedError } from './errors.js';
import { indexCommands, serverMayAddIndexes } from './index-plan.js';
import { checkFileSafeName, refuseSystemDatabases } from './names.js';
import { compareNames, normaliseIndex, type CollectionSpec } from './normalise.js';
import { decodeDocument } from './document-check.js';
import { stringField, toCanonicalJson, type OrderedDoc } from './ordered.js';
import type { MongoProgress } from './progress.js';

export interface LoadMongoOptions {
  url: string;
  /** The dump set directory (the one holding `mongo/<db>/`). */
  dir: string;
  /**
   * Load under other names: a string renames the only database of a one-database dump; a record maps
   * dumped names to target names (unlisted databases keep their name).
   */
  databaseRename?: string | Readonly<Record<string, string>>;
  /** Drop non-empty target databases first instead of refusing them. */
  replace?: boolean;
  waitSeconds?: number;
  onProgress?: (progress: MongoProgress) => void;
  /** Aborting stops the load between two steps (a collection, a batch of documents, an index) and drops what it loaded. */
  signal?: AbortSignal;
  /**
   * Called with a target database before the load changes it: `drop` just before replace drops it, `load`
   * once it is about to be loaded into (after a drop that succeeded). A target named only with `drop` may be
   * partly dropped (the drop failed); one never named was left as it was, old content included.
   */
  onTarget?: (database: string, step: 'drop' | 'load') => void;
}

export interface LoadMongoResult {
  engine: MongoEngine;
  databases: Array<{ source: string; target: string; collections: number; views: number; documents: number }>;
}

// Well under the 48 MB message limit and the 100k write batch limit.
const INSERT_BATCH_BYTES = 8 * 1024 * 1024;
const INSERT_BATCH_DOCUMENTS = 1000;

interface PlannedDatabase extends DumpedDatabase {
  target: string;
  /** From a check of every document of every `.bson` file (see checkBsonFile), done before anything is loaded. */
  totalDocuments: number;
}

export async function loadMongo(options: LoadMongoOptions): Promise<LoadMongoResult> {
  // Everything about the dump is checked before connecting, so a broken dump never half-loads.
  const dumped = await readDumpDirectory(options.dir);
  const targets = dumped.map((database) => targetName(database.name, dumped, options.databaseRename));
  for (const target of targets) checkFileSafeName('database', target);
  // A load may drop its targets (replace, or undoing a failed load): refused before anything else.
  refuseSystemDatabases(targets);
  if (new Set(targets).size !== targets.length) {
    throw new MongoUnsupportedError('two dumped databases would be loaded into the same target database; give each its own name');
  }
  const plan: PlannedDatabase[] = [];
  for (const [index, database] of dumped.entries()) {
    let totalDocuments = 0;
    for (const spec of database.collections.filter((c) => c.type === 'collection')) {
      totalDocuments += await checkBsonFile(bsonFileOf(database.dir, spec.name), `${database.name}.${spec.name}`);
    }
    plan.push({ ...database, target: targets[index]!, totalDocuments });
  }

  const client = await connectMongo(options.url, { waitSeconds: options.waitSeconds ?? 0, signal: options.signal });
  try {
    const engine = await detectEngine(client);
    for (const database of plan) {
      const existing = await listCollectionNames(client.db(database.target));
      if (existing.length > 0 && !options.replace) throw new MongoTargetNotEmptyError(database.target, existing);
    }
    const summary: LoadMongoResult['databases'] = [];
    const started: Db[] = [];
    for (const database of plan) {
      const db = client.db(database.target);
      if (options.replace) {
        options.onTarget?.(database.target, 'drop');
        await withPrivilege('dropDatabase', database.target, () => db.dropDatabase());
      }
      options.onTarget?.(database.target, 'load');
      started.push(db);
      let documents: number;
      try {
        documents = await loadDatabase(db, database, options.onProgress, options.signal);
      } catch (error) {
        // Every target was empty (or dropped for replace) before we began, so dropping what we loaded
        // restores that state instead of leaving a half-loaded database behind.
        for (const loaded of started) await loaded.dropDatabase().catch(() => undefined);
        throw error;
      }
      summary.push({
        source: database.name,
        target: database.target,
        collections: database.collections.filter((c) => c.type !== 'view').length,
        views: database.collections.filter((c) => c.type === 'view').length,
        documents,
      });
    }
    return { engine, databases: summary };
  } finally {
    await client.close();
  }
}

function targetName(source: string, dumped: readonly DumpedDatabase[], rename: LoadMongoOptions['databaseRename']): string {
  if (rename === undefined) return source;
  if (typeof rename === 'string') {
    if (dumped.length !== 1) {
      throw new MongoUnsupportedError(
        `a single target database name ("${rename}") needs a one-database dump, but the dump holds ` +
          `${dumped.map((d) => `"${d.name}"`).join(', ')}; map each database instead`,
      );
    }
    return rename;
  }
  for (const key of Object.keys(rename)) {
    if (!dumped.some((d) => d.name === key)) {
      throw new MongoUnsupportedError(`cannot rename database "${key}": the dump does not hold it`);
    }
  }
  return rename[source] ?? source;
}

/** Collections (with options), then their documents, then their indexes, then views in dependency order. */
async function loadDatabase(db: Db, database: PlannedDatabase, onProgress: LoadMongoOptions['onProgress'], signal: AbortSignal | undefined): Promise<number> {
  const progress = (phase: MongoProgress['phase'], collection: string, done: number, total: number) => {
    onProgress?.({ phase, database: database.target, collection, done, total });
    signal?.throwIfAborted();
  };
  signal?.throwIfAborted();
  const collections = database.collections.filter((spec) => spec.type !== 'view');
  const views = orderViews(database.collections.filter((spec) => spec.type === 'view'));
  let documents = 0;
  for (const [index, spec] of collections.entries()) {
    await runCreate(db, spec, `collection "${db.databaseName}.${spec.name}"`);
    progress('collections', spec.name, index + 1, collections.length);
  }
  for (const spec of collections) {
    if (spec.type !== 'collection') continue;
    const before = documents;
    let reported = -1;
    // Progress per insert batch: one large collection is most of a load's time.
    documents += await insertDocuments(db, spec.name, bsonFileOf(database.dir, spec.name), signal, (inserted) => {
      reported = before + inserted;
      progress('documents', spec.name, reported, database.totalDocuments);
    });
    // A collection without documents is reported too (its last batch already was).
    if (reported !== documents) progress('documents', spec.name, documents, database.totalDocuments);
  }
  for (const [index, spec] of collections.entries()) {
    await loadIndexes(db, spec);
    progress('indexes', spec.name, index + 1, collections.length);
  }
  for (const [index, spec] of views.entries()) {
    await runCreate(db, spec, `view "${db.databaseName}.${spec.name}"`);
    progress('views', spec.name, index + 1, views.length);
  }
  return documents;
}

/**
 * Makes the collection's indexes the dumped ones (see index-plan.ts): `_id_` and a cluster key come with
 * the collection; a time series may also have come with an index the dump lacks, which is dropped.
 */
async function loadIndexes(db: Db, spec: CollectionSpec): Promise<void> {
  const existing = serverMayAddIndexes(spec.options) ? await listIndexes(db, spec.name) : [];
  for (const command of indexCommands(spec, existing)) {
    // MongoLoadRejectedError says "refused to create <what>": a refused drop is part of that.
    const dropping = 'dropIndexes' in command ? ` (dropping "${String(command.index)}", which the server added)` : '';
    await runRejecting(db, command, `the indexes of "${db.databaseName}.${spec.name}"${dropping}`);
  }
  if (spec.indexes.length > 0) checkIndexesAsDumped(`${db.databaseName}.${spec.name}`, spec.indexes, await listIndexes(db, spec.name));
}

/**
 * Some servers accept an index option and drop it (FerretDB 1.24: `sparse`): the index then behaves
 * differently from the dumped one, so the load fails naming the index and the option instead of
 * reporting it loaded. Only what the dump asked for is compared; fields the server adds are its own.
 */
export function checkIndexesAsDumped(collection: string, dumped: readonly OrderedDoc[], listed: readonly OrderedDoc[]): void {
  const byName = new Map(listed.map((index) => [stringField(index, 'name') ?? '', normaliseIndex(index)]));
  for (const index of dumped) {
    const name = stringField(index, 'name') ?? '';
    const actual = byName.get(name);
    const what = `index "${name}" of "${collection}" as dumped`;
    if (!actual) throw new MongoLoadRejectedError(what, 'it accepted the index but does not list it');
    for (const [field, value] of index) {
      const wanted = toCanonicalJson(value);
      if (!actual.has(field)) {
        throw new MongoLoadRejectedError(what, `it dropped the option ${JSON.stringify(field)}: ${wanted} without an error; load into a server that supports that option, or remove it from the dump`);
      }
      const got = toCanonicalJson(actual.get(field));
      if (got !== wanted) throw new MongoLoadRejectedError(what, `it changed ${JSON.stringify(field)} from ${wanted} to ${got} without an error; load into a server that supports that option as it is`);
    }
  }
}

async function runCreate(db: Db, spec: CollectionSpec, what: string): Promise<void> {
  // Option names are never integer-like, so a plain object keeps their order.
  const command: Document = { create: spec.name, ...Object.fromEntries(spec.options) };
  await runRejecting(db, command, `${what} with options ${toCanonicalJson(spec.options)}`);
}

/**
 * The command itself must be a plain object (the driver adds session fields to it), but its values may
 * be Maps: the bson serializer writes those in insertion order, which keeps index keys and document
 * fields in their dumped order.
 */
async function runRejecting(db: Db, command: Document, what: string): Promise<Document> {
  const action = Object.keys(command)[0] ?? 'command';
  try {
    return await withPrivilege(action, db.databaseName, () => db.command(command));
  } catch (error) {
    const { MongoServerError } = await mongoDriver();
    if (error instanceof MongoServerError && error.code !== 13) throw new MongoLoadRejectedError(what, error.message);
    throw error;
  }
}

/**
 * Inserts the file's documents in file order with the insert command (not insertMany, which would add
 * an `_id` to Maps and reorder integer-like field names of plain objects). Validation is bypassed
 * like mongorestore's --bypassDocumentValidation: the documents were valid where they were dumped.
 */
async function insertDocuments(db: Db, collection: string, file: string, signal?: AbortSignal, onInserted?: (documents: number) => void): Promise<number> {
  let batch: Map<string, unknown>[] = [];
  let batchBytes = 0;
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const command = { insert: collection, documents: batch, ordered: true, bypassDocumentValidation: true };
    const result = await runRejecting(db, command, `documents of "${db.databaseName}.${collection}"`);
    const writeErrors = result.writeErrors as Array<{ index: number; errmsg: string }> | undefined;
    const firstError = writeErrors?.[0];
    if (firstError) {
      throw new MongoLoadRejectedError(
        `document ${count - batch.length + firstError.index + 1} of "${db.databaseName}.${collection}"`,
        firstError.errmsg,
      );
    }
    batch = [];
    batchBytes = 0;
    onInserted?.(count);
  };
  for await (const raw of readBsonFile(file)) {
    if (batchBytes + raw.length > INSERT_BATCH_BYTES || batch.length >= INSERT_BATCH_DOCUMENTS) {
      await flush();
      signal?.throwIfAborted();
    }
    // checkBsonFile proved that this encodes back to exactly `raw`, which is what the insert sends.
    batch.push(decodeDocument(raw));
    batchBytes += raw.length;
    count++;
  }
  await flush();
  return count;
}

/** Views sorted by name, except that a view on another view of the dump comes after it. */
export function orderViews(views: readonly CollectionSpec[]): CollectionSpec[] {
  const byName = new Map(views.map((view) => [view.name, view]));
  const ordered: CollectionSpec[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (view: CollectionSpec, chain: string[]) => {
    if (state.get(view.name) === 'done') return;
    if (state.get(view.name) === 'visiting') {
      throw new MongoUnsupportedError(`views ${[...chain, view.name].join(' -> ')} form a cycle; fix the dump`);
    }
    state.set(view.name, 'visiting');
    const source = stringField(view.options, 'viewOn');
    const dependency = source === undefined ? undefined : byName.get(source);
    if (dependency) visit(dependency, [...chain, view.name]);
    state.set(view.name, 'done');
    ordered.push(view);
  };
  for (const view of [...views].sort((a, b) => compareNames(a.name, b.name))) visit(view, []);
  return ordered;
}
