import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  InvalidInputError,
  StoreConfigError,
  diff,
  list,
  openStore,
  prune,
  publish,
  pull,
  readBranchRef,
  readCommitEntry,
  resolve,
  resolveVersion,
  verify,
  type Store,
} from '../src/index.js';
import { makeDumpDir, makeLinearRepo, sampleDump } from './support.js';

const service = 'lms';
const version = 'a'.repeat(64);

/** Every read-only entry point, as a user would call it against `store`. */
const readers: Array<[string, (store: Store, scratch: string, repo: { dir: string; commits: string[] }) => Promise<unknown>]> = [
  ['list', (store) => list({ store, service })],
  ['resolve by commit', (store, _scratch, repo) => resolve({ store, service, commit: repo.commits[1]!, repoDir: repo.dir })],
  ['resolve by branch', (store) => resolve({ store, service, branch: 'master' })],
  ['pull by version', (store, scratch) => pull({ store, service, version, out: path.join(scratch, 'out') })],
  ['pull by commit', (store, scratch, repo) => pull({ store, service, commit: repo.commits[0]!, out: path.join(scratch, 'out') })],
  ['diff', (store) => diff({ store, service, from: version, to: version })],
  ['verify', (store) => verify({ store })],
  ['prune (dry run)', (store) => prune({ store, service, keep: 1 })],
  ['prune', (store) => prune({ store, service, keep: 1, yes: true })],
  ['resolveVersion', (store) => resolveVersion(store, service, version.slice(0, 12))],
];

describe('a filesystem store whose directory is missing or not a directory', () => {
  let scratch: string;
  let repo: { dir: string; commits: string[] };
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'dv-root-'));
    repo = await makeLinearRepo(2);
    await writeFile(path.join(scratch, 'a-file'), 'not a store\n');
  });
  afterAll(async () => {
    await Promise.all([scratch, repo.dir].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test.each(readers)('%s fails with store-missing naming the directory', async (_name, read) => {
    const root = path.join(scratch, 'nonexistent');
    const failure = read(openStore(root), scratch, repo);
    await expect(failure).rejects.toThrow(StoreConfigError);
    await expect(failure).rejects.toMatchObject({ code: 'store-missing' });
    await expect(failure).rejects.toThrow(`the filesystem store ${root} does not exist; check the store location, or publish first`);
    expect(await readdir(scratch)).toEqual(['a-file']);
  });

  test.each(readers)('%s fails with store-not-directory when the path is a file or under one', async (_name, read) => {
    for (const [root, what] of [
      [path.join(scratch, 'a-file'), 'is a file'],
      [path.join(scratch, 'a-file', 'store'), 'lies under a file'],
    ] as const) {
      const failure = read(openStore(root), scratch, repo);
      await expect(failure).rejects.toMatchObject({ code: 'store-not-directory' });
      await expect(failure).rejects.toThrow(`the filesystem store ${root} ${what}, not a directory`);
    }
  });

  test('an existing empty directory is an empty store, not a missing one', async () => {
    const root = await mkdtemp(path.join(scratch, 'empty-'));
    expect(await list({ store: openStore(root), service })).toEqual({ service, refs: [], versions: [], commits: [] });
  });

  test('readBranchRef and readCommitEntry answer "none yet" (a publish reads them before the store exists)', async () => {
    const store = openStore(path.join(scratch, 'not-yet'));
    expect(await readBranchRef(store, service, 'master')).toBeUndefined();
    expect(await readCommitEntry(store, service, repo.commits[0]!)).toBeUndefined();
  });

  test('publish creates a missing store directory, but refuses a file', async () => {
    const dir = await makeDumpDir(sampleDump('root'));
    try {
      const root = path.join(scratch, 'created', 'store');
      const source = { commit: repo.commits[0]!, branch: 'master' };
      const published = await publish({ store: openStore(root), service, dir, source, ancestry: async () => true });
      expect(published.ref.outcome).toBe('created');
      expect(await list({ store: openStore(root), service })).toMatchObject({ refs: [{ branch: 'master', commit: repo.commits[0] }] });
      const refused = publish({ store: openStore(path.join(scratch, 'a-file')), service, dir, source, ancestry: async () => true });
      await expect(refused).rejects.toMatchObject({ code: 'store-not-directory' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('branch names are checked by every API that takes one', () => {
  let root: string;
  let dir: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-branch-'));
    dir = await makeDumpDir(sampleDump('branch'));
  });
  afterAll(async () => {
    await Promise.all([root, dir].map((path) => rm(path, { recursive: true, force: true })));
  });

  test.each([
    ['publish', (store: Store, branch: string) => publish({ store, service, dir, source: { commit: 'b'.repeat(40), branch }, ancestry: async () => true })],
    ['readBranchRef', (store: Store, branch: string) => readBranchRef(store, service, branch)],
    ['resolve', (store: Store, branch: string) => resolve({ store, service, branch })],
  ])('%s refuses refs/heads/main and "bad branch..name" and writes nothing', async (_name, call) => {
    const store = openStore(root);
    await expect(call(store, 'refs/heads/main')).rejects.toThrow(InvalidInputError);
    await expect(call(store, 'refs/heads/main')).rejects.toThrow(/give the short name, e\.g\. main/);
    await expect(call(store, 'bad branch..name')).rejects.toMatchObject({ code: 'bad-branch' });
    expect(await readdir(root)).toEqual([]);
  });
});
