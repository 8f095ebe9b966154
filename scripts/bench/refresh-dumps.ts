/**
 * refresh-dumps benchmark (issue 5), on the harness MariaDB + FerretDB, in one run:
 *  1. incremental vs full refresh of a commit that adds 1 migration to 200 generated ones (plus the fixture
 *     app's own): the whole bundled action process, wall time, median of RUNS alternating runs (goal <= 0.25x);
 *  2. the share of a full refresh spent outside `migrate`: (process wall time - the action's migrate phase)
 *     / process wall time (goal <= 10%).
 * Both sides publish to a fresh copy of a filesystem store that holds only the parent commit's dump, and the
 * service databases are dropped before each run (untimed), so each run does what the first refresh of that
 * commit does in CI, on fresh service containers. BENCH_RUNS (default 3) sets the runs per side;
 * BENCH_VERBOSE=1 prints every run's phases.
 * The action runs without NODE_EXTRA_CA_CERTS (runners do not set it; Node reads the file at every start),
 * and the bench prints what that variable costs a bare `node -e ''` here. It also prints Django's floor:
 * the fixture's migrate command with nothing to apply, the least any refresh's migrate phase can take.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import { assertBundleCurrent, fixtureInputs, fixtureVenvEnv, runAction, type ActionRun } from '../../actions/refresh-dumps/test/support/run-action.js';
import { readSummaryData } from '../../actions/refresh-dumps/src/summary.js';
import { buildFixtureHistory, checkoutFixtureCommit, commitBulkMigrations, ensureFixtureVenv, fixtureMigrateCommand } from '../../test/support/fixture-history.js';
import { loadServicesEnv } from '../../test/support/services-env.js';
import { actionNode } from '../../test/support/action-node.js';

const env = { ...loadServicesEnv(), ...process.env };
const RUNS = Number(env.BENCH_RUNS ?? 3);
const BULK = 200;
const missing = ['TEST_MYSQL_URL', 'TEST_MONGO_URL'].filter((key) => !env[key]);
if (missing.length > 0) {
  console.log(`refresh-dumps bench SKIPPED: ${missing.join(', ')} not set (run \`pnpm services:up\`)`);
  process.exit(0);
}
await assertBundleCurrent();
// runAction runs the bundle on the actions' Node (runs.using: node24) when it is installed.
const actionNodeLabel = `Node ${execFileSync(actionNode(), ['--version'], { encoding: 'utf8' }).trim()}`;
const execFileAsync = promisify(execFile);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** Median wall time of `runs` sequential runs of a command. */
async function timeCommand(file: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await execFileAsync(file, args, options);
    times.push(performance.now() - started);
  }
  return median(times);
}

const caCerts = process.env.NODE_EXTRA_CA_CERTS;
if (caCerts !== undefined) {
  const withoutCa = { ...process.env };
  delete withoutCa.NODE_EXTRA_CA_CERTS;
  const withMs = await timeCommand(process.execPath, ['-e', ''], { env: process.env }, 5);
  const withoutMs = await timeCommand(process.execPath, ['-e', ''], { env: withoutCa }, 5);
  console.log(
    `NODE_EXTRA_CA_CERTS=${caCerts} is set here (GitHub runners do not set it); the action runs without it. ` +
      `It costs every node start: \`node -e ''\` takes ${withMs.toFixed(0)} ms with it, ${withoutMs.toFixed(0)} ms without (median of 5)`,
  );
  // runAction passes this process's environment on to the action.
  delete process.env.NODE_EXTRA_CA_CERTS;
}

const database = `bench_rd_${process.pid}`;
const work = await mkdtemp(join(tmpdir(), 'bench-refresh-dumps-'));
const python = await ensureFixtureVenv();
console.log(`refresh-dumps bench: fixture history with ${BULK} generated migrations (this takes a moment)`);
const history = await buildFixtureHistory({ bulkMigrations: BULK });
const parent = history.commits.at(-1)!;
const next = await commitBulkMigrations(history, BULK + 1);

