import { MongoCollectionNotFoundError, MongoSystemDatabaseError, MongoUnsupportedError } from './errors.js';
import type { CollectionSpec } from './normalise.js';

// The server's own databases, and devstack_dumps_locks, where devstack-dumps keeps its load locks
// (@org/dump-set's mongo-load-lock.ts): never a database to load, drop or dump. Compared lower-cased:
// MongoDB refuses names differing only in case from an existing database, so `Admin` can only ever mean trouble.
const SYSTEM_DATABASES = new Set(['admin', 'local', 'config', 'devstack_dumps_locks']);

/** Whether `name` is one of MongoDB's own databases (admin, local, config) or devstack-dumps' lock database, in any case. */
export function isMongoSystemDatabase(name: string): boolean {
  return SYSTEM_DATABASES.has(name.toLowerCase());
}

/** Throws MongoSystemDatabaseError for the first system database among the write targets. */
export function refuseSystemDatabases(targets: Iterable<string>): void {
  for (const name of targets) if (isMongoSystemDatabase(name)) throw new MongoSystemDatabaseError(name);
}

// `<name>.metadata.json` must fit the usual 255-byte file name limit.
const MAX_FILE_NAME_BYTES = 255 - '.metadata.json'.length;

/**
 * Dump files are named after databases and collections. mongodump percent-escapes awkward names; we
 * refuse them instead, so every name maps to exactly one file on every OS.
 */
export function checkFileSafeName(kind: 'database' | 'collection', name: string, database?: string): void {
  const where = database ? ` in database "${database}"` : '';
  let problem: string | undefined;
  if (name === '' || name === '.' || name === '..') problem = 'is empty or a relative path';
  else if (/[/\\\0]/.test(name)) problem = 'contains a path separator or NUL';
  else if (name.startsWith('.')) problem = 'starts with "."';
  else if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) problem = `is longer than ${MAX_FILE_NAME_BYTES} bytes`;
  if (problem) {
    throw new MongoUnsupportedError(`${kind} name "${name}"${where} ${problem}, which cannot be a dump file name; rename it`);
  }
}

/**
 * Which collections of which database get documents. An entry `db.collection` whose prefix is one of
 * the dumped databases names that database's collection; any other entry is a bare collection name
 * (collection names may contain dots) looked up in every dumped database. Every entry must match at
 * least one collection, and only plain collections have documents of their own.
 */
export function resolveDataCollections(
  entries: readonly string[],
  catalogs: ReadonlyMap<string, readonly CollectionSpec[]>,
): Map<string, Set<string>> {
  const chosen = new Map<string, Set<string>>();
  const databases = [...catalogs.keys()];
  for (const entry of entries) {
    const dot = entry.indexOf('.');
    const prefix = dot > 0 ? entry.slice(0, dot) : undefined;
    const qualified = prefix !== undefined && catalogs.has(prefix);
    const targets = qualified ? [[prefix, entry.slice(dot + 1)] as const] : databases.map((db) => [db, entry] as const);
    let matched = 0;
    for (const [database, collection] of targets) {
      const spec = catalogs.get(database)?.find((candidate) => candidate.name === collection);
      if (!spec) continue;
      if (spec.type !== 'collection') {
        throw new MongoUnsupportedError(
          `data collection "${entry}" is a ${spec.type === 'view' ? 'view' : 'time series collection'} ` +
            `in database "${database}"; only plain collections can be dumped with documents, remove it from the list`,
        );
      }
      matched++;
      const set = chosen.get(database) ?? new Set<string>();
      set.add(collection);
      chosen.set(database, set);
    }
    if (matched === 0) throw new MongoCollectionNotFoundError(entry, qualified ? [prefix] : databases);
  }
  return chosen;
}
