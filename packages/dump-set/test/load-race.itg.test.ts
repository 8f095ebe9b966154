import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TargetNotEmptyError } from '@org/mysql-dump';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { DumpSetServerError, loadSet, type LoadTargets } from '../src/index.js';
import { ScratchDatabases, seededDumpSet } from './support.js';

// Two developers' terminals (or a script and a person) loading into the same databases at once.
describeWithServices(['mysql', 'mongo'], 'loads into the same target at once', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let dir: string;
  let source: string;

  beforeAll(async () => {
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'dump-set-race-'));
    ({ source, dir } = await seededDumpSet(scratch, work));
  });
  afterAll(async () => {
    await scratch?.dropAll();
    await rm(work, { recursive: true, force: true });
  });

  const targetsFor = (database: string): LoadTargets => ({
    mysql: { url: scratch.mysqlUrl, rename: { [source]: database } },
    mongo: { url: scratch.mongoUrl, rename: { [source]: database } },
  });

  async function expectComplete(database: string) {
    expect(await scratch.mysqlTables(database)).toEqual(['auth_user', 'catalog_item', 'django_migrations']);
    expect(await scratch.mongoCollections(database)).toEqual(['events', 'feature_flags']);
  }

  test('with replace, both loads succeed one after the other and the databases end complete', async () => {
    for (let round = 0; round < 4; round++) {
      const target = scratch.name(`replace${round}`);
      const waiting: string[] = [];
      const results = await Promise.allSettled(
        [0, 1, 2].map(() => loadSet(dir, targetsFor(target), { replace: true, onProgress: (message) => waiting.push(message) })),
      );
      expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
      await expectComplete(target);
      // The later ones said what they waited for.
      expect(waiting.filter((message) => message.startsWith('waiting for another load into'))).not.toHaveLength(0);
      expect(waiting.find((message) => message.startsWith('waiting for another load into'))).toMatch(
        new RegExp(`^waiting for another load into MySQL database ${target} on 127\\.0\\.0\\.1:\\d+ \\(MySQL connection \\d+\\) to finish$`),
      );
    }
  }, 120_000);

  test('without replace, one load wins, the others are refused as not empty, and the winner is left intact', async () => {
    for (let round = 0; round < 4; round++) {
      const target = scratch.name(`keep${round}`);
      const results = await Promise.allSettled([0, 1, 2].map(() => loadSet(dir, targetsFor(target))));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(TargetNotEmptyError);
      await expectComplete(target);
    }
  }, 120_000);

  test('a load that waits longer than allowed fails naming the holder, and loads nothing', async () => {
    const target = scratch.name('busy');
    const mysql = await scratch.mysqlConnection();
    const [[holder]] = (await mysql.query('SELECT CONNECTION_ID() AS id, GET_LOCK(?, 0) AS got', [await lockNameOf(target)])) as unknown as [[{ id: number; got: number }]];
    expect(holder.got).toBe(1);
    try {
      const failure = await loadSet(dir, targetsFor(target), { lockWaitSeconds: 1 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DumpSetServerError);
      expect((failure as Error).message).toMatch(
        new RegExp(`another load into MySQL database ${target} on 127\\.0\\.0\\.1:\\d+ \\(MySQL connection ${holder.id}\\) did not finish within 1 s; wait for it, or end it \\(KILL ${holder.id}\\), then load again`),
      );
      expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
      expect(await scratch.mongoCollections(target)).toEqual([]);
    } finally {
      await mysql.query('SELECT RELEASE_LOCK(?)', [await lockNameOf(target)]);
    }
  }, 60_000);

  test('Ctrl-C while waiting for another load ends the wait (not after lockWaitSeconds), and loads nothing', async () => {
    const target = scratch.name('abort');
    const mysql = await scratch.mysqlConnection();
    await mysql.query('SELECT GET_LOCK(?, 0)', [await lockNameOf(target)]);
    try {
      const controller = new AbortController();
      const reason = new Error('interrupted');
      // A lock wait of 10 minutes: only the abort can end this load within the test's timeout.
      const failure = await loadSet(dir, targetsFor(target), {
        lockWaitSeconds: 600,
        signal: controller.signal,
        onProgress: (message) => {
          if (message.startsWith('waiting for another load into')) setTimeout(() => controller.abort(reason), 200);
        },
      }).catch((error: unknown) => error);
      expect(failure).toBe(reason);
      expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
      expect(await scratch.mongoCollections(target)).toEqual([]);
    } finally {
      await mysql.query('SELECT RELEASE_LOCK(?)', [await lockNameOf(target)]);
    }
  }, 20_000);
});

async function lockNameOf(database: string): Promise<string> {
  const { loadLockName } = await import('../src/internal/load-lock.js');
  return loadLockName(database);
}
