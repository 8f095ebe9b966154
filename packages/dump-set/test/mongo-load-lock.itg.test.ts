import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { DumpSetServerError, dumpSet, loadSet, type LoadTargets } from '../src/index.js';
import { MONGO_LOCK_COLLECTION, MONGO_LOCK_DATABASE, lockDocumentId, lockMongoTargets, type MongoLockDocument } from '../src/internal/mongo-load-lock.js';

// Two terminals (or a script and a person) loading a MongoDB-only dump into the same database at once.
// Without a lock, the loser's "already exists" cleanup dropped what the winners loaded, and they exited 0.
const COLLECTIONS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

describeWithServices(['mongo'], 'MongoDB-only loads into the same target at once', () => {
  const prefix = `lockfix_${process.pid}_${randomBytes(3).toString('hex')}`;
  const names: string[] = [];
  const name = (label: string) => {
    names.push(`${prefix}_${label}`);
    return `${prefix}_${label}`;
  };
  let url: string;
  let client: MongoClient;
  let work: string;
  let dir: string;
  let source: string;

  beforeAll(async () => {
    url = serviceVar('TEST_MONGO_URL');
    client = await new MongoClient(url).connect();
    work = await mkdtemp(path.join(tmpdir(), 'lockfix-'));
    source = name('src');
    const db = client.db(source);
    for (const collection of COLLECTIONS) {
      await db.collection(collection).createIndex({ key: 1, at: -1 }, { name: `${collection}_key_at` });
      await db.collection(collection).insertMany(Array.from({ length: 40 }, (_, index) => ({ key: `${collection}-${index}`, at: index })));
    }
    dir = (await dumpSet({ mongo: { url, databases: [source], dataCollections: COLLECTIONS } }, path.join(work, 'set'))).dir;
  });
  afterAll(async () => {
    for (const database of names) await client?.db(database).dropDatabase();
    // Only this file's lock documents: other loads may hold locks of their own.
    await client?.db(MONGO_LOCK_DATABASE).collection(MONGO_LOCK_COLLECTION).deleteMany({ database: { $in: names } });
    await client?.close();
    await rm(work, { recursive: true, force: true });
  });

  const targetsFor = (database: string): LoadTargets => ({ mongo: { url, rename: { [source]: database } } });
  const collectionsOf = async (database: string) => (await client.db(database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  async function expectComplete(database: string) {
    expect(await collectionsOf(database)).toEqual(COLLECTIONS);
    for (const collection of COLLECTIONS) expect(await client.db(database).collection(collection).countDocuments()).toBe(40);
  }
  const waitingMessage = (database: string) => new RegExp(`^waiting for another load into MongoDB database ${database} on 127\\.0\\.0\\.1:\\d+ \\(process \\d+ on .+\\) to finish$`);
  /** Resolves with the first progress message starting with `start`; rejects when none comes within 10 s. */
  const told = (messages: string[], start: string) =>
    new Promise<string>((resolve, reject) => {
      const given = Date.now();
      const timer = setInterval(() => {
        const found = messages.find((message) => message.startsWith(start));
        if (found === undefined && Date.now() - given < 10_000) return;
        clearInterval(timer);
        if (found === undefined) reject(new Error(`no message starting with "${start}" within 10 s; got ${JSON.stringify(messages)}`));
        else resolve(found);
      }, 20);
    });

  test('three --replace loads at once: each one succeeds in turn and the database ends complete, round after round', async () => {
    for (let round = 0; round < 5; round++) {
      const target = name(`replace${round}`);
      const messages: string[] = [];
      const results = await Promise.allSettled([0, 1, 2].map(() => loadSet(dir, targetsFor(target), { replace: true, onProgress: (message) => messages.push(message) })));
      expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
      await expectComplete(target);
      const waiting = messages.filter((message) => message.startsWith('waiting for another load into'));
      expect(waiting).not.toHaveLength(0);
      expect(waiting[0]).toMatch(waitingMessage(target));
    }
  }, 180_000);

  test('a load waits while another holds the lock, and proceeds once it is released', async () => {
    const target = name('held');
    const release = await lockMongoTargets(url, [target], { waitSeconds: 0, lockWaitSeconds: 0 });
    const messages: string[] = [];
    const load = loadSet(dir, targetsFor(target), { onProgress: (message) => messages.push(message) });
    load.catch(() => undefined);
    try {
      expect(await told(messages, 'waiting for another load into')).toMatch(waitingMessage(target));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await collectionsOf(target)).toEqual([]);
    } finally {
      await release();
    }
    await load;
    await expectComplete(target);
  }, 60_000);

  test('a lock whose holder stopped renewing it is taken over once its lease ends', async () => {
    const crashed = name('crashed');
    // A load killed an hour ago: its lease is long over.
    const now = Date.now();
    await client
      .db(MONGO_LOCK_DATABASE)
      .collection<MongoLockDocument>(MONGO_LOCK_COLLECTION)
      .insertOne({ _id: lockDocumentId(crashed, 7), database: crashed, generation: 7, owner: 'gone', host: 'elsewhere', pid: 999_999, since: new Date(now - 3_600_000), expiresAt: new Date(now - 3_570_000) });
    const messages: string[] = [];
    const started = Date.now();
    await loadSet(dir, targetsFor(crashed), { lockWaitSeconds: 30, onProgress: (message) => messages.push(message) });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(messages.find((message) => message.startsWith('took over the lock'))).toMatch(
      new RegExp(`^took over the lock of MongoDB database ${crashed} on 127\\.0\\.0\\.1:\\d+ from a load that stopped renewing it \\(process 999999 on elsewhere\\)$`),
    );
    await expectComplete(crashed);

    // A holder that stops renewing (killed while loading) is waited for until its 2 s lease ends, not longer.
    const stalled = name('stalled');
    const releaseStalled = await lockMongoTargets(url, [stalled], { waitSeconds: 0, lockWaitSeconds: 0, lease: { seconds: 2, renewEveryMs: 3_600_000 } });
    const waited = Date.now();
    const later: string[] = [];
    await loadSet(dir, targetsFor(stalled), { lockWaitSeconds: 30, onProgress: (message) => later.push(message) });
    expect(Date.now() - waited).toBeGreaterThanOrEqual(1_000);
    expect(later.find((message) => message.startsWith('waiting for another load into'))).toMatch(waitingMessage(stalled));
    expect(later.find((message) => message.startsWith('took over the lock'))).toBeDefined();
    await expectComplete(stalled);
    // Its release, late, leaves the lock that took over alone.
    await releaseStalled();
    expect(await client.db(MONGO_LOCK_DATABASE).collection<MongoLockDocument>(MONGO_LOCK_COLLECTION).find({ database: stalled }).toArray()).toEqual([
      expect.objectContaining({ generation: 2, released: true }),
    ]);
  }, 60_000);

  test('a holder that renews its lease keeps the lock past it: a waiter gives up naming the holder, and loads nothing', async () => {
    const target = name('busy');
    const release = await lockMongoTargets(url, [target], { waitSeconds: 0, lockWaitSeconds: 0, lease: { seconds: 1, renewEveryMs: 200 } });
    try {
      const failure = await loadSet(dir, targetsFor(target), { lockWaitSeconds: 3 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DumpSetServerError);
      expect((failure as DumpSetServerError).code).toBe('load-busy');
      expect((failure as Error).message).toMatch(
        new RegExp(
          `^another load into MongoDB database ${target} on 127\\.0\\.0\\.1:\\d+ \\(process ${process.pid} on .+\\) did not finish within 3 s; wait for it, or end it, then load again \\(the lock of a load that was killed ends 30 s after it stopped\\)$`,
        ),
      );
      expect(await collectionsOf(target)).toEqual([]);
    } finally {
      await release();
    }
  }, 30_000);

  test('Ctrl-C while waiting for another load ends the wait within a second, and loads nothing', async () => {
    const target = name('abort');
    const release = await lockMongoTargets(url, [target], { waitSeconds: 0, lockWaitSeconds: 0 });
    try {
      const controller = new AbortController();
      const reason = new Error('interrupted');
      let abortedAt = 0;
      const failure = await loadSet(dir, targetsFor(target), {
        lockWaitSeconds: 600,
        signal: controller.signal,
        onProgress: (message) => {
          if (message.startsWith('waiting for another load into'))
            setTimeout(() => {
              abortedAt = Date.now();
              controller.abort(reason);
            }, 200);
        },
      }).catch((error: unknown) => error);
      expect(failure).toBe(reason);
      expect(Date.now() - abortedAt).toBeLessThan(1_000);
      expect(await collectionsOf(target)).toEqual([]);
    } finally {
      await release();
    }
  }, 20_000);

  test("a database's newest lock generation is kept however old (deleting it would let two waiters both hold the lock)", async () => {
    const old = name('old');
    const locks = client.db(MONGO_LOCK_DATABASE).collection<MongoLockDocument>(MONGO_LOCK_COLLECTION);
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await locks.insertOne({ _id: lockDocumentId(old, 3), database: old, generation: 3, owner: 'gone', host: 'elsewhere', pid: 1, since: dayAgo, expiresAt: dayAgo, released: true });
    const recent = name('recent');
    await (await lockMongoTargets(url, [recent], { waitSeconds: 0, lockWaitSeconds: 0 }))();
    expect(await locks.countDocuments({ database: old })).toBe(1);
    expect(await locks.countDocuments({ database: recent, released: true })).toBe(1);
    await locks.deleteMany({ database: old });
  }, 20_000);

  test('a lock the server refuses to write: the load goes ahead unprotected, saying so once', async () => {
    const target = name('refused');
    const messages: string[] = [];
    // A namespace the server refuses (database names are at most 63/64 bytes), as it refuses a user without write access.
    const release = await lockMongoTargets(url, [target], { waitSeconds: 0, lockWaitSeconds: 5, onWaiting: (message) => messages.push(message), namespace: { database: `lockfix_${'x'.repeat(70)}`, collection: 'load_locks' } });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^MongoDB 127\.0\.0\.1:\d+ refuses the load lock in lockfix_x+\.load_locks \(.+\); loading without waiting for other loads into the same database$/);
    await release();
  }, 20_000);
});

// The MySQL lock is taken first, then the Mongo one: a MySQL+Mongo load and Mongo-only loads of the same
// Mongo database take turns instead of deadlocking.
describeWithServices(['mysql', 'mongo'], 'a MySQL+MongoDB load and MongoDB-only loads into the same Mongo database', () => {
  const prefix = `lockfix_${process.pid}_${randomBytes(3).toString('hex')}`;
  let mongoUrl: string;
  let mysqlUrl: string;
  let client: MongoClient;
  let work: string;
  let dir: string;
  const targets: string[] = [];
  const source = `${prefix}_src`;

  beforeAll(async () => {
    mongoUrl = serviceVar('TEST_MONGO_URL');
    mysqlUrl = serviceVar('TEST_MYSQL_URL');
    client = await new MongoClient(mongoUrl).connect();
    const { createConnection } = await import('mysql2/promise');
    const mysql = await createConnection({ uri: mysqlUrl, multipleStatements: true });
    await mysql.query(`CREATE DATABASE \`${source}\`; CREATE TABLE \`${source}\`.t (id int PRIMARY KEY);`);
    await mysql.end();
    for (const collection of COLLECTIONS) await client.db(source).collection(collection).insertOne({ key: collection });
    work = await mkdtemp(path.join(tmpdir(), 'lockfix-mixed-'));
    dir = (await dumpSet({ mysql: { url: mysqlUrl, databases: [source] }, mongo: { url: mongoUrl, databases: [source], dataCollections: COLLECTIONS } }, path.join(work, 'set'))).dir;
  });
  afterAll(async () => {
    const { createConnection } = await import('mysql2/promise');
    const mysql = await createConnection({ uri: mysqlUrl });
    for (const database of [source, ...targets]) {
      await mysql.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await client?.db(database).dropDatabase();
    }
    await mysql.end();
    await client?.db(MONGO_LOCK_DATABASE).collection(MONGO_LOCK_COLLECTION).deleteMany({ database: { $in: [source, ...targets] } });
    await client?.close();
    await rm(work, { recursive: true, force: true });
  });

  test('all succeed in turn, round after round, and the Mongo database ends complete', async () => {
    for (let round = 0; round < 3; round++) {
      const target = `${prefix}_mixed${round}`;
      targets.push(target);
      const rename = { [source]: target };
      const results = await Promise.allSettled([
        loadSet(dir, { mysql: { url: mysqlUrl, rename }, mongo: { url: mongoUrl, rename } }, { replace: true, lockWaitSeconds: 60 }),
        loadSet(dir, { mongo: { url: mongoUrl, rename } }, { replace: true, skipEnginesWithoutTarget: true, lockWaitSeconds: 60 }),
        loadSet(dir, { mongo: { url: mongoUrl, rename } }, { replace: true, skipEnginesWithoutTarget: true, lockWaitSeconds: 60 }),
      ]);
      expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
      expect((await client.db(target).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(COLLECTIONS);
    }
  }, 180_000);
});
