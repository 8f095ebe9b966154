import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Binary, Double, Int32, Long, MongoClient, ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { serviceVar } from '../../../test/support/services.js';
import { engineFromBuildInfo, type MongoEngine } from '../src/internal/connect.js';
import { readBsonDocument, toCanonicalJson, type OrderedDoc } from '../src/internal/ordered.js';

/** A database name no other test run uses; tests drop it afterwards. */
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

export async function engineOf(client: MongoClient): Promise<MongoEngine> {
  return engineFromBuildInfo(await client.db('admin').command({ buildInfo: 1 }));
}

export interface FixtureContext {
  url: string;
  client: MongoClient;
  engine: MongoEngine;
  /** A temp directory for dumps, removed afterwards. */
  work: string;
}

/**
 * Registers hooks that create the fixture in `source` (on the server `urlVariable` names) before the
 * block's tests and drop `source` and `alsoDrop` after them. The returned object is filled in by the time tests run.
 */
export function useFixtureDatabase(source: string, alsoDrop: readonly string[], urlVariable = 'TEST_MONGO_URL'): FixtureContext {
  const context = {} as FixtureContext;
  beforeAll(async () => {
    context.url = serviceVar(urlVariable);
    context.client = await new MongoClient(context.url).connect();
    context.engine = await engineOf(context.client);
    context.work = await mkdtemp(join(tmpdir(), 'mongo-dump-itg-'));
    await createFixture(context.client.db(source), context.engine);
  });
  afterAll(async () => {
    for (const name of [source, ...alsoDrop]) await context.client?.db(name).dropDatabase();
    await context.client?.close();
    if (context.work) await rm(context.work, { recursive: true, force: true });
  });
  return context;
}

/** The data collections the fixture is dumped with. */
export const FIXTURE_DATA_COLLECTIONS = ['orders', 'audit_log'];

/**
 * The fixture database: compound, unique, sparse and integer-like-key indexes, a capped collection,
 * documents with mixed `_id` types and integer-like field names, and a `sessions` collection whose
 * documents must never reach a dump. On real MongoDB it adds what FerretDB 1.24 rejects (TTL and
 * partial indexes, validator, collation, text/2dsphere indexes, views, time series, clustered).
 */
export async function createFixture(db: Db, engine: MongoEngine): Promise<void> {
  await db.createCollection('orders');
  await db.createCollection('audit_log', { capped: true, size: 65536, max: 100 });
  await db.createCollection('sessions');
  await db.createCollection('empty');
  // Maps keep `{ "2": 1, "1": -1 }` in this order; a plain object would send "1" first.
  await db.command({
    createIndexes: 'orders',
    indexes: [
      { key: { customer: 1, created: -1 }, name: 'customer_1_created_-1' },
      { key: { number: 1 }, name: 'number_1', unique: true },
      { key: { coupon: 1 }, name: 'coupon_1', sparse: true },
      { key: new Map([['2', 1], ['1', -1], ['a', 1]]), name: 'integer_like_keys' },
    ],
  });
  await db.command({
    insert: 'orders',
    documents: [
      new Map<string, unknown>([
        ['_id', 3],
        ['number', 'A-3'],
        ['10', 'ten'],
        ['9', new Map<string, unknown>([['b', new Double(1)], ['0', Long.fromNumber(7)]])],
      ]),
      { _id: 1, number: 'A-1', customer: 'ann', created: new Date(Date.UTC(2024, 0, 2)), total: new Double(12.5) },
      { _id: 'order-x', number: 'A-x', customer: 'bob', lines: [{ sku: 'p1', qty: new Int32(2) }], coupon: 'NEW' },
      { _id: new ObjectId('65a000000000000000000001'), number: 'A-o', raw: new Binary(Buffer.from('bytes')) },
      { _id: 2, number: 'A-2', customer: 'ann', created: new Date(Date.UTC(2024, 0, 1)) },
    ],
  });
  await db.collection<{ _id: number; event: string }>('audit_log').insertMany([{ _id: 2, event: 'b' }, { _id: 1, event: 'a' }]);
  await db.command({ insert: 'sessions', documents: [{ _id: 'secret-session', user: 'ann', token: 'do-not-dump' }] });
  if (engine.flavor !== 'mongodb') return;

  // Not implemented by FerretDB 1.24 (covered by the recorded-output unit tests there).
  await db.command({
    createIndexes: 'orders',
    indexes: [
      { key: { expiresAt: 1 }, name: 'expiresAt_1', expireAfterSeconds: 3600 },
      { key: { status: 1, total: 1 }, name: 'open_by_total', partialFilterExpression: { status: 'open', total: { $gt: 100 } } },
      { key: { notes: 'text', customer: 'text' }, name: 'notes_text', weights: { notes: 5 }, default_language: 'english' },
      { key: { home: '2dsphere' }, name: 'home_2dsphere' },
    ],
  });
  await db.createCollection('customers', {
    validator: { $jsonSchema: { bsonType: 'object', required: ['email'], properties: { email: { bsonType: 'string' } } } },
    validationLevel: 'strict',
    validationAction: 'error',
  });
  await db.createCollection('products', { collation: { locale: 'en', strength: 2 } });
  await db.collection('products').createIndex({ name: 1 }, { name: 'name_1' });
  await db.createCollection('weather', { timeseries: { timeField: 't', metaField: 'm', granularity: 'hours' }, expireAfterSeconds: 86400 });
  await db.createCollection('stocks', { clusteredIndex: { key: { _id: 1 }, unique: true } });
  await db.createCollection('paid_orders', { viewOn: 'orders', pipeline: [{ $match: { status: 'paid' } }, { $sort: { total: -1, _id: 1 } }] });
  await db.createCollection('big_paid_orders', { viewOn: 'paid_orders', pipeline: [{ $match: { total: { $gt: 1000 } } }] });
}

/** Every file under `dir`, by `/`-separated path relative to it. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path).split(sep).join('/'), await readFile(path));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The server's own listCollections and listIndexes answers (raw, field order kept), minus the
 * per-collection `info` (uuid), sorted by collection and index name; for comparing two databases.
 */
export async function rawCatalog(db: Db): Promise<Array<{ collection: string; entry: string; indexes: string[] }>> {
  const result: Array<{ collection: string; entry: string; indexes: string[] }> = [];
  for await (const raw of db.listCollections({}, { raw: true })) {
    const entry = readBsonDocument(raw as unknown as Uint8Array);
    entry.delete('info');
    const name = String(entry.get('name'));
    const indexes: string[] = [];
    if (entry.get('type') !== 'view') {
      for await (const index of db.collection(name).listIndexes({ raw: true })) {
        indexes.push(toCanonicalJson(readBsonDocument(index as unknown as Uint8Array)));
      }
    }
    result.push({ collection: name, entry: toCanonicalJson(entry), indexes: indexes.sort() });
  }
  return result.sort((a, b) => (a.collection < b.collection ? -1 : 1));
}

/** The `_id`s of a `.bson` file's documents, in file order, as canonical JSON. */
export function bsonIds(bytes: Buffer): string[] {
  const ids: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += bytes.readInt32LE(offset)) {
    ids.push(toCanonicalJson((readBsonDocument(bytes, offset) as OrderedDoc).get('_id')));
  }
  return ids;
}
