import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { describeSchemaDiff, diffSchemas, dumpMysql, loadMysql, readSchema } from '../src/index.js';
import { SequenceNotSupportedError } from '../src/index.js';
import { StatementSplitter } from '../src/internal/statement-splitter.js';
import { mysqlUrl, readText } from './helpers/test-databases.js';

describeWithServices(['mysql'], 'schema fidelity on a real server', () => {
  const prefix = `fixs_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  const created: string[] = [];
  const dirs: string[] = [];
  const tempDir = async (label: string) => {
    const dir = await mkdtemp(join(tmpdir(), `${label}-`));
    dirs.push(dir);
    return dir;
  };
  let admin: Connection;
  /** GitHub CI runs these tests on mysql:8.0 and mysql:8.4 too, where some syntax differs. */
  let mariadb = true;
  const name = (label: string) => {
    const db = `${prefix}_${label}`;
    created.push(db);
    return db;
  };
  const create = async (label: string, script = '') => {
    const db = name(label);
    await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
    await run(db, script);
    return db;
  };
  const run = async (db: string, script: string) => {
    await admin.query(`USE \`${db}\``);
    const splitter = new StatementSplitter();
    for (const s of [...splitter.push(script), ...splitter.end()]) await admin.query(s.text);
  };

  beforeAll(async () => {
    admin = await createConnection({ uri: mysqlUrl(), multipleStatements: true });
    const [rows] = await admin.query('SELECT VERSION() AS version');
    mariadb = /mariadb/i.test(String((rows as { version: string }[])[0]?.version));
  });
  afterAll(async () => {
    for (const db of created) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('diff names generation expression, invisible column, ignored index, index comment and trigger body changes', async () => {
    // MariaDB ignores an index (IGNORED), MySQL 8 hides it (INVISIBLE): both read as `ignored`.
    const ignored = mariadb ? 'IGNORED' : 'INVISIBLE';
    const db = await create(
      'alter',
      `CREATE TABLE p (id INT PRIMARY KEY, price INT, tax INT AS (price*0.2) VIRTUAL, internal INT, KEY ix_price (price));
       CREATE TRIGGER p_bi BEFORE INSERT ON p FOR EACH ROW SET NEW.price = NEW.price + 1;`,
    );
    const before = await readSchema(mysqlUrl(), db);
    await run(
      db,
      `ALTER TABLE p DROP COLUMN tax;
       ALTER TABLE p ADD tax INT AS (price*0.25) STORED AFTER price, MODIFY internal INT INVISIBLE, ALTER INDEX ix_price ${ignored};
       ALTER TABLE p DROP INDEX ix_price, ADD INDEX ix_price (price) ${ignored} COMMENT 'by price';
       DROP TRIGGER p_bi;
       CREATE TRIGGER p_bi BEFORE INSERT ON p FOR EACH ROW SET NEW.price = NEW.price + 2;`,
    );
    const after = await readSchema(mysqlUrl(), db);
    expect(describeSchemaDiff(diffSchemas(before, after))).toEqual([
      '~ table p',
      '  ~ column internal: invisible no -> yes',
      '  ~ column tax: expression "`price`*0.2" -> "`price`*0.25", generated "virtual" -> "stored"',
      '  ~ index ix_price: comment "" -> "by price", ignored no -> yes',
      '~ trigger p_bi: body changed',
    ]);
  });

  it('a sequence is in the schema, and a dump refuses it by name instead of writing a dump that reloads wrong', async (context) => {
    if (!mariadb) {
      console.log('[skipped] sequences exist on MariaDB only (this server is MySQL)');
      context.skip('sequences exist on MariaDB only (this server is MySQL)');
    }
    const db = await create('seq', 'CREATE TABLE t (id INT PRIMARY KEY); CREATE SEQUENCE s START WITH 100 INCREMENT BY 5;');
    const schema = await readSchema(mysqlUrl(), db);
    expect(schema.tables.map((t) => t.name)).toEqual(['t']);
    expect(schema.sequences).toEqual([{ name: 's', start: '100', increment: '5', min: '1', max: '9223372036854775806', cache: '1000', cycle: false }]);
    await run(db, 'DROP SEQUENCE s; CREATE SEQUENCE s START WITH 100 INCREMENT BY 10;');
    expect(describeSchemaDiff(diffSchemas(schema, await readSchema(mysqlUrl(), db)))).toEqual(['~ sequence s: increment "5" -> "10"']);

    const out = await tempDir('fixs-seq');
    const dump = dumpMysql({ url: mysqlUrl(), databases: [db], outDir: out });
    await expect(dump).rejects.toThrow(SequenceNotSupportedError);
    await expect(dump).rejects.toThrow(/`s`: sequences are not supported yet/);
    expect(existsSync(join(out, 'mysql')) ? await readdir(join(out, 'mysql')) : []).toEqual([]);
  });

  it('rows of a table without a primary key that tie under a case-insensitive collation come out in one order', async () => {
    const table = 'CREATE TABLE t (name VARCHAR(10) NOT NULL, doc TEXT NULL);';
    const long = (c: string) => `${'x'.repeat(1100)}${c}`;
    const values = [`('a', NULL)`, `('A', NULL)`, `('b', '${long('1')}')`, `('b', '${long('2')}')`, `('B', NULL)`];
    const one = await create('nopk1', `${table} INSERT INTO t VALUES ${values.join(', ')};`);
    const two = await create('nopk2', `${table} INSERT INTO t VALUES ${[...values].reverse().join(', ')};`);
    const dumps = await Promise.all(
      [one, two].map(async (db) => {
        const out = await tempDir('fixs-nopk');
        await dumpMysql({ url: mysqlUrl(), databases: [db], outDir: out, dataTables: ['t'] });
        return readText(join(out, 'mysql', `${db}.sql`));
      }),
    );
    expect(dumps[1]).toBe(dumps[0]);
    expect(dumps[0]).toContain(`('A',NULL),\n('a',NULL),\n('B',NULL),\n('b','${long('1')}'),\n('b','${long('2')}');`);
  });

  it('FLOAT and DOUBLE values round-trip exactly (CHECKSUM TABLE equal after reload)', async () => {
    const db = await create(
      'float',
      `CREATE TABLE m (id INT PRIMARY KEY, f FLOAT NULL, d DOUBLE NULL, f2 FLOAT(7,3) NULL, fu FLOAT UNSIGNED NULL);
       INSERT INTO m VALUES (1, 1.2345678, 0.1, 1.2345, 3.5), (2, 16777217, 1e300/3, -0.0005, 0), (3, -3.4028234e38, -1e-300, NULL, 1e-45),
                            (4, 0.1, 2.2250738585072014e-308, 9999.999, NULL);`,
    );
    const out = await tempDir('fixs-float');
    await dumpMysql({ url: mysqlUrl(), databases: [db], outDir: out, dataTables: ['m'] });
    const sql = await readText(join(out, 'mysql', `${db}.sql`));
    expect(sql).toContain('(1,1.2345678,0.1,1.234,3.5)');
    expect(sql).toContain('(2,16777216,');
    const copy = name('float_copy');
    await loadMysql({ url: mysqlUrl(), files: [join(out, 'mysql', `${db}.sql`)], databaseRename: copy });
    const checksum = async (database: string) => {
      const [rows] = await admin.query(`CHECKSUM TABLE \`${database}\`.m`);
      return (rows as { Checksum: number }[])[0]!.Checksum;
    };
    expect(await checksum(copy)).toBe(await checksum(db));
    const again = await tempDir('fixs-float2');
    await dumpMysql({ url: mysqlUrl(), databases: [copy], outDir: again, dataTables: ['m'] });
    expect(await readText(join(again, 'mysql', `${copy}.sql`))).toBe(sql);
  });
});
