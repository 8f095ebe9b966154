import { join } from 'node:path';
import { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { dumpMongo, loadMongo } from '../src/index.js';
import { readTree, uniqueDbName } from './live-fixture.js';

describeWithServices(['mongo'], 'mongo dump: migration tools\' bookkeeping collections', () => {
  const temp = useTempDirs();
  const [scratch, incremental, reloaded, lookalike] = ['mdump_bk_scratch', 'mdump_bk_incr', 'mdump_bk_reload', 'mdump_bk_app'].map(uniqueDbName) as [string, string, string, string];
  let url: string;
  let client: MongoClient;
  beforeAll(async () => {
    url = serviceVar('TEST_MONGO_URL');
    client = await new MongoClient(url).connect();
    // migrate-mongo's changelog after one `up` of three migrations, and after three `up`s of one each.
    await client.db(scratch).collection('changelog').insertMany([
      { _id: new ObjectId(), fileName: '20260101-a.js', appliedAt: new Date('2026-01-01T10:00:00Z'), migrationBlock: 1767261600000 },
      { _id: new ObjectId(), fileName: '20260102-b.js', appliedAt: new Date('2026-01-01T10:00:01Z'), migrationBlock: 1767261600000 },
      { _id: new ObjectId(), fileName: '20260103-c.js', appliedAt: new Date('2026-01-01T10:00:02Z'), migrationBlock: 1767261600000 },
    ]);
    for (const [fileName, day] of [['20260101-a.js', 1], ['20260102-b.js', 5], ['20260103-c.js', 9]] as const) {
      const at = new Date(Date.UTC(2025, 11, day));
      await client.db(incremental).collection('changelog').insertOne({ _id: new ObjectId(), fileName, appliedAt: at, migrationBlock: at.getTime() });
    }
    for (const name of [scratch, incremental]) await client.db(name).collection('orders').createIndex({ placed: 1 });
    // An application's own `changelog` (no fileName/appliedAt): schema only, as any collection not listed.
    await client.db(lookalike).collection('changelog').insertOne({ _id: new ObjectId(), user: 'someone@example.com', change: 'email' });
  });
  afterAll(async () => {
    for (const name of [scratch, incremental, reloaded, lookalike]) await client?.db(name).dropDatabase();
    await client?.close();
  });

  test('keeps their documents unlisted; incremental and from-scratch databases dump the same bytes, which load and dump again the same', async () => {
    const work = await temp.make('mdump-bk-');
    const a = await dumpMongo({ url, databases: [scratch], outDir: join(work, 'a') });
    await dumpMongo({ url, databases: [incremental], outDir: join(work, 'b') });
    expect(a.databases[0]?.documents).toBe(3);
    const dumped = await readTree(join(work, 'a', 'mongo', scratch));
    expect(await readTree(join(work, 'b', 'mongo', incremental))).toEqual(dumped);
    await loadMongo({ url, dir: join(work, 'a'), databaseRename: reloaded });
    const loaded = await client.db(reloaded).collection('changelog').find({}, { sort: { _id: 1 } }).toArray();
    expect(loaded.map((document) => [document.fileName, document.appliedAt, document.migrationBlock])).toEqual(
      expect.arrayContaining([['20260101-a.js', new Date('2000-01-01T00:00:00Z'), 0]]),
    );
    expect(new Set(loaded.map((document) => String(document._id))).size).toBe(3);
    await dumpMongo({ url, databases: [reloaded], outDir: join(work, 'c') });
    expect(await readTree(join(work, 'c', 'mongo', reloaded))).toEqual(dumped);
  });

  test('a Mongock change log with a change run more than once, under Mongock\'s unique index, dumps and loads', async () => {
    const [source, target] = [uniqueDbName('mdump_bk_mongock'), uniqueDbName('mdump_bk_mongock_ld')];
    try {
      const log = client.db(source).collection('mongockChangeLog');
      await log.createIndex({ executionId: 1, author: 1, changeId: 1 }, { unique: true, name: 'executionId_1_author_1_changeId_1' });
      await log.insertMany([
        { executionId: '2026-01-01T10:00:00-aaa', changeId: 'c1', author: 'dev', timestamp: new Date('2026-01-01T10:00:00Z'), state: 'EXECUTED', executionMillis: 15 },
        { executionId: '2026-01-05T09:00:00-bbb', changeId: 'c1', author: 'dev', timestamp: new Date('2026-01-05T09:00:00Z'), state: 'EXECUTED', executionMillis: 9 },
      ]);
      const work = await temp.make('mdump-bk-');
      await dumpMongo({ url, databases: [source], outDir: join(work, 'a') });
      await loadMongo({ url, dir: join(work, 'a'), databaseRename: target });
      const loaded = await client.db(target).collection('mongockChangeLog').find({}, { sort: { timestamp: 1 } }).toArray();
      expect(loaded.map((document) => [document.executionId, document.state])).toEqual([['0', 'EXECUTED'], ['1', 'EXECUTED']]);
    } finally {
      for (const name of [source, target]) await client.db(name).dropDatabase();
    }
  });

  test('an application collection that is only named like one stays schema only', async () => {
    const work = await temp.make('mdump-bk-');
    const result = await dumpMongo({ url, databases: [lookalike], outDir: join(work, 'a') });
    expect(result.databases[0]?.documents).toBe(0);
  });
});
