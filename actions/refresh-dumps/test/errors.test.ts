import { describe, expect, test } from 'vitest';
import { InputError } from '@org/action-inputs';
import { DumpSetServerError, ServersFailedError } from '@org/dump-set';
import { MongoAuthFailedError, MongoEmptyDatabaseError, MongoUnreachableError } from '@org/mongo-dump';
import { OversizedRowError, ServerUnreachableError, SystemDatabaseError, TargetNotEmptyError, UnknownDatabaseError, UnsafeDatabaseNameError } from '@org/mysql-dump';
import { databaseInputOf, incrementalMigrateFailure, inStep, isStatementError, isUnreachable, settleAll, StepError } from '../src/errors.js';
import { dumpSources, loadTargets, serviceDatabases } from '../src/targets.js';

describe('inStep', () => {
  test('wraps a failure in a StepError naming the step and the input, masked', async () => {
    const failing = inStep('Dumping the databases', () => 'mysql-url', () => Promise.reject(new Error('cannot reach mysql://root:pw@h:1.')), (text) => text.replace('pw', '***'));
    await expect(failing).rejects.toThrow(new StepError('Dumping the databases', 'cannot reach mysql://root:***@h:1', 'mysql-url'));
    await expect(failing).rejects.toThrow(/^Dumping the databases failed \(check input `mysql-url`\): cannot reach mysql:\/\/root:\*\*\*@h:1$/);
  });

  test('lets an action error through unchanged (it already names its input)', async () => {
    const error = new InputError('keep', 'expected a whole number');
    await expect(inStep('Applying retention', 'store', () => Promise.reject(error))).rejects.toBe(error);
  });
});

describe('error classification', () => {
  test('a statement that failed on a reached server is not a connection failure', () => {
    expect(isStatementError(new DumpSetServerError('mysql-failed', 'x'))).toBe(true);
    expect(isStatementError(new DumpSetServerError('mongo-failed', 'x'))).toBe(true);
    expect(isStatementError(new DumpSetServerError('mysql-connect', 'x'))).toBe(false);
    expect(isUnreachable(new ServerUnreachableError('h:1', 'refused'))).toBe(true);
    expect(isUnreachable(new TargetNotEmptyError('db', 1))).toBe(false);
  });

  test.each<[string, Error, string]>([
    ['an unknown MySQL database', new UnknownDatabaseError('lms', 'h:1'), 'mysql-databases'],
    ['a database name unfit for a file name', new UnsafeDatabaseNameError('a/b', 'holds a path separator'), 'mysql-databases'],
    ['a system database', new SystemDatabaseError('mysql', 'dump'), 'mysql-databases'],
    ['a data row over the packet limit', new OversizedRowError('lms', 'blobs', '(id=7)', 9_000_000, 4_194_304), 'data-tables'],
    ['a Mongo database left without collections', new MongoEmptyDatabaseError('lms'), 'mongo-databases'],
  ])('the input behind %s', (_case, error, input) => {
    expect(databaseInputOf(error)).toBe(input);
  });

  test('the input behind a dumper error: the database list for an unknown database, else the URL', () => {
    expect(databaseInputOf(new UnknownDatabaseError('lms', 'h:1'))).toBe('mysql-databases');
    expect(databaseInputOf(new ServerUnreachableError('h:1', 'refused'))).toBe('mysql-url');
    expect(databaseInputOf(new Error('other'))).toBeUndefined();
  });

  test('neither server reachable: both URL inputs, unreachable when either waited in vain', () => {
    const both = new ServersFailedError({ mysql: new ServerUnreachableError('h:1', 'refused'), mongo: new MongoAuthFailedError('h:2', 'app') });
    expect(databaseInputOf(both)).toEqual(['mysql-url', 'mongo-url']);
    expect(isUnreachable(both)).toBe(true);
    expect(isUnreachable(new ServersFailedError({ mysql: new TargetNotEmptyError('db', 1), mongo: new MongoAuthFailedError('h:2', 'app') }))).toBe(false);
    expect(isUnreachable(new ServersFailedError({ mysql: new TargetNotEmptyError('db', 1), mongo: new MongoUnreachableError('h:2', 0, 'refused') }))).toBe(true);
    expect(new StepError('Waiting for the database servers', 'x', ['mysql-url', 'mongo-url']).message).toBe('Waiting for the database servers failed (check inputs `mysql-url` and `mongo-url`): x');
  });
});

