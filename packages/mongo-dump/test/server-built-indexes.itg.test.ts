import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { dumpMongo, loadMongo } from '../src/index.js';
import type { MongoEngine } from '../src/internal/connect.js';
import { engineOf, rawCatalog, readTree, uniqueDbName } from './live-fixture.js';

/**
 * Indexes the server builds by itself: a clustered collection's cluster key under a custom name, and
 * the `{ meta: 1, time: 1 }` index MongoDB >= 6.3 adds to a new time series. Kept out of the shared
 * fixture because the stock mongorestore brings a dropped automatic index back (its test compares bytes).
 * FerretDB has neither collection kind, so there these tests are skipped with a reason.
 */
describeWithServices(['mongo'], 'indexes the server builds with the collection', () => {
  const source = uniqueDbName('mdump_built_src');
  const reloaded = uniqueDbName('mdump_built_reload');
  let url: string;
  let client: MongoClient;
  let engine: MongoEngine;
  let work: string;

  beforeAll(async () => {
    url = serviceVar('TEST_MONGO_URL');
    client = await new MongoClient(url).connect();
    engine = await engineOf(client);
    work = await mkdtemp(join(tmpdir(), 'mongo-dump-built-'));
    if (engine.flavor === 'mongodb') await createCollections(client.db(source));
  });
  afterAll(async () => {
    for (const name of [source, reloaded]) await client?.db(name).dropDatabase();
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const skipOnFerretDb = (skip: (note: string) => void) => {
    if (engine.flavor === 'mongodb') return;
    const note = `${engine.flavor} has no clustered or time-series collections (these run on real MongoDB, e.g. mongo:7 in GitHub CI)`;
    // Printed as well: the default reporter shows a skip without its note.
    console.log(`[skipped] ${note}`);
    skip(note);
  };

  test('dump -> load -> dump gives identical bytes and catalog', async (context) => {
    skipOnFerretDb((note) => context.skip(note));
    const dump = (database: string, outDir: string) => dumpMongo({ url, databases: [database], dataCollections: ['ticks'], outDir });
    await dump(source, join(work, 'a'));
    await loadMongo({ url, dir: join(work, 'a'), databaseRename: reloaded });
    await dump(reloaded, join(work, 'b'));
    const first = await readTree(join(work, 'a', 'mongo', source));
    const second = await readTree(join(work, 'b', 'mongo', reloaded));
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [path, bytes] of first) expect(second.get(path)?.toString(), path).toBe(bytes.toString());
    expect(await rawCatalog(client.db(reloaded))).toEqual(await rawCatalog(client.db(source)));
  });

  test('the reloaded time series lacks the automatic index its source had dropped', async (context) => {
    skipOnFerretDb((note) => context.skip(note));
    const names = async (db: Db, collection: string) => (await db.collection(collection).listIndexes().toArray()).map((index) => index.name as string);
    expect((await names(client.db(reloaded), 'readings')).sort()).toEqual(['latest']);
    expect(await names(client.db(reloaded), 'samples')).toEqual(await names(client.db(source), 'samples'));
    expect(await names(client.db(reloaded), 'ticks')).toContain('ticks_by_id');
  });
});

async function createCollections(db: Db): Promise<void> {
  await db.createCollection('ticks', { clusteredIndex: { key: { _id: 1 }, unique: true, name: 'ticks_by_id' } });
  await db.collection('ticks').createIndex({ price: 1 }, { name: 'price_1' });
  await db.collection<{ _id: number; price: number }>('ticks').insertMany([{ _id: 2, price: 5 }, { _id: 1, price: 7 }]);
  // Automatic sensor_1_t_1 (MongoDB >= 6.3) dropped and replaced by another index on the same fields.
  await db.createCollection('readings', { timeseries: { timeField: 't', metaField: 'sensor' } });
  for (const index of await db.collection('readings').listIndexes().toArray()) await db.collection('readings').dropIndex(index.name as string);
  await db.collection('readings').createIndex({ sensor: 1, t: -1 }, { name: 'latest' });
  // Automatic index kept: the load must not create it twice nor drop it.
  await db.createCollection('samples', { timeseries: { timeField: 't', metaField: 'm', granularity: 'minutes' } });
}
