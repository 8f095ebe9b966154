import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fingerprintMigrationFiles, gitAncestry, openStore, publish } from '@org/dump-versioning';
import { checksumsPathOf, dumpSet } from '@org/dump-set';
import {
  addFeatureBranchCommit,
  buildFixtureHistory,
  checkoutFixtureCommit,
  fixtureDataCollections,
  fixtureDataTables,
  runFixtureMigrate,
  type FixtureHistory,
} from '../../../test/support/fixture-history.js';
import { describeWithServices, serviceConfig, serviceVar } from '../../../test/support/services.js';
import { readSet, ScratchDatabases } from '../../dump-set/test/support.js';
import { cli, TestBucket } from './support.js';

/**
 * One fixture history and one migrated, dumped master tip, published to a filesystem store and (when
 * MinIO is configured) to S3; then a feature-branch commit with one extra migration provisions from each.
 */
describeWithServices(['mysql', 'mongo'], 'devstack-dumps provision and status (fixture Django app)', () => {
  const service = 'lms';
  const feature = 'accounts.0003_profile_timezone';
  let scratch: ScratchDatabases;
  let history: FixtureHistory;
  let work: string;
  let mysqlUrl: string;
  let mongoUrl: string;
  let source: string;
  let tipSha: string;
  let dumpDir: string;
  let version: string;
  let bucket: TestBucket | undefined;
  let engines: Awaited<ReturnType<typeof dumpSet>>['engines'];
  let publishTo: (url: string, options?: { s3Client?: TestBucket['client']; service?: string; engines?: typeof engines }) => Promise<string>;
  const hasS3 = !('missing' in serviceConfig('s3'));

  beforeAll(async () => {
    mysqlUrl = serviceVar('TEST_MYSQL_URL');
    mongoUrl = serviceVar('TEST_MONGO_URL');
    scratch = new ScratchDatabases(mysqlUrl, mongoUrl);
    work = await mkdtemp(path.join(tmpdir(), 'devstack-provision-'));
    history = await buildFixtureHistory();
    const tip = history.commit('edit-migration');
    tipSha = tip.sha;

    // What refresh-dumps does on master: migrate the tip into empty databases, dump, publish with the fingerprint.
    source = scratch.name('shop');
    await (await scratch.mysqlConnection()).query(`CREATE DATABASE \`${source}\` CHARACTER SET utf8mb4`);
    const tree = await checkoutFixtureCommit(history, tipSha);
    await runFixtureMigrate({ appDir: tree, mysqlUrl: `${mysqlUrl}/${source}`, mongoUrl, mongoDb: source });
    dumpDir = path.join(work, 'published');
    const dumped = await dumpSet(
      { mysql: { url: mysqlUrl, databases: [source], dataTables: [...fixtureDataTables] }, mongo: { url: mongoUrl, databases: [source], dataCollections: [...fixtureDataCollections] } },
      dumpDir,
    );
    engines = dumped.engines;
    const fingerprint = await fingerprintMigrationFiles(tree);
    publishTo = async (url: string, options: { s3Client?: TestBucket['client']; service?: string; engines?: typeof engines } = {}) => {
      const store = openStore(url, { cwd: work, ...(options.s3Client ? { s3Client: options.s3Client } : {}) });
      try {
        const result = await publish({
          store,
          service: options.service ?? service,
          dir: dumpDir,
          source: { commit: tipSha, branch: 'master' },
          ancestry: gitAncestry(history.dir),
          migrations: { fingerprint },
          engines: options.engines ?? engines,
          tool: { name: 'test', version: '1' },
        });
        return result.version;
      } finally {
        await store.close();
      }
    };
    version = await publishTo(path.join(work, 'store'));
    if (hasS3) {
      bucket = new TestBucket();
      await bucket.create();
      expect(await publishTo(bucket.url('dumps'), { s3Client: bucket.client })).toBe(version);
    }
    // A developer's checkout: a feature branch one commit ahead of the published tip, adding one migration.
    await addFeatureBranchCommit(history);
  });

  afterAll(async () => {
    await scratch?.dropAll();
    await bucket?.remove();
    await history?.remove();
    await rm(work, { recursive: true, force: true });
  });

  const backends = [
    { name: 'filesystem store', args: () => ['--store', path.join(work, 'store')], env: () => ({}), s3: false },
    { name: 'S3 store (MinIO)', args: () => ['--store', bucket!.url('dumps'), '--s3-endpoint', serviceVar('TEST_S3_ENDPOINT'), '--cache', path.join(work, 's3-cache')], env: () => bucket!.env, s3: true },
  ];

  for (const backend of backends) {
    describe(backend.name, () => {
      test.skipIf(backend.s3 && !hasS3)('status shows the ancestor and exactly the one pending migration, loading nothing', async () => {
        const run = await cli(['status', '--service', service, ...backend.args(), '--json'], history.dir, backend.env());
        expect(run.code, run.stderr).toBe(0);
        const status = JSON.parse(run.stdout);
        expect(status).toMatchObject({ commit: tipSha, version, distance: 1, cache: { cached: false }, pending: { state: 'pending', pending: [feature], edited: [], removed: [] }, migrateCommand: 'python manage.py migrate' });

        const human = await cli(['status', '--service', service, ...backend.args()], history.dir, backend.env());
        expect(human.code).toBe(0);
        expect(human.stdout).toContain(`ancestor   ${tipSha} (1 commit(s) behind `);
        expect(human.stdout).toContain(`pending    1 migration(s) in the working tree are not in the dump:\n             ${feature}\nrun        python manage.py migrate\n`);
        expect(human.stdout).toMatch(/^timings    fingerprint [0-9.]+ s, resolve [0-9.]+ s, total [0-9.]+ s$/m);

        // Run from a subdirectory of the checkout, --repo defaults to the top of the working tree.
        const fromSubdirectory = await cli(['status', '--service', service, ...backend.args(), '--json'], path.join(history.dir, 'catalog'), backend.env());
        expect(fromSubdirectory.code, fromSubdirectory.stderr).toBe(0);
        expect(JSON.parse(fromSubdirectory.stdout)).toMatchObject({ commit: tipSha, pending: { state: 'pending', pending: [feature], edited: [], removed: [] } });
      });

      test.skipIf(backend.s3 && !hasS3)("provision loads the ancestor's dump and lists exactly the one pending migration", async () => {
        const target = scratch.name(backend.s3 ? 's3' : 'fs');
        const args = ['provision', '--service', service, ...backend.args(), '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', target, '--mongo-db', target];
        const run = await cli([...args, '--json'], history.dir, backend.env());
        expect(run.code, run.stderr).toBe(0);
        const result = JSON.parse(run.stdout);
        expect(result).toMatchObject({ commit: tipSha, version, distance: 1, pending: { state: 'pending', pending: [feature] }, loaded: { mysqlDatabases: [target], mongoDatabases: [target] } });
        expect(result.pulled.files).toBeGreaterThan(0);
        // Loaded into the server that wrote it: nothing to warn about.
        expect(result.engineWarnings).toEqual([]);
        expect(run.stderr).not.toContain('dump was made on');
        expect(result.timings).toEqual(expect.objectContaining({ pullMs: expect.any(Number), loadMs: expect.any(Number), totalMs: expect.any(Number) }));
        const cacheDir = backend.s3 ? path.join(work, 's3-cache', service, version) : path.join(history.dir, '.devstack', 'cache', service, version);
        expect(result.cache.dir).toBe(cacheDir);
        expect((await stat(checksumsPathOf(cacheDir))).isFile()).toBe(true);

        // What was loaded is the published dump: dumping the target again gives the published bytes.
        const redump = path.join(work, `redump-${target}`);
        await dumpSet({ mysql: { url: mysqlUrl, databases: [target], dataTables: [...fixtureDataTables] }, mongo: { url: mongoUrl, databases: [target], dataCollections: [...fixtureDataCollections] } }, redump);
        const published = await readSet(dumpDir, [source]);
        const loaded = await readSet(redump, [target]);
        expect([...loaded.keys()]).toEqual([...published.keys()]);
        for (const [file, bytes] of published) expect(loaded.get(file)?.equals(bytes), file).toBe(true);

        // A second provision refuses the now non-empty target; with --replace it reuses the verified cache.
        const again = await cli(args, history.dir, backend.env());
        expect(again.code).toBe(1);
        expect(again.stderr).toMatch(new RegExp(`^error: MySQL database .${target}. is not empty .*\\(--replace\\)$`, 'm'));
        // An older version in the cache, last used two hours ago, goes with --cache-keep 1; the one loaded stays.
        const older = path.join(path.dirname(cacheDir), 'f'.repeat(64));
        await mkdir(path.join(older, 'mysql'), { recursive: true });
        await writeFile(checksumsPathOf(older), '{}');
        const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
        await utimes(older, twoHoursAgo, twoHoursAgo);
        const replaced = await cli([...args, '--replace', '--cache-keep', '1'], history.dir, backend.env());
        expect(replaced.code, replaced.stderr).toBe(0);
        expect(replaced.stderr).toContain(`removed 1 older cached version(s) of ${service} (--cache-keep 1)`);
        expect(existsSync(older) || existsSync(checksumsPathOf(older))).toBe(false);
        expect((await stat(checksumsPathOf(cacheDir))).isFile()).toBe(true);
        expect(replaced.stdout).toContain(`dump       ${cacheDir} (reused the verified cache)`);
        expect(replaced.stdout).toContain(`loaded     MySQL ${target}; MongoDB ${target}`);
        expect(replaced.stdout).toContain(`pending    1 migration(s) in the working tree are not in the dump:\n             ${feature}\n`);
        expect(replaced.stdout + replaced.stderr).not.toContain(decodeURIComponent(new URL(mysqlUrl).password));

        // The printed answer is right: Django applies exactly that migration on the provisioned database.
        const migrated = await runFixtureMigrate({ appDir: history.dir, mysqlUrl: `${mysqlUrl}/${target}`, mongoUrl, mongoDb: target });
        expect(migrated.applied).toEqual([feature]);
      });
    });
  }

  test('a dump made on another server flavour is loaded with a warning naming both servers', async () => {
    // As if CI had migrated on MySQL 8.0: same dump, the commit entry records another engine.
    const store = path.join(work, 'store-mysql80');
    await publishTo(store, { service: 'lms80', engines: { ...engines, mysql: { flavor: 'mysql', version: '8.0.36' } } });
    const target = scratch.name('eng');
    const run = await cli(['provision', '--service', 'lms80', '--store', store, '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', target, '--mongo-db', target, '--json'], history.dir);
    expect(run.code, run.stderr).toBe(0);
    const loaded = engines.mysql!;
    const warning = `the MySQL dump was made on mysql 8.0.36 and loaded into ${loaded.flavor} ${loaded.version}`;
    expect(JSON.parse(run.stdout).engineWarnings).toEqual([expect.stringContaining(warning)]);
    expect(run.stderr).toMatch(new RegExp(`^warning: ${warning.replace(/[.]/g, '\\.')}.*run mysql 8\\.0 locally`, 'm'));
  });

  test('an altered cached file is pulled again, never loaded', async () => {
    const target = scratch.name('recache');
    const cacheDir = path.join(history.dir, '.devstack', 'cache', service, version);
    const sql = path.join(cacheDir, `mysql/${source}.sql`);
    await writeFile(sql, `${await readFile(sql, 'utf8')}DROP TABLE django_site;\n`);
    const status = await cli(['status', '--service', service, '--store', path.join(work, 'store'), '--json'], history.dir);
    expect(JSON.parse(status.stdout).cache.cached).toBe(false);
    const run = await cli(['provision', '--service', service, '--store', path.join(work, 'store'), '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', target, '--mongo-db', target], history.dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^dump {7}.* \(pulled \d+ files, /m);
    expect(await scratch.mysqlTables(target)).toContain('django_site');
    // The cache never shows up in the service's `git status`.
    expect(await readFile(path.join(history.dir, '.devstack', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    const { stdout: untracked } = await promisify(execFile)('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: history.dir });
    expect(untracked).not.toContain('.devstack');
  });

  test('a working tree that rewrote a migration the dump has is reported clearly', async () => {
    const edited = path.join(history.dir, 'accounts', 'migrations', '0002_profile_locale.py');
    const original = await readFile(edited);
    await appendFile(edited, '\n# edited locally\n');
    try {
      const run = await cli(['status', '--service', service, '--store', path.join(work, 'store')], history.dir);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('WARNING    the working tree rewrote migration(s) the dump already has:\n             edited   accounts.0002_profile_locale\n');
      expect(run.stdout).toContain('full migrate');
      expect(run.stderr).toMatch(/^warning: the working tree rewrote migration\(s\) the dump has \(accounts.0002_profile_locale\)/m);
      const json = JSON.parse((await cli(['status', '--service', service, '--store', path.join(work, 'store'), '--json'], history.dir)).stdout);
      expect(json.pending).toEqual({ state: 'rewritten', pending: [feature], addedBefore: [], edited: ['accounts.0002_profile_locale'], removed: [] });
    } finally {
      await writeFile(edited, original);
    }
  });

  test('bad input: unreachable server named before any download, unknown service, no server', async () => {
    const run = await cli(['provision', '--service', service, '--store', path.join(work, 'store'), '--mysql', 'mysql://root:Sup3rSecret@127.0.0.1:1', '--mongo', mongoUrl, '--cache', path.join(work, 'never')], history.dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot reach MySQL server at 127\.0\.0\.1:1 /m);
    expect(run.stderr).not.toContain('Sup3rSecret');
    await expect(stat(path.join(work, 'never'))).rejects.toThrow(/ENOENT/);
    // Neither server running (a developer who forgot to start both): both named in one run, each with its flag.
    const neither = await cli(['provision', '--service', service, '--store', path.join(work, 'store'), '--mysql', 'mysql://root:Sup3rSecret@127.0.0.1:1', '--mongo', 'mongodb://app:Sup3rSecret@127.0.0.1:2', '--cache', path.join(work, 'never')], history.dir);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/^error: neither server could be used:\n {2}MySQL: cannot reach MySQL server at 127\.0\.0\.1:1 .*\(--wait <seconds>\)\n {2}MongoDB: MongoDB server at 127\.0\.0\.1:2 is unreachable .*\(--wait <seconds>\)\n$/);
    expect(neither.stderr).not.toContain('Sup3rSecret');
    await expect(stat(path.join(work, 'never'))).rejects.toThrow(/ENOENT/);
    const unknown = await cli(['status', '--service', 'nope', '--store', path.join(work, 'store')], history.dir);
    expect(unknown.code).toBe(1);
    // A store without the service at all is said as such, not blamed on git history or the search distance.
    expect(unknown.stderr).toBe(`error: ${path.join(work, 'store')} holds no dump of service nope at all; check the service name and the store (its location and prefix), or publish a first dump\n`);
    expect((await cli(['provision', '--service', service], history.dir)).code).toBe(2);
  });
});
