import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fingerprintMigrationFiles, openStore, publish, readCommitEntry, type Store } from '@org/dump-versioning';
import { checksumsPathOf, verifyDumpSet, writeChecksumsFile } from '@org/dump-set';
import { main } from '../src/cli.js';
import type { CommandContext } from '../src/internal/context.js';
import { planProvision } from '../src/internal/provisioning.js';
import { UsageError } from '../src/internal/usage.js';

const run = promisify(execFile);
const service = 'lms';
const MIGRATIONS = ['**/migrations/[0-9]*.py'];

/** A git repository with one Django-style app whose migrations grow by one per commit; shas oldest first. */
async function makeMigrationsRepo(count: number): Promise<{ dir: string; commits: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'devstack-plan-repo-'));
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
  await git('init', '-q', '-b', 'master');
  await mkdir(path.join(dir, 'shop', 'migrations'), { recursive: true });
  const commits: string[] = [];
  for (let i = 1; i <= count; i++) {
    await writeFile(path.join(dir, 'shop', 'migrations', `000${i}_step.py`), `# migration ${i}\n`);
    await git('add', '-A');
    await git('commit', '-q', '-m', `migration ${i}`);
    commits.push((await git('rev-parse', 'HEAD')).stdout.trim());
  }
  return { dir, commits };
}

/** A minimal valid dump set (one MySQL database) whose content depends on `label`, so each label is its own version. */
async function writeDumpSet(dir: string, label: string): Promise<void> {
  await mkdir(path.join(dir, 'mysql'), { recursive: true });
  await writeFile(path.join(dir, 'mysql', 'app.sql'), `CREATE TABLE t_${label} (id int);\n`);
  await writeFile(path.join(dir, 'mysql', 'app.schema.json'), '{"format":1,"tables":[]}\n');
}

