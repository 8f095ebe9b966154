import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MongoSystemDatabaseError, isMongoSystemDatabase, loadMongo } from '../src/index.js';

// Nothing listens on port 1: were a target checked after connecting, the error would be "unreachable".
const UNREACHABLE = 'mongodb://app:Sup3rSecret@127.0.0.1:1';

describe('isMongoSystemDatabase', () => {
  test.each([
    ['admin', true],
    ['Admin', true],
    ['local', true],
    ['LOCAL', true],
    ['config', true],
    ['Config', true],
    ['shop', false],
    ['admin_app', false],
    ['localhost', false],
    ['', false],
  ])('%s -> %s', (name, expected) => {
    expect(isMongoSystemDatabase(name)).toBe(expected);
  });
});

describe('loadMongo refuses a system database target before connecting', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mongo-dump-system-'));
    for (const database of ['shop', 'config']) {
      await mkdir(join(dir, 'mongo', database), { recursive: true });
      await writeFile(join(dir, 'mongo', database, 'orders.metadata.json'), '{"indexes":[],"collectionName":"orders","type":"collection"}');
      await writeFile(join(dir, 'mongo', database, 'orders.bson'), '');
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test.each([
    ['a dump of config under its own name', { replace: true }, 'config'],
    ['shop mapped to admin', { databaseRename: { shop: 'admin', config: 'config_copy' } }, 'admin'],
    ['shop mapped to Local', { databaseRename: { shop: 'Local', config: 'config_copy' }, replace: true }, 'Local'],
  ])('%s', async (_case, options, database) => {
    const error = await loadMongo({ url: UNREACHABLE, dir, ...options }).then(
      () => new Error('the load succeeded'),
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(MongoSystemDatabaseError);
    expect(error).toMatchObject({ code: 'system-database', database, severity: 'fatal' });
    expect(error.message).toBe(
      `"${database}" is a MongoDB system database; refusing to drop or load into it — give the service's own database name`,
    );
  });
});
