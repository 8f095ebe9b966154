import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Int32 } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { loadMongo, MongoLoadRejectedError } from '../src/index.js';
import { engineOf, uniqueDbName } from './live-fixture.js';
import { checkIndexesAsDumped } from '../src/internal/load.js';
import { metadataJson } from '../src/internal/normalise.js';
import type { OrderedDoc } from '../src/internal/ordered.js';

const index = (...fields: Array<[string, unknown]>): OrderedDoc => new Map(fields);
const ID = index(['key', index(['_id', new Int32(1)])], ['name', '_id_']);
const SPARSE = index(['key', index(['coupon', new Int32(1)])], ['name', 'coupon_1'], ['sparse', true]);

describe('indexes are compared with what the server lists after the load', () => {
  test.each<[string, OrderedDoc[], string | undefined]>([
    ['as dumped', [ID, index(['v', new Int32(2)], ['key', index(['coupon', new Int32(1)])], ['name', 'coupon_1'], ['sparse', true])], undefined],
    ['an option dropped silently', [ID, index(['v', new Int32(2)], ['key', index(['coupon', new Int32(1)])], ['name', 'coupon_1'])], 'the server refused to create index "coupon_1" of "shop.orders" as dumped: it dropped the option "sparse": true without an error; load into a server that supports that option, or remove it from the dump'],
    ['an option changed', [ID, index(['key', index(['coupon', new Int32(1)])], ['name', 'coupon_1'], ['sparse', false])], 'it changed "sparse" from true to false without an error'],
    ['an index missing', [ID], 'index "coupon_1" of "shop.orders" as dumped: it accepted the index but does not list it'],
  ])('%s', (_case, listed, message) => {
    const check = () => checkIndexesAsDumped('shop.orders', [ID, SPARSE], listed);
    if (message === undefined) expect(check).not.toThrow();
    else expect(check).toThrow(message);
  });
});

describeWithServices(['mongo'], 'an index option the server drops silently', () => {
  const temp = useTempDirs();
  const target = uniqueDbName('mdump_idxopt');
  let client: MongoClient;
  beforeAll(async () => {
    client = await new MongoClient(serviceVar('TEST_MONGO_URL')).connect();
  });
  afterAll(async () => {
    await client?.db(target).dropDatabase();
    await client?.close();
  });

  test('fails the load naming the index and the option (FerretDB drops sparse), and leaves nothing', async () => {
    const engine = await engineOf(client);
    const dir = await temp.make('mdump-idxopt-');
    await mkdir(join(dir, 'mongo', 'shop'), { recursive: true });
    await writeFile(join(dir, 'mongo', 'shop', 'orders.metadata.json'), metadataJson({ name: 'orders', type: 'collection', options: new Map(), indexes: [ID, SPARSE] }));
    await writeFile(join(dir, 'mongo', 'shop', 'orders.bson'), new Uint8Array(0));
    const outcome = await loadMongo({ url: serviceVar('TEST_MONGO_URL'), dir, databaseRename: target }).then(() => undefined, (e: unknown) => e as Error);
    if (engine.flavor === 'mongodb') {
      // MongoDB keeps the option: the load succeeds.
      expect(outcome).toBeUndefined();
      return;
    }
    expect(outcome).toBeInstanceOf(MongoLoadRejectedError);
    expect(outcome?.message).toContain(`index "coupon_1" of "${target}.orders" as dumped: it dropped the option "sparse": true`);
    expect((await client.db(target).listCollections().toArray()).length).toBe(0);
  });
});
