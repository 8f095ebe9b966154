import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { dumpSet, loadSet, targetsLeftBy, type LoadTargets, type TargetLeft } from '../src/index.js';
import { rejectionOf } from '../../../test/support/rejection.js';
import { ScratchDatabases, seedSource, seededDumpSet } from './support.js';

// Ctrl-C during `load --replace` was told "the databases are as they were", while MongoDB's old content had
// already been dropped (and MySQL's too, later on). A load now says what it left in each target; these
// check that what it says is what the servers hold.
describeWithServices(['mysql', 'mongo'], 'an interrupted load says what it left in each target (MariaDB, FerretDB)', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let dir: string;
  let source: string;

  beforeAll(async () => {
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'dump-set-undo-itg-'));
    ({ source, dir } = await seededDumpSet(scratch, work));
  });
  afterAll(async () => {
    await scratch?.dropAll();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const targetsFor = (target: string): LoadTargets => ({ mysql: { url: scratch.mysqlUrl, rename: { [source]: target } }, mongo: { url: scratch.mongoUrl, rename: { [source]: target } } });
  /** Loads with a signal aborted at the first progress line matching `when`; resolves with the rejection. */
  const interruptedLoad = (from: string, targets: LoadTargets, replace: boolean, when: RegExp) => {
    const controller = new AbortController();
    const reason = new Error('interrupted (SIGINT)');
    return {
      reason,
      failure: rejectionOf(() => loadSet(from, targets, { replace, signal: controller.signal, onProgress: (message) => (when.test(message) ? controller.abort(reason) : undefined) })),
    };
  };
  const entry = (left: TargetLeft[] | undefined, engine: TargetLeft['engine']) => left?.find((target) => target.engine === engine);

  test('with replace, aborted once MongoDB is loading: MongoDB is told dropped and is empty, MySQL is told what it really holds', async () => {
    const target = scratch.name('replaced');
    await loadSet(dir, targetsFor(target));
    const tablesBefore = await scratch.mysqlTables(target);
    expect(await scratch.mongoCollections(target)).toEqual(['events', 'feature_flags']);

    const { reason, failure } = interruptedLoad(dir, targetsFor(target), true, /^mongo /);
    expect(await failure).toBe(reason);
    const left = targetsLeftBy(await failure);
    expect(entry(left, 'mongo')).toEqual({ engine: 'mongo', database: target, state: 'emptied', objectsBefore: 2 });
    expect(await scratch.mongoCollections(target)).toEqual([]);
    // MySQL may or may not have been dropped by then: whichever it says is what it holds.
    const mysql = entry(left, 'mysql');
    expect(mysql).toMatchObject({ engine: 'mysql', database: target, objectsBefore: tablesBefore.length });
    expect(['unchanged', 'emptied']).toContain(mysql?.state);
    expect(await scratch.mysqlDatabaseExists(target)).toBe(true);
    expect(await scratch.mysqlTables(target)).toEqual(mysql?.state === 'unchanged' ? tablesBefore : []);

    // The next load with replace finishes it.
    await loadSet(dir, targetsFor(target), { replace: true });
    expect(await scratch.mysqlTables(target)).toEqual(tablesBefore);
    expect(await scratch.mongoCollections(target)).toEqual(['events', 'feature_flags']);
  });

  test('without replace (empty targets), aborted once MongoDB is loading: every target is told, and is, as it was', async () => {
    const target = scratch.name('fresh');
    const { reason, failure } = interruptedLoad(dir, targetsFor(target), false, /^mongo /);
    expect(await failure).toBe(reason);
    const left = targetsLeftBy(await failure)!;
    expect(left.map((target) => target.state).every((state) => state === 'unchanged' || state === 'restored')).toBe(true);
    expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
    expect(await scratch.mongoCollections(target)).toEqual([]);
  });

  test('two MySQL databases, aborted after the first was loaded: both are undone, not only the one being loaded', async () => {
    const second = scratch.name('src2');
    await seedSource(scratch, second);
    const mysqlOnly = (await dumpSet({ mysql: { url: scratch.mysqlUrl, databases: [source, second] } }, path.join(work, 'two'))).dir;
    const [a, b] = [scratch.name('ta'), scratch.name('tb')];
    const targets: LoadTargets = { mysql: { url: scratch.mysqlUrl, rename: { [source]: a, [second]: b } } };
    // The databases are loaded one after the other, in file order (source first).
    const { reason, failure } = interruptedLoad(mysqlOnly, targets, false, new RegExp(`^mysql ${a}: 100% loaded`));
    expect(await failure).toBe(reason);
    expect(targetsLeftBy(await failure)).toEqual([
      { engine: 'mysql', database: a, state: 'restored', objectsBefore: 0 },
      { engine: 'mysql', database: b, state: 'restored', objectsBefore: 0 },
    ]);
    // Before: the first database stayed loaded (the MySQL loader undid only the one it was loading).
    expect(await scratch.mysqlDatabaseExists(a)).toBe(false);
    expect(await scratch.mysqlDatabaseExists(b)).toBe(false);
  });
});
