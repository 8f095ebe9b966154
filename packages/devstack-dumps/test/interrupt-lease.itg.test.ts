import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bin, cli, interruptWhen as interruptProgram, writeSmallDumpSet } from './support.js';

// Ctrl-C during `publish` or `prune --yes` (the CLI from source, so bin.ts's handling is what runs): the
// command stops at a safe point and deletes its store lease before exiting 130. Before, bin.ts exited at
// once and the lease blocked prunes for 10 min (a publish's) or publishes for 5 min (a prune's).

const git = (cwd: string, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))),
  );

const interruptWhen = (args: string[], cwd: string, ready: (stderr: string) => boolean) => interruptProgram(bin, args, cwd, ready);

describe('Ctrl-C during publish and prune --yes releases the store lease (CLI from source)', () => {
  let repo: string;
  let store: string;
  const commits: string[] = [];
  /** A lease as a live process (this test's) holds it: the CLI has to wait for it. */
  const plantLive = async (key: string) => {
    const file = path.join(store, ...key.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ kind: 'test', id: key, host: hostname(), pid: process.pid })}\n`);
    return file;
  };
  const locks = (service: string) => readdir(path.join(store, service, 'locks')).catch(() => [] as string[]);

  beforeAll(async () => {
    repo = await mkdtemp(path.join(tmpdir(), 'dd-interrupt-lease-'));
    store = path.join(repo, 'store');
    await git(repo, 'init', '-q', '-b', 'master');
    for (const step of [1, 2]) {
      await writeFile(path.join(repo, 'step.txt'), `${step}\n`);
      await git(repo, 'add', 'step.txt');
      await git(repo, 'commit', '-q', '-m', `step ${step}`);
      commits.push(await git(repo, 'rev-parse', 'HEAD'));
    }
    await writeSmallDumpSet(path.join(repo, 'dump'));
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  test('a publish waiting for a prune stops on Ctrl-C, deletes its publish lease, names nothing and exits 130', async () => {
    const publishAt = (commit: string) => ['publish', 'dump', '--store', store, '--service', 'pub', '--commit', commit, '--branch', 'master', '--repo', repo];
    const first = await cli(publishAt(commits[0]!), repo);
    expect(first.code, first.stderr).toBe(0);
    const pruneLease = await plantLive('pub/locks/prune.json');
    // The same files at the next commit: it reuses stored blobs, so it takes a lease and waits for the prune.
    const run = await interruptWhen(publishAt(commits[1]!), repo, (stderr) => stderr.includes('waiting for a prune of pub'));
    expect(run.sent, run.stderr).toBe(true);
    expect(run.stderr).toContain('error: interrupted: publish stopped before naming a version');
    expect(run.stderr).not.toContain('databases it loaded into');
    expect(run.code).toBe(130);
    expect(await locks('pub')).toEqual(['prune.json']);
    expect(existsSync(path.join(store, 'pub', 'commits', `${commits[1]}.json`))).toBe(false);
    await rm(pruneLease);
    // Run again, it completes.
    const again = await cli(publishAt(commits[1]!), repo);
    expect(again.code, again.stderr).toBe(0);
    expect(await locks('pub')).toEqual([]);
  });

  test('a prune --yes stops on Ctrl-C, deletes its prune lease and exits 130', async () => {
    await mkdir(store, { recursive: true });
    // A running publish makes the prune wait (up to 30 s), taking and releasing its lease as it polls.
    const publishLease = await plantLive('pru/locks/publish-live.json');
    const leaseFile = path.join(store, 'pru', 'locks', 'prune.json');
    const run = await interruptWhen(['prune', '--store', store, '--service', 'pru', '--keep', '1', '--yes'], repo, () => existsSync(leaseFile));
    expect(run.sent, run.stderr).toBe(true);
    expect(run.stderr).toContain('error: interrupted: prune stopped before or between its delete batches and released its lease');
    // Not the load's wording, which said databases were as they were.
    expect(run.stderr).not.toContain('databases it loaded into');
    expect(run.code).toBe(130);
    expect(await locks('pru')).toEqual(['publish-live.json']);
    await rm(publishLease);
  });
});
