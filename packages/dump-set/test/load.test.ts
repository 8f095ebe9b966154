import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadMongo } from '@org/mongo-dump';
import { loadMysql } from '@org/mysql-dump';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DumpSetInputError, DumpSetServerError, loadSet } from '../src/index.js';
import { lockMysqlTargets } from '../src/internal/load-lock.js';
import { lockMongoTargets } from '../src/internal/mongo-load-lock.js';
import { checkLoadTargets } from '../src/internal/servers.js';

// No servers: the loaders, the target check and both locks are stubbed; what loadSet decides to load, and
// the order it takes the locks in, are the subject.
vi.mock('@org/mysql-dump', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@org/mysql-dump')>()),
  loadMysql: vi.fn(async () => ({ engine: { flavor: 'mariadb', version: '11.4.2' } })),
}));
vi.mock('@org/mongo-dump', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@org/mongo-dump')>()),
  loadMongo: vi.fn(async () => ({ engine: { flavor: 'ferretdb', version: '2.1.0' } })),
}));
vi.mock('../src/internal/servers.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/internal/servers.js')>()),
  checkLoadTargets: vi.fn(async () => ({})),
}));
const unlockMysql = vi.fn(async () => undefined);
const unlockMongo = vi.fn(async () => undefined);
vi.mock('../src/internal/load-lock.js', () => ({ lockMysqlTargets: vi.fn(async () => unlockMysql) }));
vi.mock('../src/internal/mongo-load-lock.js', () => ({ lockMongoTargets: vi.fn(async () => unlockMongo) }));

const schema = `${JSON.stringify({ format: 1, charset: 'utf8mb4', collation: null, tables: [], views: [], routines: [], triggers: [], events: [] })}\n`;
const metadata = '{"options":{},"indexes":[{"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"collectionName":"users","type":"collection"}';
const mysqlUrl = 'mysql://root:pw@127.0.0.1:1';
const mongoUrl = 'mongodb://127.0.0.1:2';

// Dump set directories with the engines asked for, in a fresh root per test.
let root: string;
const make = async (engines: Array<'mysql' | 'mongo'>) => {
  const dir = path.join(root, engines.join('-'));
  const files: Record<string, string> = {};
  if (engines.includes('mysql')) Object.assign(files, { 'mysql/shop.sql': 'SELECT 1;\n', 'mysql/shop.schema.json': schema });
  if (engines.includes('mongo')) Object.assign(files, { 'mongo/crm/users.bson': '', 'mongo/crm/users.metadata.json': metadata });
  for (const [relative, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), content);
  }
  return dir;
};
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dump-set-load-'));
});
afterEach(async () => {
  vi.clearAllMocks();
  await rm(root, { recursive: true, force: true });
});

describe('loadSet: which engines are loaded, refused or skipped', () => {
  test('both engines with both targets: both loaded, nothing skipped', async () => {
    const result = await loadSet(await make(['mysql', 'mongo']), { mysql: { url: mysqlUrl }, mongo: { url: mongoUrl } });
    expect(result).toMatchObject({ mysqlDatabases: ['shop'], mongoDatabases: ['crm'], skipped: { mysql: [], mongo: [] } });
    expect(loadMysql).toHaveBeenCalledOnce();
    expect(loadMongo).toHaveBeenCalledOnce();
    // The MySQL targets are locked before they are checked, and unlocked after the load.
    expect(lockMysqlTargets).toHaveBeenCalledWith(mysqlUrl, ['shop'], expect.objectContaining({ lockWaitSeconds: 600, waitSeconds: 0 }));
    expect(vi.mocked(lockMysqlTargets).mock.invocationCallOrder[0]).toBeLessThan(vi.mocked(checkLoadTargets).mock.invocationCallOrder[0]!);
    expect(unlockMysql.mock.invocationCallOrder[0]).toBeGreaterThan(vi.mocked(loadMysql).mock.invocationCallOrder[0]!);
  });

  test('an engine without a target is refused by default, before any server is contacted', async () => {
    const dir = await make(['mysql', 'mongo']);
    await expect(loadSet(dir, { mysql: { url: mysqlUrl } })).rejects.toThrow(new DumpSetInputError('no-mongo-target', 'the dump set holds MongoDB database(s) crm; give a MongoDB server to load them into'));
    await expect(loadSet(dir, { mongo: { url: mongoUrl } })).rejects.toThrow(/^the dump set holds MySQL database\(s\) shop; give a MySQL server/);
    expect(checkLoadTargets).not.toHaveBeenCalled();
  });

  test('with skipEnginesWithoutTarget the engine without a target is reported as skipped, in both directions', async () => {
    const dir = await make(['mysql', 'mongo']);
    expect(await loadSet(dir, { mysql: { url: mysqlUrl } }, { skipEnginesWithoutTarget: true })).toMatchObject({ mysqlDatabases: ['shop'], mongoDatabases: [], skipped: { mysql: [], mongo: ['crm'] } });
    expect(loadMongo).not.toHaveBeenCalled();
    expect(await loadSet(dir, { mongo: { url: mongoUrl } }, { skipEnginesWithoutTarget: true })).toMatchObject({ mysqlDatabases: [], mongoDatabases: ['crm'], skipped: { mysql: ['shop'], mongo: [] } });
  });

  test('a Mongo-only set with a Mongo target loads; with only a MySQL target nothing is to load', async () => {
    const dir = await make(['mongo']);
    expect(await loadSet(dir, { mongo: { url: mongoUrl } })).toMatchObject({ mongoDatabases: ['crm'], engines: { mongo: { flavor: 'ferretdb', version: '2.1.0' } } });
    await expect(loadSet(dir, { mysql: { url: mysqlUrl } }, { skipEnginesWithoutTarget: true })).rejects.toThrow(
      new DumpSetInputError('nothing-to-load', 'the dump set holds MongoDB database(s) crm, and no server was given for that engine'),
    );
    expect(loadMysql).not.toHaveBeenCalled();
    expect(lockMysqlTargets).not.toHaveBeenCalled();
  });

  test('a failed load still releases the lock', async () => {
    vi.mocked(loadMysql).mockRejectedValueOnce(new Error('boom'));
    await expect(loadSet(await make(['mysql']), { mysql: { url: mysqlUrl } }, { lockWaitSeconds: 5 })).rejects.toThrow('boom');
    expect(lockMysqlTargets).toHaveBeenCalledWith(mysqlUrl, ['shop'], expect.objectContaining({ lockWaitSeconds: 5 }));
    expect(unlockMysql).toHaveBeenCalledOnce();
  });
});

