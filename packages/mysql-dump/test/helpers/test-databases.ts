import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { serviceVar } from '../../../../test/support/services.js';
import { parseServerVersion } from '../../src/internal/connect.js';
import { StatementSplitter } from '../../src/internal/statement-splitter.js';
import { removeAfterTestFile } from '../../../../test/support/temp-dirs.js';

export const mysqlUrl = () => serviceVar('TEST_MYSQL_URL');

/**
 * The stock client that loads a dump in the "the stock mysql client loads it" checks: TEST_STOCK_MYSQL_CLIENT
 * (the Oracle MySQL run sets Oracle's `mysql`), else the system's (Debian's is MariaDB's).
 */
export const stockClient: string | undefined = process.env.TEST_STOCK_MYSQL_CLIENT || ['/usr/bin/mariadb', '/usr/bin/mysql'].find((p) => existsSync(p));

/** The real devstack ecommerce dumps; read in place, never copied into the repository. */
export const FIXTURE_DIR = resolve(import.meta.dirname, '../../../../../shared/fixtures/devstack-ecommerce');
export const ECOMMERCE_FIXTURES = [
  'ecommerce-2020-05-05-cdb5d6e.sql',
  'ecommerce-2021-05-13-4e949f1.sql',
  'ecommerce-2021-08-02-e90ab85.sql',
  'ecommerce-2023-02-21-23e16c1.sql',
];
export const fixturesPresent = () => ECOMMERCE_FIXTURES.every((f) => existsSync(join(FIXTURE_DIR, f)));

/** A new connection to the test server (or the one `serverUrl` names) as its admin user (multi-statement, utf8mb4). */
export function connectAdmin(serverUrl = mysqlUrl()): Promise<Connection> {
  const url = new URL(serverUrl);
  return createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    multipleStatements: true,
    charset: 'UTF8MB4_GENERAL_CI',
  });
}

/** Creates uniquely named databases per test file and drops them all at the end. */
export class TestDatabases {
  private readonly created: string[] = [];
  private connection: Connection | undefined;
  private readonly prefix = `md_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;

  /** `serverUrl`: another server than TEST_MYSQL_URL's, read when first connecting. */
  constructor(private readonly serverUrl?: () => string) {}

  async admin(): Promise<Connection> {
    this.connection ??= await connectAdmin(this.serverUrl?.());
    return this.connection;
  }

  /** A fresh database name (not created) that `dropAll` removes. */
  name(label: string): string {
    const name = `${this.prefix}_${label}`;
    this.created.push(name);
    return name;
  }

  /** Creates an empty database and returns its name. */
  async create(label: string): Promise<string> {
    const name = this.name(label);
    await (await this.admin()).query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    return name;
  }

  /** Runs a script (may contain DELIMITER) inside `database`. */
  async run(database: string, script: string): Promise<void> {
    const conn = await this.admin();
    await conn.query(`USE \`${database}\``);
    const splitter = new StatementSplitter();
    for (const s of [...splitter.push(script), ...splitter.end()]) await conn.query(s.text);
  }

  /**
   * Loads a mysqldump file of the `ecommerce` database under another name: the statements that name the
   * database (DROP/CREATE DATABASE, USE) are rewritten on the fly, everything else runs as written.
   */
  async loadEcommerceFixture(file: string, label: string): Promise<string> {
    const name = this.name(label);
    const conn = await this.admin();
    const splitter = new StatementSplitter();
    const exec = async (text: string) => {
      const rewritten = /^(\/\*!40000 DROP DATABASE|CREATE DATABASE|USE\b)/i.test(text) ? text.replace(/`ecommerce`/g, `\`${name}\``) : text;
      await conn.query(rewritten);
    };
    for await (const chunk of createReadStream(join(FIXTURE_DIR, file), { encoding: 'utf8' })) {
      for (const s of splitter.push(chunk as string)) await exec(s.text);
    }
    for (const s of splitter.end()) await exec(s.text);
    return name;
  }

  async dropAll(): Promise<void> {
    const conn = await this.admin();
    for (const name of this.created) await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.end();
    this.connection = undefined;
    for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}

const tempDirs: string[] = [];
/** A fresh temporary directory, removed by `TestDatabases.dropAll`, or after the test file (files that do not call it). */
export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `mysql-dump-${label}-`));
  tempDirs.push(dir);
  removeAfterTestFile(dir);
  return dir;
}
export const readText = (path: string) => readFile(path, 'utf8');

/** What a test needs to know of the server it runs on (the harness runs MariaDB and Oracle MySQL). */
export interface ServerFacts {
  flavor: 'mariadb' | 'mysql';
  version: string;
  /** Whether the event scheduler runs (MySQL's default): ended events are then dropped or disabled by the server itself. */
  eventScheduler: boolean;
  maxAllowedPacket: number;
}

export async function serverFacts(connection: Connection): Promise<ServerFacts> {
  const [rows] = await connection.query('SELECT VERSION() AS version, @@event_scheduler AS scheduler, @@max_allowed_packet AS packet');
  const row = (rows as { version: string; scheduler: string; packet: number | string }[])[0]!;
  return { flavor: parseServerVersion(row.version).flavor, version: row.version, eventScheduler: row.scheduler === 'ON', maxAllowedPacket: Number(row.packet) };
}

/**
 * Skips the running test (with its note printed: the default reporter shows a skip without it) when the
 * server lacks what it exercises, e.g. MariaDB-only syntax on MySQL.
 */
export function skipUnless(condition: boolean, note: string, skip: (note: string) => void): void {
  if (condition) return;
  console.log(`[skipped] ${note}`);
  skip(note);
}
