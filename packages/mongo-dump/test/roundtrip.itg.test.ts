import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { beforeAll, expect, test } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { diffMongoSchemas, dumpMongo, loadMongo, MongoTargetNotEmptyError, readMongoSchema, type MongoProgress } from '../src/index.js';
import type { MongoEngine } from '../src/internal/connect.js';
import { bsonIds, FIXTURE_DATA_COLLECTIONS, rawCatalog, readTree, uniqueDbName, useFixtureDatabase } from './live-fixture.js';

describeWithServices(['mongo'], 'mongo dump and load round trip', () => {
  const source = uniqueDbName('mdump_src');
  const reloaded = uniqueDbName('mdump_reload');
  const fixture = useFixtureDatabase(source, [reloaded]);
  let url: string;
  let client: MongoClient;
  let engine: MongoEngine;
  let work: string;
  beforeAll(() => ({ url, client, engine, work } = fixture));

  const dump = (database: string, outDir: string, onProgress?: (p: MongoProgress) => void) =>
    dumpMongo({ url, databases: [database], dataCollections: FIXTURE_DATA_COLLECTIONS, outDir, onProgress });
  /** The files of one database's dump, keyed without the database folder so two names compare. */
  const dumpedFiles = async (outDir: string, database: string) => readTree(join(outDir, 'mongo', database));

  test('dumping twice gives identical bytes', async () => {
    const first = await dump(source, join(work, 'a'));
    const second = await dump(source, join(work, 'b'));
    expect(first.files).toEqual(second.files);
    const a = await dumpedFiles(join(work, 'a'), source);
    const b = await dumpedFiles(join(work, 'b'), source);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [path, bytes] of a) expect(b.get(path)?.equals(bytes), path).toBe(true);
    expect(first.engine).toEqual(engine);
  });

  test('the dump has the mongorestore layout, data only for listed collections, in _id order', async () => {
    const files = await dumpedFiles(join(work, 'a'), source);
    for (const name of ['orders', 'audit_log', 'sessions', 'empty']) {
      expect(files.has(`${name}.bson`), name).toBe(true);
      expect(files.has(`${name}.metadata.json`), name).toBe(true);
    }
    expect(files.get('sessions.bson')?.length).toBe(0);
    expect(files.get('empty.bson')?.length).toBe(0);
    expect([...files.values()].some((bytes) => bytes.includes('do-not-dump'))).toBe(false);
    // Numbers sort before strings before ObjectIds in BSON order.
    expect(bsonIds(files.get('orders.bson') ?? Buffer.alloc(0))).toEqual([
      '{"$numberInt":"1"}',
      '{"$numberInt":"2"}',
      '{"$numberInt":"3"}',
      '"order-x"',
      '{"$oid":"65a000000000000000000001"}',
    ]);
    expect(bsonIds(files.get('audit_log.bson') ?? Buffer.alloc(0))).toEqual(['{"$numberInt":"1"}', '{"$numberInt":"2"}']);
    const orders = files.get('orders.metadata.json')?.toString() ?? '';
    expect(orders).not.toContain('uuid');
    expect(orders).toContain('{"key":{"2":{"$numberInt":"1"},"1":{"$numberInt":"-1"},"a":{"$numberInt":"1"}},"name":"integer_like_keys"}');
    expect(orders).toContain('{"key":{"customer":{"$numberInt":"1"},"created":{"$numberInt":"-1"}},"name":"customer_1_created_-1"}');
    expect(orders).toContain('"name":"number_1","unique":true}');
    expect(files.get('audit_log.metadata.json')?.toString()).toMatch(/^\{"options":\{"capped":true,"max":.*"size":/);
    if (engine.flavor === 'mongodb') {
      expect(orders).toContain('"name":"coupon_1","sparse":true}');
      expect(orders).toContain('"name":"expiresAt_1","expireAfterSeconds":');
      expect(orders).toContain('"name":"open_by_total","partialFilterExpression":{"status":"open","total":{"$gt":');
      expect(files.get('paid_orders.metadata.json')?.toString()).toContain('"type":"view"');
      expect(files.has('paid_orders.bson')).toBe(false);
      expect(files.get('weather.metadata.json')?.toString()).toContain('"type":"timeseries"');
    }
  });

  test('dump -> load into a fresh database -> dump again gives identical bytes and catalog', async () => {
    const progress: MongoProgress[] = [];
    const loaded = await loadMongo({ url, dir: join(work, 'a'), databaseRename: reloaded, onProgress: (p) => progress.push(p) });
    expect(loaded.databases).toEqual([
      expect.objectContaining({ source, target: reloaded, documents: 7 }),
    ]);
    expect(progress.some((p) => p.phase === 'documents' && p.done === 7 && p.total === 7)).toBe(true);

    await dump(reloaded, join(work, 'c'));
    const original = await dumpedFiles(join(work, 'a'), source);
    const again = await dumpedFiles(join(work, 'c'), reloaded);
    expect([...again.keys()]).toEqual([...original.keys()]);
    for (const [path, bytes] of original) expect(again.get(path)?.toString('hex'), path).toBe(bytes.toString('hex'));

    expect(await rawCatalog(client.db(reloaded))).toEqual(await rawCatalog(client.db(source)));
  });

  test('the schema read from the dump equals the live schema of the reloaded database', async () => {
    const fromDump = await readMongoSchema({ dir: join(work, 'a') });
    const live = await readMongoSchema({ url, databases: [reloaded] });
    const renamed = { databases: live.databases.map((db) => ({ ...db, name: source })) };
    expect(diffMongoSchemas(fromDump, renamed)).toEqual([]);
    await client.db(reloaded).collection('orders').createIndex({ total: 1 }, { name: 'total_1' });
    const changed = await readMongoSchema({ url, databases: [reloaded] });
    expect(diffMongoSchemas(live, changed)).toEqual([
      { change: 'added', object: 'index', database: reloaded, collection: 'orders', index: 'total_1' },
    ]);
  });

  test('a non-empty target is refused unless replace, which reloads it exactly', async () => {
    const error = await loadMongo({ url, dir: join(work, 'a'), databaseRename: reloaded }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MongoTargetNotEmptyError);
    expect((error as Error).message).toContain(`"${reloaded}"`);
    expect(await client.db(reloaded).collection('orders').indexExists('total_1')).toBe(true);

    await loadMongo({ url, dir: join(work, 'a'), databaseRename: { [source]: reloaded }, replace: true });
    expect(await client.db(reloaded).collection('orders').indexExists('total_1')).toBe(false);
    expect(await rawCatalog(client.db(reloaded))).toEqual(await rawCatalog(client.db(source)));
  });
});
