/**
 * MySQL dumper benchmark (issue 4). In one run, on the server in TEST_MYSQL_URL:
 *  - dump: ours vs `mysqldump --no-data --skip-dump-date` + `mysqldump --no-create-info` of the same data
 *    tables, whole process wall time, on the ecommerce fixture and on a generated 1000-table schema (goal <= 0.35x);
 *  - load: ours vs `mysql <db> < file` of the same file (goal <= 1.1x);
 *  - peak RSS of dumping the 1000-table schema with ~100 MB in data tables (goal <= 200 MB).
 * "Ours" runs as a separate node process from an esbuild bundle of packages/mysql-dump built with the options
 * of scripts/build.mjs (what the CLI and actions ship), so both sides pay process start-up. Each timing is the
 * median of RUNS runs. The child runs without NODE_EXTRA_CA_CERTS (some sandboxes set it; Node then parses the
 * CA file at every start, which GitHub runners and developer machines do not pay); its cost is printed.
 * For information it also prints the floor of this design on the same server: a child that only connects and
 * reads what a dump reads (catalog, SHOW CREATE batches, data rows), through the same mysql2 pool, and writes
 * nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { createConnection } from 'mysql2/promise';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = resolve(import.meta.dirname, '../..');
const fixture = resolve(root, '../shared/fixtures/devstack-ecommerce/ecommerce-2023-02-21-23e16c1.sql');
const urlText = process.env.TEST_MYSQL_URL;
if (!urlText) {
  console.log('mysql-dump bench: skipped (TEST_MYSQL_URL not set)');
  process.exit(0);
}
const url = new URL(urlText);
const client = { host: url.hostname, port: url.port || '3306', user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
// Both sides connect unencrypted, as ours does without ssl-mode: MariaDB's clients turn TLS on by themselves
// when the server offers it (the harness server does), which would slow the baseline by its handshakes.
const plaintext = (tool: string) => (/MariaDB/i.test(execFileSync(tool.includes('/') ? tool : `/usr/bin/${tool}`, ['--version'], { encoding: 'utf8' })) ? '--skip-ssl' : '--ssl-mode=DISABLED');
const clientArgs = ['-h', client.host, '-P', client.port, '-u', client.user];
const clientEnv: NodeJS.ProcessEnv = { ...process.env, MYSQL_PWD: client.password };
const tool = (names: string[]) => names.find((n) => existsSync(`/usr/bin/${n}`)) ?? names[0]!;
// BENCH_MYSQLDUMP / BENCH_MYSQL_CLIENT: the server's own clients when they are not the system's, e.g. Oracle
// MySQL's from the harness (bin/oracle-mysqldump, bin/oracle-mysql of the tool cache) against TEST_ORACLE_MYSQL_URL.
const MYSQLDUMP = process.env.BENCH_MYSQLDUMP || tool(['mysqldump', 'mariadb-dump']);
const MYSQL = process.env.BENCH_MYSQL_CLIENT || tool(['mysql', 'mariadb']);
const dumpArgs = [...clientArgs, plaintext(MYSQLDUMP)];
const loadArgs = [...clientArgs, plaintext(MYSQL)];
const work = await mkdtemp(join(tmpdir(), 'bench-mysql-dump-'));
const admin = await createConnection({ ...client, port: Number(client.port), multipleStatements: true });
const DJANGO_TABLES = ['auth_permission', 'django_content_type', 'django_migrations', 'django_site'];

// --- our dumper as a child process -------------------------------------------------------------------
const internal = (file: string) => JSON.stringify(join(root, 'packages/mysql-dump/src/internal', file));
const childEntry = `
import { dumpMysql, loadMysql } from ${JSON.stringify(join(root, 'packages/mysql-dump/src/index.ts'))};
import { openSession } from ${internal('connect.ts')};
import { readCatalog } from ${internal('read-schema.ts')};
import { readDatabaseObjects } from ${internal('ddl-reader.ts')};
// The reads of a dump and nothing else: no semantic schema, no renumbering, no rendering, no files.
async function readsOnly({ url, databases: [database], dataTables }) {
  const session = await openSession({ url, database, connections: 4, multipleStatements: true });
  try {
    const catalog = await readCatalog(session.pool, database, session.engine);
    await Promise.all([
      readDatabaseObjects(session.pool, catalog),
      ...dataTables.map((table) => session.pool.query('SELECT * FROM ??', [table])),
    ]);
  } finally {
    await session.close();
  }
}
const [mode, json] = process.argv.slice(2);
const options = JSON.parse(json);
(mode === 'dump' ? dumpMysql(options) : mode === 'reads' ? readsOnly(options) : loadMysql(options)).then(() => {
  process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
});
`;
const childFile = join(work, 'mysql-dump-child.cjs');
// The options of scripts/build.mjs, which bundles the CLI and the actions.
await build({
  stdin: { contents: childEntry, resolveDir: root, loader: 'ts' },
  outfile: childFile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  mainFields: ['module', 'main'],
  banner: { js: "const __bundle_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundle_import_meta_url' },
  logLevel: 'error',
});
const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...childEnv } = clientEnv;

function run(cmd: string, args: string[], stdinFile?: string, stdoutFile?: string, env: NodeJS.ProcessEnv = clientEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    if (stdoutFile) child.stdout.pipe(createWriteStream(stdoutFile));
    else child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    if (stdinFile) createReadStream(stdinFile).pipe(child.stdin);
    else child.stdin.end();
    child.on('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 500)}`))));
  });
}

async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
/**
 * Median wall times of `a` and `b`, run alternately after one discarded warm-up each, so background work
 * on a shared server (purge, flushing, other jobs) does not land on one side only.
 */
