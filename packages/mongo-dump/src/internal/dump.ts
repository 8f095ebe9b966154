import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from 'mongodb';
import { BOOKKEEPING_COLLECTIONS, bookkeepingOf, normaliseBookkeeping, type BookkeepingCollection } from './bookkeeping.js';
import { readCatalog } from './catalog.js';
import { encodeDocument } from './document-check.js';
import { readBsonDocument, type OrderedDoc } from './ordered.js';
import { connectMongo, detectEngine, withPrivilege, type MongoEngine } from './connect.js';
import {
  MongoDatabaseNotFoundError,
  MongoEmptyDatabaseError,
  MongoOutputExistsError,
  MongoUnsupportedError,
} from './errors.js';
import { checkFileSafeName, collectionFileStem, refuseCaseCollisions, resolveDataCollections } from './names.js';
import { compareNames, metadataJson, type CollectionSpec } from './normalise.js';
import type { MongoProgress } from './progress.js';
import { mongoHosts } from './url.js';

export interface DumpMongoOptions {
  /** mongodb://[user:password@]host:port; the password is never printed. */
  url: string;
  /** Databases to dump (each becomes `<outDir>/mongo/<db>/`). */
  databases: readonly string[];
  /**
   * Collections whose documents are dumped (all others are schema only): `db.collection`, or a bare
   * `collection` meaning that collection in every dumped database that has it.
   */
  dataCollections?: readonly string[];
  /** The dump set directory; must not already hold `mongo/<db>` for a dumped database. */
  outDir: string;
  /** Retry connecting for up to this many seconds while the server starts (max 600). */
  waitSeconds?: number;
  onProgress?: (progress: MongoProgress) => void;
}

export interface DumpMongoResult {
  /** Written files relative to outDir, `/`-separated, sorted. */
  files: string[];
  engine: MongoEngine;
  /** `dataCollections`: documents written per collection dumped with documents (listed or bookkeeping). */
  databases: Array<{ name: string; collections: number; views: number; documents: number; dataCollections: Record<string, number> }>;
}

export async function dumpMongo(options: DumpMongoOptions): Promise<DumpMongoResult> {
  const databases = [...new Set(options.databases)].sort(compareNames);
  if (databases.length === 0) throw new MongoUnsupportedError('no MongoDB database to dump; name at least one');
  for (const database of databases) checkFileSafeName('database', database);
  const mongoDir = join(options.outDir, 'mongo');
  for (const database of databases) {
    if (await exists(join(mongoDir, database))) throw new MongoOutputExistsError(join(mongoDir, database));
  }

  const client = await connectMongo(options.url, { waitSeconds: options.waitSeconds ?? 0 });
  try {
    const engine = await detectEngine(client);
    const existing = await withPrivilege('listDatabases', 'admin', () =>
      client.db('admin').admin().listDatabases({ nameOnly: true }),
    );
    const existingNames = new Set(existing.databases.map((entry) => entry.name));
    for (const database of databases) {
      if (!existingNames.has(database)) throw new MongoDatabaseNotFoundError(database, mongoHosts(options.url));
    }

    const catalogs = new Map<string, CollectionSpec[]>();
    for (const database of databases) {
      const specs = await readCatalog(client.db(database));
      for (const spec of specs) checkFileSafeName('collection', spec.name, database);
      refuseCaseCollisions(database, specs.map((spec) => spec.name));
      // Refused, not dumped as an empty folder: no file would carry it (checksums, publish) and a load could not re-create it.
      if (specs.length === 0) throw new MongoEmptyDatabaseError(database);
      catalogs.set(database, specs);
      options.onProgress?.({ phase: 'schema', database, done: specs.length, total: specs.length });
    }
    const dataCollections = resolveDataCollections(options.dataCollections ?? [], catalogs);
    // Migration tools' bookkeeping collections always keep their documents: without them a dump cannot be migrated forward.
    // The documents read to recognise one are the ones dumped (a tool's log holds a few hundred at most).
    const bookkeeping = new Map<string, Map<string, { preset: BookkeepingCollection; documents: OrderedDoc[] }>>();
    for (const [database, specs] of catalogs) {
      for (const spec of specs) {
        if (spec.type !== 'collection' || !BOOKKEEPING_COLLECTIONS.some((preset) => preset.collection === spec.name)) continue;
        // Every document is checked (a tool's log holds one per migration run); more than that many is an application's.
        const sample = await withPrivilege('find', database, () => client.db(database).collection(spec.name).find({}, { raw: true, sort: { _id: 1 }, limit: BOOKKEEPING_MAX_DOCUMENTS + 1 }).toArray());
        if (sample.length > BOOKKEEPING_MAX_DOCUMENTS) continue;
        const documents = sample.map((raw) => readBsonDocument(raw as unknown as Uint8Array));
        const preset = bookkeepingOf(spec.name, documents);
        if (!preset) continue;
        bookkeeping.set(database, (bookkeeping.get(database) ?? new Map()).set(spec.name, { preset, documents }));
        dataCollections.set(database, (dataCollections.get(database) ?? new Set()).add(spec.name));
      }
    }

    const files: string[] = [];
    const summary: DumpMongoResult['databases'] = [];
    await mkdir(mongoDir, { recursive: true });
    for (const database of databases) {
      const specs = catalogs.get(database) ?? [];
      const written = await dumpDatabase(client.db(database), specs, dataCollections.get(database), bookkeeping.get(database), mongoDir, options.onProgress);
      files.push(...written.files.map((file) => `mongo/${database}/${file}`));
      summary.push({
        name: database,
        collections: specs.filter((spec) => spec.type !== 'view').length,
        views: specs.filter((spec) => spec.type === 'view').length,
        documents: written.documents,
        dataCollections: written.dataCollections,
      });
    }
    return { files: files.sort(compareNames), engine, databases: summary };
  } finally {
    await client.close();
  }
}

