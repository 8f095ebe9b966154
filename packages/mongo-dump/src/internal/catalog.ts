import type { Db } from 'mongodb';
import { withPrivilege } from './connect.js';
import { compareNames, dumpedCatalogEntries, isSystemCollection, specFromCatalog, type CollectionSpec } from './normalise.js';
import { readBsonDocument, stringField, type OrderedDoc } from './ordered.js';

const INDEX_LISTING_CONCURRENCY = 4;

/**
 * The collections, views and indexes of one database, normalised and sorted by name. Catalog entries
 * are fetched as raw BSON and read with field order kept (see ordered.ts).
 */
export async function readCatalog(db: Db): Promise<CollectionSpec[]> {
  const entries = await withPrivilege('listCollections', db.databaseName, async () => {
    const found: OrderedDoc[] = [];
    for await (const raw of db.listCollections({}, { raw: true })) {
      found.push(readBsonDocument(raw as unknown as Uint8Array));
    }
    return found;
  });
  return mapWithLimit(dumpedCatalogEntries(entries), INDEX_LISTING_CONCURRENCY, async (entry) => {
    const name = stringField(entry, 'name') ?? '';
    const indexes = stringField(entry, 'type') === 'view' ? [] : await listIndexes(db, name);
    return specFromCatalog(entry, indexes);
  });
}

/** A collection's listIndexes entries, read with field order kept. */
export async function listIndexes(db: Db, collection: string): Promise<OrderedDoc[]> {
  return withPrivilege('listIndexes', db.databaseName, async () => {
    const found: OrderedDoc[] = [];
    for await (const raw of db.collection(collection).listIndexes({ raw: true })) {
      found.push(readBsonDocument(raw as unknown as Uint8Array));
    }
    return found;
  });
}

/** Names of the non-system collections and views of a database (for emptiness checks). */
export async function listCollectionNames(db: Db): Promise<string[]> {
  const names = await withPrivilege('listCollections', db.databaseName, () =>
    db.listCollections({}, { nameOnly: true }).toArray(),
  );
  return names
    .map((entry) => entry.name)
    .filter((name) => !isSystemCollection(name))
    .sort(compareNames);
}

/** Results in input order, at most `limit` calls in flight. */
export async function mapWithLimit<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