async function medians(a: (i: number) => Promise<unknown>, b: (i: number) => Promise<unknown>): Promise<[number, number]> {
  await a(-1);
  await b(-1);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ta.push(await timed(() => a(i)));
    tb.push(await timed(() => b(i)));
  }
  const mid = (t: number[]) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]!;
  return [mid(ta), mid(tb)];
}
const ours = (mode: 'dump' | 'reads' | 'load', options: object) =>
  run(process.execPath, [childFile, mode, JSON.stringify({ url: urlText, ...options })], undefined, undefined, childEnv);
const results: { what: string; ours: string; baseline: string; ratio?: number; goal: string; met: boolean }[] = [];
const infos: string[] = [];
const CLI = join(root, 'packages/devstack-dumps/dist/devstack-dumps.mjs');

// --- databases --------------------------------------------------------------------------------------
const prefix = `bench_md_${process.pid}`;
const created: string[] = [];
async function freshDb(label: string) {
  const name = `${prefix}_${label}`;
  created.push(name);
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\`; CREATE DATABASE \`${name}\``);
  return name;
}

async function generateWideSchema(db: string, tables: number) {
  const ddl: string[] = [];
  for (let i = 0; i < tables; i++) {
    const t = `t${String(i).padStart(4, '0')}`;
    const fk = i > 0 ? `, parent_id INT NULL, CONSTRAINT ${t}_parent_fk FOREIGN KEY (parent_id) REFERENCES t${String(i - 1).padStart(4, '0')} (id)` : '';
    ddl.push(`CREATE TABLE ${t} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, created DATETIME(6) NOT NULL,
      amount DECIMAL(10,2) NOT NULL DEFAULT 0, active TINYINT(1) NOT NULL DEFAULT 1, note LONGTEXT NULL,
      KEY ${t}_name (name), UNIQUE KEY ${t}_name_created (name, created)${fk}) ENGINE=InnoDB`);
  }
  ddl.push('CREATE TABLE django_migrations (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, applied DATETIME(6) NOT NULL)');
  ddl.push('CREATE TABLE big_payload (id INT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL)');
  await admin.query(`USE \`${db}\``);
  for (let i = 0; i < ddl.length; i += 50) await admin.query(ddl.slice(i, i + 50).join(';\n'));
  const migrations = Array.from({ length: 500 }, (_, i) => `('app${i % 40}', '${String(i).padStart(4, '0')}_auto', NOW(6))`);
  await admin.query(`INSERT INTO django_migrations (app, name, applied) VALUES ${migrations.join(',')}`);
  // ~100 MB: 100 000 rows of 1 KiB, inserted 2 000 rows per statement.
  for (let start = 0; start < 100_000; start += 2000) {
    const rows = Array.from({ length: 2000 }, (_, k) => `(${start + k + 1}, REPEAT(SHA2(${start + k}, 256), 16))`);
    await admin.query(`INSERT INTO big_payload VALUES ${rows.join(',')}`);
  }
}

async function loadFixture(db: string) {
  const sed = spawn('sed', ['-e', `s/\`ecommerce\`/\`${db}\`/g`, fixture]);
  const mysql = spawn(MYSQL, loadArgs, { env: clientEnv, stdio: [sed.stdout, 'ignore', 'inherit'] });
  await new Promise((r, j) => mysql.on('exit', (c) => (c === 0 ? r(null) : j(new Error(`fixture load failed: ${c}`)))));
}

async function compareDump(label: string, db: string, dataTables: string[]) {
  const out = join(work, `dump-${label}`);
  const [oursMs, baseMs] = await medians(
    () => ours('dump', { databases: [db], dataTables, outDir: out }),
    async () => {
      await run(MYSQLDUMP, [...dumpArgs, '--no-data', '--skip-dump-date', '--routines', '--triggers', '--events', db], undefined, join(work, `${label}-schema.sql`));
      await run(MYSQLDUMP, [...dumpArgs, '--no-create-info', '--skip-dump-date', '--skip-triggers', db, ...dataTables], undefined, join(work, `${label}-data.sql`));
    },
  );
  const ratio = oursMs / baseMs;
  results.push({ what: `dump ${label}`, ours: `${oursMs.toFixed(0)} ms`, baseline: `${baseMs.toFixed(0)} ms (mysqldump schema + data tables)`, ratio, goal: '<= 0.35x', met: ratio <= 0.35 });
  const [readsMs] = await medians(() => ours('reads', { databases: [db], dataTables }), async () => undefined);
  infos.push(
    `floor of dump ${label}: a child that only connects and reads what the dump reads (same pool, no processing, no files) takes ${readsMs.toFixed(0)} ms = ${(readsMs / baseMs).toFixed(2)}x mysqldump (for information)`,
  );
  return join(out, 'mysql', `${db}.sql`);
}

