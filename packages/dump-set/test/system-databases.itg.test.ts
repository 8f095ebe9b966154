import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MongoSystemDatabaseError } from '@org/mongo-dump';
import { SystemDatabaseError } from '@org/mysql-dump';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { dumpSet, emptyDatabases, loadSet } from '../src/index.js';
import { countingProxy, ScratchDatabases, seedSource, type CountingProxy } from './support.js';

// The other engine of each call points here. emptyDatabases and loadSet connect to both servers before
// dropping anything, so should the guard ever regress, nothing is dropped on the shared real server.
const NO_MYSQL = 'mysql://root:Sup3rSecret@127.0.0.1:1';
const NO_MONGO = 'mongodb://app:Sup3rSecret@127.0.0.1:2/x';

describeWithServices(['mysql', 'mongo'], 'dump-set refuses system databases before connecting', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let source: string;
  let setDir: string;
  let mysql: CountingProxy;
  let mongo: CountingProxy;

  /**
   * What dropping or loading into a system database would change. Not the number of users: other test
   * files running beside this one create and drop theirs.
   */
  const serverState = async () => {
    const [rows] = await (await scratch.mysqlConnection()).query(
      `SELECT (SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql') AS tables, (SELECT COUNT(*) FROM mysql.user WHERE User = 'root') AS roots`,
    );
    const mongoDatabases = await Promise.all(['admin', 'local', 'config'].map((name) => scratch.mongoCollections(name)));
    return { mysql: (rows as unknown[])[0], mongo: mongoDatabases };
  };

  beforeAll(async () => {
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'dump-set-sysguard-'));
    source = scratch.name('src');
    await seedSource(scratch, source);
    setDir = (await dumpSet({ mysql: { url: scratch.mysqlUrl, databases: [source] }, mongo: { url: scratch.mongoUrl, databases: [source] } }, path.join(work, 'set'))).dir;
    mysql = await countingProxy(scratch.mysqlUrl, 3306);
    mongo = await countingProxy(scratch.mongoUrl, 27017);
  });
  afterAll(async () => {
    await mysql?.close();
    await mongo?.close();
    await scratch?.dropAll();
    await rm(work, { recursive: true, force: true });
  });

  test.each([
    ['emptyDatabases: MySQL mysql', () => emptyDatabases({ mysql: { url: mysql.url, databases: ['mysql'] }, mongo: { url: NO_MONGO, databases: [scratch.name('x')] } }), SystemDatabaseError, 'mysql'],
    ['emptyDatabases: MySQL MySQL', () => emptyDatabases({ mysql: { url: mysql.url, databases: ['MySQL'] }, mongo: { url: NO_MONGO, databases: [scratch.name('x')] } }), SystemDatabaseError, 'MySQL'],
    ['emptyDatabases: MongoDB admin', () => emptyDatabases({ mysql: { url: NO_MYSQL, databases: [scratch.name('x')] }, mongo: { url: mongo.url, databases: ['admin'] } }), MongoSystemDatabaseError, 'admin'],
    [
      'loadSet: MySQL rename to mysql, replace',
      () => loadSet(setDir, { mysql: { url: mysql.url, rename: { [source]: 'mysql' } }, mongo: { url: NO_MONGO, rename: { [source]: scratch.name('x') } } }, { replace: true }),
      SystemDatabaseError,
      'mysql',
    ],
    [
      'loadSet: MongoDB rename to config, replace',
      () => loadSet(setDir, { mysql: { url: NO_MYSQL, rename: { [source]: scratch.name('x') } }, mongo: { url: mongo.url, rename: { [source]: 'config' } } }, { replace: true }),
      MongoSystemDatabaseError,
      'config',
    ],
  ])('%s: refused, no connection made, the server unchanged', async (_case, run, type, database) => {
    const before = await serverState();
    const error = await run().then(
      () => new Error('expected a refusal'),
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code: 'system-database', database });
    expect(mysql.connections() + mongo.connections()).toBe(0);
    expect(await serverState()).toEqual(before);
  });

  test('the control: ordinary names go through the same proxies', async () => {
    await emptyDatabases({ mysql: { url: mysql.url, databases: [scratch.name('ordinary')] }, mongo: { url: mongo.url, databases: [scratch.name('ordinary')] } });
    expect(mysql.connections()).toBeGreaterThan(0);
    expect(mongo.connections()).toBeGreaterThan(0);
  });
});
