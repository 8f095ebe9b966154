import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { UnportableObjectError, dumpMysql, loadMysql } from '../src/index.js';
import { connectAdmin, mysqlUrl, readText, stockClient, tempDir } from './helpers/test-databases.js';

// Objects whose definitions depend on the client settings they were created under (sql_mode, SET NAMES,
// time_zone) or on how they were spelled (qualified names), per the audit of dump -> load -> dump.
const prefix = `fixd_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
const created: string[] = [];
let admin: Connection;

const connect = connectAdmin;

function name(label: string): string {
  const db = `${prefix}_${label}`;
  created.push(db);
  return db;
}

/** Creates a database and runs `sql` in it on a fresh connection (its session settings die with it). */
async function createDb(label: string, sql: string): Promise<string> {
  const db = name(label);
  const conn = await connect();
  try {
    await conn.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4; USE \`${db}\`; ${sql.replaceAll('$DB', db)}`);
  } finally {
    await conn.end();
  }
  return db;
}

async function dumpText(db: string): Promise<string> {
  const dir = await tempDir('fixd');
  await dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: [], outDir: dir });
  return readText(join(dir, 'mysql', `${db}.sql`));
}

async function loadText(sql: string, db: string): Promise<void> {
  const dir = await tempDir('fixd-load');
  const { writeFile } = await import('node:fs/promises');
  const file = join(dir, 'dump.sql');
  await writeFile(file, sql);
  await loadMysql({ url: mysqlUrl(), files: [file], databaseRename: db });
}

const client = stockClient;
async function stockLoad(sql: string, db: string): Promise<void> {
  await admin.query(`CREATE DATABASE \`${db}\``);
  const url = new URL(mysqlUrl());
  const args = ['-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username), db];
  const child = execFile(client!, args, { env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) } });
  let stderr = '';
  child.stderr!.on('data', (d: string) => (stderr += d));
  const done = promisify((cb: (e: Error | null) => void) => child.on('exit', (code) => cb(code === 0 ? null : new Error(`client exited ${code}: ${stderr}`))))();
  child.stdin!.end(sql);
  await done;
}

async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await admin.query(sql, params);
  return rows as T[];
}

/** Client settings the server recorded for every view, trigger, routine and event, and view column types. */
async function recorded(db: string) {
  return {
    views: await query('SELECT TABLE_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY 1', [db]),
    viewColumns: await query(
      "SELECT c.TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS c JOIN information_schema.VIEWS v USING (TABLE_SCHEMA, TABLE_NAME) WHERE c.TABLE_SCHEMA = ? ORDER BY 1, 2",
      [db],
    ),
    triggers: await query('SELECT TRIGGER_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1', [db]),
    routines: await query('SELECT ROUTINE_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, SQL_MODE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1', [db]),
    events: await query(
      "SELECT EVENT_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, TIME_ZONE, ENDS, IF(EVENT_NAME = 'explicit_start', STARTS, NULL) AS STARTS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1",
      [db],
    ),
  };
}

const SOURCE = `
CREATE TABLE account (id INT PRIMARY KEY, amount INT);
CREATE VIEW accounts AS SELECT id, amount AS balance FROM account;
CREATE VIEW balance AS SELECT id, balance FROM accounts WHERE balance > 0;
CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(5)) COMMENT 'legacy AUTO_INCREMENT=5 note';
CREATE TABLE c (a INT COMMENT '/*!50100 hidden */ tricky');
CREATE TRIGGER $DB.trg BEFORE INSERT ON $DB.t FOR EACH ROW SET NEW.v = 'x';
SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';
CREATE FUNCTION win_path() RETURNS VARCHAR(20) DETERMINISTIC RETURN 'C:\\';
SET SESSION sql_mode = DEFAULT;
SET NAMES utf8;
CREATE VIEW legacy_names AS SELECT 'abc' AS label;
CREATE TRIGGER legacy_trg AFTER INSERT ON t FOR EACH ROW SET @last = NEW.id;
CREATE PROCEDURE legacy_proc() SELECT 'x' AS label;
CREATE EVENT legacy_event ON SCHEDULE EVERY 1 DAY DO DELETE FROM t WHERE id < 0;
SET NAMES utf8mb4;
SET time_zone = '+05:00';
CREATE EVENT zoned ON SCHEDULE EVERY 1 DAY DO DELETE FROM t WHERE id < 0;
CREATE EVENT explicit_start ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' ENDS '2031-01-01 00:00:00' DO DELETE FROM t WHERE id < 0;
CREATE EVENT \`x DO y\` ON SCHEDULE EVERY 1 DAY DO DELETE FROM t WHERE id < 0;
`;

