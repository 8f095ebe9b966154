import { docField, stringField, toCanonicalJson, type OrderedDoc } from './ordered.js';

/**
 * What a collection of a dump is, independent of where it was read from (a live server's
 * listCollections/listIndexes, or a `.metadata.json` file). Always normalised (see below), so two specs
 * of the same schema are equal field by field and serialise to the same bytes.
 */
export interface CollectionSpec {
  name: string;
  type: CollectionType;
  options: OrderedDoc;
  /** Sorted by name; views have none. */
  indexes: OrderedDoc[];
}

export type CollectionType = 'collection' | 'view' | 'timeseries';

/*
 * Normalisation decisions (each keeps the dump a function of the schema only):
 * - index `v` (index format version) and `ns` (namespace, listed by MongoDB <= 4.2) are dropped: the
 *   server picks `v` when it builds the index (mongorestore drops it too unless --keepIndexVersion) and
 *   `ns` would tie the dump to the source database name. `textIndexVersion`/`2dsphereIndexVersion` are
 *   kept: they change how the index tokenises/matches, so they are schema.
 * - `collation.version` (the server's ICU library version) is dropped from collection, view and index
 *   collations; it changes with the server build, not with the schema.
 * - `clusteredIndex.v` is dropped like the index `v`.
 * - index fields are ordered `key`, `name`, then the other options by name; indexes are ordered by name;
 *   collection options are ordered by name. Nested values (index keys, validators, pipelines,
 *   partial filters) keep the server's field order, which is meaningful (compound keys, $sort stages).
 * - `system.*` collections (system.views, system.buckets.*, system.profile...) are never dumped: the
 *   server maintains them from the views/time series we do dump.
 */
const DROPPED_INDEX_FIELDS = new Set(['v', 'ns']);

export function normaliseIndex(index: OrderedDoc): OrderedDoc {
  const key = index.get('key');
  const name = index.get('name');
  const rest = [...index.entries()]
    .filter(([field]) => field !== 'key' && field !== 'name' && !DROPPED_INDEX_FIELDS.has(field))
    .sort(([a], [b]) => compareNames(a, b))
    .map(([field, value]): [string, unknown] => [field, field === 'collation' ? normaliseCollation(value) : value]);
  return new Map<string, unknown>([
    ['key', key],
    ['name', name],
    ...rest,
  ]);
}

export function normaliseCollectionOptions(options: OrderedDoc): OrderedDoc {
  return new Map(
    [...options.entries()]
      .sort(([a], [b]) => compareNames(a, b))
      .map(([field, value]): [string, unknown] => {
        if (field === 'collation') return [field, normaliseCollation(value)];
        if (field === 'clusteredIndex' && value instanceof Map) {
          return [field, new Map([...(value as OrderedDoc)].filter(([inner]) => inner !== 'v'))];
        }
        return [field, value];
      }),
  );
}

function normaliseCollation(value: unknown): unknown {
  if (!(value instanceof Map)) return value;
  return new Map([...(value as OrderedDoc)].filter(([field]) => field !== 'version'));
}

export function sortIndexes(indexes: OrderedDoc[]): OrderedDoc[] {
  return [...indexes].sort((a, b) => compareNames(stringField(a, 'name') ?? '', stringField(b, 'name') ?? ''));
}

/** Code-unit order: locale independent, so every machine sorts the same way. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A collection spec from one `listCollections` entry and the collection's `listIndexes` entries. */
export function specFromCatalog(entry: OrderedDoc, indexes: OrderedDoc[]): CollectionSpec {
  const name = stringField(entry, 'name') ?? '';
  const type = collectionTypeOf(stringField(entry, 'type'));
  return {
    name,
    type,
    options: normaliseCollectionOptions(docField(entry, 'options')),
    indexes: type === 'view' ? [] : sortIndexes(indexes.map(normaliseIndex)),
  };
}

/** The listCollections entries a dump covers (no `system.*`), sorted by name. */
export function dumpedCatalogEntries(entries: readonly OrderedDoc[]): OrderedDoc[] {
  return entries
    .filter((entry) => !isSystemCollection(stringField(entry, 'name') ?? ''))
    .sort((a, b) => compareNames(stringField(a, 'name') ?? '', stringField(b, 'name') ?? ''));
}

export function collectionTypeOf(type: string | undefined): CollectionType {
  return type === 'view' || type === 'timeseries' ? type : 'collection';
}

export function isSystemCollection(name: string): boolean {
  return name.startsWith('system.');
}

/**
 * The `<collection>.metadata.json` content in the layout mongodump writes (options, indexes,
 * collectionName, type; `options` omitted when empty) minus `uuid`, which is per-server identity.
 */
export function metadataJson(spec: CollectionSpec): string {
  const metadata: OrderedDoc = new Map();
  if (spec.options.size > 0) metadata.set('options', spec.options);
  metadata.set('indexes', spec.indexes);
  metadata.set('collectionName', spec.name);
  metadata.set('type', spec.type);
  return toCanonicalJson(metadata);
}

/**
 * A spec from a parsed `.metadata.json` (ours or mongodump's), normalised the same way as a live
 * catalog, so a mongodump-written dump compares equal to ours. Returns a problem description instead
 * of throwing so the caller can name the file.
 */
export function specFromMetadata(fileCollectionName: string, parsed: unknown): CollectionSpec | string {
  if (!(parsed instanceof Map)) return 'metadata is not a JSON object';
  const doc = parsed as OrderedDoc;
  const indexes = doc.get('indexes') ?? [];
  if (!Array.isArray(indexes) || !indexes.every((index) => index instanceof Map && index.get('key') instanceof Map && (index.get('key') as OrderedDoc).size > 0)) {
    return '"indexes" must be an array of index documents with a non-empty "key"';
  }
  // Index names are how the load, the diff and the server tell indexes apart: each must have its own.
  const names = new Set<string>();
  for (const [position, index] of (indexes as OrderedDoc[]).entries()) {
    const name = index.get('name');
    if (typeof name !== 'string' || name === '') return `index ${position + 1} of "indexes" has no "name" (a non-empty string)`;
    if (names.has(name)) return `two indexes are named "${name}"`;
    names.add(name);
  }
  const options = doc.get('options') ?? new Map();
  if (!(options instanceof Map)) return '"options" must be an object';
  const rawName = doc.get('collectionName');
  if (rawName !== undefined && typeof rawName !== 'string') return '"collectionName" must be a string';
  const name = rawName ?? fileCollectionName;
  if (name !== fileCollectionName) {
    return `collectionName "${name}" does not match the collection "${fileCollectionName}" the file name stands for (file names escape collection names as mongodump does)`;
  }
  const rawType = doc.get('type');
  if (rawType !== undefined && !KNOWN_TYPES.has(rawType as CollectionType)) {
    return `"type" is ${toCanonicalJson(rawType)}; expected "collection", "view" or "timeseries"`;
  }
  const type = collectionTypeOf((rawType as string | undefined) ?? (options.has('viewOn') ? 'view' : undefined));
  return specFromCatalog(
    new Map<string, unknown>([
      ['name', name],
      ['type', type],
      ['options', options],
    ]),
    indexes as OrderedDoc[],
  );
}

const KNOWN_TYPES = new Set<CollectionType>(['collection', 'view', 'timeseries']);
