import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { computeVersion, type DiffContext, type DumpFile, type VersionManifest } from '@org/dump-versioning';
import { serializeSchema, type SemanticColumn, type SemanticSchema, type SemanticTable } from '@org/mysql-dump';
import { describeSchemaChanges, schemaDiffDetail } from '../src/index.js';

const column = (name: string, type: string): SemanticColumn => ({ name, type, nullable: false, default: null, charset: null, collation: null, autoIncrement: false, onUpdate: null, generated: null, comment: '' });
const table = (name: string, columns: SemanticColumn[], indexes: string[] = []): SemanticTable => ({
  name,
  engine: 'InnoDB',
  charset: 'utf8mb4',
  collation: null,
  comment: '',
  columns,
  indexes: indexes.map((index) => ({ name: index, unique: false, type: 'BTREE', columns: [{ name: columns[0]!.name, prefix: null, descending: false }] })),
  foreignKeys: [],
});
const schema = (tables: SemanticTable[]): SemanticSchema => ({ format: 1, charset: 'utf8mb4', collation: null, tables, views: [], routines: [], triggers: [], events: [] });
const mongoMetadata = (collection: string, indexes: Array<[string, string]>) =>
  `{"options":{},"indexes":[${[['_id_', '_id'] as [string, string], ...indexes].map(([name, field]) => `{"key":{"${field}":{"$numberInt":"1"}},"name":"${name}"}`).join(',')}],"collectionName":"${collection}","type":"collection"}`;

function version(files: Record<string, string>): { manifest: VersionManifest; bytes: Map<string, Buffer> } {
  const bytes = new Map(Object.entries(files).map(([path, text]) => [path, Buffer.from(text)]));
  const dumpFiles: DumpFile[] = [...bytes].map(([path, data]) => {
    const [kind, second] = path.split('/') as ['mysql' | 'mongo', string];
    return { path, sha256: createHash('sha256').update(data).digest('hex'), size: data.length, kind, database: kind === 'mysql' ? second.split('.')[0]! : second, compression: 'none' };
  });
  const manifest: VersionManifest = { schemaVersion: 1, service: 'lms', version: computeVersion(dumpFiles), source: { commit: 'a'.repeat(40) }, tool: { name: 't', version: '1' }, createdAt: '2024-01-01T00:00:00Z', files: dumpFiles };
  return { manifest, bytes };
}

/** The context dump-versioning's diff builds, from two in-memory versions. */
function context(before: Record<string, string>, after: Record<string, string>): DiffContext {
  const from = version(before);
  const to = version(after);
  const beforeByPath = new Map(from.manifest.files.map((file) => [file.path, file]));
  const afterByPath = new Map(to.manifest.files.map((file) => [file.path, file]));
  return {
    from: from.manifest,
    to: to.manifest,
    added: to.manifest.files.filter((file) => !beforeByPath.has(file.path)),
    removed: from.manifest.files.filter((file) => !afterByPath.has(file.path)),
    changed: to.manifest.files.filter((file) => beforeByPath.has(file.path) && beforeByPath.get(file.path)!.sha256 !== file.sha256).map((file) => ({ path: file.path, before: beforeByPath.get(file.path)!, after: file })),
    readFile: async (side, path) => (side === 'from' ? from : to).bytes.get(path) ?? Promise.reject(new Error(`no ${path}`)),
  };
}

const base = {
  'mysql/shop.sql': 'v1',
  'mysql/shop.schema.json': serializeSchema(schema([table('catalog_item', [column('id', 'int'), column('price', 'int')])])),
  'mongo/shop/events.bson': '',
  'mongo/shop/events.metadata.json': mongoMetadata('events', []),
};

test('names added tables, changed columns, added indexes and Mongo index changes', async () => {
  const next = {
    ...base,
    'mysql/shop.sql': 'v2',
    'mysql/shop.schema.json': serializeSchema(
      schema([table('catalog_item', [column('id', 'int'), column('price', 'bigint')], ['catalog_item_price']), table('catalog_product', [column('id', 'int')])]),
    ),
    'mongo/shop/events.metadata.json': mongoMetadata('events', [['tracking_1', 'tracking']]),
    'mongo/shop/shipments.bson': '',
    'mongo/shop/shipments.metadata.json': mongoMetadata('shipments', []),
  };
  const changes = await schemaDiffDetail(context(base, next));
  expect(changes.mysql).toEqual(['+ table catalog_product', '~ table catalog_item', '  ~ column price: type "int" -> "bigint"', '  + index catalog_item_price']);
  expect(changes.mongo).toEqual(['+ index tracking_1 on shop.events', '+ collection shop.shipments']);
  const text = describeSchemaChanges(changes);
  expect(text).toContain('```diff\n+ table catalog_product\n');
  expect(text).toContain('MongoDB (2 top-level change(s))');
});

