import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { UnknownVolatileColumnError, dumpMysql } from '../src/index.js';
import { TestDatabases, mysqlUrl, readText, tempDir } from './helpers/test-databases.js';

const SCHEMA = `
CREATE TABLE app_event (
  id INT NOT NULL PRIMARY KEY, kind VARCHAR(20) NOT NULL, recorded_at DATETIME NOT NULL, host VARCHAR(50) NULL);
CREATE TABLE django_migrations (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, applied DATETIME(6) NOT NULL);
INSERT INTO app_event VALUES (1, 'start', '2024-05-05 10:00:00', 'build-7'), (2, 'stop', '2024-05-06 11:30:00', NULL);
INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', '2024-05-05 10:00:00.123456');
`;

describeWithServices(['mysql'], 'mysql dump: volatile columns', () => {
  const dbs = new TestDatabases();
  let db: string;
  beforeAll(async () => {
    db = await dbs.create('volatile');
    await dbs.run(db, SCHEMA);
  });
  afterAll(() => dbs.dropAll());

  it('replaces each listed column with its fixed value (null: NULL), on top of the bookkeeping tables\' fixed columns', async () => {
    const out = await tempDir('volatile');
    const result = await dumpMysql({
      url: mysqlUrl(),
      databases: [db],
      dataTables: ['app_event', 'django_migrations'],
      volatileColumns: { 'app_event.recorded_at': '2000-01-01 00:00:00', 'app_event.host': null },
      outDir: out,
    });
    expect(result.dataRows[db]).toEqual({ app_event: 2, django_migrations: 1 });
    const sql = await readText(join(out, 'mysql', `${db}.sql`));
    expect(sql).toContain(
      "INSERT INTO `app_event` (`id`, `kind`, `recorded_at`, `host`) VALUES\n(1,'start','2000-01-01 00:00:00',NULL),\n(2,'stop','2000-01-01 00:00:00',NULL);\n",
    );
    // django_migrations is a migration tool's bookkeeping table: its `applied` stays fixed.
    expect(sql).toContain("(1,'shop','0001_initial','2000-01-01 00:00:00');\n");
    const overridden = await tempDir('volatile-override');
    await dumpMysql({ url: mysqlUrl(), databases: [db], volatileColumns: { 'django_migrations.applied': '2020-02-02 00:00:00' }, outDir: overridden });
    expect(await readText(join(overridden, 'mysql', `${db}.sql`))).toContain("(1,'shop','0001_initial','2020-02-02 00:00:00');\n");
  });

  it('fails with UnknownVolatileColumnError naming an unknown table.column, before writing the dump', async () => {
    const out = await tempDir('volatile-unknown');
    const error = await dumpMysql({
      url: mysqlUrl(),
      databases: [db],
      dataTables: ['app_event'],
      volatileColumns: { 'app_event.recorded_at': '2000-01-01 00:00:00', 'app_event.no_such_column': 'x' },
      outDir: out,
    }).then(
      () => new Error('the dump succeeded'),
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UnknownVolatileColumnError);
    expect((error as UnknownVolatileColumnError).column).toBe('app_event.no_such_column');
    expect((error as Error).message).toBe(
      `volatile column \`app_event.no_such_column\` does not exist in database \`${db}\`; fix or remove it from the volatile columns`,
    );
    expect(existsSync(join(out, 'mysql', `${db}.sql`))).toBe(false);
  });
});