describeWithServices(['mysql'], 'dump fidelity of views, triggers, routines and events (MariaDB)', () => {
  let source: string;
  let sql: string;

  beforeAll(async () => {
    admin = await connect();
    source = await createDb('src', SOURCE);
    sql = await dumpText(source);
  });
  afterAll(async () => {
    for (const db of created) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
  });

  it('writes views in dependency order, names no database, keeps quoted text and explicit STARTS', () => {
    expect(sql.indexOf('-- View `accounts`')).toBeLessThan(sql.indexOf('-- View `balance`'));
    expect(sql).not.toContain(source);
    expect(sql).toContain("COMMENT='legacy AUTO_INCREMENT=5 note'");
    expect(sql).toContain("COMMENT '/*!50100 hidden */ tricky'");
    expect(sql).toContain("STARTS '2030-01-01 00:00:00' ENDS '2031-01-01 00:00:00'");
    expect(sql).toMatch(/EVENT `x DO y` ON SCHEDULE EVERY 1 DAY ON COMPLETION/);
    expect(sql).toContain("TIME_ZONE = '+05:00';");
  });

  it('loads under another name with the same recorded settings and dumps to the same bytes', async () => {
    const copy = name('copy');
    await loadText(sql, copy);
    expect(await dumpText(copy)).toBe(sql);
    expect(await recorded(copy)).toEqual(await recorded(source));
    expect(await query('SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_NAME = ? AND EVENT_OBJECT_SCHEMA = ?', ['trg', copy])).toEqual([{ n: 1 }]);
    expect(await query(`SELECT \`${copy}\`.win_path() AS p`)).toEqual([{ p: 'C:\\' }]);
    await admin.query(`INSERT INTO \`${copy}\`.t (id) VALUES (1)`);
    expect(await query(`SELECT v FROM \`${copy}\`.t`)).toEqual([{ v: 'x' }]);
  });

  it.skipIf(!client)('loads with the stock client to the same bytes and settings', async () => {
    const copy = name('stock');
    await stockLoad(sql, copy);
    expect(await dumpText(copy)).toBe(sql);
    expect(await recorded(copy)).toEqual(await recorded(source));
  });

  it('refuses a trigger whose body names its own database, naming the object', async () => {
    const db = await createDb(
      'qualified',
      'CREATE TABLE t (id INT); CREATE TABLE log (v VARCHAR(5)); CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW INSERT INTO $DB.log VALUES (\'x\');',
    );
    const dump = dumpText(db);
    await expect(dump).rejects.toThrow(UnportableObjectError);
    await expect(dump).rejects.toThrow(new RegExp(`^trigger \`trg\` in \`${db}\` names its own database .*remove the \`${db}\\.\` qualifier`));
  });

  it('dumps indexes created in different orders to the same bytes', async () => {
    const table = 'CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE w (id INT PRIMARY KEY, a INT, b INT, p_id INT';
    const scratch = await createDb(
      'ix1',
      `${table}, KEY ix_a (a), UNIQUE KEY ix_b (b), CONSTRAINT fk_a FOREIGN KEY (p_id) REFERENCES p (id), CONSTRAINT fk_b FOREIGN KEY (a) REFERENCES p (id));`,
    );
    const migrated = await createDb(
      'ix2',
      `${table}); ALTER TABLE w ADD CONSTRAINT fk_b FOREIGN KEY (a) REFERENCES p (id); ALTER TABLE w ADD UNIQUE KEY ix_b (b);
       ALTER TABLE w ADD KEY ix_a (a); ALTER TABLE w ADD CONSTRAINT fk_a FOREIGN KEY (p_id) REFERENCES p (id);`,
    );
    const first = await dumpText(scratch);
    expect(await dumpText(migrated)).toBe(first);
    const copy = name('ix_copy');
    await loadText(first, copy);
    expect(await dumpText(copy)).toBe(first);
  });
});
