import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadMongo } from '@org/mongo-dump';
import { loadMysql } from '@org/mysql-dump';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DumpSetInputError, DumpSetServerError, loadSet, targetsLeftBy } from '../src/index.js';
import { lockMysqlTargets } from '../src/internal/load-lock.js';
import { lockMongoTargets } from '../src/internal/mongo-load-lock.js';
import { checkLoadTargets, rollbackMongo, rollbackMysql } from '../src/internal/servers.js';

// No servers: the loaders, the target check, the rollbacks and both locks are stubbed; what loadSet decides
// to load, the order it takes the locks in, and what a failed load undoes and says it left, are the subject.
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
  checkLoadTargets: vi.fn(async () => ({ mysqlExisting: new Set(), mysqlObjects: new Map(), mongoCollections: new Map() })),
  rollbackMysql: vi.fn(async () => undefined),
  rollbackMongo: vi.fn(async () => undefined),
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
const make = async (engines: Array<'mysql' | 'mongo'>, mysqlDatabases = ['shop']) => {
  const dir = path.join(root, engines.join('-'));
  const files: Record<string, string> = {};
  if (engines.includes('mysql')) for (const db of mysqlDatabases) Object.assign(files, { [`mysql/${db}.sql`]: 'SELECT 1;\n', [`mysql/${db}.schema.json`]: schema });
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

// Ctrl-C during `load --replace` used to be told "the databases are as they were" while MongoDB's old content had already been dropped.
type Loader = { onTarget?: (database: string, step: 'drop' | 'load') => void; signal?: AbortSignal };
/**
 * A loader that starts loading into `changes` (after dropping them, when `replace` is given: onTarget `drop`
 * then `load`), then fails with `reason` (default: the signal's). `dropFails`: the drop of that one fails.
 */
const failsAfter = (changes: string[], reason?: unknown, dropFails?: string) => async (options: Loader) => {
  for (const database of changes) {
    options.onTarget?.(database, 'drop');
    if (database === dropFails) break;
    options.onTarget?.(database, 'load');
  }
  throw reason ?? options.signal!.reason;
};

describe('loadSet undoes a failed load and says what each target was left in', () => {
  const targets = { mysql: { url: mysqlUrl }, mongo: { url: mongoUrl } };
  let dir: string;
  beforeEach(async () => {
    dir = await make(['mysql', 'mongo'], ['shop', 'blog']);
    // What the targets held before the load: MySQL `shop` 3 objects, `blog` absent; MongoDB `crm` 15 collections.
    vi.mocked(checkLoadTargets).mockResolvedValueOnce({ mysqlExisting: new Set(['shop']), mysqlObjects: new Map([['shop', 3]]), mongoCollections: new Map([['crm', 15]]) });
  });
  afterEach(() => vi.mocked(checkLoadTargets).mockReset().mockResolvedValue({ mysqlExisting: new Set(), mysqlObjects: new Map(), mongoCollections: new Map() }));

  test('interrupted with replace: Mongo, already dropped, is told emptied; MySQL, never touched, unchanged and not rolled back', async () => {
    const controller = new AbortController();
    const interrupted = new Error('interrupted (SIGINT)');
    controller.abort(interrupted);
    vi.mocked(loadMysql).mockImplementationOnce(failsAfter([]) as typeof loadMysql);
    vi.mocked(loadMongo).mockImplementationOnce(failsAfter(['crm']) as typeof loadMongo);
    const failure = await loadSet(dir, targets, { replace: true, signal: controller.signal }).catch((error: unknown) => error);
    expect(failure).toBe(interrupted);
    expect(targetsLeftBy(failure)).toEqual([
      { engine: 'mysql', database: 'blog', state: 'unchanged', objectsBefore: 0 },
      { engine: 'mysql', database: 'shop', state: 'unchanged', objectsBefore: 3 },
      { engine: 'mongo', database: 'crm', state: 'emptied', objectsBefore: 15 },
    ]);
    // The MySQL databases that keep their old content are not dropped on the way out.
    expect(rollbackMysql).not.toHaveBeenCalled();
    expect(rollbackMongo).toHaveBeenCalledWith(mongoUrl, ['crm']);
  });

  test('a MySQL database loaded before the one that failed is undone too (the MySQL loader undoes only the one it was loading)', async () => {
    const failed = new Error('shop.sql: the statement at line 3 failed');
    vi.mocked(loadMysql).mockImplementationOnce(failsAfter(['blog', 'shop'], failed) as typeof loadMysql);
    const failure = await loadSet(dir, targets, { replace: true }).catch((error: unknown) => error);
    expect(failure).toBe(failed);
    expect(rollbackMysql).toHaveBeenCalledWith(mysqlUrl, ['blog', 'shop'], expect.objectContaining({ mysqlExisting: new Set(['shop']) }));
    // MongoDB loaded completely: undone as well, its old content (dropped by replace) is not back.
    expect(rollbackMongo).toHaveBeenCalledWith(mongoUrl, ['crm']);
    expect(targetsLeftBy(failure)).toEqual([
      { engine: 'mysql', database: 'blog', state: 'restored', objectsBefore: 0 },
      { engine: 'mysql', database: 'shop', state: 'emptied', objectsBefore: 3 },
      { engine: 'mongo', database: 'crm', state: 'emptied', objectsBefore: 15 },
    ]);
  });

  test('a target whose drop for replace failed is not undone (its old content may be there) and says so', async () => {
    const failed = new Error('connection lost');
    vi.mocked(loadMongo).mockImplementationOnce(failsAfter(['crm'], failed, 'crm') as typeof loadMongo);
    const failure = await loadSet(dir, targets, { replace: true }).catch((error: unknown) => error);
    expect(rollbackMongo).not.toHaveBeenCalled();
    expect(targetsLeftBy(failure)).toContainEqual({ engine: 'mongo', database: 'crm', state: 'drop-failed', objectsBefore: 15 });
  });

  test('a failed drop of an empty target (MongoDB drops every replace target) lost nothing: unchanged', async () => {
    vi.mocked(checkLoadTargets).mockReset().mockResolvedValueOnce({ mysqlExisting: new Set(), mysqlObjects: new Map(), mongoCollections: new Map() });
    vi.mocked(loadMongo).mockImplementationOnce(failsAfter(['crm'], new Error('not authorized to drop'), 'crm') as typeof loadMongo);
    const failure = await loadSet(dir, targets, { replace: true }).catch((error: unknown) => error);
    expect(rollbackMongo).not.toHaveBeenCalled();
    expect(targetsLeftBy(failure)).toContainEqual({ engine: 'mongo', database: 'crm', state: 'unchanged', objectsBefore: 0 });
  });

  test('an undo that fails leaves the targets it was for unknown', async () => {
    const failed = new Error('connection lost');
    vi.mocked(loadMongo).mockImplementationOnce(failsAfter(['crm'], failed) as typeof loadMongo);
    vi.mocked(rollbackMongo).mockRejectedValueOnce(new Error('unreachable'));
    const failure = await loadSet(dir, targets, { replace: true }).catch((error: unknown) => error);
    expect(targetsLeftBy(failure)).toEqual([
      { engine: 'mysql', database: 'blog', state: 'restored', objectsBefore: 0 },
      { engine: 'mysql', database: 'shop', state: 'emptied', objectsBefore: 3 },
      { engine: 'mongo', database: 'crm', state: 'unknown', objectsBefore: 15 },
    ]);
  });

  test('a load that succeeds, or fails before loading, carries no list', async () => {
    await expect(loadSet(dir, targets, { replace: true })).resolves.toMatchObject({ mysqlDatabases: ['blog', 'shop'] });
    const controller = new AbortController();
    controller.abort(new Error('interrupted (SIGINT)'));
    // Aborted before the targets were checked: nothing was changed anywhere.
    const failure = await loadSet(path.join(dir, 'missing'), targets, { signal: controller.signal }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(targetsLeftBy(failure)).toBeUndefined();
    expect(targetsLeftBy('a string reason')).toBeUndefined();
  });
});
