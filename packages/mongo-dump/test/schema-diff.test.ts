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
      [
        'index "expiresAt_1" on shop.orders changed: {"key":{"expiresAt":{"$numberInt":"1"}},"expireAfterSeconds":{"$numberInt":"3600"}}' +
          ' -> {"key":{"expiresAt":{"$numberInt":"1"}},"expireAfterSeconds":{"$numberInt":"60"}}',
      ],
    ],
    [
      'compound key order changed',
      edit('orders', (spec) => ({
        ...spec,
        indexes: spec.indexes.map((i) =>
          i.get('name') === 'customer_1_created_-1' ? index('{"key":{"created":-1,"customer":1},"name":"customer_1_created_-1"}') : i,
        ),
      })),
      [
        'index "customer_1_created_-1" on shop.orders changed: {"key":{"customer":{"$numberInt":"1"},"created":{"$numberInt":"-1"}}}' +
          ' -> {"key":{"created":{"$numberInt":"-1"},"customer":{"$numberInt":"1"}}}',
      ],
    ],
    [
      'collection options changed',
      edit('audit_log', (spec) => ({ ...spec, options: new Map<string, unknown>([['capped', true], ['size', 4096]]) })),
      [
        'collection shop.audit_log changed: options {"capped":true,"max":{"$numberInt":"5000"},"size":{"$numberInt":"1048576"}}' +
          ' -> options {"capped":true,"size":{"$numberInt":"4096"}}',
      ],
    ],
    [
      'collection replaced by a view',
      edit('stocks', () => ({ name: 'stocks', type: 'view', options: new Map<string, unknown>([['viewOn', 'orders'], ['pipeline', []]]), indexes: [] })),
      [
        'view shop.stocks changed: collection, options {"clusteredIndex":{"key":{"_id":{"$numberInt":"1"}},"name":"_id_","unique":true}}' +
          ' -> view, options {"viewOn":"orders","pipeline":[]}',
        'index "_id_" on shop.stocks removed',
      ],
    ],
  ] as Array<[string, CollectionSpec[], string[]]>)('%s', (_case, after, expected) => {
    expect(diffMongoSchemas(shop(base), shop(after)).map(formatMongoSchemaChange)).toEqual(expected);
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
