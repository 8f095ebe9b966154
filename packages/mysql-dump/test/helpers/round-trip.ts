import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dumpMysql, loadMysql } from '../../src/index.js';
import { connectAdmin, mysqlUrl, readText, stockClient, tempDir, type TestDatabases } from './test-databases.js';

/** The stock command-line client, where installed (tests that need it are skipped otherwise). */
export { stockClient };

/** Creates a database and runs `sql` in it on a fresh connection (its session settings die with it); `$DB` is its name. */
export async function createDb(dbs: TestDatabases, label: string, sql: string): Promise<string> {
  const db = dbs.name(label);
  const conn = await connectAdmin();
  try {
    await conn.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4; USE \`${db}\`; ${sql.replaceAll('$DB', db)}`);
  } finally {
    await conn.end();
  }
  return db;
}

/** Dumps one database and returns its .sql text. */
export async function dumpText(db: string, dataTables: string[] = []): Promise<string> {
  const dir = await tempDir('review');
  await dumpMysql({ url: mysqlUrl(), databases: [db], dataTables, outDir: dir });
  return readText(join(dir, 'mysql', `${db}.sql`));
}

/** Loads a dump's text into `db` with loadMysql. */
export async function loadText(sql: string, db: string): Promise<void> {
  const file = join(await tempDir('review-load'), 'dump.sql');
  await writeFile(file, sql);
  await loadMysql({ url: mysqlUrl(), files: [file], databaseRename: db });
}

/** Loads a dump's text into a new database `db` with the stock client, run as the dump's header recommends. */
export async function stockLoad(dbs: TestDatabases, sql: string, db: string): Promise<void> {
  await (await dbs.admin()).query(`CREATE DATABASE \`${db}\``);
  const url = new URL(mysqlUrl());
  const args = ['--comments', '--binary-mode', '-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username), db];
  await new Promise<void>((resolve, reject) => {
    const child = execFile(stockClient!, args, { env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) } }, (error, _out, stderr) =>
      error ? reject(new Error(`${stockClient} failed: ${stderr}`)) : resolve(),
    );
    child.stdin!.end(sql);
  });
}

/** What information_schema records of a database's programs and events (their bodies as stored included). */
export async function programFacts(dbs: TestDatabases, db: string): Promise<unknown> {
  const conn = await dbs.admin();
  const [routines] = await conn.query(
    'SELECT ROUTINE_NAME, ROUTINE_DEFINITION, SQL_MODE, IS_DETERMINISTIC FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1',
    [db],
  );
  const [triggers] = await conn.query('SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1', [db]);
  const [events] = await conn.query(
    // A STARTS equal to the creation time is the implicit one, which a dump leaves out (or, with ENDS, fixes at 2000-01-01).
    "SELECT EVENT_NAME, EVENT_DEFINITION, IF(STARTS = CREATED OR STARTS = '2000-01-01 00:00:00', NULL, STARTS) AS STARTS, ENDS, EXECUTE_AT, STATUS, ON_COMPLETION FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1",
    [db],
  );
  // MySQL 8+ keeps a `;` after a body created with more statements after it in one query; a dump drops it
  // (dropFinalSemicolon), so a reloaded program's text lacks it. Nothing else may differ.
  const body = (text: unknown) => (typeof text === 'string' ? text.replace(/\s*;$/, '') : text);
  const strip = (list: unknown, key: string) => (list as Record<string, unknown>[]).map((row) => ({ ...row, [key]: body(row[key]) }));
  return { routines: strip(routines, 'ROUTINE_DEFINITION'), triggers: strip(triggers, 'ACTION_STATEMENT'), events: strip(events, 'EVENT_DEFINITION') };
}
