import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { dumpMongo, loadMongo, type MongoProgress } from '../src/index.js';
import { uniqueDbName } from './live-fixture.js';

// One large data collection is most of a load's time: its progress comes per insert batch (1000
// documents), not once at its end.
describeWithServices(['mongo'], 'mongo load progress within a large collection', () => {
  const source = uniqueDbName('mprog_src');
  const target = uniqueDbName('mprog_dst');
  let client: MongoClient;
  let work: string;
  beforeAll(async () => {
    client = await new MongoClient(serviceVar('TEST_MONGO_URL')).connect();
    work = await mkdtemp(join(tmpdir(), 'mongo-load-progress-'));
    await client.db(source).collection<{ _id: number; kind: string; n: number }>('events').insertMany(Array.from({ length: 2500 }, (_, i) => ({ _id: i, kind: 'tick', n: i })));
  });
  afterAll(async () => {
    for (const name of [source, target]) await client?.db(name).dropDatabase();
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('reports the documents inserted after each batch', async () => {
    const url = serviceVar('TEST_MONGO_URL');
    await dumpMongo({ url, databases: [source], dataCollections: ['events'], outDir: work });
    const progress: MongoProgress[] = [];
    await loadMongo({ url, dir: work, databaseRename: target, onProgress: (p) => progress.push(p) });
    const documents = progress.filter((p) => p.phase === 'documents').map((p) => [p.collection, p.done, p.total]);
    expect(documents).toEqual([
      ['events', 1000, 2500],
      ['events', 2000, 2500],
      ['events', 2500, 2500],
    ]);
    expect(await client.db(target).collection('events').countDocuments()).toBe(2500);
  });
});