/**
 * Writes one database into a hidden sibling directory and renames it into place at the end, so a
 * failed dump never leaves a half-written `mongo/<db>/` behind.
 */
async function dumpDatabase(
  db: Db,
  specs: CollectionSpec[],
  dataCollections: ReadonlySet<string> | undefined,
  bookkeeping: ReadonlyMap<string, { preset: BookkeepingCollection; documents: OrderedDoc[] }> | undefined,
  mongoDir: string,
  onProgress: DumpMongoOptions['onProgress'],
): Promise<{ files: string[]; documents: number; dataCollections: Record<string, number> }> {
  const database = db.databaseName;
  const partial = join(mongoDir, `.${database}.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(partial);
  try {
    const files: string[] = [];
    let documents = 0;
    const withDocuments: Record<string, number> = {};
    for (const [index, spec] of specs.entries()) {
      const stem = collectionFileStem(spec.name);
      await writeFile(join(partial, `${stem}.metadata.json`), metadataJson(spec));
      files.push(`${stem}.metadata.json`);
      // Views have no documents; time series are schema only (their data lives in system.buckets.*).
      if (spec.type === 'collection') {
        const withData = dataCollections?.has(spec.name) ?? false;
        const file = join(partial, `${stem}.bson`);
        const kept = bookkeeping?.get(spec.name);
        const written = kept ? await writeBookkeeping(kept.preset, kept.documents, file) : await writeDocuments(db, spec.name, withData, file);
        documents += written;
        if (kept || withData) withDocuments[spec.name] = written;
        files.push(`${stem}.bson`);
      }
      onProgress?.({ phase: 'collections', database, collection: spec.name, done: index + 1, total: specs.length });
    }
    await rename(partial, join(mongoDir, database));
    return { files, documents, dataCollections: withDocuments };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The collection's documents in `_id` order, each written as the exact BSON bytes the server returned
 * (no decode/re-encode, so field order and numeric types survive). Schema-only collections get an
 * empty file, which mongorestore accepts.
 */
async function writeDocuments(db: Db, collection: string, withData: boolean, file: string): Promise<number> {
  if (!withData) {
    await writeFile(file, new Uint8Array(0));
    return 0;
  }
  let count = 0;
  const cursor = db.collection(collection).find({}, { raw: true, sort: { _id: 1 } });
  async function* documents(): AsyncGenerator<Uint8Array> {
    for await (const raw of cursor) {
      count++;
      yield raw as unknown as Uint8Array;
    }
  }
  await withPrivilege('find', db.databaseName, () => pipeline(Readable.from(documents()), createWriteStream(file)));
  return count;
}

/** A bookkeeping collection's documents (as read to recognise it), normalised: see bookkeeping.ts. */
async function writeBookkeeping(preset: BookkeepingCollection, documents: readonly OrderedDoc[], file: string): Promise<number> {
  await writeFile(file, Buffer.concat(normaliseBookkeeping(preset, documents).map((document) => encodeDocument(document))));
  return documents.length;
}

/** More documents than this in a collection named like a bookkeeping one: it is an application's. */
const BOOKKEEPING_MAX_DOCUMENTS = 20_000;

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
