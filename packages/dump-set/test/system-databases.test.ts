import { describe, expect, test } from 'vitest';
import { MongoSystemDatabaseError } from '@org/mongo-dump';
import { SystemDatabaseError } from '@org/mysql-dump';
import { emptyDatabases } from '../src/index.js';
import { planTargets } from '../src/internal/load.js';
import { rollbackMongo, rollbackMysql } from '../src/internal/servers.js';

// Nothing listens on these ports: were a name checked after connecting, the error would be "unreachable".
const MYSQL = 'mysql://root:Sup3rSecret@127.0.0.1:1';
const MONGO = 'mongodb://app:Sup3rSecret@127.0.0.1:2/x';

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => new Error('expected a refusal'),
    (caught: unknown) => caught as Error,
  );

describe('load targets', () => {
  test.each([
    ['MySQL', ['shop'], { shop: 'mysql' }, SystemDatabaseError, 'mysql'],
    ['MySQL', ['shop', 'auth'], { auth: 'Performance_Schema' }, SystemDatabaseError, 'Performance_Schema'],
    ['MySQL', ['sys'], {}, SystemDatabaseError, 'sys'],
    ['MongoDB', ['shop'], { shop: 'admin' }, MongoSystemDatabaseError, 'admin'],
    ['MongoDB', ['local'], {}, MongoSystemDatabaseError, 'local'],
    ['MongoDB', ['shop'], { shop: 'CONFIG' }, MongoSystemDatabaseError, 'CONFIG'],
  ] as const)('%s %j renamed %j is refused', (engine, dumped, rename, type, database) => {
    expect(() => planTargets(engine, dumped, rename)).toThrow(type);
    expect(() => planTargets(engine, dumped, rename)).toThrow(expect.objectContaining({ code: 'system-database', database }));
  });

  test('ordinary names pass', () => {
    expect(planTargets('MySQL', ['shop', 'auth'], { shop: 'mysql_shop' })).toEqual(['mysql_shop', 'auth']);
    expect(planTargets('MongoDB', ['shop'], { shop: 'admin_copy' })).toEqual(['admin_copy']);
  });
});

describe('emptyDatabases and the rollbacks refuse system databases before connecting', () => {
  test.each([
    ['MySQL mysql', { mysql: { url: MYSQL, databases: ['app', 'mysql'] } }, SystemDatabaseError, 'mysql'],
    ['MySQL SYS beside an ordinary Mongo list', { mysql: { url: MYSQL, databases: ['SYS'] }, mongo: { url: MONGO, databases: ['app'] } }, SystemDatabaseError, 'SYS'],
    ['MongoDB admin beside an ordinary MySQL list', { mysql: { url: MYSQL, databases: ['app'] }, mongo: { url: MONGO, databases: ['admin'] } }, MongoSystemDatabaseError, 'admin'],
    ['MongoDB config', { mongo: { url: MONGO, databases: ['config'] } }, MongoSystemDatabaseError, 'config'],
  ])('emptyDatabases: %s', async (_case, targets, type, database) => {
    const error = await rejection(emptyDatabases(targets));
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code: 'system-database', database });
    expect(error.message).not.toContain('Sup3rSecret');
  });

  test.each([
    ['rollbackMysql', () => rollbackMysql(MYSQL, ['app', 'information_schema'], { mysqlExisting: new Set() }), SystemDatabaseError, 'information_schema'],
    ['rollbackMongo', () => rollbackMongo(MONGO, ['Local']), MongoSystemDatabaseError, 'Local'],
  ])('%s', async (_case, run, type, database) => {
    const error = await rejection(run());
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code: 'system-database', database });
  });
});
