import { describe, expect, test } from 'vitest';
import { diffMongoSchemas, formatMongoSchemaChange, type MongoSchema } from '../src/index.js';
import { normaliseIndex, type CollectionSpec } from '../src/internal/normalise.js';
import { parseExtendedJson, type OrderedDoc } from '../src/internal/ordered.js';
import { databaseSchema } from '../src/internal/schema.js';
import { recordedSpecs } from './recorded-catalog.js';

const base = recordedSpecs();
const shop = (specs: CollectionSpec[]): MongoSchema => ({ databases: [databaseSchema('shop', specs)] });
const index = (json: string) => normaliseIndex(parseExtendedJson(json) as OrderedDoc);
const edit = (name: string, change: (spec: CollectionSpec) => CollectionSpec) =>
  base.map((spec) => (spec.name === name ? change(spec) : spec));

describe('schema diff between two versions of the recorded MongoDB 7 catalog', () => {
  test('identical schemas have no changes', () => {
    expect(diffMongoSchemas(shop(base), shop(recordedSpecs()))).toEqual([]);
  });

  test.each([
    [
      'collection added',
      [...base, { name: 'carts', type: 'collection', options: new Map(), indexes: [] } as CollectionSpec],
      ['collection shop.carts added'],
    ],
    ['view removed', base.filter((spec) => spec.name !== 'big_spenders'), ['view shop.big_spenders removed']],
    ['time series removed', base.filter((spec) => spec.name !== 'weather'), ['time series shop.weather removed']],
    [
      'index added',
      edit('orders', (spec) => ({ ...spec, indexes: [...spec.indexes, index('{"key":{"paidAt":1},"name":"paidAt_1"}')] })),
      ['index "paidAt_1" on shop.orders added'],
    ],
    [
      'index removed',
      edit('orders', (spec) => ({ ...spec, indexes: spec.indexes.filter((i) => i.get('name') !== 'coupon_1') })),
      ['index "coupon_1" on shop.orders removed'],
    ],
    [
      'index changed (TTL altered)',
      edit('orders', (spec) => ({
        ...spec,
        indexes: spec.indexes.map((i) =>
          i.get('name') === 'expiresAt_1' ? index('{"key":{"expiresAt":1},"name":"expiresAt_1","expireAfterSeconds":60}') : i,
        ),
      })),
      ['index "expiresAt_1" on shop.orders changed: TTL 3600s -> 60s'],
    ],
    [
      'compound key order changed',
      edit('orders', (spec) => ({
        ...spec,
        indexes: spec.indexes.map((i) =>
          i.get('name') === 'customer_1_created_-1' ? index('{"key":{"created":-1,"customer":1},"name":"customer_1_created_-1"}') : i,
        ),
      })),
      ['index "customer_1_created_-1" on shop.orders changed: key {customer: 1, created: -1} -> {created: -1, customer: 1}'],
    ],
    [
      'collection options changed',
      edit('audit_log', (spec) => ({ ...spec, options: new Map<string, unknown>([['capped', true], ['size', 4096]]) })),
      ['collection shop.audit_log changed: max 5000 -> none, size 1048576 -> 4096'],
    ],
    [
      'collection replaced by a view',
      edit('stocks', () => ({ name: 'stocks', type: 'view', options: new Map<string, unknown>([['viewOn', 'orders'], ['pipeline', []]]), indexes: [] })),
      [
        'view shop.stocks changed: type collection -> view, clusteredIndex {key: {_id: 1}, name: _id_, unique: true} -> none, viewOn none -> orders, pipeline none -> []',
        'index "_id_" on shop.stocks removed',
      ],
    ],
  ] as Array<[string, CollectionSpec[], string[]]>)('%s', (_case, after, expected) => {
    expect(diffMongoSchemas(shop(base), shop(after)).map(formatMongoSchemaChange)).toEqual(expected);
  });

  const replaceIndex = (collection: string, name: string, json: string) =>
    edit(collection, (spec) => ({ ...spec, indexes: spec.indexes.map((i) => (i.get('name') === name ? index(json) : i)) }));
  const options = (collection: string, json: string) => edit(collection, (spec) => ({ ...spec, options: parseExtendedJson(json) as OrderedDoc }));
  const en2 = '"collation":{"locale":"en","caseLevel":false,"caseFirst":"off","strength":2,"numericOrdering":false,"alternate":"non-ignorable","maxVariable":"punct","normalization":false,"backwards":false}';

  test.each([
    ['made unique', replaceIndex('orders', 'coupon_1', '{"key":{"coupon":1},"name":"coupon_1","sparse":true,"unique":true}'), 'index "coupon_1" on shop.orders changed: unique no -> yes'],
    ['no longer sparse', replaceIndex('orders', 'coupon_1', '{"key":{"coupon":1},"name":"coupon_1"}'), 'index "coupon_1" on shop.orders changed: sparse yes -> no'],
    ['hidden', replaceIndex('orders', 'coupon_1', '{"key":{"coupon":1},"name":"coupon_1","hidden":true,"sparse":true}'), 'index "coupon_1" on shop.orders changed: hidden no -> yes'],
    ['TTL added', replaceIndex('orders', 'number_1', '{"key":{"number":1},"name":"number_1","unique":true,"expireAfterSeconds":60}'), 'index "number_1" on shop.orders changed: TTL none -> 60s'],
    ['a descending key', replaceIndex('orders', 'number_1', '{"key":{"number":-1},"name":"number_1","unique":true}'), 'index "number_1" on shop.orders changed: key {number: 1} -> {number: -1}'],
    [
      'partial filter changed',
      replaceIndex('orders', 'open_by_amount', '{"key":{"status":1,"amount":1},"name":"open_by_amount","partialFilterExpression":{"status":{"$in":["open"]},"amount":{"$gt":100}}}'),
      'index "open_by_amount" on shop.orders changed: partialFilterExpression {"status":{"$in":["open","pending"]},"amount":{"$gt":100}} -> {"status":{"$in":["open"]},"amount":{"$gt":100}}',
    ],
    [
      'a partial filter value changed only in its BSON type',
      replaceIndex('orders', 'open_by_amount', '{"key":{"status":1,"amount":1},"name":"open_by_amount","partialFilterExpression":{"status":{"$in":["open","pending"]},"amount":{"$gt":{"$numberDouble":"100.0"}}}}'),
      'index "open_by_amount" on shop.orders changed: partialFilterExpression {"status":{"$in":["open","pending"]},"amount":{"$gt":{"$numberInt":"100"}}}' +
        ' -> {"status":{"$in":["open","pending"]},"amount":{"$gt":{"$numberDouble":"100.0"}}}',
    ],
    [
      'collation strength',
      replaceIndex('customers', 'email_1', `{"key":{"email":1},"name":"email_1","unique":true,${en2.replace('"strength":2', '"strength":1')}}`),
      'index "email_1" on shop.customers changed: collation.strength 2 -> 1',
    ],
    ['collation dropped', replaceIndex('customers', 'email_1', '{"key":{"email":1},"name":"email_1","unique":true}'), 'index "email_1" on shop.customers changed: collation en (strength 2) -> none'],
    [
      'text index weights',
      replaceIndex('customers', 'name_text_bio_text', '{"key":{"_fts":"text","_ftsx":1},"name":"name_text_bio_text","default_language":"english","language_override":"language","textIndexVersion":3,"weights":{"bio":1,"name":5}}'),
      'index "name_text_bio_text" on shop.customers changed: weights.name 10 -> 5',
    ],
    [
      'text index weights only reordered (every field the same): the whole value, never an empty change',
      replaceIndex('customers', 'name_text_bio_text', '{"key":{"_fts":"text","_ftsx":1},"name":"name_text_bio_text","default_language":"english","language_override":"language","textIndexVersion":3,"weights":{"name":10,"bio":1}}'),
      'index "name_text_bio_text" on shop.customers changed: weights {bio: 1, name: 10} -> {name: 10, bio: 1}',
    ],
    [
      'validator changed (long: cut where it differs)',
      options('customers', '{"validationAction":"warn","validationLevel":"moderate","validator":{"$jsonSchema":{"bsonType":"object","required":["email","name"],"properties":{"email":{"bsonType":"string"},"name":{"bsonType":"string","maxLength":200}}}}}'),
      'collection shop.customers changed: validationAction error -> warn, validationLevel strict -> moderate, ' +
        'validator …{"bsonType":"string"}}}} -> …{"bsonType":"string","maxLength":200}}}}',
    ],
    [
      'view pipeline changed',
      options('big_spenders', '{"pipeline":[{"$match":{"total":{"$gt":5000}}}],"viewOn":"order_totals"}'),
      'view shop.big_spenders changed: pipeline [{"$match":{"total":{"$gt":1000}}}] -> [{"$match":{"total":{"$gt":5000}}}]',
    ],
    ['view source changed', options('big_spenders', '{"pipeline":[{"$match":{"total":{"$gt":1000}}}],"viewOn":"orders"}'), 'view shop.big_spenders changed: viewOn order_totals -> orders'],
    ['collection collation added', options('orders', `{${en2}}`), 'collection shop.orders changed: collation none -> en (strength 2)'],
    [
      'time series granularity and TTL',
      options('weather', '{"expireAfterSeconds":{"$numberLong":"3600"},"timeseries":{"timeField":"timestamp","metaField":"metadata","granularity":"minutes","bucketMaxSpanSeconds":86400}}'),
      'time series shop.weather changed: TTL 86400s -> 3600s, timeseries.granularity hours -> minutes, timeseries.bucketMaxSpanSeconds 2592000 -> 86400',
    ],
  ] as Array<[string, CollectionSpec[], string]>)('readable: %s', (_case, after, line) => {
    const changes = diffMongoSchemas(shop(base), shop(after));
    expect(changes.map(formatMongoSchemaChange)).toEqual([line]);
    expect(line.length).toBeLessThan(400);
  });

  test('a changed index carries its specs as canonical JSON and its fields readable', () => {
    const [change] = diffMongoSchemas(shop(base), shop(replaceIndex('orders', 'coupon_1', '{"key":{"coupon":1},"name":"coupon_1","sparse":true,"unique":true}')));
    expect(change).toEqual({
      change: 'changed',
      object: 'index',
      database: 'shop',
      collection: 'orders',
      index: 'coupon_1',
      before: '{"key":{"coupon":{"$numberInt":"1"}},"sparse":true}',
      after: '{"key":{"coupon":{"$numberInt":"1"}},"sparse":true,"unique":true}',
      fields: [{ field: 'unique', from: 'no', to: 'yes' }],
    });
  });

  test('databases added and removed', () => {
    const before: MongoSchema = { databases: [databaseSchema('old', []), databaseSchema('shop', base)] };
    const after: MongoSchema = { databases: [databaseSchema('new', []), databaseSchema('shop', base)] };
    expect(diffMongoSchemas(before, after)).toEqual([
      { change: 'added', object: 'database', database: 'new' },
      { change: 'removed', object: 'database', database: 'old' },
    ]);
  });
});
