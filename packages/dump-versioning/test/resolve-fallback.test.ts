import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NotFoundError, openStore, publish, resolve, type Store } from '../src/index.js';
import { makeDumpDir, makeLongRepo, sampleDump } from './support.js';

const run = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd })).stdout.trim();

// A service that publishes only when its migrations change: its last publish is far behind HEAD.
describe('resolve beyond the distance limit and in shallow clones', () => {
  let repo: { dir: string; commits: string[] };
  let root: string;
  let store: Store;
  let dump: string;
  const temps: string[] = [];
  const head = () => repo.commits.at(-1)!;
  const publishAt = (service: string, commit: string, branch = 'master') =>
    publish({ store, service, dir: dump, source: { commit, branch }, ancestry: async () => true });
  const shallowClone = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dv-shallow-'));
    temps.push(dir);
    await git(dir, 'clone', '-q', '--depth', '1', '--branch', 'master', `file://${repo.dir}`, 'clone');
    return path.join(dir, 'clone');
  };

  beforeAll(async () => {
    repo = await makeLongRepo(230);
    root = await mkdtemp(path.join(tmpdir(), 'dv-fallback-'));
    store = openStore(root);
    dump = await makeDumpDir(sampleDump('fallback'));
    await publishAt('lms', repo.commits[5]!);
    // Two refs that are both ancestors of HEAD: the nearer one answers.
    await publishAt('two', repo.commits[5]!, 'master');
    await publishAt('two', repo.commits[100]!, 'release/1.0');
    // Only a ref of a commit HEAD does not descend from.
    await publishAt('side', await git(repo.dir, 'commit-tree', `${repo.commits[1]}^{tree}`, '-p', repo.commits[1]!, '-m', 'side'), 'feature');
    await publishAt('near', repo.commits[220]!);
  });
  afterAll(async () => {
    await Promise.all([repo.dir, root, dump, ...temps].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test.each([
    ['lms', undefined, 5, 'master', 224],
    ['lms', 10, 5, 'master', 224],
    ['two', 50, 100, 'release/1.0', 129],
  ])('service %s, limit %s: no entry within the limit, so the branch ref of an ancestor answers', async (service, maxDistance, index, branch, distance) => {
    const found = await resolve({ store, service, repoDir: repo.dir, ...(maxDistance === undefined ? {} : { maxDistance }) });
    expect(found).toMatchObject({ requested: head(), commit: repo.commits[index], via: 'branch-ref', branch, distance });
    expect(found.entry.source.commit).toBe(repo.commits[index]);
  });

  test('an entry within the limit still comes from the history walk', async () => {
    expect(await resolve({ store, service: 'near', repoDir: repo.dir })).toMatchObject({ commit: repo.commits[220], distance: 9, via: 'history' });
    expect((await resolve({ store, service: 'near', repoDir: repo.dir })).branch).toBeUndefined();
  });

  // near's entry is 9 first-parent steps from HEAD: a limit of 9 reaches it, a limit of 8 does not (its ref answers instead).
  test.each([
    [9, 'history'],
    [8, 'branch-ref'],
  ] as const)('maxDistance %s: an entry exactly 9 commits back is found by the walk only when the limit reaches it (via %s)', async (maxDistance, via) => {
    const found = await resolve({ store, service: 'near', repoDir: repo.dir, maxDistance });
    expect(found).toMatchObject({ requested: head(), commit: repo.commits[220], distance: 9, via });
  });

  test('maxDistance 0 still finds an entry of the commit itself by the walk', async () => {
    await publishAt('exact', head());
    expect(await resolve({ store, service: 'exact', repoDir: repo.dir, maxDistance: 0 })).toMatchObject({ commit: head(), distance: 0, via: 'history' });
  });

  test('a ref whose commit is not an ancestor does not answer', async () => {
    const failure = resolve({ store, service: 'side', repoDir: repo.dir, offline: true });
    await expect(failure).rejects.toThrow(NotFoundError);
    await expect(failure).rejects.toMatchObject({ code: 'no-published-ancestor' });
    await expect(failure).rejects.toThrow(/first-parent ancestors \(limit 200\), and no branch ref of the service names an ancestor of it/);
  });

  test('a depth-1 clone is deepened from its remote before the walk gives up', async () => {
    const clone = await shallowClone();
    expect(await git(clone, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(await resolve({ store, service: 'near', repoDir: clone })).toMatchObject({ requested: head(), commit: repo.commits[220], distance: 9, via: 'history' });
    // Deepened only as far as the walk can use (the limit, 200, plus the commit itself), not the whole history.
    expect(await git(clone, 'rev-parse', '--is-shallow-repository')).toBe('true');
    expect(Number(await git(clone, 'rev-list', '--count', 'HEAD'))).toBe(201);
  });

  test.each([
    ['offline', async (_clone: string) => ({ offline: true }), /shallow clone .*not deepened: offline/],
    ['its remote gone', async (clone: string) => (await git(clone, 'remote', 'set-url', 'origin', `file://${clone}-gone`), {}), /shallow clone and its history could not be deepened/],
  ])('a depth-1 clone that cannot be deepened (%s) says "shallow clone"', async (_name, setup, message) => {
    const clone = await shallowClone();
    const failure = resolve({ store, service: 'near', repoDir: clone, ...(await setup(clone)) });
    await expect(failure).rejects.toMatchObject({ code: 'no-published-ancestor' });
    await expect(failure).rejects.toThrow(message);
  });
});
