import { createHash } from 'node:crypto';
import { Double, ObjectId } from 'bson';
import type { OrderedDoc } from './ordered.js';

/**
 * A migration tool's bookkeeping collection: its documents say which migrations ran, so a dump without
 * them cannot be migrated forward (the tool would run every migration again on the loaded database). It
 * is dumped with its documents whatever `dataCollections` says, once its name and its documents' fields
 * identify it; it never holds users, sessions or tokens. Fields recording when or in which run a migration
 * was applied get values that depend only on the order the migrations ran in, and the random ObjectId
 * `_id` one derived from the migration's name, so the same migrations give the same bytes, migrated
 * incrementally or from scratch.
 */
export interface BookkeepingCollection {
  tool: string;
  collection: string;
  /** Fields every document has. */
  fields: readonly string[];
  /**
   * For a name an application could use too (`changelog`): every field the tool writes; a collection with
   * a document holding any other field is the application's, and keeps no documents unless listed.
   */
  only?: readonly string[];
  /** Field -> fixed value, set where a document has the field. */
  fixed: Readonly<Record<string, unknown>>;
  /**
   * The time the tool orders its entries by (Mongock reads the newest entry of a change as its state):
   * rewritten to EPOCH + the entry's rank in that order, in milliseconds, so the order is kept.
   */
  orderedBy?: string;
  /**
   * A field that identifies the run (Mongock's `executionId`, part of its unique index with the change):
   * rewritten to how many entries of the same migration came before (`"0"`, `"1"`, ...).
   */
  runField?: string;
  /** The fields whose values name a migration: `_id` becomes an ObjectId hashed from them (and the repeat). */
  idFrom: readonly string[];
}

const EPOCH = new Date(Date.UTC(2000, 0, 1));

export const BOOKKEEPING_COLLECTIONS: readonly BookkeepingCollection[] = [
  // migrate-mongo. `migrationBlock` numbers each `up` run; 0 reads as "no block" to `down --block`, which then
  // undoes the last migration only (a constant block would undo every migration of the dump).
  {
    tool: 'migrate-mongo',
    collection: 'changelog',
    fields: ['fileName', 'appliedAt'],
    // `fileHash` with its `useFileHash` option.
    only: ['_id', 'fileName', 'fileHash', 'appliedAt', 'migrationBlock'],
    fixed: { migrationBlock: new Double(0) },
    orderedBy: 'appliedAt',
    idFrom: ['fileName'],
  },
  // Mongock (Java): one entry per execution of a change (state EXECUTED, FAILED, ROLLED_BACK...).
  {
    tool: 'Mongock',
    collection: 'mongockChangeLog',
    fields: ['changeId', 'author', 'state', 'timestamp'],
    fixed: { executionMillis: new Double(0), executionHostname: 'fixed' },
    orderedBy: 'timestamp',
    runField: 'executionId',
    idFrom: ['changeId', 'author'],
  },
];

/**
 * The bookkeeping preset a collection matches, from its name and its documents (all of them, or the first
 * `sample.length` when the caller read no more): undefined when none does.
 */
export function bookkeepingOf(collection: string, sample: readonly OrderedDoc[]): BookkeepingCollection | undefined {
  return BOOKKEEPING_COLLECTIONS.find(
    (preset) =>
      preset.collection === collection &&
      sample.every((document) => preset.fields.every((field) => document.has(field)) && (!preset.only || [...document.keys()].every((field) => preset.only!.includes(field)))),
  );
}

const timeOf = (value: unknown) => (value instanceof Date ? value.getTime() : Number.NaN);

/**
 * The documents as dumped (given in `_id` order): in the tool's order (`orderedBy`, ties kept in `_id`
 * order), each with fixed fields set in place (field order kept), its time the rank in that order, its run
 * field and `_id` derived from its migration and how many entries of that migration came before; sorted
 * by the new `_id`.
 */
export function normaliseBookkeeping(preset: BookkeepingCollection, documents: readonly OrderedDoc[]): OrderedDoc[] {
  const ranked = documents
    .map((document, index) => ({ document, index }))
    .sort((a, b) => {
      if (preset.orderedBy === undefined) return a.index - b.index;
      const [x, y] = [timeOf(a.document.get(preset.orderedBy)), timeOf(b.document.get(preset.orderedBy))];
      return (Number.isNaN(x) || Number.isNaN(y) ? 0 : x - y) || a.index - b.index;
    });
  const seen = new Map<string, number>();
  const normalised = ranked.map(({ document }, rank) => {
    const name = JSON.stringify(preset.idFrom.map((field) => String(document.get(field) ?? '')));
    const repeat = seen.get(name) ?? 0;
    seen.set(name, repeat + 1);
    const id = new ObjectId(createHash('sha256').update(`${name}#${repeat}`).digest().subarray(0, 12));
    const out: OrderedDoc = new Map();
    for (const [field, value] of document) {
      if (field === '_id') out.set(field, id);
      else if (field === preset.orderedBy && value instanceof Date) out.set(field, new Date(EPOCH.getTime() + rank));
      else if (field === preset.runField) out.set(field, String(repeat));
      else out.set(field, Object.hasOwn(preset.fixed, field) ? preset.fixed[field] : value);
    }
    return out;
  });
  const idOf = (document: OrderedDoc) => (document.get('_id') as ObjectId).toHexString();
  return normalised.sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
}
