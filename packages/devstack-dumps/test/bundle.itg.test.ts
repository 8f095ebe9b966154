import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { readSet, ScratchDatabases, seedSource } from '../../dump-set/test/support.js';
import { TestBucket, type CliRun } from './support.js';

// The shipped CLI: packages/devstack-dumps/dist (built by `pnpm build`, kept current by `pnpm check-dist`), copied
// outside the workspace so that nothing can resolve from node_modules: the bundle and its chunks must be enough.
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const packageJson = fileURLToPath(new URL('../package.json', import.meta.url));

describeWithServices(['mysql', 'mongo', 's3'], 'the bundled devstack-dumps CLI (dist/, outside the workspace)', () => {
  let work: string;
  let bin: string;
  let scratch: ScratchDatabases;
  let bucket: TestBucket;
  let mysqlUrl: string;
  let mongoUrl: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'devstack-dumps-bundle-'));
    await cp(dist, path.join(work, 'cli'), { recursive: true });
    bin = path.join(work, 'cli', 'devstack-dumps.mjs');
    mysqlUrl = serviceVar('TEST_MYSQL_URL');
    mongoUrl = serviceVar('TEST_MONGO_URL');
    scratch = new ScratchDatabases(mysqlUrl, mongoUrl);
    bucket = new TestBucket();
    await bucket.create();
  });
  afterAll(async () => {
    await scratch?.dropAll();
    await bucket?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // Started as a package manager's bin link starts it: the file itself (shebang), never `node <file>`.
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    promisify(execFile)(bin, args, { cwd: work, env: { ...process.env, ...env } }).then(
      ({ stdout, stderr }): CliRun => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }): CliRun => ({ code: Number(error.code ?? 1), stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    );

  test('--version is the package version', async () => {
    const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
    const result = await run(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('dump, publish to S3 (the lazily loaded SDK chunk), pull and load round-trip byte for byte', async () => {
    const source = scratch.name('bsrc');
    await seedSource(scratch, source);
    const first = path.join(work, 'first');
    const dumped = await run(['dump', '--mysql', mysqlUrl, '--mysql-db', source, '--mongo', mongoUrl, '--mongo-db', source, '--out', first]);
    expect(dumped.code, dumped.stderr).toBe(0);

    const store = bucket.url('bundle');
    const s3 = ['--store', store, '--service', 'shop', '--s3-endpoint', serviceVar('TEST_S3_ENDPOINT')];
    const repo = path.join(work, 'repo');
    const git = (...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: work }).then((r) => r.stdout.trim());
    await git('init', '-q', '-b', 'master', repo);
    await git('-C', repo, 'commit', '-q', '--allow-empty', '-m', 'one');
    const commit = await git('-C', repo, 'rev-parse', 'HEAD');
    const published = await run(['publish', ...s3, '--repo', repo, '--commit', commit, '--branch', 'master', first, '--json'], bucket.env);
    expect(published.code, published.stderr).toBe(0);
    const pulledDir = path.join(work, 'pulled');
    const pulled = await run(['pull', ...s3, '--commit', commit, '--out', pulledDir], bucket.env);
    expect(pulled.code, pulled.stderr).toBe(0);

    const copy = scratch.name('bcopy');
    const loaded = await run(['load', pulledDir, '--mysql', mysqlUrl, '--mongo', mongoUrl, '--mysql-db', copy, '--mongo-db', copy]);
    expect(loaded.code, loaded.stderr).toBe(0);
    const second = path.join(work, 'second');
    expect((await run(['dump', '--mysql', mysqlUrl, '--mysql-db', copy, '--mongo', mongoUrl, '--mongo-db', copy, '--out', second])).code).toBe(0);
    const a = await readSet(first, [source]);
    const b = await readSet(second, [copy]);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
  });
});
