import { readCatalog } from './catalog.js';
import { connectMongo, withPrivilege } from './connect.js';
import { readDumpDirectory } from './dump-directory.js';
import { MongoDatabaseNotFoundError } from './errors.js';
import { compareNames, type CollectionSpec, type CollectionType } from './normalise.js';
import { stringField, toCanonicalJson, type OrderedDoc } from './ordered.js';
import { mongoHosts } from './url.js';

/**
 * The schema of some MongoDB databases as plain, JSON-friendly data: arrays sorted by name (not
 * records, whose integer-like keys JS would reorder), options and index specs as canonical Extended
 * JSON strings in the same normalised form the dump writes.
 */
export interface MongoSchema {
  databases: MongoDatabaseSchema[];
}

export interface MongoDatabaseSchema {
  name: string;
  collections: MongoCollectionSchema[];
}

export interface MongoCollectionSchema {
  name: string;
  type: CollectionType;
  /** Canonical Extended JSON of the normalised options ("{}" when none). */
  options: string;
  indexes: Array<{ name: string; spec: string }>;
}

export type MongoSchemaSource = { dir: string } | { url: string; databases: readonly string[]; waitSeconds?: number };

/** The schema of a dump set directory (its `mongo/` part) or of live databases. */
export async function readMongoSchema(source: MongoSchemaSource): Promise<MongoSchema> {
  if ('dir' in source) {
    const dumped = await readDumpDirectory(source.dir);
    return { databases: dumped.map((db) => databaseSchema(db.name, db.collections)) };
  }
  const client = await connectMongo(source.url, { waitSeconds: source.waitSeconds ?? 0 });
  try {
    const listed = await withPrivilege('listDatabases', 'admin', () => client.db('admin').admin().listDatabases({ nameOnly: true }));
    const existing = new Set(listed.databases.map((entry) => entry.name));
    const databases: MongoDatabaseSchema[] = [];
    for (const name of [...new Set(source.databases)].sort(compareNames)) {
      if (!existing.has(name)) throw new MongoDatabaseNotFoundError(name, mongoHosts(source.url));
      databases.push(databaseSchema(name, await readCatalog(client.db(name))));
    }
    return { databases };
  } finally {
    await client.close();
  }
}

export function databaseSchema(name: string, specs: readonly CollectionSpec[]): MongoDatabaseSchema {
  return {
    name,
    collections: [...specs]
      .sort((a, b) => compareNames(a.name, b.name))
      .map((spec) => ({
        name: spec.name,
        type: spec.type,
        options: toCanonicalJson(spec.options),
        indexes: spec.indexes.map((index) => ({ name: stringField(index, 'name') ?? '', spec: indexSpecJson(index) })),
      })),
  };
}

/** The index without its name, so a rename shows as removed + added and an option change as changed. */
function indexSpecJson(index: OrderedDoc): string {
  return toCanonicalJson(new Map([...index].filter(([field]) => field !== 'name')));
}

export interface MongoSchemaChange {
  change: 'added' | 'removed' | 'changed';
  object: 'database' | CollectionType | 'index';
  database: string;
  /** The collection, view or time series (the one an index belongs to, for indexes). */
  collection?: string;
  index?: string;
  /** For 'changed': what it was and what it is (type, options or index spec). */
  before?: string;
  after?: string;
}

/** What changed from `before` to `after`, ordered by database, collection, then index. */
export function diffMongoSchemas(before: MongoSchema, after: MongoSchema): MongoSchemaChange[] {
  const changes: MongoSchemaChange[] = [];
  for (const [database, old, now] of pairByName(before.databases, after.databases)) {
    if (!old) changes.push({ change: 'added', object: 'database', database });
    else if (!now) changes.push({ change: 'removed', object: 'database', database });
    else changes.push(...diffDatabase(database, old, now));
  }
  return changes;
}

function diffDatabase(database: string, before: MongoDatabaseSchema, after: MongoDatabaseSchema): MongoSchemaChange[] {
  const changes: MongoSchemaChange[] = [];
  for (const [collection, old, now] of pairByName(before.collections, after.collections)) {
    if (!old && now) changes.push({ change: 'added', object: now.type, database, collection });
    else if (old && !now) changes.push({ change: 'removed', object: old.type, database, collection });
    else if (old && now) {
      if (old.type !== now.type || old.options !== now.options) {
        changes.push({
          change: 'changed',
          object: now.type,
          database,
          collection,
          before: describeCollection(old, now),
          after: describeCollection(now, old),
        });
      }
      for (const [index, oldIndex, newIndex] of pairByName(old.indexes, now.indexes)) {
        if (!oldIndex) changes.push({ change: 'added', object: 'index', database, collection, index });
        else if (!newIndex) changes.push({ change: 'removed', object: 'index', database, collection, index });
        else if (oldIndex.spec !== newIndex.spec) {
          changes.push({ change: 'changed', object: 'index', database, collection, index, before: oldIndex.spec, after: newIndex.spec });
        }
      }
    }
  }
  return changes;
}

function describeCollection(self: MongoCollectionSchema, other: MongoCollectionSchema): string {
  const parts: string[] = [];
  if (self.type !== other.type) parts.push(self.type);
  if (self.options !== other.options) parts.push(`options ${self.options}`);
  return parts.join(', ');
}

/** One line per change, e.g. `index "email_1" on app.users added`. */
export function formatMongoSchemaChange(change: MongoSchemaChange): string {
  const what =
    change.object === 'database'
      ? `database ${change.database}`
      : change.object === 'index'
        ? `index "${change.index}" on ${change.database}.${change.collection}`
        : `${change.object === 'timeseries' ? 'time series' : change.object} ${change.database}.${change.collection}`;
  const detail = change.change === 'changed' ? `: ${change.before} -> ${change.after}` : '';
  return `${what} ${change.change}${detail}`;
}

function pairByName<T extends { name: string }>(before: readonly T[], after: readonly T[]): Array<[string, T | undefined, T | undefined]> {
  const names = [...new Set([...before.map((item) => item.name), ...after.map((item) => item.name)])].sort(compareNames);
  return names.map((name) => [name, before.find((item) => item.name === name), after.find((item) => item.name === name)]);
}
