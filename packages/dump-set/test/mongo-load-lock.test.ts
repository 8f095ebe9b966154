import { describe, expect, test, vi } from 'vitest';
import { MongoSystemDatabaseError, connectMongo, isMongoSystemDatabase } from '@org/mongo-dump';
import { DumpSetServerError, emptyDatabases } from '../src/index.js';
import { planTargets } from '../src/internal/load.js';
import { MONGO_LOCK_DATABASE, lockIsFree, lockMongoTargets, type MongoLockDocument } from '../src/internal/mongo-load-lock.js';

// The server's answers are scripted here; mongo-load-lock.itg.test.ts runs the lock against FerretDB.
vi.mock('@org/mongo-dump', async (original) => ({ ...(await original<typeof import('@org/mongo-dump')>()), connectMongo: vi.fn() }));

const url = 'mongodb://dev:s3cret-pw@db.local:27017/shop';

/** A client whose lock collection runs `insert` for insertOne and finds nothing held. */
function scriptedClient(insert: (doc: MongoLockDocument) => Promise<unknown>, serverTime?: Date) {
  const inserted: MongoLockDocument[] = [];
  const collection = {
    find: vi.fn((filter: { database: string }) => ({ sort: () => ({ limit: () => ({ next: async () => inserted.findLast((doc) => doc.database === filter.database) ?? null }) }) })),
    insertOne: vi.fn(async (doc: MongoLockDocument) => {
      await insert(doc);
      inserted.push(doc);
    }),
    updateOne: vi.fn(async () => ({ matchedCount: 1 })),
    deleteOne: vi.fn(async () => ({ deletedCount: 1 })),
    deleteMany: vi.fn(async () => ({ deletedCount: 0 })),
  };
  const client = {
    db: vi.fn((name: string) => ({
      collection: () => collection,
      command: async () => (name === 'admin' ? { ok: 1, ...(serverTime ? { localTime: serverTime } : {}) } : {}),
    })),
    close: vi.fn(async () => undefined),
  };
  vi.mocked(connectMongo).mockResolvedValueOnce(client as never);
  return { client, collection, inserted };
}

describe('lockIsFree', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  test.each([
    ['no lock yet', null, true],
    ['released', { released: true, expiresAt: new Date('2026-01-01T00:00:30Z') }, true],
    ['lease running', { expiresAt: new Date('2026-01-01T00:00:01Z') }, false],
    ['lease over', { expiresAt: new Date('2025-12-31T23:59:59Z') }, true],
    ['no valid expiry (edited by hand)', { expiresAt: 'soon' as unknown as Date }, true],
  ])('%s', (_case, top, free) => {
    expect(lockIsFree(top, now)).toBe(free);
  });
});

describe('lockMongoTargets', () => {
  test('takes one generation per database in sorted order, on the server clock, and releases them', async () => {
    const serverTime = new Date(Date.now() + 3_600_000);
    const { client, collection, inserted } = scriptedClient(async () => undefined, serverTime);
    const release = await lockMongoTargets(url, ['b', 'a'], { waitSeconds: 0, lockWaitSeconds: 600 });
    expect(inserted.map((doc) => [doc._id, doc.generation])).toEqual([
      ['a#1', 1],
      ['b#1', 1],
    ]);
    expect(client.db).toHaveBeenCalledWith(MONGO_LOCK_DATABASE);
    // The lease is counted from the server's time (an hour ahead here), not this machine's.
    expect(Math.abs(inserted[0]!.expiresAt.getTime() - (serverTime.getTime() + 30_000))).toBeLessThan(2_000);
    await release();
    expect(collection.updateOne.mock.calls.map((call) => (call as unknown[])[0])).toEqual([
      { _id: 'a#1', owner: inserted[0]!.owner },
      { _id: 'b#1', owner: inserted[0]!.owner },
    ]);
    expect(client.close).toHaveBeenCalledOnce();
  });

  test('a user without write access to the lock database loads anyway and says so once, password masked', async () => {
    const refusal = Object.assign(new Error(`not authorized on ${MONGO_LOCK_DATABASE} to execute command { insert: "load_locks" } (${url})`), { code: 13 });
    const { client } = scriptedClient(() => Promise.reject(refusal));
    const told: string[] = [];
    const release = await lockMongoTargets(url, ['shop', 'auth'], { waitSeconds: 0, lockWaitSeconds: 600, onWaiting: (message) => told.push(message) });
    expect(told).toEqual([
      `MongoDB db.local:27017 refuses the load lock in devstack_dumps_locks.load_locks (not authorized on devstack_dumps_locks to execute command { insert: "load_locks" } (mongodb://dev:***@db.local:27017/shop)); loading without waiting for other loads into the same database`,
    ]);
    await release();
    expect(client.close).toHaveBeenCalledOnce();
  });

  test('a lost connection while locking fails as a server error, password masked', async () => {
    const { client } = scriptedClient(() => Promise.reject(new Error('connection to db.local:27017 closed; s3cret-pw')));
    const failure = await lockMongoTargets(url, ['shop'], { waitSeconds: 0, lockWaitSeconds: 600 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DumpSetServerError);
    expect((failure as DumpSetServerError).code).toBe('mongo-failed');
    expect((failure as Error).message).toBe('locking the load targets on MongoDB db.local:27017 failed: connection to db.local:27017 closed; ***');
    expect(client.close).toHaveBeenCalledOnce();
  });
});

describe('the lock database is never a load, empty or dump target', () => {
  test('it counts as a system database, in any case', () => {
    expect(isMongoSystemDatabase(MONGO_LOCK_DATABASE)).toBe(true);
    expect(isMongoSystemDatabase('DevStack_Dumps_Locks')).toBe(true);
    expect(() => planTargets('MongoDB', ['shop'], { shop: MONGO_LOCK_DATABASE })).toThrow(MongoSystemDatabaseError);
  });

  test('emptyDatabases refuses it before connecting', async () => {
    const failure = await emptyDatabases({ mongo: { url: 'mongodb://127.0.0.1:2/x', databases: [MONGO_LOCK_DATABASE] } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MongoSystemDatabaseError);
  });
});
