import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { readSet, ScratchDatabases, seedSource } from '../../dump-set/test/support.js';
import { cli } from './support.js';

const git = (cwd: string, ...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd }).then((r) => r.stdout.trim());

describeWithServices(['mysql', 'mongo'], 'devstack-dumps dump, load and diff (real CLI, MariaDB + FerretDB)', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let source: string;
  let mysqlUrl: string;
  let mongoUrl: string;

  beforeAll(async () => {
    mysqlUrl = serviceVar('TEST_MYSQL_URL');
    mongoUrl = serviceVar('TEST_MONGO_URL');
    scratch = new ScratchDatabases(mysqlUrl, mongoUrl);
    work = await mkdtemp(path.join(tmpdir(), 'devstack-dumps-itg-'));
    source = scratch.name('src');
    await seedSource(scratch, source);
  });
  afterAll(async () => {
    await scratch?.dropAll();
    await rm(work, { recursive: true, force: true });
  });

  const password = () => decodeURIComponent(new URL(mysqlUrl).password);
  const dumpArgs = (database: string, out: string) => ['dump', '--mysql', mysqlUrl, '--mysql-db', database, '--mongo', mongoUrl, '--mongo-db', database, '--data-collections', 'feature_flags', '--out', out];

  test('dump -> load under another name -> dump again is byte-identical', async () => {
    const first = path.join(work, 'first');
    const dumped = await cli(dumpArgs(source, first), work);
    expect(dumped.stderr).toContain(`mysql ${source}: written`);
    expect(dumped.code).toBe(0);
    expect(dumped.stdout).toMatch(new RegExp(`^dumped 6 files into ${first} in [0-9.]+ s \\(mysql: (mysql|mariadb) [0-9.]+, mongo: (mongodb|ferretdb) [0-9.]+\\)`));
    // The users table stays schema only; the migrations' bookkeeping and the listed collection keep their rows.
    expect(dumped.stdout).toContain(`with rows: ${source}.django_migrations (2), ${source}.feature_flags (2)\n`);

    const copy = scratch.name('copy');
    const loaded = await cli(['load', first, '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', copy, '--mongo-db', copy], work);
    expect(loaded.code).toBe(0);
    expect(loaded.stderr).toContain('verified 6 files (sha256 of every file)');
    expect(loaded.stderr).toMatch(new RegExp(`mysql ${copy}: .* loaded`));
    expect(loaded.stdout).toMatch(new RegExp(`^loaded MySQL ${copy}; MongoDB ${copy} in [0-9.]+ s`));

    const second = path.join(work, 'second');
    expect((await cli([...dumpArgs(copy, second), '--json'], work)).code).toBe(0);
    const a = await readSet(first, [source]);
    const b = await readSet(second, [copy]);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
    for (const run of [dumped, loaded]) expect(run.stdout + run.stderr).not.toContain(password());

    // Only --mysql: the MySQL part loads, the Mongo part is named as skipped.
    const mysqlOnly = scratch.name('only');
    const partial = await cli(['load', first, '--mysql', mysqlUrl, '--mysql-db', mysqlOnly], work);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toMatch(new RegExp(`^loaded MySQL ${mysqlOnly} in [0-9.]+ s\\nskipped MongoDB ${source} \\(no --mongo given\\)$`, 'm'));
    expect(await scratch.mysqlDatabaseExists(mysqlOnly)).toBe(true);
    expect(await scratch.mongoCollections(mysqlOnly)).toEqual([]);
    // The dump records the servers it was made on beside the set, for a later publish.
    const checksums = JSON.parse(await readFile(`${first}.checksums.json`, 'utf8'));
    expect(checksums.engines).toEqual({ mysql: { flavor: expect.any(String), version: expect.any(String) }, mongo: { flavor: expect.any(String), version: expect.any(String) } });
  });

  test('a database in the server URLs is the load target, as for dump; --replace never touches the dump\'s own database', async () => {
    const dir = path.join(work, 'url-target');
    expect((await cli(dumpArgs(source, dir), work)).code).toBe(0);
    const target = scratch.name('urltarget');
    const withDb = (url: string, db: string) => `${url.replace(/\/+$/, '')}/${db}`;
    // The source database is not empty: a load into it (what ignoring the URL's database did) needs --replace and drops it.
    const loaded = await cli(['load', dir, '--mysql', withDb(mysqlUrl, target), '--mongo', withDb(mongoUrl, target), '--replace'], work);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toMatch(new RegExp(`^loaded MySQL ${target}; MongoDB ${target} in`));
    expect(await scratch.mysqlTables(target)).toEqual(await scratch.mysqlTables(source));
    expect(await scratch.mongoCollections(target)).toEqual(await scratch.mongoCollections(source));
    expect((await scratch.mysqlTables(source)).length).toBeGreaterThan(0);
    // Said twice, differently: a usage error before anything is loaded.
    const both = await cli(['load', dir, '--mysql', withDb(mysqlUrl, target), '--mysql-db', 'other_db'], work);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain(`--mysql names the database \`${target}\` in its path and --mysql-db names \`other_db\``);
  });

  test('diff names the added table and index (schema level, for people and in --json)', async () => {
    const repo = path.join(work, 'repo');
    const store = path.join(work, 'store');
    await git(work, 'init', '-q', '-b', 'master', repo);
    const commit = async (label: string) => {
      await writeFile(path.join(repo, 'step.txt'), label);
      await git(repo, 'add', 'step.txt');
      await git(repo, 'commit', '-q', '-m', label);
    };
    const publish = async (dir: string) => {
      const run = await cli(['publish', dir, '--store', store, '--service', 'lms', '--branch', 'master', '--json'], repo);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout).version as string;
    };
    await commit('one');
    const before = await publish(path.join(work, 'first'));

    const mysql = await scratch.mysqlConnection();
    await mysql.query(`CREATE TABLE \`${source}\`.catalog_product (id int NOT NULL PRIMARY KEY, title varchar(80) NOT NULL)`);
    await mysql.query(`CREATE INDEX catalog_item_price ON \`${source}\`.catalog_item (price)`);
    await (await scratch.mongoClient()).db(source).collection('events').createIndex({ shipment: 1 }, { name: 'shipment_1' });
    const next = path.join(work, 'next');
    expect((await cli(dumpArgs(source, next), work)).code).toBe(0);
    await commit('two');
    const after = await publish(next);

    const json = await cli(['diff', before, after, '--store', store, '--service', 'lms', '--json'], repo);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.changed).toEqual(expect.arrayContaining([`mysql/${source}.sql`, `mysql/${source}.schema.json`, `mongo/${source}/events.metadata.json`]));
    expect(result.schema).toEqual({
      mysql: ['+ table catalog_product', '~ table catalog_item', '  + index catalog_item_price'],
      mongo: [`+ index shipment_1 on ${source}.events`],
    });

    const human = await cli(['diff', before, after, '--store', store, '--service', 'lms'], repo);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ENGINE +SCHEMA CHANGE$/m);
    expect(human.stdout).toMatch(/^MySQL +\+ table catalog_product$/m);
    expect(human.stdout).toMatch(/^MySQL +  \+ index catalog_item_price$/m);
    expect(human.stdout).toMatch(new RegExp(`^MongoDB +\\+ index shipment_1 on ${source}.events$`, 'm'));
  });

  test('--volatile-column fixes a data table column (repeatable); a bad entry or a table without rows is refused naming it', async () => {
    const out = path.join(work, 'volatile');
    const base = ['dump', '--mysql', mysqlUrl, '--mysql-db', source, '--data-tables', 'catalog_item'];
    const dumped = await cli([...base, '--volatile-column', 'catalog_item.price=1.00', '--volatile-column', 'django_migrations.applied=NULL', '--out', out], work);
    expect(dumped.code).toBe(0);
    const sql = await readFile(path.join(out, 'mysql', `${source}.sql`), 'utf8');
    expect(sql).toContain("(1,'secret-row','1.00');");
    expect(sql).toMatch(/\(1,'catalog','0001_initial',NULL\),\n\(2,'catalog','0002_price',NULL\);/);
    const malformed = await cli([...base, '--volatile-column', 'price=1', '--out', path.join(work, 'never')], work);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--volatile-column: volatile column entry "price=1" is not `table.column=value`');
    const noRows = await cli([...base, '--volatile-column', 'auth_user.password=x', '--out', path.join(work, 'never')], work);
    expect(noRows.code).toBe(1);
    expect(noRows.stderr).toContain('volatile column `auth_user.password`: its table is not dumped with rows');
  });

  test('an unreachable server is named by host:port, without the password, exit 1', async () => {
    const run = await cli(['dump', '--mysql', 'mysql://root:Sup3rSecret@127.0.0.1:1', '--mysql-db', 'x', '--out', path.join(work, 'never')], work);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot reach MySQL server at 127\.0\.0\.1:1 .*or wait longer for it to start \(--wait <seconds>\)$/m);
    expect(run.stderr).not.toContain('Sup3rSecret');
    // --wait reaches the dumper, which retries, then says how long it waited (and no longer advises waiting).
    const waited = await cli(['dump', '--mysql', 'mysql://root:Sup3rSecret@127.0.0.1:1', '--mysql-db', 'x', '--out', path.join(work, 'never'), '--wait', '1'], work);
    expect(waited.code).toBe(1);
    expect(waited.stderr.trim()).toBe('error: cannot reach MySQL server at 127.0.0.1:1 (ECONNREFUSED after waiting 1 s); start it, check host and port, or wait longer for it to start (raise --wait)');
    const mongo = await cli(['load', path.join(work, 'first'), '--mysql', mysqlUrl, '--mongo', 'mongodb://app:Sup3rSecret@127.0.0.1:2', '--mysql-db', scratch.name('never'), '--mongo-db', 'never'], work);
    expect(mongo.code).toBe(1);
    expect(mongo.stderr).toMatch(/error: MongoDB server at 127\.0\.0\.1:2 is unreachable/);
    expect(mongo.stderr).not.toContain('Sup3rSecret');
  });

  test('a missing or altered file is refused before anything is loaded; a non-empty target needs --replace', async () => {
    const dir = path.join(work, 'tamper');
    expect((await cli(dumpArgs(source, dir), work)).code).toBe(0);
    const target = scratch.name('tamper');
    const load = (...extra: string[]) => cli(['load', dir, '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', target, '--mongo-db', target, ...extra], work);
    const sql = path.join(dir, `mysql/${source}.sql`);
    const original = await readFile(sql);
    await writeFile(sql, Buffer.concat([original, Buffer.from('DROP TABLE catalog_item;\n')]));
    const altered = await load();
    expect(altered.code).toBe(1);
    expect(altered.stderr).toMatch(new RegExp(`^error: dump set ${dir}: mysql/${source}.sql was altered`, 'm'));
    await writeFile(sql, original);
    await rm(path.join(dir, `mongo/${source}/feature_flags.metadata.json`));
    const missing = await load();
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`mongo/${source}/feature_flags.metadata.json is missing`);
    expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
    expect(await scratch.mongoCollections(target)).toEqual([]);

    const good = path.join(work, 'first');
    const loadGood = (...extra: string[]) => cli(['load', good, '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', target, '--mongo-db', target, ...extra], work);
    expect((await loadGood()).code).toBe(0);
    const again = await loadGood();
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`error: MySQL database \`${target}\` is not empty \\(\\d+ objects\\); load into an empty database or replace it \\(--replace\\)`));
    expect((await loadGood('--replace')).code).toBe(0);
  });
});