const order = (mock: { mock: { invocationCallOrder: number[] } }) => mock.mock.invocationCallOrder[0]!;

describe('loadSet takes the MySQL locks, then the MongoDB ones', () => {
  test('both engines: MySQL lock, Mongo lock, check, load, then released in reverse order', async () => {
    await loadSet(await make(['mysql', 'mongo']), { mysql: { url: mysqlUrl }, mongo: { url: mongoUrl, rename: { crm: 'crm_copy' } } }, { lockWaitSeconds: 7 });
    expect(lockMongoTargets).toHaveBeenCalledWith(mongoUrl, ['crm_copy'], expect.objectContaining({ lockWaitSeconds: 7, waitSeconds: 0 }));
    expect(order(vi.mocked(lockMysqlTargets))).toBeLessThan(order(vi.mocked(lockMongoTargets)));
    expect(order(vi.mocked(lockMongoTargets))).toBeLessThan(order(vi.mocked(checkLoadTargets)));
    expect(order(unlockMongo)).toBeGreaterThan(order(vi.mocked(loadMongo)));
    expect(order(unlockMongo)).toBeLessThan(order(unlockMysql));
  });

  test('a MongoDB-only load takes the Mongo lock alone, and releases it when the load fails', async () => {
    vi.mocked(loadMongo).mockRejectedValueOnce(new Error('boom'));
    await expect(loadSet(await make(['mongo']), { mongo: { url: mongoUrl } }, { replace: true })).rejects.toThrow('boom');
    expect(lockMysqlTargets).not.toHaveBeenCalled();
    expect(lockMongoTargets).toHaveBeenCalledWith(mongoUrl, ['crm'], expect.objectContaining({ lockWaitSeconds: 600 }));
    expect(unlockMongo).toHaveBeenCalledOnce();
  });

  test('lockMongo: false (refresh-dumps) takes the MySQL lock only and still loads both', async () => {
    await loadSet(await make(['mysql', 'mongo']), { mysql: { url: mysqlUrl }, mongo: { url: mongoUrl } }, { lockMongo: false });
    expect(lockMysqlTargets).toHaveBeenCalledOnce();
    expect(lockMongoTargets).not.toHaveBeenCalled();
    expect(loadMongo).toHaveBeenCalledOnce();
  });

  test('a Mongo lock not taken in time releases the MySQL lock and loads nothing', async () => {
    vi.mocked(lockMongoTargets).mockRejectedValueOnce(new DumpSetServerError('load-busy', 'another load into MongoDB database crm ...'));
    await expect(loadSet(await make(['mysql', 'mongo']), { mysql: { url: mysqlUrl }, mongo: { url: mongoUrl } })).rejects.toThrow(DumpSetServerError);
    expect(unlockMysql).toHaveBeenCalledOnce();
    expect(checkLoadTargets).not.toHaveBeenCalled();
    expect(loadMysql).not.toHaveBeenCalled();
  });
});
