import type { Document } from 'mongodb';
import type { CollectionSpec } from './normalise.js';
import { normaliseIndex } from './normalise.js';
import { docField, stringField, toCanonicalJson, type OrderedDoc } from './ordered.js';

/*
 * Which index commands a load sends after creating a collection, so the loaded index set equals the
 * dumped one. Pure: the loader lists the live indexes (when needed) and runs what these return.
 */

/**
 * Whether createCollection itself builds this index, so createIndexes must never be sent it: the `_id_`
 * index, or a clustered collection's cluster key. The cluster key may carry any name
 * (`clusteredIndex.name`), so it is recognised by `clustered: true` or, for dumps written without that
 * flag, by being unique on `clusteredIndex.key` (mongorestore likewise skips the `_id` key by key).
 */
export function isBuiltWithCollection(index: OrderedDoc, options: OrderedDoc): boolean {
  if (stringField(index, 'name') === '_id_' || index.get('clustered') === true) return true;
  const clusteredIndex = options.get('clusteredIndex');
  if (!(clusteredIndex instanceof Map)) return false;
  return index.get('unique') === true && sameKey(docField(index, 'key'), docField(clusteredIndex as OrderedDoc, 'key'));
}

/**
 * Whether the server may add indexes of its own when it creates the collection: since MongoDB 6.3 a
 * time series with a metaField gets `{ <metaField>: 1, <timeField>: 1 }` (named `<meta>_1_<time>_1`),
 * which a dump whose source had dropped it must not gain. Other collections start with only what
 * isBuiltWithCollection covers, so their live indexes need not be listed.
 */
export function serverMayAddIndexes(options: OrderedDoc): boolean {
  return options.has('timeseries');
}

/**
 * The dumped indexes createIndexes must build: all but those createCollection built and those already
 * on the collection exactly as dumped (e.g. a time series' automatic index that the dump also has).
 */
export function indexesToCreate(dumped: readonly OrderedDoc[], options: OrderedDoc, existing: readonly OrderedDoc[] = []): OrderedDoc[] {
  return dumped.filter(
    (index) => !isBuiltWithCollection(index, options) && !existing.some((live) => sameIndex(live, index)),
  );
}

/**
 * Names of the live indexes to drop so the collection has only the dumped ones: for a time series, those
 * the server added that the dump lacks or has with another spec (the dumped one is then created again).
 * Never `_id_` or a cluster key, and never anything on other collections (see serverMayAddIndexes).
 */
export function indexesToDrop(existing: readonly OrderedDoc[], dumped: readonly OrderedDoc[], options: OrderedDoc): string[] {
  if (!serverMayAddIndexes(options)) return [];
  const names: string[] = [];
  for (const live of existing) {
    const name = stringField(live, 'name');
    if (name === undefined || isBuiltWithCollection(live, options)) continue;
    if (!dumped.some((index) => sameIndex(live, index))) names.push(name);
  }
  return names;
}

/**
 * The commands, in order, that turn `existing` (the collection's live indexes right after it was
 * created; empty when serverMayAddIndexes is false) into the dumped index set: drops first, so a dumped
 * index may reuse the name or key of one the server added.
 */
export function indexCommands(spec: CollectionSpec, existing: readonly OrderedDoc[]): Document[] {
  const commands: Document[] = indexesToDrop(existing, spec.indexes, spec.options).map((name) => ({
    dropIndexes: spec.name,
    index: name,
  }));
  const indexes = indexesToCreate(spec.indexes, spec.options, existing);
  if (indexes.length > 0) commands.push({ createIndexes: spec.name, indexes });
  return commands;
}

/** Same name, key and options once normalised (index `v`, `ns` and collation versions are not schema). */
function sameIndex(a: OrderedDoc, b: OrderedDoc): boolean {
  return toCanonicalJson(normaliseIndex(a)) === toCanonicalJson(normaliseIndex(b));
}

/** Same fields in the same order with equal directions, whatever their numeric type (1 vs 1.0). */
function sameKey(a: OrderedDoc, b: OrderedDoc): boolean {
  if (a.size === 0 || a.size !== b.size) return false;
  const right = [...b];
  return [...a].every(([field, value], position) => {
    const [otherField, otherValue] = right[position] ?? [];
    return field === otherField && keyDirection(value) === keyDirection(otherValue);
  });
}

function keyDirection(value: unknown): string {
  // Int32/Double/Long convert to their number; strings ("hashed", "2dsphere") stay as they are.
  return typeof value === 'string' ? `s:${value}` : `n:${Number(value)}`;
}
