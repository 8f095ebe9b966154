import { mkdtemp, readdir, rm, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidInputError, openStore, publish, pull, verify, type PublishResult, type Store } from '../src/index.js';
import { makeDumpDir, sampleDump } from './support.js';

const service = 'lms';
const commit = '1'.repeat(40);

describe('pull into an existing directory, and verify of dangling index entries (filesystem store)', () => {
  let root: string;
  let work: string;
  let dump: string;
  let store: Store;
  let published: PublishResult;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-pull-verify-'));
    work = await mkdtemp(path.join(tmpdir(), 'dv-pull-out-'));
    store = openStore(root);
    dump = await makeDumpDir(sampleDump('a'));
    published = await publish({ store, service, dir: dump, source: { commit, branch: 'master' }, ancestry: async () => true });
  });
  afterAll(async () => {
    await store.close();
    await Promise.all([root, work, dump].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('a non-empty output is refused without replace and replaced whole with it', async () => {
    const out = path.join(work, 'out');
    await mkdir(out);
    await writeFile(path.join(out, 'stale.txt'), 'old');
    await expect(pull({ store, service, version: published.version, out })).rejects.toThrow(InvalidInputError);
    expect(await readdir(out)).toEqual(['stale.txt']);
    const result = await pull({ store, service, version: published.version, out, replace: true });
    expect(result.dir).toBe(out);
    expect(await readdir(out)).not.toContain('stale.txt');
    expect((await readdir(out)).sort()).toEqual([...new Set(published.files.map((file) => file.path.split('/')[0]!))].sort());
  });

  test('verify names a commit entry or a ref whose version or commit entry is gone', async () => {
    expect((await verify({ store, service })).ok).toBe(true);
    await unlink(path.join(root, service, 'commits', `${commit}.json`));
    const result = await verify({ store, service, hashes: false });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ code: 'dangling-ref', message: `ref master names commit ${commit}, which has no commit index entry` })]);
  });

  test('verify names a commit entry whose version manifest is gone', async () => {
    const other = await publish({ store, service: 'crm', dir: dump, source: { commit: '2'.repeat(40), branch: 'master' }, ancestry: async () => true });
    await unlink(path.join(root, 'crm', 'versions', `${other.version}.json`));
    const result = await verify({ store, service: 'crm', hashes: false });
    expect(result.problems).toContainEqual(expect.objectContaining({ code: 'dangling-commit', message: expect.stringContaining(`names version ${other.version}, which is not in the store`) }));
  });
});