try {
  const [parentTree, nextTree] = [await checkoutFixtureCommit(history, parent.sha), await checkoutFixtureCommit(history, next.sha)];
  const refresh = async (sha: string, tree: string, store: string, mode: string): Promise<ActionRun> => {
    const run = await runAction({
      sha,
      workspace: tree,
      inputs: { ...fixtureInputs({ mysqlUrl: env.TEST_MYSQL_URL!, mongoUrl: env.TEST_MONGO_URL!, database, store, service: 'bench' }), mode },
      env: fixtureVenvEnv(python),
    });
    if (run.exitCode !== 0) throw new Error(`refresh-dumps (${mode}) failed: ${run.errors.join('; ')}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
    return run;
  };

  // The parent commit's dump, published once; each measured run starts from a copy of this store.
  const seeded = join(work, 'seeded-store');
  const seed = await refresh(parent.sha, parentTree, seeded, 'full');
  console.log(`seeded the store with ${parent.label} (${BULK} generated migrations) in ${(seed.durationMs / 1000).toFixed(1)} s`);

  let copies = 0;
  const measure = async (mode: 'auto' | 'full') => {
    const store = join(work, `store-${copies++}`);
    await cp(seeded, store, { recursive: true });
    await dropDatabases();
    const run = await refresh(next.sha, nextTree, store, mode);
    const data = readSummaryData(run.summary);
    if (!data) throw new Error('the job summary has no refresh-dumps data line');
    const expected = mode === 'auto' ? 'incremental' : 'full';
    if (data.mode !== expected) throw new Error(`expected ${expected} mode, the action used ${data.mode}`);
    await rm(store, { recursive: true, force: true });
    if (process.env.BENCH_VERBOSE) console.log(`  ${mode}: wall ${run.durationMs.toFixed(0)} ms, summary at ${data.totalMs} ms, start-up ${data.startupMs} ms, ${JSON.stringify(data.phases)}`);
    return { wallMs: run.durationMs, migrateMs: data.phases.migrate ?? NaN, startupMs: data.startupMs, phases: data.phases, version: data.version };
  };

  // One warm-up each (Python bytecode, server caches), then alternate so background load hits both sides.
  await measure('auto');
  await measure('full');
  const incremental: Awaited<ReturnType<typeof measure>>[] = [];
  const full: Awaited<ReturnType<typeof measure>>[] = [];
  for (let i = 0; i < RUNS; i++) {
    incremental.push(await measure('auto'));
    full.push(await measure('full'));
  }
  if (new Set([...incremental, ...full].map((run) => run.version)).size !== 1) throw new Error('incremental and full refreshes gave different versions');

  const incrementalMs = median(incremental.map((run) => run.wallMs));
  const fullMs = median(full.map((run) => run.wallMs));
  const ratio = incrementalMs / fullMs;
  const shares = full.map((run) => (run.wallMs - run.migrateMs) / run.wallMs);
  const share = median(shares);
  const fullPhases = full[Math.floor(full.length / 2)]!.phases;
  const incrementalPhases = incremental[Math.floor(incremental.length / 2)]!.phases;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');

  console.log(`${RUNS} alternating runs each after one warm-up, median; whole bundled action process (${actionNodeLabel} dist/main.mjs, as action.yml's runs), filesystem store, databases dropped before each run`);
  console.log(`commit ${next.label}: 1 new migration on top of ${BULK} generated + the fixture app's own`);
  console.log(`  full refresh phases (ms):        ${JSON.stringify(fullPhases)}`);
  console.log(`  incremental refresh phases (ms): ${JSON.stringify(incrementalPhases)}`);
  console.log(`incremental vs full refresh: ${incrementalMs.toFixed(0)} ms vs ${fullMs.toFixed(0)} ms = ${ratio.toFixed(3)}x; goal <= 0.25x: ${verdict(ratio <= 0.25)}`);
  const incrementalOutsideMs = median(incremental.map((run) => run.wallMs - run.migrateMs));
  console.log(
    `  budget: 0.25x is ${(fullMs * 0.25).toFixed(0)} ms; the incremental run spent ${median(incremental.map((run) => run.migrateMs)).toFixed(0)} ms in migrate ` +
      `and ${incrementalOutsideMs.toFixed(0)} ms outside it (start-up, waiting for and emptying the servers, finding, pulling and loading the ancestor, dump, publish)`,
  );
  const startupMs = median(full.map((run) => run.startupMs));
  console.log(
    `full refresh outside migrate: ${(share * 100).toFixed(1)}% (${(fullMs - median(full.map((run) => run.migrateMs))).toFixed(0)} ms of ${fullMs.toFixed(0)} ms, ` +
      `of which ${startupMs.toFixed(0)} ms is node loading the bundle); goal <= 10%: ${verdict(share <= 0.1)}`,
  );

  // The last full run left the databases migrated to `next`: the same command now has nothing to apply.
  const migrateEnv = { ...process.env, ...fixtureVenvEnv(python), MYSQL_URL: `${env.TEST_MYSQL_URL!.replace(/\/+$/, '')}/${database}`, MONGO_URL: env.TEST_MONGO_URL!, MONGO_DB: database };
  const [program, ...args] = fixtureMigrateCommand.split(' ') as [string, ...string[]];
  const floorMs = await timeCommand(program, args, { cwd: nextTree, env: migrateEnv }, RUNS);
  const incrementalMigrateMs = median(incremental.map((run) => run.migrateMs));
  console.log(
    `Django's floor: \`${fixtureMigrateCommand}\` with nothing to apply takes ${floorMs.toFixed(0)} ms (median of ${RUNS}: Django start-up, ` +
      `loading the ${BULK}+ migration modules, rendering model states, checks) = ${(floorMs / fullMs).toFixed(3)}x the full refresh; ` +
      `the incremental refresh's migrate phase took ${incrementalMigrateMs.toFixed(0)} ms`,
  );
} finally {
  await history.remove();
  await rm(work, { recursive: true, force: true });
  await dropDatabases();
}

async function dropDatabases(): Promise<void> {
  const connection = await mysql.createConnection(env.TEST_MYSQL_URL!);
  await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await connection.end();
  const mongo = new MongoClient(env.TEST_MONGO_URL!);
  await mongo.db(database).dropDatabase();
  await mongo.close();
}
