/**
 * `pnpm demo`: the main job end to end on embedded defaults.
 *  1. starts the harness servers (MariaDB, FerretDB, ...) unless they already answer;
 *  2. builds the fixture Django app's git history and runs the bundled refresh-dumps action (dist/main.mjs,
 *     the way the runner runs it) on three master commits - the first (full: nothing published yet), one
 *     adding migrations (incremental) and one editing a migration (full) - publishing to the filesystem
 *     store .devstack/demo-store;
 *  3. provisions fresh databases from the result for a feature-branch commit with one extra migration
 *     (`devstack-dumps provision`), which lists that migration as pending;
 *  4. prints the last job summary and the timings.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { waitForServers } from '../packages/dump-set/src/index.js';
import { readSummaryData } from '../actions/refresh-dumps/src/summary.js';
import { assertBundleCurrent, fixtureInputs, fixtureVenvEnv, runAction } from '../actions/refresh-dumps/test/support/run-action.js';
import { addFeatureBranchCommit, buildFixtureHistory, checkoutFixtureCommit, ensureFixtureVenv, type FixtureCommitLabel } from '../test/support/fixture-history.js';
import { loadServicesEnv } from '../test/support/services-env.js';

const root = resolve(import.meta.dirname, '..');
const store = join(root, '.devstack', 'demo-store');
const SERVICE = 'shop';
const CI_DATABASE = 'demo_shop';
const DEV_DATABASE = 'demo_shop_dev';
const timings: Array<[string, number]> = [];

async function timed<T>(what: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await body();
  } finally {
    timings.push([what, performance.now() - started]);
  }
}

/** The harness servers' URLs; starts them with test/services/up when they do not answer. */
async function servers(): Promise<{ mysql: string; mongo: string }> {
  const read = () => ({ ...loadServicesEnv(), ...process.env });
  let env = read();
  const answer = async () => {
    if (!env.TEST_MYSQL_URL || !env.TEST_MONGO_URL) return false;
    try {
      await waitForServers({ mysqlUrl: env.TEST_MYSQL_URL, mongoUrl: env.TEST_MONGO_URL }, 2);
      return true;
    } catch {
      return false;
    }
  };
  if (!(await answer())) {
    console.log('== starting the harness servers (bash test/services/up)');
    const up = spawnSync('bash', [join(root, 'test/services/up')], { stdio: 'inherit' });
    if (up.status !== 0) throw new Error('test/services/up failed (see above); run `pnpm services:install` first if the servers are not installed');
    env = read();
    if (!(await answer())) throw new Error('the harness servers do not answer after test/services/up');
  }
  return { mysql: env.TEST_MYSQL_URL!, mongo: env.TEST_MONGO_URL! };
}

/** The job summary as plain text for a terminal (it is HTML for GitHub). */
function summaryText(html: string): string {
  return html
    .replace(/<!--.*?-->/gs, '')
    .replace(/<h[23]>(.*?)<\/h[23]>/g, '\n## $1\n')
    .replace(/<\/t[hd]>/g, ' | ')
    .replace(/<tr>/g, '| ')
    .replace(/<\/tr>/g, '\n')
    .replace(/<br>/g, '\n    ')
    .replace(/<\/(p|pre)>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The shipped CLI bundle (packages/devstack-dumps/dist, built with the action above), as a developer runs it. */
function devstackDumps(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, 'packages/devstack-dumps/dist/devstack-dumps.mjs'), ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const started = performance.now();
const urls = await timed('servers ready', servers);
try {
  await assertBundleCurrent();
} catch (error) {
  console.log(`== ${(error as Error).message.replace(/; run .*$/, '')}: building`);
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('pnpm build failed');
  await assertBundleCurrent();
}
const python = await timed('fixture venv', ensureFixtureVenv);
const history = await timed('fixture git history', () => buildFixtureHistory());
await rm(store, { recursive: true, force: true });
let lastSummary = '';
try {
  const labels: FixtureCommitLabel[] = ['base', 'add-second-migration', 'edit-migration'];
  console.log(`== refresh-dumps on ${labels.length} of the ${history.commits.length} fixture commits (full, incremental, full after an edited migration); store ${store}`);
  for (const label of labels) {
    const commit = history.commit(label);
    const tree = await checkoutFixtureCommit(history, commit.sha);
    const run = await timed(`refresh-dumps @ ${label}`, () =>
      runAction({
        sha: commit.sha,
        workspace: tree,
        inputs: fixtureInputs({ mysqlUrl: urls.mysql, mongoUrl: urls.mongo, database: CI_DATABASE, store, service: SERVICE }),
        env: fixtureVenvEnv(python),
      }),
    );
    if (run.exitCode !== 0) throw new Error(`refresh-dumps failed on ${label}: ${run.errors.join('; ')}\n${run.stdout.slice(-2000)}`);
    const data = readSummaryData(run.summary);
    console.log(
      `   ${label.padEnd(22)} ${commit.sha.slice(0, 12)}  mode ${run.outputs.mode?.padEnd(11)} changed ${run.outputs.changed?.padEnd(5)} version ${run.outputs.version?.slice(0, 12)}  ${(run.durationMs / 1000).toFixed(1)} s (migrate ${((data?.phases.migrate ?? 0) / 1000).toFixed(1)} s)`,
    );
    lastSummary = run.summary;
  }
  console.log('\n== job summary of the last run\n');
  console.log(summaryText(lastSummary));

  const feature = await addFeatureBranchCommit(history);
  console.log(`\n== devstack-dumps provision on ${feature.branch} (${feature.sha.slice(0, 12)}, adds ${feature.migrations.join(', ')})`);
  const provisioned = await timed('devstack-dumps provision', () =>
    devstackDumps([
      'provision',
      '--service', SERVICE,
      '--store', store,
      '--repo', history.dir,
      '--mysql', urls.mysql,
      '--mysql-db', DEV_DATABASE,
      '--mongo', urls.mongo,
      '--mongo-db', DEV_DATABASE,
      '--replace',
      '--cache', join(root, '.devstack', 'demo-cache'),
    ]),
  );
  process.stdout.write(provisioned.stdout.replace(/^/gm, '   '));
  if (provisioned.code !== 0) throw new Error(`devstack-dumps provision failed: ${provisioned.stderr}`);

  console.log('\n== timings');
  for (const [what, ms] of timings) console.log(`   ${what.padEnd(38)} ${(ms / 1000).toFixed(2)} s`);
  console.log(`   ${'total'.padEnd(38)} ${((performance.now() - started) / 1000).toFixed(2)} s`);
  console.log(`\nThe published dumps stay in ${store}; the provisioned databases are ${DEV_DATABASE} (MySQL and Mongo).`);
} finally {
  await history.remove();
  if (existsSync(join(root, '.devstack', 'demo-cache'))) await rm(join(root, '.devstack', 'demo-cache'), { recursive: true, force: true });
}
