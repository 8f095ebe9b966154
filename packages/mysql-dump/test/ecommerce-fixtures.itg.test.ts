import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { RefusedStatementError, diffSchemas, dumpMysql, loadMysql, readSchema, type SemanticSchema } from '../src/index.js';
import { ECOMMERCE_FIXTURES, FIXTURE_DIR, TestDatabases, fixturesPresent, mysqlUrl, readText, tempDir } from './helpers/test-databases.js';

/** Facts read straight from the mysqldump text, independent of our code. */
function fixtureFacts(file: string) {
  const text = readFileSync(join(FIXTURE_DIR, file), 'utf8');
  const tables = [...text.matchAll(/^CREATE TABLE `([^`]+)`/gm)].map((m) => m[1]!).sort();
  const migrations = /^INSERT INTO `django_migrations` VALUES (.*);$/m.exec(text)![1]!.split('),(').length;
  const userRow = /^INSERT INTO `ecommerce_user` VALUES \(1,'([^']+)'/m.exec(text);
  return { tables, migrations, passwordHash: userRow?.[1] };
}

const run = fixturesPresent() ? describeWithServices : (services: ['mysql'], title: string, _body: () => void) =>
  describe.skip(`${title} (fixtures not found in ${FIXTURE_DIR})`, () => undefined);

run(['mysql'], 'mysql dump of the real devstack ecommerce dumps', () => {
  const dbs = new TestDatabases();
  const dumped: { file: string; db: string; sql: string; schema: SemanticSchema }[] = [];

  beforeAll(async () => {
    for (const [i, file] of ECOMMERCE_FIXTURES.entries()) {
      const db = await dbs.loadEcommerceFixture(file, `eco${i}`);
      const out = await tempDir(`eco${i}`);
      const result = await dumpMysql({ url: mysqlUrl(), databases: [db], outDir: out });
      dumped.push({ file, db, sql: await readText(join(out, 'mysql', `${db}.sql`)), schema: result.schemas[db]! });
    }
  });
  afterAll(() => dbs.dropAll());

  it.each(ECOMMERCE_FIXTURES.map((f, i) => [f, i] as const))('%s: schema of every table, only reference rows, no user rows', (file, i) => {
    const facts = fixtureFacts(file);
    const { sql, schema } = dumped[i]!;
    expect(schema.tables.map((t) => t.name)).toEqual(facts.tables);
    const insertedTables = [...new Set([...sql.matchAll(/^INSERT INTO `([^`]+)`/gm)].map((m) => m[1]))].sort();
    expect(insertedTables).toEqual(['auth_permission', 'django_content_type', 'django_migrations', 'django_site']);
    const migrationRows = sql.slice(sql.indexOf('INSERT INTO `django_migrations`')).split('\n-- ')[0]!.match(/^\(\d+,/gm)!.length;
    expect(migrationRows).toBe(facts.migrations);
    expect(facts.passwordHash).toBeTruthy();
    expect(sql).not.toContain(facts.passwordHash!);
    expect(sql).not.toMatch(/INSERT INTO `(ecommerce_user|auth_user|django_session)/);
  });

  it.each(ECOMMERCE_FIXTURES.map((f, i) => [f, i] as const))('%s: load -> dump gives the same bytes and schema', async (file, i) => {
    const { sql, schema, db } = dumped[i]!;
    const dir = await tempDir(`eco-src${i}`);
    await dumpMysql({ url: mysqlUrl(), databases: [db], outDir: dir });
    expect(await readText(join(dir, 'mysql', `${db}.sql`))).toBe(sql);
    const copy = dbs.name(`eco${i}_copy`);
    await loadMysql({ url: mysqlUrl(), files: [join(dir, 'mysql', `${db}.sql`)], databaseRename: copy });
    const out = await tempDir(`eco-copy${i}`);
    const again = await dumpMysql({ url: mysqlUrl(), databases: [copy], outDir: out });
    expect(await readText(join(out, 'mysql', `${copy}.sql`))).toBe(sql);
    expect(again.schemas[copy]).toEqual(schema);
    expect(await readSchema(mysqlUrl(), copy)).toEqual(await readSchema(mysqlUrl(), db));
  });

  it.each([0, 1, 2].map((i) => [ECOMMERCE_FIXTURES[i]!, ECOMMERCE_FIXTURES[i + 1]!, i] as const))(
    'diff %s -> %s names the added and removed tables',
    (before, after, i) => {
      const a = fixtureFacts(before).tables;
      const b = fixtureFacts(after).tables;
      const diff = diffSchemas(dumped[i]!.schema, dumped[i + 1]!.schema);
      expect(diff.tables.added).toEqual(b.filter((t) => !a.includes(t)));
      expect(diff.tables.removed).toEqual(a.filter((t) => !b.includes(t)));
    },
  );

  it('refuses to load a raw mysqldump file (executable comments, a database switch), leaving no target behind', async () => {
    const target = dbs.name('eco_raw');
    const load = loadMysql({ url: mysqlUrl(), files: [join(FIXTURE_DIR, ECOMMERCE_FIXTURES[0]!)], databaseRename: target });
    await expect(load).rejects.toThrow(RefusedStatementError);
    await expect(load).rejects.toThrow(/line 7: refused `\/\*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT \*\/`: it contains an executable comment/);
    const [rows] = await (await dbs.admin()).query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
    expect(rows).toEqual([]);
  });

  it('finds a real change between the first and last point', () => {
    const diff = diffSchemas(dumped[0]!.schema, dumped[3]!.schema);
    expect(diff.tables.added.length).toBeGreaterThan(0);
    expect(diff.tables.changed.length).toBeGreaterThan(0);
  });
});
