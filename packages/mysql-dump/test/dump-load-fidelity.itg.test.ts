import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import {
  OversizedRowError,
  SystemDatabaseError,
  UnportableObjectError,
  UnsafeDatabaseNameError,
  describeSchemaDiff,
  diffSchemas,
  dumpMysql,
  isEmptyDiff,
  readSchema,
} from '../src/index.js';
import { createDb, dumpText, loadText, programFacts, stockClient, stockLoad } from './helpers/round-trip.js';
import { TestDatabases, mysqlUrl, serverFacts, skipUnless, tempDir, type ServerFacts } from './helpers/test-databases.js';

// Schemas a dump once wrote but could not load back as they were (or at all), per the review of
// dump -> load (ours and the stock client) -> dump: each must now give the same bytes and the same
// information_schema records.
const dbs = new TestDatabases();

interface Case {
  sql: string;
  dataTables?: string[];
  /** Extra checks on the dump text and a loaded copy. */
  check?: (sql: string, copy: string) => Promise<void>;
  /** Syntax only MariaDB has: skipped on MySQL. */
  mariadbOnly?: boolean;
}

let server: ServerFacts | undefined;
const serverInfo = async () => (server ??= await serverFacts(await dbs.admin()));

const rows = async (sql: string, params: unknown[] = []) => (await (await dbs.admin()).query(sql, params))[0] as Record<string, unknown>[];

