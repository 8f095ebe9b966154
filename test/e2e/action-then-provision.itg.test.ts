/**
 * The loop the product exists for, with the shipped artefacts only: the bundled refresh-dumps action
 * (actions/refresh-dumps/dist, run the way the runner runs it) publishes the fixture app's dumps to MinIO
 * after a merge to master; then the bundled devstack-dumps CLI (packages/devstack-dumps/dist) on a feature
 * branch one migration ahead reports, and provisions fresh databases from, that dump, naming exactly the
 * feature's migration as pending.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { assertBundleCurrent, fixtureInputs, fixtureVenvEnv, runAction } from '../../actions/refresh-dumps/test/support/run-action.js';
import { TestBucket } from '../../packages/devstack-dumps/test/support.js';
import { addFeatureBranchCommit, buildFixtureHistory, checkoutFixtureCommit, ensureFixtureVenv, type FixtureHistory } from '../support/fixture-history.js';
import { describeWithServices, serviceVar } from '../support/services.js';

const SERVICE = 'shop';
const cliBundle = join(import.meta.dirname, '../../packages/devstack-dumps/dist/devstack-dumps.mjs');

describeWithServices(['mysql', 'mongo', 's3'], 'refresh-dumps action, then devstack-dumps provision (both bundled)', () => {
  const suffix = `${process.pid}_${randomBytes(2).toString('hex')}`;
  const ciDatabase = `e2e_ci_${suffix}`;
  const devDatabase = `e2e_dev_${suffix}`;
  let history: FixtureHistory;
  let python: string;
  let bucket: TestBucket;
  let work: string;

  beforeAll(async () => {
    await assertBundleCurrent();
    python = await ensureFixtureVenv();
    history = await buildFixtureHistory();
    bucket = new TestBucket();
    await bucket.create();
    work = await mkdtemp(join(tmpdir(), 'e2e-provision-'));
  });

  afterAll(async () => {
    await bucket?.remove();
    await history?.remove();
    if (work) await rm(work, { recursive: true, force: true });
    const connection = await mysql.createConnection(serviceVar('TEST_MYSQL_URL'));
    for (const name of [ciDatabase, devDatabase]) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.end();
    const mongo = new MongoClient(serviceVar('TEST_MONGO_URL'));
    for (const name of [ciDatabase, devDatabase]) await mongo.db(name).dropDatabase();
    await mongo.close();
  });

  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cliBundle, ...args], { cwd: work, env: { ...process.env, ...bucket.env } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  test('the action publishes master; status and provision on a feature branch use that dump and name its one new migration', async () => {
    const mysqlUrl = serviceVar('TEST_MYSQL_URL');
    const mongoUrl = serviceVar('TEST_MONGO_URL');
    const endpoint = serviceVar('TEST_S3_ENDPOINT');
    const store = bucket.url('dumps');
    const tip = history.commits.at(-1)!;
    const published = await runAction({
      sha: tip.sha,
      workspace: await checkoutFixtureCommit(history, tip.sha),
      inputs: { ...fixtureInputs({ mysqlUrl, mongoUrl, database: ciDatabase, store, service: SERVICE }), 's3-endpoint': endpoint, 'wait-timeout': '10' },
      env: { ...fixtureVenvEnv(python), ...bucket.env },
    });
    expect(published.errors, `${published.stdout}\n${published.stderr}`).toEqual([]);
    expect(published.exitCode).toBe(0);
    const version = published.outputs.version!;

    const feature = await addFeatureBranchCommit(history);
    expect(feature.migrations).toHaveLength(1);
    const plan = ['--service', SERVICE, '--store', store, '--s3-endpoint', endpoint, '--repo', history.dir, '--cache', join(work, 'cache'), '--json'];
    const expected = { commit: tip.sha, version, pending: { state: 'pending', pending: feature.migrations } };

    const status = await cli(['status', ...plan]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject(expected);

    const provisioned = await cli(['provision', ...plan, '--mysql', mysqlUrl, '--mysql-db', devDatabase, '--mongo', mongoUrl, '--mongo-db', devDatabase]);
    expect(provisioned.code, provisioned.stderr).toBe(0);
    expect(JSON.parse(provisioned.stdout)).toMatchObject({ ...expected, loaded: { mysqlDatabases: [devDatabase], mongoDatabases: [devDatabase] } });

    // The developer's databases hold what CI migrated: the same applied migrations, tables and collections.
    const connection = await mysql.createConnection(mysqlUrl);
    try {
      const rows = async (sql: string, database: string) => (await connection.query(sql, [database]))[0];
      for (const sql of [
        'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
        'SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?',
      ]) {
        expect(await rows(sql, devDatabase), sql).toEqual(await rows(sql, ciDatabase));
      }
      const migrations = async (database: string) => (await connection.query(`SELECT app, name FROM \`${database}\`.django_migrations ORDER BY app, name`))[0];
      expect(await migrations(devDatabase)).toEqual(await migrations(ciDatabase));
    } finally {
      await connection.end();
    }
    const mongo = new MongoClient(mongoUrl);
    try {
      const collections = async (database: string) => (await mongo.db(database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      expect(await collections(devDatabase)).toEqual(await collections(ciDatabase));
      expect(await collections(devDatabase)).not.toEqual([]);
    } finally {
      await mongo.close();
    }
  });
});
