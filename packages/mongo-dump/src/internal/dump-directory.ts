import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { documentProblem } from './document-check.js';
import { MongoDumpDirectoryError, MongoInexactDocumentError } from './errors.js';
import { caseCollision, collectionFileStem, collectionFromFileStem } from './names.js';
import { compareNames, specFromMetadata, type CollectionSpec } from './normalise.js';
import { parseExtendedJson } from './ordered.js';

export interface DumpedDatabase {
  name: string;
  dir: string;
  /** Sorted by name. */
  collections: CollectionSpec[];
}

const METADATA_SUFFIX = '.metadata.json';
const BSON_SUFFIX = '.bson';
// A document may exceed 16 MiB by the server's internal slack only; anything larger is corruption.
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024;

/**
 * Reads and checks the `mongo/` part of a dump set without touching any server: every database folder,
 * every metadata file parsed, a `.bson` for every collection and a metadata file for every `.bson`.
 * Hidden entries (a `.db.partial-*` left by an interrupted dump) are ignored.
 */
export async function readDumpDirectory(dumpSetDir: string): Promise<DumpedDatabase[]> {
  const mongoDir = join(dumpSetDir, 'mongo');
  const entries = await readdir(mongoDir, { withFileTypes: true }).catch(() => {
    throw new MongoDumpDirectoryError(mongoDir, 'the folder is missing or unreadable');
  });
  const databases: DumpedDatabase[] = [];
  for (const entry of entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => compareNames(a.name, b.name))) {
    const dir = join(mongoDir, entry.name);
    if (!entry.isDirectory()) throw new MongoDumpDirectoryError(dir, 'expected only database folders here');
    databases.push({ name: entry.name, dir, collections: await readDatabaseFolder(dir) });
  }
  if (databases.length === 0) throw new MongoDumpDirectoryError(mongoDir, 'it holds no database folder');
  return databases;
}

async function readDatabaseFolder(dir: string): Promise<CollectionSpec[]> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort(compareNames);
  const bsonFiles = new Set(names.filter((name) => name.endsWith(BSON_SUFFIX)));
  const collections: CollectionSpec[] = [];
  for (const name of names) {
    if (name.endsWith(BSON_SUFFIX)) {
      const stem = name.slice(0, -BSON_SUFFIX.length);
      if (!names.includes(`${stem}${METADATA_SUFFIX}`)) {
        throw new MongoDumpDirectoryError(join(dir, name), `${stem}${METADATA_SUFFIX} is missing`);
      }
      continue;
    }
    if (!name.endsWith(METADATA_SUFFIX)) throw new MongoDumpDirectoryError(join(dir, name), 'unexpected file');
    const path = join(dir, name);
    const collection = collectionOfFile(path, name.slice(0, -METADATA_SUFFIX.length));
    let parsed: unknown;
    try {
      parsed = parseExtendedJson(await readFile(path, 'utf8'));
    } catch (error) {
      throw new MongoDumpDirectoryError(path, error instanceof Error ? error.message : String(error));
    }
    const spec = specFromMetadata(collection, parsed);
    if (typeof spec === 'string') throw new MongoDumpDirectoryError(path, spec);
    if (spec.type === 'collection' && !bsonFiles.has(`${collectionFileStem(collection)}${BSON_SUFFIX}`)) {
      throw new MongoDumpDirectoryError(join(dir, `${collectionFileStem(collection)}${BSON_SUFFIX}`), 'the document file is missing');
    }
    collections.push(spec);
  }
  const collision = caseCollision(collections.map((spec) => spec.name));
  if (collision) {
    throw new MongoDumpDirectoryError(dir, `the files of collections "${collision[0]}" and "${collision[1]}" differ only in case, so they would be one file on macOS and Windows; rename one collection and dump again`);
  }
  return collections;
}

/** The collection a file stem names: mongodump's escaping (see collectionFileStem), read back. */
function collectionOfFile(path: string, stem: string): string {
  const collection = collectionFromFileStem(stem);
  if (collection === undefined) throw new MongoDumpDirectoryError(path, `"${stem}" is no valid escaped collection name (a "%" must start a %XX escape of UTF-8 bytes)`);
  const canonical = collectionFileStem(collection);
  if (canonical !== stem) {
    throw new MongoDumpDirectoryError(path, `the file of collection "${collection}" must be named "${canonical}${METADATA_SUFFIX}" (escaped as mongodump escapes collection names); rename its files or dump again`);
  }
  return collection;
}

/** The path of a collection's `.bson` file in its database folder. */
export function bsonFileOf(databaseDir: string, collection: string): string {
  return join(databaseDir, `${collectionFileStem(collection)}${BSON_SUFFIX}`);
}

/** The documents of a `.bson` file (concatenated BSON documents), one Uint8Array each, streamed. */
export async function* readBsonFile(path: string): AsyncGenerator<Uint8Array> {
  let pending: Buffer = Buffer.alloc(0);
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
    while (pending.length >= 4) {
      const size = pending.readInt32LE(0);
      if (size < 5 || size > MAX_DOCUMENT_BYTES) {
        throw new MongoDumpDirectoryError(path, `corrupt BSON: document length ${size} at byte ${offset}`);
      }
      if (pending.length < size) break;
      if (pending[size - 1] !== 0) throw new MongoDumpDirectoryError(path, `corrupt BSON: no terminator at byte ${offset}`);
      yield pending.subarray(0, size);
      pending = pending.subarray(size);
      offset += size;
    }
  }
  if (pending.length > 0) throw new MongoDumpDirectoryError(path, `truncated BSON: ${pending.length} stray bytes at the end`);
}

/** Counts the documents of a `.bson` file, checking its framing only. */
export async function countBsonDocuments(path: string): Promise<number> {
  if ((await stat(path)).size === 0) return 0;
  let count = 0;
  for await (const _document of readBsonFile(path)) count++;
  return count;
}

/**
 * Counts the documents of a `.bson` file and checks that every one loads exactly (see document-check.ts),
 * so a load refuses a damaged or inexact file before it creates anything. `collection` is `db.collection`.
 */
export async function checkBsonFile(path: string, collection: string): Promise<number> {
  if ((await stat(path)).size === 0) return 0;
  let count = 0;
  let offset = 0;
  for await (const document of readBsonFile(path)) {
    count++;
    const problem = documentProblem(document);
    if (problem?.kind === 'damaged') {
      const id = problem.id === undefined ? '' : ` (_id ${problem.id})`;
      throw new MongoDumpDirectoryError(path, `document ${count} at byte ${offset}${id} of collection "${collection}": ${problem.detail}`);
    }
    if (problem) throw new MongoInexactDocumentError(path, collection, count, problem.id, problem.detail);
    offset += document.length;
  }
  return count;
}

/**
 * The whole check a load runs before it connects: the dump's layout and metadata (readDumpDirectory),
 * then every document of every `.bson` file (checkBsonFile). For callers that must know a dump loads
 * before they change anything else (a MySQL load beside it). Returns the document count per database.
 */
export async function checkMongoDump(options: { dir: string }): Promise<Array<{ database: string; documents: number }>> {
  const counts: Array<{ database: string; documents: number }> = [];
  for (const database of await readDumpDirectory(options.dir)) {
    let documents = 0;
    for (const spec of database.collections.filter((c) => c.type === 'collection')) {
      documents += await checkBsonFile(bsonFileOf(database.dir, spec.name), `${database.name}.${spec.name}`);
    }
    counts.push({ database: database.name, documents });
  }
  return counts;
}