/**
 * For information, not a goal: the shipped CLI bundle (packages/devstack-dumps/dist, what `devstack-dumps dump`
 * runs) on the same database against the same baseline. It does more than the dumper bundle (commander, the
 * dump-set staging directory and its checksum list; the MongoDB driver is not loaded for a MySQL-only dump),
 * so it shows what a developer's whole process costs.
 */
async function compareCliDump(label: string, db: string, dataTables: string[]) {
  if (!existsSync(CLI)) {
    infos.push(`dump ${label} with the shipped CLI: skipped (${CLI} not built; run \`pnpm build\`)`);
    return;
  }
  let n = 0;
  const [cliMs, baseMs] = await medians(
    () => run(process.execPath, [CLI, 'dump', '--mysql', urlText!, '--mysql-db', db, '--data-tables', dataTables.join(','), '--out', join(work, `cli-${n++}`)], undefined, undefined, childEnv),
    async () => {
      await run(MYSQLDUMP, [...dumpArgs, '--no-data', '--skip-dump-date', '--routines', '--triggers', '--events', db], undefined, join(work, `${label}-schema.sql`));
      await run(MYSQLDUMP, [...dumpArgs, '--no-create-info', '--skip-dump-date', '--skip-triggers', db, ...dataTables], undefined, join(work, `${label}-data.sql`));
    },
  );
  infos.push(`dump ${label} with the shipped CLI (devstack-dumps dump, whole process): ${cliMs.toFixed(0)} ms vs ${baseMs.toFixed(0)} ms = ${(cliMs / baseMs).toFixed(2)}x (for information)`);
}

async function compareLoad(label: string, file: string) {
  let n = 0;
  const [oursMs, baseMs] = await medians(
    async () => {
      const target = await freshDb(`${label}_lo${n++}`);
      await ours('load', { files: [file], databaseRename: target, replace: true });
    },
    async () => {
      const target = await freshDb(`${label}_lb${n++}`);
      await run(MYSQL, [...loadArgs, target], file);
    },
  );
  const ratio = oursMs / baseMs;
  results.push({ what: `load ${label}`, ours: `${oursMs.toFixed(0)} ms`, baseline: `${baseMs.toFixed(0)} ms (mysql <db> < file)`, ratio, goal: '<= 1.1x', met: ratio <= 1.1 });
}

try {
  const [[server]] = (await admin.query('SELECT VERSION() AS version, @@version_comment AS comment')) as unknown as [[{ version: string; comment: string }]];
  console.log(`mysql-dump bench on ${server.version} (${server.comment}) at ${url.host}, baseline clients ${MYSQLDUMP} and ${MYSQL}`);
  console.log(`${RUNS} alternating runs each after a warm-up, median; ours = node child process running an esbuild bundle of packages/mysql-dump (scripts/build.mjs options)`);
  if (extraCaCerts !== undefined) {
    const nodeStart = (env: NodeJS.ProcessEnv) => () => run(process.execPath, ['-e', ''], undefined, undefined, env);
    const [withMs, withoutMs] = await medians(nodeStart(clientEnv), nodeStart(childEnv));
    console.log(
      `NODE_EXTRA_CA_CERTS is set here (${extraCaCerts}); our child runs without it: \`node -e ''\` takes ${withMs.toFixed(0)} ms with it, ${withoutMs.toFixed(0)} ms without (GitHub runners do not set it)`,
    );
  }
  if (existsSync(fixture)) {
    const eco = await freshDb('eco');
    await loadFixture(eco);
    const file = await compareDump('ecommerce fixture (162 tables)', eco, DJANGO_TABLES);
    await compareLoad('ecommerce', file);
    await compareCliDump('ecommerce fixture', eco, DJANGO_TABLES);
  } else {
    console.log(`ecommerce fixture not found at ${fixture}: skipped`);
  }
  const wide = await freshDb('wide');
  await generateWideSchema(wide, 1000);
  const wideFile = await compareDump('1000-table schema', wide, ['django_migrations']);
  await compareLoad('1000-table schema', wideFile);
  const rss = JSON.parse(await ours('dump', { databases: [wide], dataTables: ['django_migrations', 'big_payload'], outDir: join(work, 'rss') }));
  const rssMb = rss.maxRssKb / 1024;
  results.push({ what: 'peak RSS, dump 1000 tables + 100 MB data', ours: `${rssMb.toFixed(0)} MB`, baseline: '-', goal: '<= 200 MB', met: rssMb <= 200 });
  for (const r of results) {
    console.log(`${r.what}: ours ${r.ours} vs ${r.baseline}${r.ratio === undefined ? '' : ` = ${r.ratio.toFixed(2)}x`}; goal ${r.goal}: ${r.met ? 'met' : 'NOT met'}`);
  }
  for (const info of infos) console.log(info);
} finally {
  for (const db of created) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await admin.end();
  await rm(work, { recursive: true, force: true });
}