const CASES: [string, Case][] = [
  [
    'a procedure and an event whose bodies end in a line comment',
    {
      sql: `CREATE TABLE t (id INT);
        CREATE PROCEDURE p1() SELECT 1 -- trailing comment
        ;
        CREATE EVENT e1 ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM t WHERE id < 0 -- prune
        ;`,
    },
  ],
  ['a trigger whose body ends in a # comment', { sql: "CREATE TABLE t (v VARCHAR(5)); CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.v = 'x'; END # hash\n;" }],
  [
    'an event with ENDS: the STARTS the server gave it (its creation time) becomes the fixed 2000-01-01',
    {
      // Created "in 2024" (SET TIMESTAMP): the STARTS the server gives it is then, not the time of any load.
      sql: "CREATE TABLE t (id INT); SET TIMESTAMP = UNIX_TIMESTAMP('2024-01-01 00:00:00'); CREATE EVENT e_window ON SCHEDULE EVERY 1 HOUR ENDS '2037-01-01 00:00:00' DISABLE DO DELETE FROM t WHERE id < 0; SET TIMESTAMP = DEFAULT;",
      check: async (sql) => expect(sql).toMatch(/EVERY 1 HOUR STARTS '2000-01-01 00:00:00' ENDS '2037-01-01 00:00:00'/),
    },
  ],
  [
    'comments with an apostrophe before a string that names the database',
    {
      sql: `CREATE TABLE log (m VARCHAR(60));
        CREATE PROCEDURE logit() BEGIN /* don't log twice */ INSERT INTO log VALUES ('$DB.t changed'); END;
        CREATE PROCEDURE logit2() BEGIN -- don't
          INSERT INTO log VALUES ('$DB.t changed'); END;`,
    },
  ],
  [
    'DEFINERs whose user or host spells the object keyword',
    {
      sql: 'CREATE DEFINER=`function`@`%` FUNCTION f_def() RETURNS INT DETERMINISTIC RETURN 1; CREATE DEFINER=`ops`@`view.example.com` SQL SECURITY INVOKER VIEW v_def AS SELECT 1 AS x;',
      check: async (sql) => expect(sql).not.toMatch(/DEFINER\s*=/),
    },
  ],
  [
    'a table named with a newline and SQL after it',
    {
      sql: 'CREATE TABLE `c\nCREATE TABLE pwned (x int); -- x` (id INT PRIMARY KEY);',
      dataTables: ['c\nCREATE TABLE pwned (x int); -- x'],
      check: async (sql, copy) => {
        expect(sql).toContain('-- Table `c\\x0aCREATE TABLE pwned (x int); -- x`\n');
        expect(await rows('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [copy, 'pwned'])).toEqual([]);
      },
    },
  ],
  [
    'a date stored under ALLOW_INVALID_DATES',
    {
      sql: "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'; CREATE TABLE sched (id INT PRIMARY KEY, d DATE NULL); INSERT INTO sched VALUES (1, '2020-02-31');",
      dataTables: ['sched'],
      check: async (_sql, copy) => expect(await rows(`SELECT CAST(d AS CHAR) AS d FROM \`${copy}\`.sched`)).toEqual([{ d: '2020-02-31' }]),
    },
  ],
  [
    'a routine that uses a column named end',
    { sql: 'CREATE TABLE sched (id INT PRIMARY KEY, `end` DATETIME NULL); CREATE PROCEDURE touch(x INT) BEGIN UPDATE sched SET end = NOW() WHERE id = x; END;' },
  ],
  ['a MERGE table', { sql: 'CREATE TABLE m1 (a INT) ENGINE=MyISAM; CREATE TABLE m2 (a INT) ENGINE=MyISAM; CREATE TABLE mm (a INT) ENGINE=MRG_MyISAM UNION=(m1,m2);' }],
  [
    'comments and CRLF line ends inside a routine body (the stock client keeps them only as the header says to run it)',
    {
      sql: 'CREATE PROCEDURE p_crlf() BEGIN\r\n  -- keep me\r\n  SELECT 1;\r\nEND;',
      check: async (sql) => expect(sql).toContain('`mysql --comments --binary-mode <database> < file.sql`'),
    },
  ],
  [
    'a database COMMENT',
    {
      sql: "ALTER DATABASE `$DB` COMMENT 'it''s the shop';",
      mariadbOnly: true,
      check: async (_sql, copy) =>
        expect(await rows('SELECT SCHEMA_COMMENT AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [copy])).toEqual([{ c: "it's the shop" }]),
    },
  ],
];

describeWithServices(['mysql'], 'dump -> load -> dump of what a dump once could not reproduce', () => {
  afterAll(() => dbs.dropAll());

  let n = 0;
  it.for(CASES)('%s', async ([, { sql: source, dataTables = [], check, mariadbOnly }], context) => {
    const at = ++n;
    if (mariadbOnly) skipUnless((await serverInfo()).flavor === 'mariadb', `MariaDB-only syntax; the server is ${(await serverInfo()).version}`, (note) => context.skip(note));
    const db = await createDb(dbs, `src${at}`, source);
    const sql = await dumpText(db, dataTables);
    const facts = await programFacts(dbs, db);
    const copy = dbs.name(`ours${at}`);
    await loadText(sql, copy);
    expect(await dumpText(copy, dataTables)).toBe(sql);
    expect(await programFacts(dbs, copy)).toEqual(facts);
    // The semantic schema too (program bodies are digested): a reload is no change.
    expect(describeSchemaDiff(diffSchemas(await readSchema(mysqlUrl(), db), await readSchema(mysqlUrl(), copy)))).toEqual([]);
    await check?.(sql, copy);
    if (!stockClient) return;
    const stock = dbs.name(`stock${at}`);
    await stockLoad(dbs, sql, stock);
    expect(await dumpText(stock, dataTables)).toBe(sql);
    expect(await programFacts(dbs, stock)).toEqual(facts);
    await check?.(sql, stock);
  });
});

describeWithServices(['mysql'], 'objects a dump cannot reproduce are refused at dump time, naming them', () => {
  afterAll(() => dbs.dropAll());
  const ended: Record<string, string> = {};

  beforeAll(async () => {
    // Schedules that end a second from now: by the time the dumps run they have passed (the scheduler is off).
    const event = (schedule: string) => `CREATE TABLE t (id INT); CREATE EVENT e_old ON SCHEDULE ${schedule} DO DELETE FROM t WHERE id < 0;`;
    ended.ends = await createDb(dbs, 'ends', event('EVERY 1 MINUTE ENDS CURRENT_TIMESTAMP + INTERVAL 1 SECOND'));
    ended.at = await createDb(dbs, 'at', event('AT CURRENT_TIMESTAMP + INTERVAL 1 SECOND'));
    ended.preserved = await createDb(dbs, 'preserved', event('AT CURRENT_TIMESTAMP + INTERVAL 1 SECOND ON COMPLETION PRESERVE ENABLE'));
    await new Promise((resolve) => setTimeout(resolve, 2100));
  });

  it.for([
    ['a recurring event whose ENDS has passed', 'ends', /^event `e_old` in `[^`]+` can no longer run \(its schedule ended at [\d-]+ [\d:]+\).*ON COMPLETION PRESERVE DISABLE, and dump again$/],
    ['a one-time event whose time has passed (a load would drop it)', 'at', /^event `e_old` in .* can no longer run/],
    ['an enabled, preserved event whose time has passed (a load would disable it)', 'preserved', /^event `e_old` in .* can no longer run/],
  ] as const)('%s', async ([, key, message], context) => {
    // MySQL runs its event scheduler by default: it drops (or disables) such an event itself, leaving nothing to refuse.
    skipUnless(!(await serverInfo()).eventScheduler, 'the event scheduler is on: the server itself drops or disables an event once its time has passed', (note) => context.skip(note));
    const dump = dumpText(ended[key]!);
    await expect(dump).rejects.toThrow(UnportableObjectError);
    await expect(dump).rejects.toThrow(message);
  });

  it('a dump of an event with ENDS still loads once that ENDS has passed (weeks later, in a developer\'s provision)', async () => {
    const db = await createDb(dbs, 'later', 'CREATE TABLE t (id INT); CREATE EVENT e_soon ON SCHEDULE EVERY 1 HOUR ENDS CURRENT_TIMESTAMP + INTERVAL 2 SECOND ON COMPLETION PRESERVE DISABLE DO DELETE FROM t WHERE id < 0;');
    const sql = await dumpText(db);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const copy = dbs.name('later_copy');
    await loadText(sql, copy);
    expect(await rows('SELECT EVENT_NAME AS e FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [copy])).toEqual([{ e: 'e_soon' }]);
  });

  it('a procedure created under sql_mode ORACLE', async (context) => {
    skipUnless((await serverInfo()).flavor === 'mariadb', `sql_mode ORACLE is MariaDB's; the server is ${(await serverInfo()).version}`, (note) => context.skip(note));
    const db = await createDb(dbs, 'ora', "SET SESSION sql_mode = 'ORACLE'; CREATE PROCEDURE p_ora(a IN INT) AS BEGIN NULL; END;");
    const dump = dumpText(db);
    await expect(dump).rejects.toThrow(UnportableObjectError);
    await expect(dump).rejects.toThrow(/^procedure `p_ora` in `[^`]+` was created under sql_mode ORACLE, .*recreate it under the default sql_mode/);
  });

  // `<out>/mysql/<db>.sql` with `x_/../../../name` is `<out>/../name.sql`: outside the output folder.
  const escaped = `escaped_${process.pid}`;
  it.each([
    ['a path that leaves the output folder', `_/../../../${escaped}`, /contains a path separator/],
    ['a path separator', '_a/b', /contains a path separator/],
  ])('a database name with %s, before anything is written', async (_what, suffix, problem) => {
    const db = `${dbs.name(`odd${suffix.length}`)}${suffix}`;
    await (await dbs.admin()).query(`CREATE DATABASE \`${db}\``);
    const out = await tempDir('unsafe');
    const outside = [`${escaped}.sql`, `${escaped}.schema.json`].map((f) => join(dirname(out), f));
    try {
      const dump = dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: [], outDir: out });
      await expect(dump).rejects.toThrow(UnsafeDatabaseNameError);
      await expect(dump).rejects.toThrow(problem);
      expect(await readdir(out)).toEqual([]);
      expect(outside.filter((f) => existsSync(f))).toEqual([]);
    } finally {
      await (await dbs.admin()).query(`DROP DATABASE IF EXISTS \`${db}\``);
      for (const f of outside) await rm(f, { force: true });
    }
  });

  it('a data row whose INSERT would not fit max_allowed_packet (a blob of half of it plus 1 MiB, written as hex)', async () => {
    // MariaDB's default is 16 MiB (a 9 MiB blob), MySQL's 64 MiB (33 MiB).
    const mib = Math.floor((await serverInfo()).maxAllowedPacket / 2 / (1 << 20)) + 1;
    const db = await createDb(dbs, 'blob', `CREATE TABLE files (id INT PRIMARY KEY, data LONGBLOB); INSERT INTO files VALUES (7, REPEAT(UNHEX('AB'), ${mib} << 20));`);
    const out = await tempDir('blob');
    const dump = dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: ['files'], outDir: out });
    await expect(dump).rejects.toThrow(OversizedRowError);
    const literal = 2 * mib * (1 << 20);
    await expect(dump).rejects.toThrow(new RegExp(`^row \\(id=7\\) of data table \`files\` in \`${db}\` needs an INSERT of ${String(literal).slice(0, 3)}\\d{${String(literal).length - 3}} bytes, more than the server's max_allowed_packet`));
    expect(await readdir(join(out, 'mysql'))).toEqual([]);
  });

  it.each(['mysql', 'information_schema'])('the system database %s', async (db) => {
    const dump = dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: [], outDir: await tempDir('sys') });
    await expect(dump).rejects.toThrow(SystemDatabaseError);
    await expect(dump).rejects.toThrow(`\`${db}\` is a MySQL system database`);
  });
});

describeWithServices(['mysql'], 'the semantic schema sees CHECK constraints (MariaDB)', () => {
  afterAll(() => dbs.dropAll());

  it('reports a changed CHECK clause, and a copy under another name compares equal', async () => {
    const table = (check: string) => `CREATE TABLE orders (id INT PRIMARY KEY, qty INT, CONSTRAINT qty_pos CHECK (${check}));`;
    const before = await createDb(dbs, 'ck1', table('qty >= 0'));
    const after = await createDb(dbs, 'ck2', table('qty > 0'));
    const copy = dbs.name('ck_copy');
    await loadText(await dumpText(before), copy);
    const schema = await readSchema(mysqlUrl(), before);
    expect(schema.tables[0]!.checks).toEqual([{ name: 'qty_pos', clause: '`qty`>=0' }]);
    expect(isEmptyDiff(diffSchemas(schema, await readSchema(mysqlUrl(), copy)))).toBe(true);
    expect(describeSchemaDiff(diffSchemas(schema, await readSchema(mysqlUrl(), after)))).toEqual(['~ table orders', '  ~ check qty_pos: clause "`qty`>=0" -> "`qty`>0"']);
  });
});
