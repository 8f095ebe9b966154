import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { createConnection, type Connection } from 'mysql2/promise';
import { dumpSet } from '../src/index.js';

/** Unique database names for one test file; `dropAll` removes them from both servers. */
export class ScratchDatabases {
  private readonly names: string[] = [];
  readonly prefix = `ds_${process.pid}_${randomBytes(3).toString('hex')}`;
  private mysql: Connection | undefined;
  private mongo: MongoClient | undefined;

  constructor(
    readonly mysqlUrl: string,
    readonly mongoUrl: string,
  ) {}

  name(label: string): string {
    const name = `${this.prefix}_${label}`;
    this.names.push(name);
    return name;
  }

  async mysqlConnection(): Promise<Connection> {
    this.mysql ??= await createConnection({ uri: this.mysqlUrl, multipleStatements: true, charset: 'UTF8MB4_GENERAL_CI' });
    return this.mysql;
  }

  async mongoClient(): Promise<MongoClient> {
    this.mongo ??= await new MongoClient(this.mongoUrl).connect();
    return this.mongo;
  }

  async mysqlTables(database: string): Promise<string[]> {
    const [rows] = await (await this.mysqlConnection()).query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [database]);
    return (rows as { t: string }[]).map((row) => row.t);
  }

  async mysqlDatabaseExists(database: string): Promise<boolean> {
    const [rows] = await (await this.mysqlConnection()).query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
    return (rows as unknown[]).length > 0;
  }

  async mongoCollections(database: string): Promise<string[]> {
    return (await (await this.mongoClient()).db(database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  }

  async dropAll(): Promise<void> {
    const mysql = await this.mysqlConnection();
    const mongo = await this.mongoClient();
    for (const name of this.names) {
      await mysql.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await mongo.db(name).dropDatabase();
    }
    await mysql.end();
    await mongo.close();
  }
}

/** A small Django-like MySQL database and a Mongo database with an index and reference documents. */
export async function seedSource(scratch: ScratchDatabases, database: string): Promise<void> {
  const mysql = await scratch.mysqlConnection();
  await mysql.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await mysql.query(
    `USE \`${database}\`;
     CREATE TABLE django_migrations (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied datetime(6) NOT NULL);
     INSERT INTO django_migrations (app, name, applied) VALUES ('catalog', '0002_price', NOW()), ('catalog', '0001_initial', NOW());
     CREATE TABLE catalog_item (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, sku varchar(40) NOT NULL, price decimal(10,2) NOT NULL DEFAULT 0, UNIQUE KEY catalog_item_sku (sku));
     INSERT INTO catalog_item (sku, price) VALUES ('secret-row', 3.50);
     CREATE TABLE auth_user (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, username varchar(150) NOT NULL, password varchar(128) NOT NULL);
     INSERT INTO auth_user (username, password) VALUES ('admin', 'pbkdf2_sha256$do-not-dump');`,
  );
  const db = (await scratch.mongoClient()).db(database);
  await db.collection('feature_flags').insertMany([{ _id: 'b' as never, on: true }, { _id: 'a' as never, on: false }]);
  await db.collection('events').createIndex({ tracking: 1, created: -1 }, { name: 'tracking_created' });
  await db.collection('events').insertOne({ tracking: 'x', created: 1 });
}

/**
 * A seeded source database on both servers (seedSource; `extend` may add to it first), dumped with its
 * `feature_flags` rows into `<work>/set`.
 */
export async function seededDumpSet(scratch: ScratchDatabases, work: string, extend?: (source: string) => Promise<void>): Promise<{ source: string; dir: string }> {
  const source = scratch.name('src');
  await seedSource(scratch, source);
  await extend?.(source);
  const { dir } = await dumpSet({ mysql: { url: scratch.mysqlUrl, databases: [source] }, mongo: { url: scratch.mongoUrl, databases: [source], dataCollections: ['feature_flags'] } }, path.join(work, 'set'));
  return { source, dir };
}

/** Every file of a dump set, keyed by path with the given database names replaced by `<db>`. */
export async function readSet(dir: string, databases: string[]): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath, entry.name);
    let key = path.relative(dir, absolute).split(path.sep).join('/');
    for (const name of databases) key = key.split(name).join('<db>');
    files.set(key, await readFile(absolute));
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** A TCP forwarder to a real server that counts the connections made through it. */

export { countingProxy, type CountingProxy } from '../../../test/support/counting-proxy.js';
