import { createHash } from 'node:crypto';
import { Double, ObjectId } from 'bson';
import type { OrderedDoc } from './ordered.js';

/**
 * A migration tool's bookkeeping collection: its documents say which migrations ran, so a dump without
 * them cannot be migrated forward (the tool would run every migration again on the loaded database). It
 * is dumped with its documents whatever `dataCollections` says, once its name and its documents' fields
 * identify it; it never holds users, sessions or tokens. Fields recording when or in which run a migration
 * was applied get fixed values, and the random ObjectId `_id` one derived from the migration's name, so
 * the same migrations give the same bytes, migrated incrementally or from scratch.
 */
export interface BookkeepingCollection {
  tool: string;
  collection: string;
  /** Fields every document of the collection has (the first one is checked). */
  fields: readonly string[];
  /** Field -> fixed value, set where a document has the field. */
  fixed: Readonly<Record<string, unknown>>;
  /** The fields whose values name a migration: `_id` becomes an ObjectId hashed from them. */
  idFrom: readonly string[];
}

const EPOCH = new Date(Date.UTC(2000, 0, 1));

export const BOOKKEEPING_COLLECTIONS: readonly BookkeepingCollection[] = [
  // migrate-mongo; `migrationBlock` numbers each `up` run (what `down --block` undoes): a loaded dump is one block.
  { tool: 'migrate-mongo', collection: 'changelog', fields: ['fileName', 'appliedAt'], fixed: { appliedAt: EPOCH, migrationBlock: new Double(0) }, idFrom: ['fileName'] },
  // Mongock (Java)
  {
    tool: 'Mongock',
    collection: 'mongockChangeLog',
    fields: ['changeId', 'author', 'state', 'timestamp'],
    fixed: { executionId: 'fixed', timestamp: EPOCH, executionMillis: new Double(0), executionHostname: 'fixed' },
    idFrom: ['changeId', 'author', 'state'],
  },
];

/** The bookkeeping preset a collection matches, from its name and its first document (undefined: none). */
export function bookkeepingOf(collection: string, first: OrderedDoc | undefined): BookkeepingCollection | undefined {
  return BOOKKEEPING_COLLECTIONS.find((preset) => preset.collection === collection && (first === undefined || preset.fields.every((field) => first.has(field))));
}

/**
 * The documents as dumped (given in `_id` order, that is in the order the tool wrote them): fixed fields set
 * in place (field order kept), `_id` derived from the migration's name (and, for a name recorded again, how
 * many times it was before), sorted by that `_id`.
 */
export function normaliseBookkeeping(preset: BookkeepingCollection, documents: readonly OrderedDoc[]): OrderedDoc[] {
  const seen = new Map<string, number>();
  const normalised = documents.map((document) => {
    const name = JSON.stringify(preset.idFrom.map((field) => String(document.get(field) ?? '')));
    const repeat = seen.get(name) ?? 0;
    seen.set(name, repeat + 1);
    const id = new ObjectId(createHash('sha256').update(`${name}#${repeat}`).digest().subarray(0, 12));
    const out: OrderedDoc = new Map();
    for (const [field, value] of document) out.set(field, field === '_id' ? id : Object.hasOwn(preset.fixed, field) ? preset.fixed[field] : value);
    return out;
  });
  const idOf = (document: OrderedDoc) => (document.get('_id') as ObjectId).toHexString();
  return normalised.sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
}
