/**
 * End to end: the bundled action (dist/main.mjs), run the way the runner runs it, against MariaDB +
 * FerretDB + MinIO on the fixture app's git history (base, add-migration, code-only,
 * add-second-migration, edit-migration).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { list, openStore, readBranchRef, readCommitEntry, type Store } from '@org/dump-versioning';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildFixtureHistory, checkoutFixtureCommit, ensureFixtureVenv, type FixtureCommitLabel, type FixtureHistory } from '../../../test/support/fixture-history.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { assertBundleCurrent, fixtureInputs, fixtureVenvEnv, runAction, type ActionRun } from './support/run-action.js';

const execFileAsync = promisify(execFile);

const SERVICE = 'shop';

describeWithServices(['mysql', 'mongo', 's3'], 'refresh-dumps action (bundled) on the fixture history', () => {
  const database = `rd_itg_${process.pid}_${randomBytes(2).toString('hex')}`;
  const bucket = `rd-itg-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const storeUrl = `s3://${bucket}/dumps`;
  /** The MySQL password of the bad-input runs: distinctive, so finding it in a log means it leaked. */
  const badPassword = `bad-pw-${randomBytes(8).toString('hex')}`;
  let history: FixtureHistory;
  let python: string;
  let s3: S3Client;
  let store: Store;
  let scratch: string;
  const checkouts = new Map<string, string>();

  const s3Client = () =>
    new S3Client({
      endpoint: serviceVar('TEST_S3_ENDPOINT'),
      region: process.env.TEST_S3_REGION ?? 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: serviceVar('TEST_S3_ACCESS_KEY_ID'), secretAccessKey: serviceVar('TEST_S3_SECRET_ACCESS_KEY') },
    });

  /** Every object under a prefix of a bucket (real MinIO listing), with what a PUT changes even for the same bytes. */
  async function objectsUnder(prefix: string, inBucket = bucket): Promise<Array<{ key: string; lastModified: string; etag: string }>> {
    const objects: Array<{ key: string; lastModified: string; etag: string }> = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: inBucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) objects.push({ key: object.Key!, lastModified: object.LastModified!.toISOString(), etag: object.ETag! });
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Every key under a prefix of the bucket. */
  const keysUnder = async (prefix: string): Promise<string[]> => (await objectsUnder(prefix)).map((object) => object.key);

  /** Every regular file under a directory (relative path, size, mtime); none when it is absent or not a directory. */
  async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
      throw error;
    });
    const files: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = join(entry.parentPath, entry.name);
      const info = await stat(file);
      files.push(`${relative(dir, file)} ${info.size} ${info.mtimeMs}`);
    }
    return files.sort();
  }

  /**
   * What a run given `location` as its `store` input could have published there: the keys under an S3
   * prefix (none when the bucket does not exist) or the files under a directory.
   */
  async function storeContents(location: string): Promise<string[]> {
    const s3Location = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
    if (!s3Location) return filesUnder(location);
    const [, inBucket, prefix] = s3Location;
    try {
      return (await objectsUnder(`${prefix!.replace(/\/$/, '')}/`, inBucket)).map((object) => object.key);
    } catch (error) {
      if ((error as Error).name === 'NoSuchBucket') return [];
      throw error;
    }
  }

  async function checkout(label: FixtureCommitLabel): Promise<{ sha: string; tree: string }> {
    const { sha } = history.commit(label);
    if (!checkouts.has(sha)) checkouts.set(sha, await checkoutFixtureCommit(history, sha));
    return { sha, tree: checkouts.get(sha)! };
  }

  const baseInputs = () => ({
    ...fixtureInputs({ mysqlUrl: serviceVar('TEST_MYSQL_URL'), mongoUrl: serviceVar('TEST_MONGO_URL'), database, store: storeUrl, service: SERVICE }),
    's3-endpoint': serviceVar('TEST_S3_ENDPOINT'),
    'wait-timeout': '10',
  });

  /** Every run the test made, successful or not, for the masking check at the end. */
  const allRuns: Array<{ what: string; run: ActionRun }> = [];

  async function refresh(label: FixtureCommitLabel, inputs: Record<string, string> = {}, trigger: { ref?: string; eventName?: string } = {}): Promise<ActionRun & { sha: string }> {
    const { sha, tree } = await checkout(label);
    const run = await runAction({
      sha,
      workspace: tree,
      inputs: { ...baseInputs(), ...inputs },
      ...trigger,
      env: {
        ...fixtureVenvEnv(python),
        AWS_ACCESS_KEY_ID: serviceVar('TEST_S3_ACCESS_KEY_ID'),
        AWS_SECRET_ACCESS_KEY: serviceVar('TEST_S3_SECRET_ACCESS_KEY'),
        AWS_REGION: process.env.TEST_S3_REGION ?? 'us-east-1',
      },
    });
    allRuns.push({ what: `run ${allRuns.length + 1} (${label}, inputs ${Object.keys(inputs).join(', ') || 'default'})`, run });
    return { ...run, sha };
  }

  const succeeded = (run: ActionRun) => {
    expect(run.errors, `${run.stdout}\n${run.stderr}`).toEqual([]);
    expect(run.exitCode).toBe(0);
  };

  beforeAll(async () => {
    await assertBundleCurrent();
    python = await ensureFixtureVenv();
    history = await buildFixtureHistory();
    s3 = s3Client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    store = openStore(storeUrl, { s3Client: s3Client() });
    scratch = await mkdtemp(join(tmpdir(), 'rd-itg-'));
  });

  afterAll(async () => {
    await store?.close();
    if (s3) {
      const keys = await keysUnder('');
      for (let i = 0; i < keys.length; i += 1000) {
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
      }
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      s3.destroy();
    }
    await history?.remove();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    const databases = [database, `${database}_a`, `${database}_b`];
    const connection = await mysql.createConnection(serviceVar('TEST_MYSQL_URL'));
    for (const name of databases) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.end();
    const mongo = new MongoClient(serviceVar('TEST_MONGO_URL'));
    for (const name of databases) await mongo.db(name).dropDatabase();
    await mongo.close();
  });

  const results = new Map<FixtureCommitLabel, ActionRun & { sha: string }>();
  const blobPrefix = `dumps/${SERVICE}/blobs/`;

  test('publishes one version per schema change; additions run incrementally, the edited migration in full', async () => {
    const expectations: Array<[FixtureCommitLabel, 'full' | 'incremental', boolean, RegExp]> = [
      ['base', 'full', true, /no dump is published for this commit or its first-parent ancestors/],
      ['add-migration', 'incremental', true, /1 migration added since [0-9a-f]{12} \(1 commit back\): catalog\.0004_product_weight/],
      ['code-only', 'incremental', false, /no migration changed since/],
      ['add-second-migration', 'incremental', true, /1 migration added since .*orders\.0003_shipment/],
      ['edit-migration', 'full', true, /migrations changed since .*: edited catalog\.0004_product_weight/],
    ];
    for (const [label, mode, changed, reason] of expectations) {
      const blobsBefore = await keysUnder(blobPrefix);
      const run = await refresh(label);
      succeeded(run);
      results.set(label, run);
      expect(run.outputs, label).toMatchObject({ mode, changed: String(changed), commit: run.sha });
      expect(run.outputs.version).toMatch(/^[0-9a-f]{64}$/);
      expect(run.outputs.manifest).toBe(`${storeUrl}/${SERVICE}/versions/${run.outputs.version}.json`);
      expect(run.summary).toMatch(reason);
      expect(run.stdout).toContain(`Mode ${mode}: `);
      // The log is in collapsible sections, in phase order (an incremental run loads the ancestor first).
      const groups = [...run.stdout.matchAll(/^::group::(.*)$/gm)].map((match) => match[1]!.replace(/ [0-9a-f]{12} /, ' <commit> '));
      expect(groups, label).toEqual([
        'Wait for the servers and empty the databases; choose full or incremental',
        ...(mode === 'incremental' ? ['Load the dump of <commit> into the empty databases'] : []),
        `Migrate (${mode})`,
        'Dump',
        'Publish',
      ]);
      const uploaded = (await keysUnder(blobPrefix)).filter((key) => !blobsBefore.includes(key));
      if (!changed) {
        // Same version as the ref's: no blob written, said in the summary.
        expect(uploaded).toEqual([]);
        expect(run.summary).toContain('No file uploaded');
      } else expect(uploaded.length).toBeGreaterThan(0);
    }
    // code-only changes no migration, so it shares add-migration's version: 4 versions for 5 commits.
    const version = (label: FixtureCommitLabel) => results.get(label)!.outputs.version;
    expect(version('code-only')).toBe(version('add-migration'));
    expect(new Set(history.commits.map((commit) => version(commit.label))).size).toBe(4);
    const published = await list({ store, service: SERVICE });
    expect(published.versions).toHaveLength(4);
    // The commit index records every commit, including the one that changed nothing.
    expect(published.commits.map((commit) => commit.commit).sort()).toEqual(history.commits.map((commit) => commit.sha).sort());
    expect((await readCommitEntry(store, SERVICE, history.commit('code-only').sha))?.version).toBe(version('add-migration'));
    // The fingerprint's scope (working-directory and migrations-glob) is recorded for developers' `status`.
    expect((await readCommitEntry(store, SERVICE, history.commit('code-only').sha))?.migrations?.scope).toEqual({ directory: '.', globs: ['**/migrations/[0-9]*.py'] });
    expect(await readBranchRef(store, SERVICE, 'master')).toMatchObject({ commit: history.commit('edit-migration').sha, version: version('edit-migration') });
    // The schema diff of the additions-only commit names the new column.
    expect(results.get('add-migration')!.summary).toMatch(/catalog_product[\s\S]*weight/);
    // add-second-migration also indexes the events collection by tracking number (activity/mongo_schema.py):
    // the summary's MongoDB section names that index and its collection, and nothing else changed in Mongo.
    const mongoSection = /<p><strong>MongoDB<\/strong><\/p>\s*<pre><code>([^<]*)<\/code><\/pre>/.exec(results.get('add-second-migration')!.summary);
    expect(mongoSection?.[1]?.trim()).toBe(`+ index shipment_tracking on ${database}.events`);
  });

  test('a re-run on the same commit changes nothing and uploads no blob', async () => {
    const before = await keysUnder('dumps/');
    // Blob keys are content-addressed, so a re-upload keeps the key (and the ETag): only LastModified,
    // which MinIO sets on every PUT, shows it. A second's pause makes a re-upload land on a later second.
    const blobsBefore = await objectsUnder(blobPrefix);
    const manifestsBefore = await objectsUnder(`dumps/${SERVICE}/versions/`);
    expect(blobsBefore.length).toBeGreaterThan(0);
    await sleep(1100);
    // keep: retention runs, and keeps what it must (every version here is younger than its 7-day window).
    // Two migrate lines, run in order: the app's migrate (which ensures the Mongo indexes first), then
    // ensure_indexes on its own; both find the loaded ancestor's Mongo schema up to date.
    const run = await refresh('edit-migration', { keep: '1', migrate: 'python manage.py migrate --noinput\npython manage.py ensure_indexes' });
    succeeded(run);
    expect(run.stdout.match(new RegExp(`^ensure_indexes: ${database} up to date \\(0 changes\\)$`, 'gm'))).toHaveLength(2);
    expect(run.outputs).toMatchObject({ changed: 'false', mode: 'incremental', version: results.get('edit-migration')!.outputs.version });
    expect(run.summary).toMatch(/no migration changed since [0-9a-f]{12} \(this commit, published before\)/);
    expect(run.summary).toContain('already at');
    const after = await keysUnder('dumps/');
    expect(after.filter((key) => key.startsWith(blobPrefix))).toEqual(before.filter((key) => key.startsWith(blobPrefix)));
    expect(after).toEqual(before);
    expect(await objectsUnder(blobPrefix)).toEqual(blobsBefore);
    // Nor was any version manifest written again.
    expect(await objectsUnder(`dumps/${SERVICE}/versions/`)).toEqual(manifestsBefore);
    expect(run.summary).toContain('Retention removed 0 version(s), 0 commit entries and 0 blob(s)');
  });

  test('a dry run migrates and dumps but publishes nothing', async () => {
    const prefix = 'dry-run';
    const run = await refresh('add-migration', { store: `s3://${bucket}/${prefix}`, 'dry-run': 'true' });
    succeeded(run);
    // No ancestor in the empty prefix: a full run, giving the version the real publish gave.
    expect(run.outputs).toMatchObject({ mode: 'full', changed: 'true', version: results.get('add-migration')!.outputs.version, manifest: '' });
    expect(run.summary).toContain('dry run: nothing was published');
    expect(await keysUnder(`${prefix}/`)).toEqual([]);
  });

  test('incremental and auto-full runs give byte-identical dumps to a from-scratch full run', async () => {
    const fullStore = join(scratch, 'full-store');
    for (const label of ['add-migration', 'add-second-migration', 'edit-migration'] as const) {
      const run = await refresh(label, { mode: 'full', store: fullStore, 's3-endpoint': '' });
      succeeded(run);
      expect(run.outputs.mode).toBe('full');
      // The version is the sha256 over every file's path, sha256 and size: equal versions, equal bytes.
      expect(run.outputs.version, label).toBe(results.get(label)!.outputs.version);
    }
  });

  test('a run on an older commit finishing after the newest leaves the ref alone and says so', async () => {
    const newest = history.commit('edit-migration').sha;
    const run = await refresh('add-migration');
    succeeded(run);
    expect(run.warnings.join('\n')).toMatch(new RegExp(`ref master of ${SERVICE} left at ${newest}: it already names a newer commit`));
    expect(run.summary).toContain(`<strong>left alone</strong> at <code>${newest.slice(0, 12)}</code>: it already names a newer commit`);
    expect(await readBranchRef(store, SERVICE, 'master')).toMatchObject({ commit: newest, version: results.get('edit-migration')!.outputs.version });
    // Compared with what this commit descends from (its own earlier dump), not with the newer ref: no reversed diff.
    expect(run.outputs.changed).toBe('false');
    expect(run.summary).toContain(`Same schema as version <code>${results.get('add-migration')!.outputs.version!.slice(0, 12)}</code>`);
  });

  test("a dispatch on another branch does not touch the default branch's dumps", async () => {
    const before = await keysUnder(`dumps/${SERVICE}/`);
    const run = await refresh('add-second-migration', {}, { ref: 'refs/heads/feature/tz', eventName: 'workflow_dispatch' });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(/^this run is for refs\/heads\/feature\/tz \(GITHUB_REF\), but it would advance the dumps of the default branch master; run it on master/)]);
    expect(await keysUnder(`dumps/${SERVICE}/`)).toEqual(before);
  });

  test('a run whose databases differ from its ancestor dump falls back to full mode and says why', async () => {
    const prefix = 'databases-changed';
    const inputs = { store: `s3://${bucket}/${prefix}` };
    succeeded(await refresh('add-migration', inputs));
    const run = await refresh('add-second-migration', { ...inputs, 'mysql-databases': `${database}_a` });
    succeeded(run);
    expect(run.outputs.mode).toBe('full');
    expect(run.stdout).toContain(`Mode full: the databases changed since the dump of ${history.commit('add-migration').sha.slice(0, 12)} (MySQL databases ${database} -> ${database}_a)`);
  });

  test('two runs racing on different commits end with the ref at the newer commit', async () => {
    const prefix = 'race';
    const raceStore = `s3://${bucket}/${prefix}`;
    // Separate databases so the two migrations do not share tables (the dumps differ by database name).
    const [older, newer] = await Promise.all([
      refresh('add-migration', { store: raceStore, 'mysql-databases': `${database}_a`, 'mongo-databases': `${database}_a` }),
      refresh('add-second-migration', { store: raceStore, 'mysql-databases': `${database}_b`, 'mongo-databases': `${database}_b` }),
    ]);
    succeeded(older);
    succeeded(newer);
    const raced = openStore(raceStore, { s3Client: s3Client() });
    try {
      expect(await readBranchRef(raced, SERVICE, 'master')).toMatchObject({ commit: newer.sha, version: newer.outputs.version });
      // Both commits are in the commit index whatever the order they finished in.
      expect((await list({ store: raced, service: SERVICE })).commits.map((commit) => commit.commit).sort()).toEqual([older.sha, newer.sha].sort());
    } finally {
      await raced.close();
    }
    // Whichever finished last said what it did with the ref.
    if (older.warnings.length > 0) expect(older.warnings.join('\n')).toMatch(/left at .*: it already names a newer commit/);
  });

  test('after a force push, the run of that push moves the ref to the rewritten history (also back, when it rewinds); an ordinary run leaves it', async () => {
    const prefix = 'force-push';
    const inputs = { store: `s3://${bucket}/${prefix}` };
    succeeded(await refresh('edit-migration', inputs));
    const oldTip = history.commit('edit-migration').sha;
    // master rewritten: edit-migration's tree re-committed on top of add-second-migration (what
    // `git commit --amend` + `git push --force` leaves), so neither tip descends from the other.
    const git = (...args: string[]) => execFileAsync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: history.dir });
    const rewritten = (await git('commit-tree', `${oldTip}^{tree}`, '-p', history.commit('add-second-migration').sha, '-m', 'edit-migration, amended')).stdout.trim();
    const tree = await checkoutFixtureCommit(history, rewritten);
    const runAt = (sha: string, workspace: string, event: object) =>
      runAction({
        sha,
        workspace,
        inputs: { ...baseInputs(), ...inputs },
        event: { ref: 'refs/heads/master', after: sha, repository: { full_name: 'org/fixture-app', default_branch: 'master' }, ...event },
        env: { ...fixtureVenvEnv(python), AWS_ACCESS_KEY_ID: serviceVar('TEST_S3_ACCESS_KEY_ID'), AWS_SECRET_ACCESS_KEY: serviceVar('TEST_S3_SECRET_ACCESS_KEY'), AWS_REGION: process.env.TEST_S3_REGION ?? 'us-east-1' },
      });
    const run = (event: object) => runAt(rewritten, tree, event);
    const forcedStore = openStore(inputs.store, { s3Client: s3Client() });
    try {
      const ordinary = await run({ forced: false });
      allRuns.push({ what: 'force-push test, ordinary run', run: ordinary });
      succeeded(ordinary);
      expect(ordinary.warnings.join('\n')).toMatch(new RegExp(`ref master of ${SERVICE} left at ${oldTip}: ${rewritten} does not descend from it .*after a force push, the run of that push moves the ref`));
      expect(await readBranchRef(forcedStore, SERVICE, 'master')).toMatchObject({ commit: oldTip });
      // The push landed before the ref's last move (a concurrency group ran the previous push's run first):
      // the push time alone would leave the ref; the head the push replaced (`before`) tells it apart.
      const pushedAt = Math.floor(Date.now() / 1000) - 60;
      const forced = await run({ forced: true, before: oldTip, repository: { full_name: 'org/fixture-app', default_branch: 'master', pushed_at: pushedAt } });
      allRuns.push({ what: 'force-push test, forced run', run: forced });
      succeeded(forced);
      expect(forced.warnings.join('\n')).toContain(`ref master of ${SERVICE} moved from ${oldTip} to ${rewritten}: a force push made ${rewritten} the head and replaced the history of ${oldTip}`);
      expect(forced.summary).toContain(`<strong>moved</strong> to <code>${rewritten.slice(0, 12)}</code> (was <code>${oldTip.slice(0, 12)}</code>) after the branch's history was rewritten`);
      expect(await readBranchRef(forcedStore, SERVICE, 'master')).toMatchObject({ commit: rewritten });
      // A force push that rewinds master to an older commit moves the ref back to it.
      const { sha: olderSha, tree: olderTree } = await checkout('add-second-migration');
      const rewound = await runAt(olderSha, olderTree, {
        forced: true,
        before: rewritten,
        repository: { full_name: 'org/fixture-app', default_branch: 'master', pushed_at: Math.ceil(Date.now() / 1000) },
      });
      allRuns.push({ what: 'force-push test, rewinding run', run: rewound });
      succeeded(rewound);
      expect(rewound.warnings.join('\n')).toContain(`moved from ${rewritten} to ${olderSha}`);
      expect(await readBranchRef(forcedStore, SERVICE, 'master')).toMatchObject({ commit: olderSha });
    } finally {
      await forcedStore.close();
    }
  });

  test("a checkout under actions/checkout's `path:` (working-directory points into it) publishes as one at the workspace root does", async () => {
    const { sha } = history.commit('base');
    const workspace = join(scratch, 'workspace-with-path');
    await mkdir(workspace);
    await checkoutFixtureCommit(history, sha, join(workspace, 'app'));
    const store = join(scratch, 'checkout-path-store');
    const run = await runAction({ sha, workspace, inputs: { ...baseInputs(), store, 'working-directory': 'app' }, env: fixtureVenvEnv(python) });
    allRuns.push({ what: 'checkout under a path', run });
    succeeded(run);
    const published = openStore(store);
    try {
      expect(await readBranchRef(published, SERVICE, 'master')).toMatchObject({ commit: sha, version: run.outputs.version });
      // Recorded relative to the checkout, as a developer's clone holds it.
      expect((await readCommitEntry(published, SERVICE, sha))?.migrations?.scope?.directory).toBe('.');
    } finally {
      await published.close();
    }
    // A working-directory in no checkout (actions/checkout missing, or its `path:` not followed) is named.
    await mkdir(join(workspace, 'elsewhere'));
    const lost = await runAction({ sha, workspace, inputs: { ...baseInputs(), store, 'working-directory': 'elsewhere' }, env: fixtureVenvEnv(python) });
    allRuns.push({ what: 'working-directory outside a checkout', run: lost });
    expect(lost.exitCode).toBe(1);
    expect(lost.errors).toEqual([expect.stringMatching(/^Input `working-directory`: .*elsewhere is not in a git checkout; run actions\/checkout before this action/)]);
  });

  describe('bad inputs fail with one clear message and publish nothing', () => {
    let blocker: string;
    beforeAll(async () => {
      blocker = join(scratch, 'a-file');
      await writeFile(blocker, 'not a directory');
    });

    test.each<[string, (prefix: string) => Record<string, string>, RegExp]>([
      ['missing service', () => ({ service: '' }), /^Input `service`: is required/],
      [
        'unreachable MySQL server',
        () => ({ 'mysql-url': `mysql://root:${badPassword}@127.0.0.1:9`, 'wait-timeout': '1' }),
        /^Waiting for the database servers failed \(check input `mysql-url`\): .*127\.0\.0\.1:9/,
      ],
      [
        'unreachable MongoDB server',
        () => ({ 'mongo-url': 'mongodb://127.0.0.1:9', 'wait-timeout': '1' }),
        /^Waiting for the database servers failed \(check input `mongo-url`\): .*127\.0\.0\.1:9/,
      ],
      [
        'neither server reachable',
        () => ({ 'mysql-url': `mysql://root:${badPassword}@127.0.0.1:9`, 'mongo-url': 'mongodb://127.0.0.1:9', 'wait-timeout': '1' }),
        /^Waiting for the database servers failed \(check inputs `mysql-url` and `mongo-url`\): neither server could be used\. MySQL: .*127\.0\.0\.1:9.*\. MongoDB: .*127\.0\.0\.1:9.*`wait-timeout`/,
      ],
      [
        'a failing migrate command',
        () => ({ migrate: 'python manage.py migrate --noinput\npython manage.py no_such_command' }),
        /^migrate command 2 of 2 \(`python manage.py no_such_command`\) failed \(check input `migrate`\): exited with code 1; its last output:[\s\S]*no_such_command/,
      ],
      [
        'shell syntax in migrate',
        () => ({ migrate: 'python manage.py migrate --noinput && python manage.py ensure_indexes' }),
        /^Input `migrate`: line 1 .* uses `&&`; no shell runs these commands/,
      ],
      // A directory store that cannot even be read: it fails finding the ancestor, before migrate.
      ['a store path under a regular file', () => ({ store: join(blocker, 'store'), 's3-endpoint': '' }), /^Reading the store failed \(check input `store`\): .*a-file\/store/],
      ['a bucket that does not exist', (prefix) => ({ store: `s3://${bucket}-missing/${prefix}` }), /failed \(check input `store` \/ `s3-endpoint`\): .*(NoSuchBucket|does not exist)/],
    ])('%s', async (name, inputs, message) => {
      const prefix = `bad-${name.replace(/\W+/g, '-')}`;
      const given = { store: `s3://${bucket}/${prefix}`, ...inputs(prefix) };
      const run = await refresh('add-second-migration', given);
      expect(run.exitCode).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toMatch(message);
      expect(run.outputs).toEqual({});
      // Nothing in the store the run was given.
      expect(await storeContents(given.store)).toEqual([]);
    });

    test('the migrate command gets the service variables but not the action-only tokens nor the inputs', async () => {
      // It prints the names it sees and fails, so the step's error shows its output.
      const probe = 'python -c "import os,sys; sys.exit(str(sorted(k for k in os.environ if k.startswith((\\"INPUT_\\", \\"ACTIONS_\\", \\"MYSQL_URL\\", \\"MONGO_URL\\")))))"';
      const saved = { ...process.env };
      Object.assign(process.env, { ACTIONS_RUNTIME_TOKEN: 'runtime-token', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token', ACTIONS_STEP_DEBUG: 'false' });
      try {
        const run = await refresh('add-second-migration', { migrate: probe, 'dry-run': 'true' });
        expect(run.exitCode).toBe(1);
        // What the program printed, after the command line the message repeats.
        const seen = run.errors[0]!.split('its last output:')[1] ?? '';
        expect(seen).toMatch(/\[.*\]/);
        for (const name of ["'ACTIONS_STEP_DEBUG'", "'MONGO_URL'", "'MYSQL_URL'"]) expect(seen).toContain(name);
        for (const name of ['INPUT_', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN']) expect(seen).not.toContain(name);
      } finally {
        for (const name of ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_STEP_DEBUG']) if (saved[name] === undefined) delete process.env[name];
      }
    });

    test('a store that can be read but not written gets through migrate and the dump, then fails publishing and publishes nothing', async () => {
      const root = join(scratch, 'read-only-store');
      const fsInputs = { store: root, 's3-endpoint': '' };
      const seeded = await refresh('add-migration', fsInputs);
      succeeded(seeded);
      // Every write to a filesystem store goes through a temp file in <store>/.tmp, which no read touches:
      // a regular file in its place leaves the store readable but makes the publish's first write fail.
      await rm(join(root, '.tmp'), { recursive: true, force: true });
      await writeFile(join(root, '.tmp'), 'not a directory');
      const [seededSha, sha] = [history.commit('add-migration').sha, history.commit('add-second-migration').sha];
      const fsStore = openStore(root);
      try {
        const snapshot = async () => ({
          ref: await readBranchRef(fsStore, SERVICE, 'master'),
          seededEntry: await readCommitEntry(fsStore, SERVICE, seededSha),
          entry: await readCommitEntry(fsStore, SERVICE, sha),
          files: await filesUnder(root),
        });
        const before = await snapshot();
        expect(before.ref).toMatchObject({ commit: seededSha, version: seeded.outputs.version });
        expect(before.seededEntry?.version).toBe(seeded.outputs.version);
        expect(before.entry).toBeUndefined();
        expect(before.files.some((file) => file.startsWith(`${SERVICE}/blobs/`))).toBe(true);

        const run = await refresh('add-second-migration', fsInputs);
        expect(run.exitCode).toBe(1);
        expect(run.errors, run.stdout).toHaveLength(1);
        expect(run.errors[0]).toMatch(/^Publishing to \S*read-only-store failed \(check input `store`\): cannot write \S*\.tmp in the filesystem store /);
        // It read the store (the ancestor it loads), migrated and dumped before failing.
        expect(run.stdout).toContain(`Mode incremental: 1 migration added since ${seededSha.slice(0, 12)}`);
        expect(run.stdout).toMatch(/^::group::Migrate \(incremental\)$/m);
        expect(run.stdout).toMatch(/^::group::Dump$/m);
        expect(run.stdout).toMatch(/^::group::Publish$/m);
        expect(run.outputs).toEqual({});
        // The ref, both commit entries and every file (no new blob or manifest) are as before.
        expect(await snapshot()).toEqual(before);
      } finally {
        await fsStore.close();
      }
    });

    test('retention failing after the publish keeps the outputs and the summary, then fails the step naming `keep`', async () => {
      const root = join(scratch, 'no-retention-store');
      // A first publish reuses nothing, so takes no lease; retention's prune must take one, under
      // <service>/locks/, which a regular file in its place makes impossible.
      await mkdir(join(root, SERVICE), { recursive: true });
      await writeFile(join(root, SERVICE, 'locks'), 'not a directory');
      const run = await refresh('base', { store: root, 's3-endpoint': '', keep: '1' });
      expect(run.exitCode).toBe(1);
      expect(run.errors, run.stdout).toHaveLength(1);
      expect(run.errors[0]).toMatch(/^Applying retention failed \(check input `keep`\): /);
      expect(run.outputs).toMatchObject({ changed: 'true', mode: 'full', commit: run.sha, version: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(run.summary).toContain('<strong>Retention failed</strong> (the version above is published)');
      const fsStore = openStore(root);
      try {
        expect(await readBranchRef(fsStore, SERVICE, 'master')).toMatchObject({ commit: run.sha, version: run.outputs.version });
      } finally {
        await fsStore.close();
      }
    });
  });

  // Last, so that it sees every run above, successful and failing.
  test('no run prints a password or the S3 secret key, except to register it as a secret', () => {
    const mysqlPassword = new URL(serviceVar('TEST_MYSQL_URL')).password;
    const secrets: Array<[string, string]> = [
      ['the MySQL password', decodeURIComponent(mysqlPassword)],
      ['the MySQL password (URL-encoded)', mysqlPassword],
      ['the S3 secret access key', serviceVar('TEST_S3_SECRET_ACCESS_KEY')],
      ['the bad-input MySQL password', badPassword],
    ];
    // Long enough that finding one is a leak, not a coincidence.
    expect(secrets.every(([, value]) => value.length >= 8)).toBe(true);
    // Both kinds of run are here: the successful ones and the failing bad-input ones.
    expect(allRuns.some(({ run }) => run.exitCode === 0)).toBe(true);
    expect(allRuns.some(({ run }) => run.exitCode !== 0)).toBe(true);
    const leaks: string[] = [];
    for (const { what, run } of allRuns) {
      const channels: Array<[string, string]> = [
        ['stdout', run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n')],
        ['stderr', run.stderr],
        ['GITHUB_OUTPUT', run.outputFile],
        ['step summary', run.summary],
      ];
      for (const [secret, value] of secrets) {
        for (const [channel, text] of channels) if (text.includes(value)) leaks.push(`${secret} in the ${channel} of ${what}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
