import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TargetNotEmptyError, ServerUnreachableError } from '@org/mysql-dump';
import { MongoUnreachableError } from '@org/mongo-dump';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { checksumsPathOf, dumpSet, emptyDatabases, loadSet, ServersFailedError, verifyDumpSet, waitForServers } from '../src/index.js';
import { rejectionOf } from '../../../test/support/rejection.js';
import { readSet, ScratchDatabases, seedSource } from './support.js';

describeWithServices(['mysql', 'mongo'], 'dumpSet and loadSet against MariaDB and FerretDB', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let source: string;
  const progress: string[] = [];

  beforeAll(async () => {
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'dump-set-itg-'));
    source = scratch.name('src');
    await seedSource(scratch, source);
  });
  afterAll(async () => {
    await scratch?.dropAll();
    await rm(work, { recursive: true, force: true });
  });

  const sources = (database: string) => ({
    mysql: { url: scratch.mysqlUrl, databases: [database] },
    mongo: { url: scratch.mongoUrl, databases: [database], dataCollections: ['feature_flags'] },
  });

  test('dump -> load under another name -> dump again gives the same bytes', async () => {
    const first = await dumpSet(sources(source), path.join(work, 'first'), { onProgress: (message) => progress.push(message) });
    expect(first.files).toEqual([
      `mongo/${source}/events.bson`,
      `mongo/${source}/events.metadata.json`,
      `mongo/${source}/feature_flags.bson`,
      `mongo/${source}/feature_flags.metadata.json`,
      `mysql/${source}.schema.json`,
      `mysql/${source}.sql`,
    ]);
    expect(first.engines.mysql?.flavor).toMatch(/^(mysql|mariadb)$/);
    expect(first.engines.mongo?.flavor).toMatch(/^(mongodb|ferretdb)$/);
    expect(progress.some((line) => line.startsWith(`mysql ${source}:`))).toBe(true);
    expect((await verifyDumpSet(first.dir)).verifiedBy).toBe('checksums');
    const sql = await readFile(path.join(first.dir, `mysql/${source}.sql`), 'utf8');
    expect(sql).toContain('catalog_item');
    expect(sql).not.toContain('secret-row');
    expect(sql).not.toContain('do-not-dump');

    const copy = scratch.name('copy');
    const loadProgress: string[] = [];
    const loaded = await loadSet(first.dir, { mysql: { url: scratch.mysqlUrl, rename: { [source]: copy } }, mongo: { url: scratch.mongoUrl, rename: { [source]: copy } } }, { onProgress: (m) => loadProgress.push(m) });
    expect(loaded.mysqlDatabases).toEqual([copy]);
    expect(loaded.mongoDatabases).toEqual([copy]);
    expect(loadProgress[0]).toMatch(/^verified 6 files \(sha256 of every file\)/);
    expect(await scratch.mysqlTables(copy)).toEqual(['auth_user', 'catalog_item', 'django_migrations']);

    const second = await dumpSet(sources(copy), path.join(work, 'second'));
    const a = await readSet(first.dir, [source]);
    const b = await readSet(second.dir, [copy]);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
  });

  test('a non-empty target is refused before either engine loads; --replace loads over it', async () => {
    const target = scratch.name('busy');
    await (await scratch.mongoClient()).db(target).collection('leftover').insertOne({ x: 1 });
    const targets = { mysql: { url: scratch.mysqlUrl, rename: { [source]: target } }, mongo: { url: scratch.mongoUrl, rename: { [source]: target } } };
    await expect(loadSet(path.join(work, 'first'), targets)).rejects.toThrow(new RegExp(`MongoDB database "${target}" is not empty \\(1 collection: leftover\\)`));
    // MySQL was checked too and never touched.
    expect(await scratch.mysqlDatabaseExists(target)).toBe(false);

    await (await scratch.mysqlConnection()).query(`CREATE DATABASE \`${target}\``);
    await (await scratch.mysqlConnection()).query(`CREATE TABLE \`${target}\`.stale (id int)`);
    await expect(loadSet(path.join(work, 'first'), targets)).rejects.toBeInstanceOf(TargetNotEmptyError);
    await loadSet(path.join(work, 'first'), targets, { replace: true });
    expect(await scratch.mysqlTables(target)).toEqual(['auth_user', 'catalog_item', 'django_migrations']);
    expect(await scratch.mongoCollections(target)).toEqual(['events', 'feature_flags']);
  });

  test('an altered or missing file is refused before anything is loaded', async () => {
    const dir = path.join(work, 'tampered');
    await dumpSet(sources(source), dir);
    const target = scratch.name('tampered');
    const targets = { mysql: { url: scratch.mysqlUrl, rename: { [source]: target } }, mongo: { url: scratch.mongoUrl, rename: { [source]: target } } };
    const sqlFile = path.join(dir, `mysql/${source}.sql`);
    const original = await readFile(sqlFile);
    await writeFile(sqlFile, Buffer.concat([original, Buffer.from('DROP TABLE catalog_item;\n')]));
    await expect(loadSet(dir, targets)).rejects.toThrow(`mysql/${source}.sql was altered`);
    await writeFile(sqlFile, original);
    await rm(path.join(dir, `mongo/${source}/events.bson`));
    await expect(loadSet(dir, targets)).rejects.toThrow(`mongo/${source}/events.bson is missing`);
    // Without the checksum list the dumpers' own checks still find the missing document file first.
    await rm(checksumsPathOf(dir));
    await expect(loadSet(dir, targets)).rejects.toThrow(/events.bson: the document file is missing/);
    expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
    expect(await scratch.mongoCollections(target)).toEqual([]);
  });

  test('dumpSet with neither server reachable names both and writes nothing', async () => {
    const out = path.join(work, 'neither');
    const error = await rejectionOf(() => dumpSet({ mysql: { url: 'mysql://root:Sup3rSecret@127.0.0.1:1', databases: [source] }, mongo: { url: 'mongodb://127.0.0.1:2', databases: [source] } }, out));
    expect(error).toBeInstanceOf(ServersFailedError);
    expect(error.message).toMatch(/MySQL: .*127\.0\.0\.1:1.*MongoDB: .*127\.0\.0\.1:2/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  test('dumpSet leaves nothing behind on failure and refuses a non-empty output directory', async () => {
    const out = path.join(work, 'failed');
    await expect(dumpSet({ mysql: { url: scratch.mysqlUrl, databases: [source, scratch.name('absent')] } }, out)).rejects.toThrow(/does not exist/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
    await expect(stat(checksumsPathOf(out))).rejects.toThrow(/ENOENT/);
    await mkdir(path.join(work, 'full'));
    await writeFile(path.join(work, 'full', 'x'), '');
    await expect(dumpSet(sources(source), path.join(work, 'full'))).rejects.toThrow(/output directory .*full is not empty/);
  });

  test('emptyDatabases drops and re-creates, keeping the MySQL charset', async () => {
    const target = scratch.name('empty');
    await loadSet(path.join(work, 'first'), { mysql: { url: scratch.mysqlUrl, rename: { [source]: target } }, mongo: { url: scratch.mongoUrl, rename: { [source]: target } } });
    await emptyDatabases({ mysql: { url: scratch.mysqlUrl, databases: [target] }, mongo: { url: scratch.mongoUrl, databases: [target] } });
    expect(await scratch.mysqlTables(target)).toEqual([]);
    expect(await scratch.mysqlDatabaseExists(target)).toBe(true);
    expect(await scratch.mongoCollections(target)).toEqual([]);
    const [rows] = await (await scratch.mysqlConnection()).query('SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
    expect((rows as { cs: string }[])[0]?.cs).toBe('utf8mb4');
  });

  test('emptyDatabases drops nothing anywhere when one of the servers cannot be reached', async () => {
    const target = scratch.name('keep');
    await loadSet(path.join(work, 'first'), { mysql: { url: scratch.mysqlUrl, rename: { [source]: target } }, mongo: { url: scratch.mongoUrl, rename: { [source]: target } } });
    const tables = await scratch.mysqlTables(target);
    expect(tables.length).toBeGreaterThan(0);
    const failed = emptyDatabases({ mysql: { url: scratch.mysqlUrl, databases: [target] }, mongo: { url: 'mongodb://app:Sup3rSecret@127.0.0.1:2/x', databases: [target] } });
    await expect(failed).rejects.toBeInstanceOf(MongoUnreachableError);
    expect(await scratch.mysqlTables(target)).toEqual(tables);
  });

  test('waitForServers returns once both servers answer', async () => {
    await expect(waitForServers({ mysqlUrl: scratch.mysqlUrl, mongoUrl: scratch.mongoUrl }, 5)).resolves.toBeUndefined();
  });

  // The documented bound: an unreachable server fails within 10 s (one connect attempt: 5 s for MySQL,
  // 5 s server selection for Mongo) after the requested wait has run out.
  test.each([
    ['MySQL', { mysqlUrl: 'mysql://root:Sup3rSecret@127.0.0.1:1' }, 1, ServerUnreachableError, /127\.0\.0\.1:1 .*after waiting 1 s/],
    ['MongoDB', { mongoUrl: 'mongodb://app:Sup3rSecret@127.0.0.1:2/x' }, 0, MongoUnreachableError, /127\.0\.0\.1:2/],
  ])('waitForServers names host:port of an unreachable %s server, never the password, within wait + 10 s', async (_engine, urls, seconds, type, message) => {
    const start = performance.now();
    const error = await waitForServers(urls, seconds).then(
      () => new Error('expected a failure'),
      (caught: unknown) => caught as Error,
    );
    const elapsedMs = performance.now() - start;
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('Sup3rSecret');
    expect(elapsedMs).toBeLessThan((seconds + 10) * 1000);
  });

  test('neither server reachable: one ServersFailedError keeps both typed errors, so both are told in one run', async () => {
    const error = await rejectionOf(() => waitForServers({ mysqlUrl: 'mysql://root:Sup3rSecret@127.0.0.1:1', mongoUrl: 'mongodb://app:Sup3rSecret@127.0.0.1:2/x' }, 0));
    expect(error).toBeInstanceOf(ServersFailedError);
    const { failures } = error as ServersFailedError;
    expect(failures.mysql).toBeInstanceOf(ServerUnreachableError);
    expect(failures.mongo).toBeInstanceOf(MongoUnreachableError);
    expect(error.message).toMatch(/^neither server could be used\. MySQL: cannot reach MySQL server at 127\.0\.0\.1:1 .*\. MongoDB: MongoDB server at 127\.0\.0\.1:2 is unreachable/);
    expect(error.message).not.toContain('Sup3rSecret');
  });

  test('loadSet with neither server reachable names both, and loads nothing', async () => {
    const error = await rejectionOf(() =>
      loadSet(path.join(work, 'first'), { mysql: { url: 'mysql://root:Sup3rSecret@127.0.0.1:1' }, mongo: { url: 'mongodb://127.0.0.1:2' } }),
    );
    expect(error).toBeInstanceOf(ServersFailedError);
    expect(error.message).not.toContain('Sup3rSecret');
  });
});
