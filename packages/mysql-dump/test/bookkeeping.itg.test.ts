import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { dumpMysql } from '../src/index.js';
import { TestDatabases, mysqlUrl, readText, tempDir } from './helpers/test-databases.js';

// Bookkeeping tables as Alembic, Knex, Flyway and Prisma create them, plus an application table that is
// only named like TypeORM's/Laravel's `migrations` (its columns say it is not).
const TABLES = `
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
CREATE TABLE knex_migrations (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255), batch INT, migration_time TIMESTAMP NULL);
CREATE TABLE knex_migrations_lock (\`index\` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, is_locked INT);
CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL,
  script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  execution_time INT NOT NULL, success TINYINT(1) NOT NULL);
CREATE TABLE _prisma_migrations (id VARCHAR(36) NOT NULL PRIMARY KEY, checksum VARCHAR(64) NOT NULL, finished_at DATETIME(3) NULL, migration_name VARCHAR(255) NOT NULL,
  logs TEXT NULL, rolled_back_at DATETIME(3) NULL, started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), applied_steps_count INT UNSIGNED NOT NULL DEFAULT 0);
CREATE TABLE migrations (id INT NOT NULL PRIMARY KEY, email VARCHAR(100), password_hash VARCHAR(100));
CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, total INT);
INSERT INTO alembic_version VALUES ('3f1c2a9b7d10');
INSERT INTO knex_migrations_lock VALUES (1, 0);
INSERT INTO migrations VALUES (1, 'someone@example.com', 'secret-hash');
INSERT INTO orders VALUES (1, 10);
`;

// The same three migrations, applied in one run (from scratch) and in three runs (incrementally): batches,
// times, durations and Prisma's random ids differ; nothing else does.
const FROM_SCRATCH = `
INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('001_a.js', 1, '2026-01-01 10:00:00'), ('002_b.js', 1, '2026-01-01 10:00:01'), ('003_c.js', 1, '2026-01-01 10:00:02');
INSERT INTO flyway_schema_history VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', 11, 'ci', '2026-01-01 10:00:00', 31, 1), (2, '2', 'b', 'SQL', 'V2__b.sql', 22, 'ci', '2026-01-01 10:00:00', 12, 1);
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
  ('c6f3a1e0-0000-4000-8000-000000000001', 'aa', '2026-01-01 10:00:00.5', '20260101_init', '2026-01-01 10:00:00.1', 1),
  ('0b9d0f2e-0000-4000-8000-000000000002', 'bb', '2026-01-01 10:00:01.5', '20260102_orders', '2026-01-01 10:00:01.1', 1);
`;
// A failed Prisma migration: no finished_at (Prisma reads NULL as failed), which the dump must keep.
const FAILED = `
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
  ('9e8d7c6b-0000-4000-8000-000000000003', 'cc', NULL, '20260103_broken', '2026-01-03 08:00:00.0', 0);
`;
const INCREMENTAL = `
INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('001_a.js', 1, '2025-03-01 09:00:00'), ('002_b.js', 2, '2025-04-01 09:00:00'), ('003_c.js', 3, '2026-01-02 11:11:11');
INSERT INTO flyway_schema_history VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', 11, 'ci', '2025-03-01 09:00:00', 48, 1), (2, '2', 'b', 'SQL', 'V2__b.sql', 22, 'ci', '2026-01-02 11:11:11', 7, 1);
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
  ('ffff0000-0000-4000-8000-00000000000a', 'bb', '2026-01-02 11:11:11.9', '20260102_orders', '2026-01-02 11:11:11.2', 1),
  ('11110000-0000-4000-8000-00000000000b', 'aa', '2025-03-01 09:00:00.9', '20260101_init', '2025-03-01 09:00:00.2', 1);
`;

describeWithServices(['mysql'], 'mysql dump: migration tools\' bookkeeping tables', () => {
  const dbs = new TestDatabases();
  let scratch: string;
  let incremental: string;
  beforeAll(async () => {
    [scratch, incremental] = [await dbs.create('bk_scratch'), await dbs.create('bk_incr')];
    await dbs.run(scratch, TABLES + FROM_SCRATCH);
    await dbs.run(incremental, TABLES + INCREMENTAL);
  });
  afterAll(() => dbs.dropAll());

  const dump = async (database: string, dataTables?: string[]) => {
    const out = await tempDir('bookkeeping');
    const result = await dumpMysql({ url: mysqlUrl(), databases: [database], ...(dataTables ? { dataTables } : {}), outDir: out });
    const sql = await readText(join(out, 'mysql', `${database}.sql`));
    return { rows: result.dataRows[database], sql: sql.replaceAll(database, 'DB') };
  };

  it('keeps their rows without being listed (an explicit list adds to them), never an application table named like one', async () => {
    const expected = { _prisma_migrations: 2, alembic_version: 1, flyway_schema_history: 2, knex_migrations: 3, knex_migrations_lock: 1 };
    expect((await dump(scratch)).rows).toEqual(expected);
    const listed = await dump(scratch, ['orders']);
    expect(listed.rows).toEqual({ ...expected, orders: 1 });
    expect(listed.sql).not.toContain('someone@example.com');
    expect(listed.sql).toContain("INSERT INTO `alembic_version` (`version_num`) VALUES\n('3f1c2a9b7d10');\n");
  });

  it('a NULL in a fixed column stays NULL (Prisma: a failed migration is not recorded as finished)', async () => {
    const failed = await dbs.create('bk_failed');
    await dbs.run(failed, TABLES + FAILED);
    expect((await dump(failed)).sql).toContain("('1','cc',NULL,'20260103_broken',NULL,NULL,'2000-01-01 00:00:00',0);");
  });

  it('a database migrated incrementally and one migrated from scratch dump the same bytes', async () => {
    const [a, b] = [await dump(scratch), await dump(incremental)];
    expect(b.sql).toBe(a.sql);
    expect(a.sql).toContain("(1,'001_a.js','1','2000-01-01 00:00:00'),\n(2,'002_b.js','1','2000-01-01 00:00:00'),\n(3,'003_c.js','1','2000-01-01 00:00:00');");
    expect(a.sql).toContain("(1,'1','a','SQL','V1__a.sql',11,'ci','2000-01-01 00:00:00','0',1),");
    // Prisma's random ids become 1..n in migration-name order.
    expect(a.sql).toMatch(/\('1','aa','2000-01-01 00:00:00','20260101_init',NULL,NULL,'2000-01-01 00:00:00',1\),\n\('2','bb',/);
  });
});
