import { EJSON } from 'bson';
import { compareNames, type CollectionType } from './normalise.js';
import { parseExtendedJson, toCanonicalJson, type OrderedDoc } from './ordered.js';
import type { MongoCollectionSchema, MongoDatabaseSchema, MongoSchema } from './schema.js';

/** One changed field of a collection or index, both sides readable (see `describeFields`). */
export interface MongoFieldChange {
  /** The option's name (`unique`, `validator`, `collation.strength`...); `TTL` for expireAfterSeconds. */
  field: string;
  from: string;
  to: string;
}

export interface MongoSchemaChange {
  change: 'added' | 'removed' | 'changed';
  object: 'database' | CollectionType | 'index';
  database: string;
  /** The collection, view or time series (the one an index belongs to, for indexes). */
  collection?: string;
  index?: string;
  /**
   * For 'changed': what it was and what it is, as canonical Extended JSON (the index spec without its
   * name; the collection's `{"type":...,"options":...}`), for tools.
   */
  before?: string;
  after?: string;
  /** For 'changed': the fields that differ, readable, in spec order (`type` first for a collection). */
  fields?: MongoFieldChange[];
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
        const typeChange = old.type === now.type ? [] : [{ field: 'type', from: typeName(old.type), to: typeName(now.type) }];
        changes.push({
          change: 'changed',
          object: now.type,
          database,
          collection,
          before: collectionJson(old),
          after: collectionJson(now),
          fields: [...typeChange, ...describeFields(parseDoc(old.options), parseDoc(now.options))],
        });
      }
      for (const [index, oldIndex, newIndex] of pairByName(old.indexes, now.indexes)) {
        if (!oldIndex) changes.push({ change: 'added', object: 'index', database, collection, index });
        else if (!newIndex) changes.push({ change: 'removed', object: 'index', database, collection, index });
        else if (oldIndex.spec !== newIndex.spec) {
          const fields = describeFields(parseDoc(oldIndex.spec), parseDoc(newIndex.spec));
          changes.push({ change: 'changed', object: 'index', database, collection, index, before: oldIndex.spec, after: newIndex.spec, fields });
        }
      }
    }
  }
  return changes;
}

const collectionJson = (c: MongoCollectionSchema) => `{"type":${JSON.stringify(c.type)},"options":${c.options}}`;
const typeName = (type: CollectionType | 'database' | 'index') => (type === 'timeseries' ? 'time series' : type);

function parseDoc(json: string): OrderedDoc {
  const parsed = parseExtendedJson(json);
  return parsed instanceof Map ? (parsed as OrderedDoc) : new Map();
}

/** `field from -> to, ...` of a changed collection or index (empty when nothing is listed). */
export function formatFieldChanges(fields: readonly MongoFieldChange[] | undefined): string {
  return (fields ?? []).map((f) => `${f.field} ${f.from} -> ${f.to}`).join(', ');
}

/** One line per change, e.g. `index "email_1" on app.users added`, `index "ttl" on app.s changed: TTL 3600s -> 60s`. */
export function formatMongoSchemaChange(change: MongoSchemaChange): string {
  const what =
    change.object === 'database'
      ? `database ${change.database}`
      : change.object === 'index'
        ? `index "${change.index}" on ${change.database}.${change.collection}`
        : `${typeName(change.object)} ${change.database}.${change.collection}`;
  const detail = change.change === 'changed' ? `: ${formatFieldChanges(change.fields)}` : '';
  return `${what} ${change.change}${detail}`;
}

function pairByName<T extends { name: string }>(before: readonly T[], after: readonly T[]): Array<[string, T | undefined, T | undefined]> {
  const names = [...new Set([...before.map((item) => item.name), ...after.map((item) => item.name)])].sort(compareNames);
  return names.map((name) => [name, before.find((item) => item.name === name), after.find((item) => item.name === name)]);
}

// ---- readable values ----

/** About how many characters one rendered value may take before it is cut with an ellipsis. */
const MAX_VALUE = 120;
/** Query-like documents: shown as compact JSON (relaxed Extended JSON; canonical where that hides the change). */
const DOCUMENT_FIELDS = new Set(['validator', 'partialFilterExpression', 'pipeline', 'storageEngine', 'indexOptionDefaults']);
/** Options with fixed sub-fields: when both sides have one, each changed sub-field is named (`collation.strength`). */
const STRUCT_FIELDS = new Set(['collation', 'timeseries', 'clusteredIndex', 'weights', 'changeStreamPreAndPostImages']);
/** ICU's defaults: a collation is shown as its locale and the fields that differ from these. */
const COLLATION_DEFAULTS: Record<string, unknown> = {
  caseLevel: false,
  caseFirst: 'off',
  strength: 3,
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
};

