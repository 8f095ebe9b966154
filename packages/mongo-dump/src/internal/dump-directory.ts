import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoDumpDirectoryError } from './errors.js';
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
      const collection = name.slice(0, -BSON_SUFFIX.length);
      if (!names.includes(`${collection}${METADATA_SUFFIX}`)) {
        throw new MongoDumpDirectoryError(join(dir, name), `${collection}${METADATA_SUFFIX} is missing`);
      }
      continue;
    }
    if (!name.endsWith(METADATA_SUFFIX)) throw new MongoDumpDirectoryError(join(dir, name), 'unexpected file');
    const collection = name.slice(0, -METADATA_SUFFIX.length);
    const path = join(dir, name);
    let parsed: unknown;
    try {
      parsed = parseExtendedJson(await readFile(path, 'utf8'));
    } catch (error) {
      throw new MongoDumpDirectoryError(path, error instanceof Error ? error.message : String(error));
    }
    const spec = specFromMetadata(collection, parsed);
    if (typeof spec === 'string') throw new MongoDumpDirectoryError(path, spec);
    if (spec.type === 'collection' && !bsonFiles.has(`${collection}${BSON_SUFFIX}`)) {
      throw new MongoDumpDirectoryError(join(dir, `${collection}${BSON_SUFFIX}`), 'the document file is missing');
    }
    collections.push(spec);
  }
  return collections;
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

/** Counts the documents of a `.bson` file, checking its framing, so a load can refuse it up front. */
export async function countBsonDocuments(path: string): Promise<number> {
  if ((await stat(path)).size === 0) return 0;
  let count = 0;
  for await (const _document of readBsonFile(path)) count++;
  return count;
}
