/**
 * End to end with a migration tool other than Django: the bundled action on a Knex service (real Knex from
 * npm, MySQL only, filesystem store). Knex decides what to run from its `knex_migrations` rows, which record
 * a batch number and a time per run: the dump must carry them (nobody lists them in `data-tables`) and fix
 * them, or an incremental run re-runs every migration and a full run never equals an incremental one.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { assertBundleCurrent, runAction, type ActionRun } from './support/run-action.js';

const run = promisify(execFile);
const knexCli = createRequire(import.meta.url).resolve('knex/bin/cli.js');

const KNEXFILE = `module.exports = { client: 'mysql2', connection: process.env.MYSQL_URL, migrations: { directory: './migrations' } };\n`;
const migration = (up: string) => `exports.up = (knex) => ${up};\nexports.down = () => Promise.resolve();\n`;

describeWithServices(['mysql'], 'refresh-dumps action on a Knex service (MySQL only)', () => {
  const database = `rd_knex_${process.pid}_${randomBytes(2).toString('hex')}`;
  let work: string;
  let repo: string;
  let store: string;
  const shas: string[] = [];

  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo }).then((result) => result.stdout.trim());
  const commit = async (files: Record<string, string>, message: string) => {
    for (const [file, text] of Object.entries(files)) {
      await mkdir(join(repo, file, '..'), { recursive: true });
      await writeFile(join(repo, file), text);
    }
    await git('add', '-A');
    await git('commit', '-q', '-m', message);
    shas.push(await git('rev-parse', 'HEAD'));
  };
  const refresh = async (sha: string, mode = 'auto'): Promise<ActionRun> => {
    await git('checkout', '-q', sha);
    return runAction({
      sha,
      workspace: repo,
      inputs: {
        service: 'orders',
        migrate: `node ${knexCli} migrate:latest --knexfile knexfile.cjs`,
        'migrations-glob': 'migrations/*.cjs',
        'mysql-url': serviceVar('TEST_MYSQL_URL'),
        'mysql-databases': database,
        store,
        mode,
      },
    });
  };

  beforeAll(async () => {
    await assertBundleCurrent();
    work = await mkdtemp(join(tmpdir(), 'rd-knex-'));
    repo = join(work, 'repo');
    store = join(work, 'store');
    // The service's own install of Knex, as `npm ci` leaves it: not committed.
    await mkdir(join(repo, 'node_modules'), { recursive: true });
    await symlink(dirname(dirname(knexCli)), join(repo, 'node_modules', 'knex'));
    await git('init', '-q', '-b', 'master');
    await commit(
      {
        '.gitignore': 'node_modules/\n',
        'knexfile.cjs': KNEXFILE,
        'migrations/20260101000000_orders.cjs': migration(`knex.schema.createTable('orders', (t) => { t.increments('id'); t.integer('total').notNullable(); })`),
        'migrations/20260102000000_customers.cjs': migration(`knex.schema.createTable('customers', (t) => { t.increments('id'); t.string('email', 100); })`),
      },
      'two migrations',
    );
    await commit({ 'migrations/20260103000000_orders_note.cjs': migration(`knex.schema.alterTable('orders', (t) => { t.string('note', 50); })`) }, 'one more');
    // Merged from a branch that began before the last one: Knex would run it last, a fresh database in its place.
    await commit({ 'migrations/20260102120000_customers_phone.cjs': migration(`knex.schema.alterTable('customers', (t) => { t.string('phone', 20); })`) }, 'merged late');
  });
  afterAll(async () => {
    const connection = await mysql.createConnection(serviceVar('TEST_MYSQL_URL'));
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.end();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('an added migration runs incrementally (only it runs), a full run of that commit publishes the same version, and one merged in before it runs in full', async () => {
    const first = await refresh(shas[0]!);
    expect(first.errors).toEqual([]);
    expect(first.outputs).toMatchObject({ mode: 'full', changed: 'true' });

    const incremental = await refresh(shas[1]!);
    expect(incremental.errors).toEqual([]);
    expect(incremental.outputs).toMatchObject({ mode: 'incremental', changed: 'true' });
    // Knex ran only the new migration: the loaded rows told it the first two had run.
    expect(incremental.stdout).toMatch(/Batch 2 run: 1 migrations/);
    // Nobody listed data tables: Knex's bookkeeping is what keeps its rows, and the log says so.
    expect(incremental.stdout).toContain(`MySQL rows dumped: ${database}.knex_migrations (3), ${database}.knex_migrations_lock (1)\n`);

    const full = await refresh(shas[1]!, 'full');
    expect(full.errors).toEqual([]);
    expect(full.outputs).toMatchObject({ mode: 'full', changed: 'false', version: incremental.outputs.version });

    // The late-merged migration sorts before one the dump has: auto runs in full, saying why.
    const merged = await refresh(shas[2]!);
    expect(merged.errors).toEqual([]);
    expect(merged.outputs).toMatchObject({ mode: 'full', changed: 'true' });
    expect(merged.stdout).toMatch(/Mode full: migrations\.20260102120000_customers_phone was added since [0-9a-f]{12} \(1 commit back\), numbered at or before migrations that dump already has/);
    await refresh(shas[1]!, 'full');

    const connection = await mysql.createConnection(serviceVar('TEST_MYSQL_URL'));
    const [rows] = await connection.query(`SELECT name, batch FROM \`${database}\`.knex_migrations ORDER BY id`);
    await connection.end();
    expect(rows).toEqual([
      { name: '20260101000000_orders.cjs', batch: 1 },
      { name: '20260102000000_customers.cjs', batch: 1 },
      { name: '20260103000000_orders_note.cjs', batch: 1 },
    ]);
  });
});
