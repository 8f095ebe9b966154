import { readCatalog } from './catalog.js';
import { connectMongo, withPrivilege } from './connect.js';
import { readDumpDirectory } from './dump-directory.js';
import { MongoDatabaseNotFoundError } from './errors.js';
import { compareNames, type CollectionSpec, type CollectionType } from './normalise.js';
import { stringField, toCanonicalJson, type OrderedDoc } from './ordered.js';
import { mongoHosts } from './url.js';

export { diffMongoSchemas, formatMongoSchemaChange, type MongoFieldChange, type MongoSchemaChange } from './schema-diff.js';

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
