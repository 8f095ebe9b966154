import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addFeatureBranchCommit,
  buildFixtureHistory,
  checkoutFixtureCommit,
  ensureFixtureVenv,
  FixtureMigrateError,
  listMigrations,
  runFixtureMigrate,
  type FixtureHistory,
} from './fixture-history.js';
import { describeWithServices, serviceVar } from './services.js';

const git = async (dir: string, ...args: string[]) => (await promisify(execFile)('git', args, { cwd: dir })).stdout.trim();

describe('fixture history (git only)', () => {
  let history: FixtureHistory;
  beforeAll(async () => {
    history = await buildFixtureHistory();
  });
  afterAll(() => history?.remove());

  it('is a linear master whose commits change migrations as labelled', async () => {
    const labels = history.commits.map((commit) => commit.label);
    expect(labels).toEqual(['base', 'add-migration', 'code-only', 'add-second-migration', 'edit-migration']);
    const revList = (await git(history.dir, 'rev-list', '--parents', '--reverse', 'master')).split('\n');
    const expected = history.commits.map((commit, i) => [commit.sha, history.commits[i - 1]?.sha].filter(Boolean).join(' '));
    expect(revList).toEqual(expected);

    // What each commit does to migration files, read from git rather than from the labels.
    const migrationStatus = async (sha: string) =>
      (await git(history.dir, 'diff-tree', '--no-commit-id', '--name-status', '-r', `${sha}~1`, sha))
        .split('\n')
        .filter((line) => /\/migrations\/\d{4}_/.test(line));
    expect(await migrationStatus(history.commit('add-migration').sha)).toEqual(['A\tcatalog/migrations/0004_product_weight.py']);
    expect(await migrationStatus(history.commit('code-only').sha)).toEqual([]);
    const codeOnly = history.commit('code-only').sha;
    expect(await git(history.dir, 'diff-tree', '--no-commit-id', '--name-only', '-r', codeOnly)).toBe('orders/totals.py');
    expect(await migrationStatus(history.commit('add-second-migration').sha)).toEqual(['A\torders/migrations/0003_shipment.py']);
    expect(await migrationStatus(history.commit('edit-migration').sha)).toEqual(['M\tcatalog/migrations/0004_product_weight.py']);
    expect(history.commit('base').migrations).toContain('catalog.0003_seed_currencies');
    expect(await git(history.dir, 'status', '--porcelain')).toBe('');
    expect(await git(history.dir, 'ls-files', 'history', '**/__pycache__/**')).toBe('');
  });

  it('gives the same SHAs when built again', async () => {
    const again = await buildFixtureHistory();
    try {
      expect(again.commits.map((commit) => commit.sha)).toEqual(history.commits.map((commit) => commit.sha));
      expect(again.dir).not.toBe(history.dir);
    } finally {
      await again.remove();
    }
  });

  it('adds a feature branch commit with exactly one new migration on top of master', async () => {
    const feature = await addFeatureBranchCommit(history);
    expect(await git(history.dir, 'rev-parse', `${feature.sha}~1`)).toBe(history.commit('edit-migration').sha);
    expect(await git(history.dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(feature.branch);
    expect(await git(history.dir, 'rev-parse', 'master')).toBe(history.commit('edit-migration').sha);
    const master = await checkoutFixtureCommit(history, history.commit('edit-migration').sha);
    const masterMigrations = new Set(await listMigrations(master));
    const added = (await listMigrations(history.dir)).filter((name) => !masterMigrations.has(name));
    expect(added).toEqual(['accounts.0003_profile_timezone']);
    expect(feature.migrations).toEqual(added);
  });
});

describeWithServices(['mysql', 'mongo'], 'fixture app migrate on MariaDB + Mongo', () => {
  const run = `fx_${process.pid}_${randomBytes(3).toString('hex')}`;
  const databases: string[] = [];
  let history: FixtureHistory;
  let python: string;
  let admin: mysql.Connection;
  let mongo: MongoClient;
  const checkouts = new Map<string, string>();

  /** A fresh MySQL database and a Mongo database of the same name, both dropped after the suite. */
  async function freshServers(suffix: string) {
    const name = `${run}_${suffix}`;
    databases.push(name);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    const url = new URL(serviceVar('TEST_MYSQL_URL'));
    url.pathname = `/${name}`;
    return { database: name, mysqlUrl: url.toString(), mongoUrl: serviceVar('TEST_MONGO_URL'), mongoDb: name };
  }

  async function checkout(label: Parameters<FixtureHistory['commit']>[0]) {
    const sha = history.commit(label).sha;
    if (!checkouts.has(sha)) checkouts.set(sha, await checkoutFixtureCommit(history, sha));
    return checkouts.get(sha)!;
  }

  async function appliedMigrations(database: string): Promise<string[]> {
    const [rows] = await admin.query(`SELECT app, name FROM \`${database}\`.django_migrations`);
    return (rows as { app: string; name: string }[]).map((row) => `${row.app}.${row.name}`).sort();
  }

  /** Columns and indexes of every table, in a stable order: equal schemas give equal lists. */
  async function schemaOf(database: string) {
    const [columns] = await admin.query(
      `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_KEY
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, COLUMN_NAME`,
      [database],
    );
    const [indexes] = await admin.query(
      `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, COLLATION
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      [database],
    );
    const [foreignKeys] = await admin.query(
      `SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
         FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME`,
      [database],
    );
    return { columns, indexes, foreignKeys };
  }

  async function mongoIndexes(database: string, collection: string) {
    const indexes = await mongo.db(database).collection(collection).indexes();
    return Object.fromEntries(indexes.map((index) => [index.name, { key: index.key, unique: index.unique ?? false }]));
  }

  beforeAll(async () => {
    [python, history] = await Promise.all([ensureFixtureVenv(), buildFixtureHistory()]);
    admin = await mysql.createConnection(serviceVar('TEST_MYSQL_URL'));
    mongo = await MongoClient.connect(serviceVar('TEST_MONGO_URL'));
  });

  afterAll(async () => {
    for (const name of databases) {
      await admin?.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await mongo?.db(name).dropDatabase();
    }
    await admin?.end();
    await mongo?.close();
    await history?.remove();
  });

  it('migrates the base commit from scratch: contrib and app tables, data rows, Mongo indexes', async () => {
    const servers = await freshServers('base');
    const tree = await checkout('base');
    const result = await runFixtureMigrate({ ...servers, appDir: tree, python });

    const local = await listMigrations(tree);
    const applied = await appliedMigrations(servers.database);
    const contrib = ['auth.0012_alter_user_first_name_max_length', 'sites.0002_alter_domain_unique'];
    expect(applied).toEqual(expect.arrayContaining([...local, ...contrib]));
    expect(result.applied.sort()).toEqual(applied);

    const [rows] = await admin.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [servers.database]);
    const tables = (rows as { name: string }[]).map((row) => row.name);
    const expectedTables = ['accounts_profile', 'catalog_product', 'orders_orderline', 'django_content_type', 'auth_permission', 'django_site'];
    expect(tables).toEqual(expect.arrayContaining(expectedTables));
    expect(tables).not.toContain('orders_shipment');
    const [currencies] = await admin.query(`SELECT code FROM \`${servers.database}\`.catalog_currency ORDER BY code`);
    expect(currencies).toEqual([{ code: 'EUR' }, { code: 'JPY' }, { code: 'USD' }]);
    const [sites] = await admin.query(`SELECT domain FROM \`${servers.database}\`.django_site`);
    expect(sites).toEqual([{ domain: 'example.com' }]);
    const [permissions] = await admin.query(`SELECT COUNT(*) AS n FROM \`${servers.database}\`.auth_permission`);
    expect((permissions as { n: number }[])[0]?.n).toBeGreaterThan(40);
    // The cross-app foreign keys exist as real constraints.
    const { foreignKeys } = await schemaOf(servers.database);
    expect(foreignKeys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ TABLE_NAME: 'orders_orderline', REFERENCED_TABLE_NAME: 'catalog_product' }),
        expect.objectContaining({ TABLE_NAME: 'orders_order', REFERENCED_TABLE_NAME: 'accounts_profile' }),
      ]),
    );

    expect(await mongoIndexes(servers.mongoDb, 'events')).toEqual({
      _id_: { key: { _id: 1 }, unique: false },
      user_recent: { key: { user_id: 1, occurred_at: -1 }, unique: false },
      kind: { key: { kind: 1 }, unique: false },
    });
    expect((await mongoIndexes(servers.mongoDb, 'carts')).session_key_unique).toEqual({ key: { session_key: 1 }, unique: true });
    const [auditLog] = await mongo.db(servers.mongoDb).listCollections({ name: 'audit_log' }).toArray();
    expect(auditLog).toMatchObject({ options: { capped: true, size: 1024 * 1024 } });
    const flags = await mongo.db(servers.mongoDb).collection('feature_flags').find().sort({ _id: 1 }).toArray();
    expect(flags.map((flag) => flag._id)).toEqual(['new-checkout', 'order-search']);

    // The whole command is idempotent: a second run applies nothing and changes no index.
    const again = await runFixtureMigrate({ ...servers, appDir: tree, python });
    expect(again.applied).toEqual([]);
    expect(again.output).toContain('(0 changes)');
  });

  it('migrates commit 4 from scratch and, incrementally, from commit 2 to the same schema', async () => {
    const scratch = await freshServers('c4');
    await runFixtureMigrate({ ...scratch, appDir: await checkout('add-second-migration'), python });
    const applied = await appliedMigrations(scratch.database);
    expect(applied).toEqual(expect.arrayContaining(['catalog.0004_product_weight', 'orders.0003_shipment']));
    const tracking = (await mongoIndexes(scratch.mongoDb, 'events')).shipment_tracking;
    expect(tracking).toEqual({ key: { 'shipment.tracking_number': 1 }, unique: false });

    const incremental = await freshServers('c2to4');
    const atCommit2 = await runFixtureMigrate({ ...incremental, appDir: await checkout('add-migration'), python });
    expect(atCommit2.applied).toContain('catalog.0004_product_weight');
    expect(atCommit2.applied).not.toContain('orders.0003_shipment');
    expect(await mongoIndexes(incremental.mongoDb, 'events')).not.toHaveProperty('shipment_tracking');

    const toCommit4 = await runFixtureMigrate({ ...incremental, appDir: await checkout('add-second-migration'), python });
    expect(toCommit4.applied).toEqual(['orders.0003_shipment']);
    expect(toCommit4.output).toContain('events: created index shipment_tracking');
    expect(await appliedMigrations(incremental.database)).toEqual(applied);
    expect(await schemaOf(incremental.database)).toEqual(await schemaOf(scratch.database));
    // Rows Django creates itself get the same ids either way (new models sort last in INSTALLED_APPS),
    // so dumps of these tables can be byte-identical between incremental and full runs.
    for (const table of ['django_content_type', 'auth_permission', 'django_site', 'catalog_currency']) {
      const rows = async (database: string) => (await admin.query(`SELECT * FROM \`${database}\`.${table} ORDER BY 1`))[0];
      expect(await rows(incremental.database), table).toEqual(await rows(scratch.database));
    }
    for (const name of ['events', 'carts', 'audit_log', 'feature_flags']) {
      expect(await mongoIndexes(incremental.mongoDb, name), name).toEqual(await mongoIndexes(scratch.mongoDb, name));
    }
  });

  it('fails with the failing step and the variable to fix when MYSQL_URL names no database', async () => {
    const servers = await freshServers('bad');
    const noDatabase = new URL(servers.mysqlUrl);
    noDatabase.pathname = '/';
    const appDir = await checkout('base');
    const error = await runFixtureMigrate({ ...servers, mysqlUrl: noDatabase.toString(), appDir, python }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FixtureMigrateError);
    const { message } = error as FixtureMigrateError;
    expect(message).toMatch(/^manage\.py migrate --noinput failed in .*MYSQL_URL names no database/s);
    expect(message).not.toContain(noDatabase.toString());
    expect(message).not.toContain(`:${noDatabase.password}@`);
  });

  it('keeps the checkouts free of bytecode and untracked files', async () => {
    for (const tree of checkouts.values()) {
      expect(await git(tree, 'status', '--porcelain', '--ignored')).toBe('');
      expect(await readdir(join(tree, 'catalog'))).not.toContain('__pycache__');
    }
  });
});