function clip(text: string, max = MAX_VALUE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Two long values cut so that their difference shows: a long common start is elided, then each is clipped. */
function clipPair(a: string, b: string, max = MAX_VALUE): [string, string] {
  if (a.length <= max && b.length <= max) return [a, b];
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const start = common > 40 ? common - 20 : 0;
  const cut = (text: string) => clip(start > 0 ? `…${text.slice(start)}` : text, max);
  return [cut(a), cut(b)];
}

/** Relaxed Extended JSON keeping the Maps' field order: `{"amount":{"$gt":100}}`. */
function relaxedJson(value: unknown): string {
  if (value instanceof Map) return `{${[...(value as OrderedDoc)].map(([k, v]) => `${JSON.stringify(k)}:${relaxedJson(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(relaxedJson).join(',')}]`;
  if (value === undefined) return '{"$undefined":true}';
  return EJSON.stringify(value, { relaxed: true });
}

/** A scalar or small document, shell-like: `{customer: 1, created: -1}`, bare words, quoted other text. */
function inline(value: unknown): string {
  if (value instanceof Map) return `{${[...(value as OrderedDoc)].map(([k, v]) => `${k}: ${inline(v)}`).join(', ')}}`;
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (typeof value === 'string') return /^[\w.$*-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  return relaxedJson(value);
}

function collationText(value: unknown): string {
  if (!(value instanceof Map)) return inline(value);
  const doc = value as OrderedDoc;
  const locale = doc.get('locale');
  const rest = [...doc].filter(([k, v]) => k !== 'locale' && inline(v) !== inline(COLLATION_DEFAULTS[k]));
  const extra = rest.length > 0 ? ` (${rest.map(([k, v]) => `${k} ${inline(v)}`).join(', ')})` : '';
  return `${typeof locale === 'string' ? locale : inline(locale)}${extra}`;
}

/** The readable `from` / `to` of one field; `none` (or `no`, against a boolean) when absent. */
function valuePair(field: string, from: unknown, to: unknown): [string, string] {
  const absent = typeof from === 'boolean' || typeof to === 'boolean' ? 'no' : 'none';
  const show = (render: (v: unknown) => string) => (v: unknown) => (v === undefined ? absent : render(v));
  if (DOCUMENT_FIELDS.has(field)) {
    let [a, b] = [show(relaxedJson)(from), show(relaxedJson)(to)];
    if (a === b) [a, b] = [show(toCanonicalJson)(from), show(toCanonicalJson)(to)];
    return clipPair(a, b);
  }
  if (field === 'expireAfterSeconds') return clipPair(show((v) => `${inline(v)}s`)(from), show((v) => `${inline(v)}s`)(to));
  if (field === 'collation') return clipPair(show(collationText)(from), show(collationText)(to));
  const scalar = (v: unknown) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : inline(v));
  let [a, b] = [show(scalar)(from), show(scalar)(to)];
  // Int32 1 and Double 1 read alike; the canonical form tells them apart.
  if (a === b) [a, b] = [show(toCanonicalJson)(from), show(toCanonicalJson)(to)];
  return clipPair(a, b);
}

/**
 * The fields that differ between two option documents or index specs, in their order (fields only
 * `after` has last): `key {a: 1} -> {a: 1, b: -1}`, `unique no -> yes`, `TTL 3600s -> 60s`,
 * `collation.strength 2 -> 1`, `validator {"$jsonSchema":...} -> ...` (documents as compact JSON).
 */
export function describeFields(before: OrderedDoc, after: OrderedDoc, prefix = ''): MongoFieldChange[] {
  const out: MongoFieldChange[] = [];
  for (const field of [...new Set([...before.keys(), ...after.keys()])]) {
    const from = before.get(field);
    const to = after.get(field);
    if (toCanonicalJson(from) === toCanonicalJson(to)) continue;
    if (STRUCT_FIELDS.has(prefix === '' ? field : '') && from instanceof Map && to instanceof Map) {
      const inner = describeFields(from as OrderedDoc, to as OrderedDoc, `${prefix}${field}.`);
      // Only the order of its fields changed (weights {title, body} -> {body, title}): the whole value shows it.
      if (inner.length > 0) {
        out.push(...inner);
        continue;
      }
    }
    const [a, b] = valuePair(prefix === '' ? field : '', from, to);
    out.push({ field: prefix === '' && field === 'expireAfterSeconds' ? 'TTL' : `${prefix}${field}`, from: a, to: b });
  }
  return out;
}
