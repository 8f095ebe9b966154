import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openStore, publish } from '@org/dump-versioning';
import { dumpSet } from '@org/dump-set';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { planProvision, provision } from '../src/internal/provisioning.js';
import { cli } from './support.js';

const run = promisify(execFile);
const service = 'lms';
const CONCURRENT = 4;
const ROUNDS = 5;

/**
 * Several provisions of one version at once, from one EMPTY cache, into different databases (what four
 * terminals running `provision --mysql-db ppN --mongo-db ppN --replace` do): each must succeed. In-process
 * calls of src: the loads interleave on one event loop as separate processes would on the file system.
 */
describeWithServices(['mysql', 'mongo'], 'concurrent provisions from one cache', () => {
  const prefix = `cachefix_${randomBytes(3).toString('hex')}`;
  const names: string[] = [];
  const name = (label: string) => {
    names.push(`${prefix}_${label}`);
    return `${prefix}_${label}`;
  };
  let work: string;
  let repo: string;
  let commit: string;
  let mysql: Connection;
  let mongo: MongoClient;
  let storeDir: string;

  beforeAll(async () => {
    mysql = await createConnection({ uri: serviceVar('TEST_MYSQL_URL'), multipleStatements: true });
    mongo = await new MongoClient(serviceVar('TEST_MONGO_URL')).connect();
    work = await mkdtemp(path.join(tmpdir(), 'cachefix-'));
    repo = path.join(work, 'repo');
    const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    await run('git', ['init', '-q', '-b', 'master', repo]);
    await writeFile(path.join(repo, 'README'), 'service\n');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'one');
    commit = (await git('rev-parse', 'HEAD')).stdout.trim();

    // A source with several tables and collections, so a load reads many files.
    const source = name('src');
    const tables = Array.from({ length: 12 }, (_, i) => `CREATE TABLE t${i} (id int PRIMARY KEY, label varchar(40));`).join('\n');
    await mysql.query(`CREATE DATABASE \`${source}\`; USE \`${source}\`; ${tables}`);
    for (let i = 0; i < 8; i++) await mongo.db(source).collection(`c${i}`).insertOne({ i });
    const dumpDir = path.join(work, 'dump');
    const dumped = await dumpSet({ mysql: { url: serviceVar('TEST_MYSQL_URL'), databases: [source] }, mongo: { url: serviceVar('TEST_MONGO_URL'), databases: [source] } }, dumpDir);
    storeDir = path.join(work, 'store');
    const store = openStore(storeDir);
    try {
      await publish({ store, service, dir: dumpDir, source: { commit, branch: 'master' }, ancestry: async () => true, engines: dumped.engines });
    } finally {
      await store.close();
    }
  }, 120_000);

  afterAll(async () => {
    for (const database of names) {
      await mysql?.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await mongo?.db(database).dropDatabase();
    }
    await mysql?.end();
    await mongo?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test(`${CONCURRENT} provisions at once from an empty cache all succeed, ${ROUNDS} rounds; one of them pulls`, async () => {
    const targets = Array.from({ length: CONCURRENT }, (_, i) => name(`pp${i}`));
    for (let round = 0; round < ROUNDS; round++) {
      const cacheRoot = path.join(work, `cache-${round}`);
      const outcomes = await Promise.allSettled(
        targets.map(async (target) => {
          const store = openStore(storeDir);
          try {
            const plan = await planProvision({ store, service, repo, commit: 'HEAD', migrationsGlob: undefined, cacheRoot });
            const flags = { mysql: serviceVar('TEST_MYSQL_URL'), mongo: serviceVar('TEST_MONGO_URL'), mysqlDb: target, mongoDb: target, replace: true, wait: 0 };
            return await provision(plan, { store, service, flags, onProgress: () => undefined, cacheKeep: 5 });
          } finally {
            await store.close();
          }
        }),
      );
      const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []));
      expect(failures, `round ${round}`).toEqual([]);
      const results = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof provision>>>).value);
      expect(results.map((result) => result.loaded.mysqlDatabases).flat().sort()).toEqual([...targets].sort());
      expect(results.map((result) => result.loaded.mongoDatabases).flat().sort()).toEqual([...targets].sort());
      // The others waited for the first pull and reused it, instead of replacing it under a running load.
      expect(results.filter((result) => result.pulled !== undefined)).toHaveLength(1);
      // No claim (lock, use) or partial download is left behind.
      expect((await readdir(path.join(cacheRoot, service))).filter((entry) => entry.startsWith('.'))).toEqual([]);
    }
    for (const target of targets) {
      const [rows] = await mysql.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [target]);
      expect((rows as { n: number }[])[0]!.n).toBe(12);
    }
  });

  test(`${CONCURRENT} CLI processes (src, through tsx) provisioning at once from an empty cache all succeed, 2 rounds`, async () => {
    const targets = Array.from({ length: CONCURRENT }, (_, i) => name(`cli${i}`));
    for (let round = 0; round < 2; round++) {
      const cacheRoot = path.join(work, `cli-cache-${round}`);
      const runs = await Promise.all(
        targets.map((target) =>
          cli(['provision', '--service', service, '--store', storeDir, '--cache', cacheRoot, '--repo', repo, '--mysql-db', target, '--mongo-db', target, '--replace', '--json'], repo, {
            DEVSTACK_DUMPS_MYSQL: serviceVar('TEST_MYSQL_URL'),
            DEVSTACK_DUMPS_MONGO: serviceVar('TEST_MONGO_URL'),
          }),
        ),
      );
      for (const run of runs) expect(run.code, `round ${round}: ${run.stderr}`).toBe(0);
      expect(runs.filter((run) => JSON.parse(run.stdout).pulled !== null)).toHaveLength(1);
      expect((await readdir(path.join(cacheRoot, service))).filter((entry) => entry.startsWith('.'))).toEqual([]);
    }
  });
});
