import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { parseServerVersion, type EngineInfo } from '../src/internal/connect.js';
import { buildSemanticSchema } from '../src/internal/semantic-schema.js';
import { diffSchemas, isEmptyDiff, readSchema } from '../src/index.js';
import { EXPRESSION_DEFAULTS_DDL, MARIADB_1011, MYSQL_80, expressionDefaultRows } from './fixtures/recorded-expression-defaults.js';
import { TestDatabases, mysqlUrl } from './helpers/test-databases.js';

/**
 * The recorded rows of `recorded-expression-defaults.ts` against a live server: the server reports what
 * the recording of its flavour says, and its semantic schema equals the one built from the other
 * flavour's recording (on the harness's MariaDB: the MySQL 8.0 record).
 */
describeWithServices(['mysql'], 'expression defaults on a live server', () => {
  const dbs = new TestDatabases();
  let db: string;
  let engine: EngineInfo;

  beforeAll(async () => {
    const admin = await dbs.admin();
    const [rows] = await admin.query('SELECT VERSION() AS v');
    engine = parseServerVersion(String((rows as { v: string }[])[0]!.v));
    db = await dbs.create('exprdef');
    await dbs.run(db, EXPRESSION_DEFAULTS_DDL);
  });
  afterAll(() => dbs.dropAll());

  it('COLUMN_DEFAULT and EXTRA are as recorded for this flavour', async () => {
    const [rows] = await (await dbs.admin()).query(
      `SELECT COLUMN_NAME AS name, COLUMN_DEFAULT AS column_default, EXTRA AS extra
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY ORDINAL_POSITION`,
      [db],
    );
    const recorded = expressionDefaultRows(engine.flavor === 'mariadb' ? MARIADB_1011 : MYSQL_80).columns;
    expect(rows).toEqual(recorded.map((c) => ({ name: c.column_name, column_default: c.column_default, extra: c.extra })));
  });

  it("the live schema equals the one built from the other flavour's recording", async () => {
    const other = engine.flavor === 'mariadb' ? MYSQL_80 : MARIADB_1011;
    const live = await readSchema(mysqlUrl(), db);
    expect(live.tables).toEqual(buildSemanticSchema(expressionDefaultRows(other), other).tables);
  });

  it("tells DEFAULT uuid() from DEFAULT 'uuid()'", async () => {
    const expression = await dbs.create('uuid_expr');
    await dbs.run(expression, 'CREATE TABLE t (a VARCHAR(40) DEFAULT (uuid()))');
    const literal = await dbs.create('uuid_text');
    await dbs.run(literal, "CREATE TABLE t (a VARCHAR(40) DEFAULT 'uuid()')");
    const diff = diffSchemas(await readSchema(mysqlUrl(), expression), await readSchema(mysqlUrl(), literal));
    expect(isEmptyDiff(diff)).toBe(false);
    expect(diff.tables.changed[0]!.columns.changed).toEqual([{ name: 'a', changes: [{ field: 'defaultExpression', from: true, to: undefined }] }]);
  });
});
