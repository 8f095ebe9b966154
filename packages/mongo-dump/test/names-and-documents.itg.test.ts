import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ObjectId, serialize } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { dumpMongo, loadMongo, MongoEmptyDatabaseError, MongoInexactDocumentError, MongoUnsupportedError } from '../src/index.js';
import { metadataJson } from '../src/internal/normalise.js';
import { engineOf, readTree, uniqueDbName } from './live-fixture.js';

const run = promisify(execFile);
const mongorestore = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'mongorestore'))
  .find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

// Names mongorestore would misread unescaped (`%41` as "A", `+` as a space, `%zz` as an error), names
// no file system takes as they are, and the NFC and NFD spellings of one word.
const AWKWARD_NAMES = ['pct%zz', 'pct%41x', 'plus+sign', 'sp ace', 'slash/name', 'colon:q?*', 'caf\u00e9', 'cafe\u0301', 'tab\tx'];

describeWithServices(['mongo'], 'collection names in file names, and documents that cannot load exactly', () => {
  const temp = useTempDirs();
  const source = uniqueDbName('mdump_names_src');
  const loaded = uniqueDbName('mdump_names_ours');
  const restored = uniqueDbName('mdump_names_mr');
  const cased = uniqueDbName('mdump_names_case');
  const empty = uniqueDbName('mdump_names_empty');
  const sentinel = uniqueDbName('mdump_names_date');
  const refs = uniqueDbName('mdump_names_refs');
  const refsLoaded = uniqueDbName('mdump_names_refs_ours');
  let url: string;
  let client: MongoClient;
  beforeAll(async () => {
    url = serviceVar('TEST_MONGO_URL');
    client = await new MongoClient(url).connect();
    for (const [index, name] of AWKWARD_NAMES.entries()) await client.db(source).collection<{ _id: number; name: string }>(name).insertOne({ _id: index, name });
  });
  afterAll(async () => {
    for (const name of [source, loaded, restored, cased, empty, sentinel, refs, refsLoaded]) await client?.db(name).dropDatabase();
    await client?.close();
  });
  const names = async (database: string) => (await client.db(database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();

  test('awkward names round-trip through our load and dump, byte for byte', async () => {
    const work = await temp.make('mdump-names-');
    await dumpMongo({ url, databases: [source], dataCollections: AWKWARD_NAMES, outDir: join(work, 'a') });
    await loadMongo({ url, dir: join(work, 'a'), databaseRename: loaded });
    expect(await names(loaded)).toEqual([...AWKWARD_NAMES].sort());
    await dumpMongo({ url, databases: [loaded], dataCollections: AWKWARD_NAMES, outDir: join(work, 'b') });
    const first = await readTree(join(work, 'a', 'mongo', source));
    const again = await readTree(join(work, 'b', 'mongo', loaded));
    expect([...again.keys()]).toEqual([...first.keys()]);
    for (const [path, bytes] of first) expect(again.get(path)?.equals(bytes), path).toBe(true);
  });

  test.skipIf(!mongorestore)('stock mongorestore restores them under the same names', async () => {
    const work = await temp.make('mdump-names-');
    await dumpMongo({ url, databases: [source], dataCollections: AWKWARD_NAMES, outDir: work });
    await run(mongorestore as string, [`--uri=${url}`, `--nsFrom=${source}.*`, `--nsTo=${restored}.*`, '--noIndexRestore', join(work, 'mongo')]);
    expect(await names(restored)).toEqual([...AWKWARD_NAMES].sort());
    for (const [index, name] of AWKWARD_NAMES.entries()) expect(await client.db(restored).collection(name).findOne({})).toEqual({ _id: index, name });
  });

  test('collections differing only in case are refused at dump time, naming both', async () => {
    await client.db(cased).collection<{ _id: number }>('Case').insertOne({ _id: 1 });
    await client.db(cased).collection<{ _id: number }>('case').insertOne({ _id: 1 });
    const work = await temp.make('mdump-names-');
    const error = await dumpMongo({ url, databases: [cased], outDir: work }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MongoUnsupportedError);
    expect(error?.message).toBe(`collections "Case" and "case" of database "${cased}" differ only in case, so their dump files would be one file on macOS and Windows; rename one of them`);
  });

  test.each([
    ['alone', (database: string) => [database]],
    ['beside a database with collections', (database: string) => [source, database]],
  ])('a database with only system collections is refused (%s), naming it, and nothing is written', async (_case, databases) => {
    // system.js is never dumped (system.* are the server's own); the database exists through it.
    if (!(await names(empty)).includes('system.js')) await client.db(empty).createCollection('system.js');
    const work = await temp.make('mdump-names-');
    const error = await dumpMongo({ url, databases: databases(empty), outDir: work }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MongoEmptyDatabaseError);
    expect(error?.message).toBe(
      `MongoDB database "${empty}" has no collection to dump (system.* collections are never dumped): its dump would hold no file, ` +
        'and a load could not re-create it (MongoDB creates a database with its first collection); leave it out of the database list, or create its collections first',
    );
    expect(await readTree(work)).toEqual(new Map());
  });

  test('documents holding DBRefs (as ODMs write them) round-trip byte for byte; FerretDB refuses them by name', async () => {
    const work = await temp.make('mdump-names-');
    const orders = [
      new Map<string, unknown>([['_id', 1], ['customer', new Map<string, unknown>([['$ref', 'customers'], ['$id', new ObjectId('65a000000000000000000001')]])]]),
      new Map<string, unknown>([['_id', 2], ['lines', [new Map<string, unknown>([['$ref', 'products'], ['$id', 7], ['$db', 'catalog'], ['qty', 2]])]]]),
    ];
    const dir = join(work, 'a', 'mongo', refs);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'orders.metadata.json'), metadataJson({ name: 'orders', type: 'collection', options: new Map(), indexes: [] }));
    await writeFile(join(dir, 'orders.bson'), Buffer.concat(orders.map((document) => serialize(document))));
    const loading = loadMongo({ url, dir: join(work, 'a'), databaseRename: refsLoaded });
    if ((await engineOf(client)).flavor !== 'mongodb') {
      // FerretDB v1 takes no field name starting with `$`; the load names the collection it failed on.
      await expect(loading).rejects.toThrow(/orders[\s\S]*\$ref|\$ref[\s\S]*orders/);
      return;
    }
    await loading;
    await dumpMongo({ url, databases: [refsLoaded], dataCollections: ['orders'], outDir: join(work, 'b') });
    expect(await readTree(join(work, 'b', 'mongo', refsLoaded))).toEqual(await readTree(dir));
  });

  test('a Date sentinel outside the JS range (int64 max) is refused before anything is created', async () => {
    const work = await temp.make('mdump-names-');
    const dir = join(work, 'mongo', 'shop');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'a.metadata.json'), metadataJson({ name: 'a', type: 'collection', options: new Map(), indexes: [] }));
    await writeFile(join(dir, 'a.bson'), new Uint8Array(0));
    // {_id: 1, expires: Date(int64 max)}, built by hand: no JS Date holds it.
    const document = Buffer.from(serialize(new Map<string, unknown>([['_id', 1], ['expires', new Date(0)]])));
    document.writeBigInt64LE(2n ** 63n - 1n, document.length - 9);
    await writeFile(join(dir, 'b.metadata.json'), metadataJson({ name: 'b', type: 'collection', options: new Map(), indexes: [] }));
    await writeFile(join(dir, 'b.bson'), document);
    const error = await loadMongo({ url, dir: work, databaseRename: sentinel }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MongoInexactDocumentError);
    expect(error?.message).toContain('document 1 (_id 1) of collection "shop.b" in ');
    expect(error?.message).toContain('field "expires" holds the date 9223372036854775807 ms since 1970');
    // Not even the collection before it was created.
    expect(await names(sentinel)).toEqual([]);
  });
});