test('data-only changes are not schema changes; databases added or removed are named', async () => {
  expect(await schemaDiffDetail(context(base, { ...base, 'mysql/shop.sql': 'v2', 'mongo/shop/events.bson': 'x' }))).toEqual({ mysql: [], mongo: [] });
  expect(describeSchemaChanges({ mysql: [], mongo: [] })).toMatch(/^No schema changes/);

  const withSecond = { ...base, 'mysql/crm.sql': 'x', 'mysql/crm.schema.json': serializeSchema(schema([table('crm_lead', [column('id', 'int')])])) };
  expect((await schemaDiffDetail(context(base, withSecond))).mysql).toEqual(['+ database crm', '  + table crm_lead']);
  const { 'mongo/shop/events.bson': _b, 'mongo/shop/events.metadata.json': _m, ...withoutMongo } = base;
  expect((await schemaDiffDetail(context(base, withoutMongo))).mongo).toEqual(['- database shop']);
});

test('with several MySQL databases each group is headed by its database', async () => {
  const two = { ...base, 'mysql/crm.sql': 'x', 'mysql/crm.schema.json': serializeSchema(schema([table('crm_lead', [column('id', 'int')])])) };
  const changed = { ...two, 'mysql/crm.schema.json': serializeSchema(schema([table('crm_lead', [column('id', 'int'), column('email', 'varchar(254)')])])) };
  expect((await schemaDiffDetail(context(two, changed))).mysql).toEqual(['~ database crm', '  ~ table crm_lead', '    + column email']);
});

describe('index, view and option changes read as short lines, not JSON', () => {
  const indexed = (columns: string[], unique = false): SemanticSchema => {
    const t = table('catalog_item', [column('id', 'int'), column('a_id', 'int'), column('b_id', 'int')]);
    t.indexes.push({ name: 'ix_a', unique, type: 'BTREE', columns: columns.map((name) => ({ name, prefix: null, descending: false })) });
    return schema([t]);
  };
  const viewed = (columns: string[]): SemanticSchema => ({ ...schema([]), views: [{ name: 'v_orders', columns: columns.map((name) => column(name, 'int')) }] });
  const mongoWith = (index: string, options = '{}') =>
    `{"options":${options},"indexes":[{"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},${index}],"collectionName":"events","type":"collection"}`;
  const ttl = (seconds: number) => `{"key":{"at":{"$numberInt":"1"}},"name":"at_1","expireAfterSeconds":{"$numberInt":"${seconds}"}}`;

  test.each([
    ['MySQL index columns', { 'mysql/shop.schema.json': serializeSchema(indexed(['a_id'])) }, { 'mysql/shop.schema.json': serializeSchema(indexed(['a_id', 'b_id'])) }, ['~ table catalog_item', '  ~ index ix_a: columns (a_id) -> (a_id, b_id)'], []],
    ['MySQL index made unique', { 'mysql/shop.schema.json': serializeSchema(indexed(['a_id'])) }, { 'mysql/shop.schema.json': serializeSchema(indexed(['a_id'], true)) }, ['~ table catalog_item', '  ~ index ix_a: unique no -> yes'], []],
    ['MySQL view columns', { 'mysql/shop.schema.json': serializeSchema(viewed(['id', 'total'])) }, { 'mysql/shop.schema.json': serializeSchema(viewed(['id', 'total', 'currency'])) }, ['~ view v_orders: columns (id, total) -> (id, total, currency)'], []],
    ['Mongo TTL', { 'mongo/shop/events.metadata.json': mongoWith(ttl(3600)) }, { 'mongo/shop/events.metadata.json': mongoWith(ttl(60)) }, [], ['~ index at_1 on shop.events: TTL 3600s -> 60s']],
    [
      'Mongo validator',
      { 'mongo/shop/events.metadata.json': mongoWith(ttl(60)) },
      { 'mongo/shop/events.metadata.json': mongoWith(ttl(60), '{"validator":{"at":{"$exists":true}},"validationLevel":"moderate"}') },
      [],
      ['~ collection shop.events: validationLevel none -> moderate, validator none -> {"at":{"$exists":true}}'],
    ],
  ])('%s', async (_case, before, after, mysql, mongo) => {
    const changes = await schemaDiffDetail(context({ ...base, ...before }, { ...base, ...after }));
    expect(changes).toEqual({ mysql, mongo });
  });
});