/** `<dir>.checksums.json` for the files of `dir`, as pull (then provision) leaves it. */
async function writeChecksums(dir: string): Promise<string> {
  const files = [];
  for (const file of ['mysql/app.schema.json', 'mysql/app.sql']) {
    const bytes = await readFile(path.join(dir, file));
    files.push({ path: file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  }
  return (await writeChecksumsFile(dir, files)).version;
}

function capture(cwd: string): CommandContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = { write: (text: string) => ((out += text), true) } as unknown as CommandContext['stdout'];
  const stderr = { write: (text: string) => ((err += text), true) } as unknown as CommandContext['stderr'];
  return { stdout, stderr, env: {}, cwd, out: () => out, err: () => err };
}

describe('planProvision (filesystem store, temporary git repository)', () => {
  let repo: { dir: string; commits: string[] };
  let work: string;
  let storeRoot: string;
  let store: Store;
  let published: string;
  let dumpDir: string;

  beforeAll(async () => {
    repo = await makeMigrationsRepo(2);
    work = await mkdtemp(path.join(tmpdir(), 'devstack-plan-'));
    storeRoot = path.join(work, 'store');
    store = openStore(storeRoot);
    dumpDir = path.join(work, 'dump');
    await writeDumpSet(dumpDir, 'published');
    // What refresh-dumps does on master: publish the tip's dump with its migration fingerprint.
    const result = await publish({
      store,
      service,
      dir: dumpDir,
      source: { commit: repo.commits[1]!, branch: 'master' },
      ancestry: async () => true,
      migrations: { fingerprint: await fingerprintMigrationFiles(repo.dir, MIGRATIONS) },
    });
    published = result.version;
  });
  afterAll(async () => {
    await store.close();
    await Promise.all([repo.dir, work].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const plan = (cacheRoot: string, migrationsGlob = MIGRATIONS) =>
    planProvision({ store, service, repo: repo.dir, commit: repo.commits[1]!, migrationsGlob, cacheRoot });

  test('the published entry records migrations (precondition of the usage error below)', async () => {
    const entry = await readCommitEntry(store, service, repo.commits[1]!);
    expect(Object.keys(entry?.migrations?.fingerprint.apps ?? {})).toEqual(['shop']);
  });

  test('a cache directory holding the planned version, verified by its checksum list, is reused', async () => {
    const cacheRoot = path.join(work, 'cache-same');
    const cacheDir = path.join(cacheRoot, service, published);
    await mkdir(path.dirname(cacheDir), { recursive: true });
    await cp(dumpDir, cacheDir, { recursive: true });
    expect(await writeChecksums(cacheDir)).toBe(published);
    const result = await plan(cacheRoot);
    expect(result.resolution.version).toBe(published);
    expect(result.cacheDir).toBe(cacheDir);
    expect(result.cached).toBe(true);
  });

  test('a cache directory at the version path whose files verify as ANOTHER version is not reused', async () => {
    const cacheRoot = path.join(work, 'cache-other');
    const cacheDir = path.join(cacheRoot, service, published);
    await writeDumpSet(cacheDir, 'something-else');
    const other = await writeChecksums(cacheDir);
    expect(other).not.toBe(published);
    // Intact by its own checksum list: only the version tells it apart.
    expect(await verifyDumpSet(cacheDir)).toMatchObject({ verifiedBy: 'checksums', version: other });
    const result = await plan(cacheRoot);
    expect(result.cacheDir).toBe(cacheDir);
    expect(result.cached).toBe(false);
  });

  test('a cache directory without a checksum list is not reused (layout checks alone do not identify a version)', async () => {
    const cacheRoot = path.join(work, 'cache-unlisted');
    const cacheDir = path.join(cacheRoot, service, published);
    await mkdir(path.dirname(cacheDir), { recursive: true });
    await cp(dumpDir, cacheDir, { recursive: true });
    await rm(checksumsPathOf(cacheDir), { force: true });
    expect((await plan(cacheRoot)).cached).toBe(false);
  });

  test('--migrations-glob matching no file while the dump records migrations is a usage error', async () => {
    const attempt = plan(path.join(work, 'cache-glob'), ['apps/**/migrations/[0-9]*.py']);
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/--migrations-glob \(apps\/\*\*\/migrations\/\[0-9\]\*\.py\) matched no migration file under .*, but the dump records migrations; run in the service's checkout, or give --migrations-glob relative to --repo/);
  });

  test('with globs that match, nothing is pending at the published commit', async () => {
    const result = await plan(path.join(work, 'cache-glob-ok'));
    expect(result.pending).toEqual({ state: 'up-to-date', pending: [], addedBefore: [], edited: [], removed: [] });
  });
});

describe('the dump\'s recorded scope: a checkout is fingerprinted the way CI fingerprinted it', () => {
  let dir: string;
  let store: Store;
  let commit: string;
  beforeAll(async () => {
    // The service's app under app/ (the action's working-directory), plus what CI never looked at: a second
    // folder with an app of the same label, and a virtualenv with Django's own migrations.
    dir = await mkdtemp(path.join(tmpdir(), 'devstack-scope-'));
    const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
    await git('init', '-q', '-b', 'master');
    for (const [file, text] of [
      ['app/catalog/migrations/0001_initial.py', '# 1\n'],
      ['app/catalog/migrations/0002_price.py', '# 2\n'],
      ['other/catalog/migrations/0001_initial.py', '# other\n'],
      ['venv/lib/python3.12/site-packages/django/contrib/auth/migrations/0001_initial.py', '# django\n'],
    ] as const) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    await git('add', '-A');
    await git('commit', '-q', '-m', 'base');
    commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    store = openStore(path.join(dir, '.store'));
    const dumpDir = path.join(dir, '.dump');
    await writeDumpSet(dumpDir, 'scoped');
    // As refresh-dumps publishes with working-directory: app and the default migrations-glob.
    await publish({
      store,
      service,
      dir: dumpDir,
      source: { commit, branch: 'master' },
      ancestry: async () => true,
      migrations: { fingerprint: await fingerprintMigrationFiles(path.join(dir, 'app'), MIGRATIONS), scope: { directory: 'app', globs: MIGRATIONS } },
    });
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('without --migrations-glob, the recorded directory and globs are used: nothing pending, nothing removed', async () => {
    const result = await planProvision({ store, service, repo: dir, commit, migrationsGlob: undefined, cacheRoot: path.join(dir, '.cache') });
    expect(result.pending).toEqual({ state: 'up-to-date', pending: [], addedBefore: [], edited: [], removed: [] });
  });

  test('--migrations-glob still decides when given (here: the whole checkout, which the dump was not taken of)', async () => {
    const result = await planProvision({ store, service, repo: dir, commit, migrationsGlob: MIGRATIONS, cacheRoot: path.join(dir, '.cache') });
    expect(result.pending.state).not.toBe('up-to-date');
  });

  test('the record keeps the scope', async () => {
    const entry = await readCommitEntry(store, service, commit);
    expect(entry?.migrations?.scope).toEqual({ directory: 'app', globs: MIGRATIONS });
  });
});

describe('planProvision on a branch that merged master (every ancestor is searched, not only the first parent)', () => {
  test('starts from the newest dump it merged: only its own migration is pending, and a migration master edited since the branch point is no "rewritten"', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'devstack-plan-merge-'));
    const storeRoot = `${dir}-store`;
    const store = openStore(storeRoot);
    const dump = path.join(`${dir}-dump`);
    try {
      const git = async (...args: string[]) => (await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir })).stdout.trim();
      const migration = (name: string, body: string) => writeFile(path.join(dir, 'shop', 'migrations', `${name}.py`), body);
      const commit = async (message: string) => {
        await git('add', '-A');
        await git('commit', '-q', '-m', message);
        return git('rev-parse', 'HEAD');
      };
      await writeDumpSet(dump, 'merge');
      const publishAt = async (sha: string) =>
        publish({ store, service, dir: dump, source: { commit: sha, branch: 'master' }, ancestry: async () => true, migrations: { fingerprint: await fingerprintMigrationFiles(dir, MIGRATIONS) } });
      await git('init', '-q', '-b', 'master');
      await mkdir(path.join(dir, 'shop', 'migrations'), { recursive: true });
      await migration('0001_initial', '# one\n');
      const branchPoint = await commit('one');
      await publishAt(branchPoint);
      await git('checkout', '-q', '-b', 'feature');
      await migration('0003_feature', '# feature\n');
      await commit('feature migration');
      await git('checkout', '-q', 'master');
      await migration('0001_initial', '# one, edited on master\n');
      await migration('0002_master', '# master\n');
      const masterTip = await commit('master moves on');
      await publishAt(masterTip);
      await git('checkout', '-q', 'feature');
      await git('merge', '-q', '--no-edit', 'master');
      const head = await git('rev-parse', 'HEAD');
      const result = await planProvision({ store, service, repo: dir, commit: head, migrationsGlob: MIGRATIONS, cacheRoot: path.join(`${dir}-cache`) });
      expect(result.resolution).toMatchObject({ commit: masterTip, ancestors: 'all', distance: 2 });
      expect(result.pending).toMatchObject({ state: 'pending', pending: ['shop.0003_feature'], edited: [], removed: [] });
    } finally {
      await store.close();
      await Promise.all([dir, storeRoot, `${dir}-dump`, `${dir}-cache`].map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});

describe('devstack-dumps publish --migrations-glob (filesystem store, temporary git repository)', () => {
  let repo: { dir: string; commits: string[] };
  let work: string;
  let dumpDir: string;

  beforeAll(async () => {
    repo = await makeMigrationsRepo(2);
    work = await mkdtemp(path.join(tmpdir(), 'devstack-publish-glob-'));
    dumpDir = path.join(work, 'dump');
    await writeDumpSet(dumpDir, 'publish');
    // As `dump` leaves it: the CLI publishes only a dump set with its checksum list.
    await writeChecksums(dumpDir);
  });
  afterAll(async () => {
    await Promise.all([repo.dir, work].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const publishArgs = (storeRoot: string, commit: string) => ['publish', dumpDir, '--commit', commit, '--branch', 'master', '--repo', repo.dir, '--store', storeRoot, '--service', service, '--migrations-glob', ...MIGRATIONS];

  test('is refused for a --commit other than HEAD (the working tree describes HEAD only), and nothing is published', async () => {
    const storeRoot = path.join(work, 'store-refused');
    const context = capture(work);
    expect(await main(publishArgs(storeRoot, repo.commits[0]!), context)).toBe(2);
    expect(context.err()).toContain(`error: --migrations-glob checks the working tree of ${repo.dir} against commit ${repo.commits[0]}, but it is at another commit; check that commit out or drop --migrations-glob`);
    expect(await readdir(storeRoot).catch(() => [])).toEqual([]);
  });

  test('is accepted for HEAD given as its sha, and records the working tree fingerprint', async () => {
    const storeRoot = path.join(work, 'store-head');
    const context = capture(work);
    expect(await main(publishArgs(storeRoot, repo.commits[1]!), context)).toBe(0);
    expect(context.err()).not.toContain('error:');
    const store = openStore(storeRoot);
    try {
      const entry = await readCommitEntry(store, service, repo.commits[1]!);
      expect(entry?.migrations?.fingerprint).toEqual(await fingerprintMigrationFiles(repo.dir, MIGRATIONS));
      expect(entry?.migrations?.scope).toEqual({ directory: '.', globs: MIGRATIONS });
    } finally {
      await store.close();
    }
  });

  test.each<[string, (dir: string) => Promise<unknown>, string]>([
    ['an untracked migration', (dir) => writeFile(path.join(dir, 'shop', 'migrations', '0009_local_only.py'), '# local\n'), 'not committed: shop/migrations/0009_local_only.py'],
    ['an edited migration', (dir) => writeFile(path.join(dir, 'shop', 'migrations', '0001_step.py'), '# edited\n'), 'changed since the commit: shop/migrations/0001_step.py'],
    ['a deleted migration', (dir) => rm(path.join(dir, 'shop', 'migrations', '0002_step.py')), 'deleted: shop/migrations/0002_step.py'],
  ])('is refused when the working tree has %s (the dumps are not of that commit), and nothing is published', async (_case, change, named) => {
    const storeRoot = path.join(work, `store-dirty-${named.replace(/\W+/g, '-')}`);
    await change(repo.dir);
    try {
      const context = capture(work);
      expect(await main(publishArgs(storeRoot, repo.commits[1]!), context)).toBe(2);
      expect(context.err()).toContain(`error: the migration files in ${repo.dir} differ from commit ${repo.commits[1]} (${named}), so the dumps are not of that commit;`);
      expect(await readdir(storeRoot).catch(() => [])).toEqual([]);
    } finally {
      await run('git', ['checkout', '--', '.'], { cwd: repo.dir });
      await run('git', ['clean', '-fdq'], { cwd: repo.dir });
    }
  });

  test('with --repo below the top of the working tree, records that directory, so a clone finds the migrations', async () => {
    const top = await mkdtemp(path.join(tmpdir(), 'devstack-publish-subdir-'));
    try {
      const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: top });
      await git('init', '-q', '-b', 'master');
      await mkdir(path.join(top, 'svc', 'shop', 'migrations'), { recursive: true });
      await writeFile(path.join(top, 'svc', 'shop', 'migrations', '0001_step.py'), '# migration 1\n');
      await git('add', '-A');
      await git('commit', '-q', '-m', 'one');
      const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
      const storeRoot = path.join(top, '..', `${path.basename(top)}-store`);
      const args = ['publish', dumpDir, '--commit', commit, '--branch', 'master', '--repo', path.join(top, 'svc'), '--store', storeRoot, '--service', service, '--migrations-glob', '*/migrations/[0-9]*.py'];
      try {
        expect(await main(args, capture(work))).toBe(0);
        const store = openStore(storeRoot);
        try {
          expect((await readCommitEntry(store, service, commit))?.migrations?.scope).toEqual({ directory: 'svc', globs: ['*/migrations/[0-9]*.py'] });
        } finally {
          await store.close();
        }
        // status from the top of the clone, and with --repo at the subdirectory, finds the migrations.
        for (const repoFlag of [[], ['--repo', path.join(top, 'svc')]]) {
          const context = capture(top);
          expect(await main(['status', '--store', storeRoot, '--service', service, ...repoFlag], context), context.err()).toBe(0);
          expect(context.out()).toMatch(/pending\s+none/);
        }
      } finally {
        await rm(storeRoot, { recursive: true, force: true });
      }
    } finally {
      await rm(top, { recursive: true, force: true });
    }
  });
});
