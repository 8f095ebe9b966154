import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { loadSet } from '@org/dump-set';
import { ScratchDatabases, seededDumpSet } from '../../dump-set/test/support.js';
import { cli, interruptWhen as interruptProgram } from './support.js';

/** The shipped bundle (what `devstack-dumps` runs), so the signal handling of bin.ts is what is tested. */
const bundle = fileURLToPath(new URL('../dist/devstack-dumps.mjs', import.meta.url));
const interruptWhen = (args: string[], cwd: string, when: RegExp) => interruptProgram(bundle, args, cwd, when);

describeWithServices(['mysql'], 'Ctrl-C during a load (real CLI bundle)', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let dumpDir: string;
  beforeAll(async () => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is not built; run pnpm build`);
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'devstack-dumps-interrupt-'));
    const source = scratch.name('isrc');
    const admin = await scratch.mysqlConnection();
    // ~64 MB of rows: bigger than the loader keeps in memory (32 Mi characters), so it streams the file and
    // reports progress while it loads, which is when the interrupt is sent.
    await admin.query(`CREATE DATABASE \`${source}\``);
    await admin.query(`CREATE TABLE \`${source}\`.payload (id INT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL)`);
    // 64,000 rows of 1 KiB from a cross join of digits (MariaDB's seq_ tables and MD5 are not MySQL's).
    await admin.query(
      `INSERT INTO \`${source}\`.payload WITH d AS (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)
       SELECT id, REPEAT(SHA2(id, 256), 16) FROM (SELECT 1 + a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n AS id FROM d a, d b, d c, d e, d f) ids WHERE id <= 64000`,
    );
    dumpDir = path.join(work, 'dump');
    const dumped = await cli(['dump', '--mysql', serviceVar('TEST_MYSQL_URL'), '--mysql-db', source, '--data-tables', 'payload', '--out', dumpDir], work);
    expect(dumped.code, dumped.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await scratch?.dropAll();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the first Ctrl-C stops the load, drops the half-loaded database and exits 130 saying so', async () => {
    const target = scratch.name('itarget');
    const run = await interruptWhen(['load', dumpDir, '--mysql', serviceVar('TEST_MYSQL_URL'), '--mysql-db', target], work, /mysql \S+: [0-9]{1,2}% loaded/);
    expect(run.sent, `the load ended before it reported progress: ${run.stderr}`).toBe(true);
    expect(run.stderr).toContain('Ctrl-C: stopping and undoing what was started');
    expect(run.stderr).toContain('error: interrupted: stopped before finishing; what the command had started was undone');
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 130, signal: null });
    // Before: the process died mid-load and left the target with part of the rows.
    expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
    // Nothing of the load is left running on the server either.
    const [rows] = await (await scratch.mysqlConnection()).query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [target]);
    expect(Number((rows as { n: number }[])[0]!.n)).toBe(0);
  });
});

// Ctrl-C during `load --replace` said the databases "are as they were" while MongoDB's old content was
// already dropped. The message now names what each database holds; this checks it against the servers.
describeWithServices(['mysql', 'mongo'], 'Ctrl-C during load --replace (real CLI bundle, MariaDB and FerretDB)', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let dir: string;
  let source: string;
  beforeAll(async () => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is not built; run pnpm build`);
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'devstack-dumps-interrupt-replace-'));
    // Forty more collections: the load is still creating them when the interrupt arrives.
    ({ source, dir } = await seededDumpSet(scratch, work, async (seeded) => {
      const mongo = (await scratch.mongoClient()).db(seeded);
      for (let index = 0; index < 40; index++) await mongo.createCollection(`extra_${String(index).padStart(2, '0')}`);
    }));
  }, 120_000);
  afterAll(async () => {
    await scratch?.dropAll();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the message and the --json error say which database was dropped and which kept its content, as the servers hold them', async () => {
    const target = scratch.name('t');
    await loadSet(dir, { mysql: { url: scratch.mysqlUrl, rename: { [source]: target } }, mongo: { url: scratch.mongoUrl, rename: { [source]: target } } });
    const tablesBefore = await scratch.mysqlTables(target);
    const args = ['load', dir, '--mysql', scratch.mysqlUrl, '--mongo', scratch.mongoUrl, '--mysql-db', target, '--mongo-db', target, '--replace', '--json'];
    // MongoDB reports progress once it has dropped its target and created a collection.
    const run = await interruptWhen(args, work, /^mongo \S+: collections/m);
    expect(run.sent, `the load ended before MongoDB reported progress: ${run.stderr}`).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).not.toContain('as they were');
    const error = JSON.parse(run.stdout.trim().split('\n').pop()!).error as { code: string; message: string; targets: Array<{ engine: string; state: string }> };
    expect(error.code).toBe('interrupted');
    expect(run.stderr).toContain(`error: ${error.message}\n`);
    expect(error.message).toContain(`MongoDB ${target} was dropped (--replace) and is now empty`);
    expect(await scratch.mongoCollections(target)).toEqual([]);
    const mysql = error.targets.find((entry) => entry.engine === 'mysql');
    if (mysql?.state === 'unchanged') {
      expect(error.message).toContain(`MySQL ${target} is unchanged (it keeps its old content)`);
      expect(await scratch.mysqlTables(target)).toEqual(tablesBefore);
    } else {
      expect(mysql?.state).toBe('emptied');
      expect(error.message).toContain(`MySQL ${target} was dropped (--replace) and is now empty`);
      expect(await scratch.mysqlTables(target)).toEqual([]);
    }
    expect(error.message).toMatch(/; run the same command again to finish$/);
  });
});