describe('settleAll', () => {
  test('waits for every promise, then throws the first rejection in list order', async () => {
    let lateDone = false;
    const late = new Promise<number>((resolve) => setTimeout(() => ((lateDone = true), resolve(1)), 20));
    const first = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('first in list')), 10));
    const second = Promise.reject(new Error('second in list, rejected earlier'));
    await expect(settleAll([first, second, late] as const)).rejects.toThrow('first in list');
    expect(lateDone).toBe(true);
    expect(await settleAll([Promise.resolve(1), Promise.resolve('a')] as const)).toEqual([1, 'a']);
  });
});

describe('incrementalMigrateFailure', () => {
  test('a failed migrate command on a loaded dump says what most often causes it and how to fix it', () => {
    const failed = new StepError('migrate command 1 of 1 (alembic upgrade head)', 'exited with code 1: Table \'users\' already exists', 'migrate');
    const told = incrementalMigrateFailure(failed, 'a'.repeat(40)) as StepError;
    expect(told).toBeInstanceOf(StepError);
    expect(told.message).toMatch(/^migrate command 1 of 1 \(alembic upgrade head\) failed \(check input `migrate`\): exited with code 1: Table 'users' already exists\nIt ran on the loaded dump of a{12} \(incremental mode\); it looks like a migration that dump already holds ran again/);
    expect(told.message).toContain('list another one in `data-tables` and its time columns in `volatile-columns` (MongoDB: `data-collections`). `mode: full` runs every migration');
  });
  test('a migration that fails for another reason is not explained as a re-run', () => {
    const failed = new StepError('migrate command 1 of 1 (flyway migrate)', 'exited with code 1: Validate failed: checksum mismatch', 'migrate');
    const told = incrementalMigrateFailure(failed, 'a'.repeat(40)) as StepError;
    expect(told.message).toMatch(/checksum mismatch\nIt ran on the loaded dump of a{12} \(incremental mode\)\. `mode: full` runs every migration on empty databases instead\.$/);
    expect(told.message).not.toContain('bookkeeping');
    // A migration named after duplicates is no duplicate-key error.
    const named = incrementalMigrateFailure(new StepError('migrate command 1 of 1 (x)', 'exited with code 1; its last output:\nApplying shop.0005_remove_duplicates... FAILED', 'migrate'), 'a'.repeat(40)) as StepError;
    expect(named.message).not.toContain('bookkeeping');
  });
  test('any other error passes through as it is', () => {
    const other = new StepError('Loading the dump', 'x', 'mysql-url');
    expect(incrementalMigrateFailure(other, 'b'.repeat(40))).toBe(other);
    const plain = new Error('y');
    expect(incrementalMigrateFailure(plain, 'b'.repeat(40))).toBe(plain);
  });
});

describe('targets', () => {
  const inputs = { mysqlUrl: 'mysql://m', mysqlDatabases: ['lms'], dataTables: [], volatileColumns: {}, mongoUrl: 'mongodb://g', mongoDatabases: ['crm'], dataCollections: ['crm.sites'] };
  test('every configured engine is dumped, emptied and loaded into', () => {
    expect(loadTargets(inputs)).toEqual({ mysql: { url: 'mysql://m' }, mongo: { url: 'mongodb://g' } });
    expect(serviceDatabases(inputs)).toEqual({ mysql: { url: 'mysql://m', databases: ['lms'] }, mongo: { url: 'mongodb://g', databases: ['crm'] } });
    expect(dumpSources(inputs)).toEqual({ mysql: { url: 'mysql://m', databases: ['lms'] }, mongo: { url: 'mongodb://g', databases: ['crm'], dataCollections: ['crm.sites'] } });
  });
  test('data tables and volatile columns go to the MySQL dumper only when given', () => {
    const given = { ...inputs, dataTables: ['countries'], volatileColumns: { 'countries.updated_at': null } };
    expect(dumpSources(given).mysql).toEqual({ url: 'mysql://m', databases: ['lms'], dataTables: ['countries'], volatileColumns: { 'countries.updated_at': null } });
  });
  test('an engine without a URL is left out everywhere', () => {
    const mysqlOnly = { ...inputs, mongoUrl: '' };
    expect(loadTargets(mysqlOnly)).toEqual({ mysql: { url: 'mysql://m' } });
    expect(serviceDatabases(mysqlOnly)).toEqual({ mysql: { url: 'mysql://m', databases: ['lms'] } });
  });
});
