import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { IntegrityError, gitAncestry, prune, publish, pull, resolve, verify } from '../src/index.js';
import { layout } from '../src/internal/store.js';
import { backends, describeBackend, useBackendFixture } from './support.js';

const DAY = 86_400_000;
const outs: string[] = [];
afterAll(async () => {
  await Promise.all(outs.map((dir) => rm(dir, { recursive: true, force: true })));
});
const tempOut = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dv-races-'));
  outs.push(dir);
  return dir;
};
const leftovers = async (dir: string) => (await readdir(dir)).filter((name) => name.includes('.partial-') || name.includes('.old-'));

for (const backend of backends) {
  describeBackend(backend, 'races and repairs', () => {
    const fixture = useBackendFixture(backend, 4);
    const source = (i: number, branch = 'master') => ({ commit: fixture.repo.commits[i]!, branch });

    test('prune keeps a commit entry younger than its grace period (a publish about to move its ref)', async () => {
      const { store, repo } = fixture;
      const service = 'grace';
      const ancestry = gitAncestry(repo.dir);
      await publish({ store, service, dir: await fixture.dumpDir({ 'mysql/a.sql': 'v0\n' }), source: source(0), ancestry, now: () => new Date(Date.now() - 29 * DAY) });
      let pruned: Awaited<ReturnType<typeof prune>> | undefined;
      // c1's run started long ago (older createdAt than c0's), and prune runs between its commit entry and its ref.
      const c1 = await publish({
        store,
        service,
        dir: await fixture.dumpDir({ 'mysql/a.sql': 'v1\n' }),
        source: source(1),
        ancestry,
        now: () => new Date(Date.now() - 30 * DAY),
        afterStep: async (step) => {
          if (step === 'commit') pruned = await prune({ store, service, keep: 1, keepRecentMs: 0, yes: true });
        },
      });
      expect(c1.ref.outcome).toBe('advanced');
      expect(pruned!.deleted.commits).toEqual([]);
      expect(pruned!.deleted.versions).toEqual([]);
      expect(await store.exists(layout.commit(service, repo.commits[1]!))).toBe(true);
      const resolved = await resolve({ store, service, branch: 'master' });
      await pull({ store, service, version: resolved.version, out: path.join(await tempOut(), 'out') });
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('two concurrent pulls of different versions into one directory: one wins, the other fails out-not-empty', async () => {
      const { store } = fixture;
      const service = 'pulls';
      const ancestry = gitAncestry(fixture.repo.dir);
      const files = (tag: string) => Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`mysql/t${i}.sql`, `${tag} ${i}\n`.repeat(2000)]));
      const a = await publish({ store, service, dir: await fixture.dumpDir(files('a')), source: source(0), ancestry });
      const b = await publish({ store, service, dir: await fixture.dumpDir(files('b')), source: source(1), ancestry });
      const parent = await tempOut();
      const out = path.join(parent, 'out');
      const results = await Promise.allSettled([pull({ store, service, version: a.version, out }), pull({ store, service, version: b.version, out })]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
      expect(failed.reason).toMatchObject({ code: 'out-not-empty' });
      expect(await leftovers(parent)).toEqual([]);
    });

    test('concurrent pulls with replace into one directory (two terminals provisioning) all succeed, and one copy stays', async () => {
      const { store } = fixture;
      const service = 'replace-pulls';
      const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`mysql/t${i}.sql`, `row ${i}\n`.repeat(500)]));
      const published = await publish({ store, service, dir: await fixture.dumpDir(files), source: source(0), ancestry: gitAncestry(fixture.repo.dir) });
      const parent = await tempOut();
      for (let round = 0; round < 8; round++) {
        const out = path.join(parent, `out-${round}`);
        // A copy already there in every other round: both the aside-and-replace and the plain rename race.
        if (round % 2 === 1) await pull({ store, service, version: published.version, out });
        const results = await Promise.allSettled(Array.from({ length: 3 }, () => pull({ store, service, version: published.version, out, replace: true })));
        expect(results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
        expect((await readdir(out)).sort()).toEqual(['mysql']);
        expect((await readdir(path.join(out, 'mysql'))).sort()).toEqual(Object.keys(files).map((file) => file.slice('mysql/'.length)).sort());
      }
      expect(await leftovers(parent)).toEqual([]);
    });

    test('a corrupted blob fails the pull naming the file, and leaves no staging directory', async () => {
      const { store } = fixture;
      const service = 'corrupt';
      const files = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`mysql/t${String(i).padStart(2, '0')}.sql`, `INSERT INTO t${i} VALUES (${i});\n`.repeat(40000)]));
      const published = await publish({ store, service, dir: await fixture.dumpDir(files), source: source(0), ancestry: gitAncestry(fixture.repo.dir), compression: 'gzip' });
      const victim = published.files.find((file) => file.path === 'mysql/t03.sql')!;
      const key = layout.blob(service, victim.sha256, victim.compression);
      // Bytes that do not decompress: the download fails at once, while others are still in flight.
      await store.delete([key]);
      await store.putIfAbsent(key, Buffer.alloc(4096, 'x'));
      const parent = await tempOut();
      for (let round = 0; round < 5; round++) {
        const error = await pull({ store, service, version: published.version, out: path.join(parent, 'out'), concurrency: 8 }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error, String(error)).toBeInstanceOf(IntegrityError);
        expect(error).toMatchObject({ code: 'blob-corrupt', message: expect.stringContaining('mysql/t03.sql') });
        expect(await readdir(parent)).toEqual([]);
      }
    });

    test('re-publishing repairs a blob deleted from the store (same commit, and a new commit of the same version)', async () => {
      const { store } = fixture;
      const service = 'repair';
      const ancestry = gitAncestry(fixture.repo.dir);
      const dir = await fixture.dumpDir({ 'mysql/a.sql': 'CREATE TABLE a (id int);\n', 'mysql/b.sql': 'CREATE TABLE b (id int);\n' });
      const first = await publish({ store, service, dir, source: source(0), ancestry });
      const blobKey = (name: string) => {
        const file = first.files.find((candidate) => candidate.path === name)!;
        return layout.blob(service, file.sha256, file.compression);
      };
      await store.delete([blobKey('mysql/a.sql')]);
      expect((await verify({ store, service })).ok).toBe(false);
      const rerun = await publish({ store, service, dir, source: source(0), ancestry });
      expect(rerun).toMatchObject({ version: first.version, blobsUploaded: 1, ref: { outcome: 'unchanged' } });
      expect((await verify({ store, service })).problems).toEqual([]);

      // The ref's version lists the file: a publish of the next commit checks and re-uploads it too.
      await store.delete([blobKey('mysql/b.sql')]);
      const next = await publish({ store, service, dir, source: source(1), ancestry });
      expect(next).toMatchObject({ version: first.version, blobsUploaded: 1, ref: { outcome: 'advanced' } });
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('an altered blob: verify names it with the store location and what repairs it, and doing that repairs the store', async () => {
      const { store } = fixture;
      const service = 'altered';
      const ancestry = gitAncestry(fixture.repo.dir);
      const dir = await fixture.dumpDir({ 'mysql/a.sql': 'CREATE TABLE a (id int);\n' });
      const first = await publish({ store, service, dir, source: source(0), ancestry });
      const file = first.files[0]!;
      const key = layout.blob(service, file.sha256, file.compression);
      await store.delete([key]);
      await store.putIfAbsent(key, Buffer.from('not the file'));
      // A re-publish alone only checks that the blob exists: the advice must be the one that works.
      expect((await publish({ store, service, dir, source: source(0), ancestry })).blobsUploaded).toBe(0);
      const [problem] = (await verify({ store, service })).problems;
      expect(problem?.message).toContain(`${store.location}/${key}`);
      expect(problem?.message).toContain('delete that blob from the store and re-publish');
      await store.delete([key]);
      expect((await publish({ store, service, dir, source: source(0), ancestry })).blobsUploaded).toBe(1);
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('a damaged ref fails the publish with one error saying what repairs it (never an unhandled rejection), and that repairs it', async () => {
      const { store } = fixture;
      const service = 'damaged-ref';
      const ancestry = gitAncestry(fixture.repo.dir);
      const dir = await fixture.dumpDir({ 'mysql/a.sql': 'CREATE TABLE a (id int);\n' });
      await publish({ store, service, dir, source: source(0), ancestry });
      const refKey = layout.ref(service, 'master');
      await store.delete([refKey]);
      await store.putIfAbsent(refKey, Buffer.alloc(0));
      await expect(publish({ store, service, dir, source: source(1), ancestry })).rejects.toMatchObject({
        code: 'invalid-json',
        message: expect.stringContaining('delete it and re-publish'),
      });
      await store.delete([refKey]);
      const repaired = await publish({ store, service, dir, source: source(1), ancestry });
      expect(repaired.ref.outcome).toBe('created');
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('a pull racing prune says the version was removed by retention', async () => {
      const { store } = fixture;
      const service = 'pruned';
      const published = await publish({ store, service, dir: await fixture.dumpDir({ 'mysql/a.sql': 'a\n', 'mysql/b.sql': 'b\n' }), source: source(0), ancestry: gitAncestry(fixture.repo.dir) });
      // The store as prune leaves it mid-pull: manifest and blobs gone after the manifest was read.
      const racing = Object.create(store) as typeof store;
      racing.getStream = async (key) => {
        await store.delete([layout.version(service, published.version), ...published.files.map((file) => layout.blob(service, file.sha256, file.compression))]);
        return store.getStream(key);
      };
      await expect(pull({ store: racing, service, version: published.version, out: path.join(await tempOut(), 'out') })).rejects.toMatchObject({ code: 'version-pruned' });
    });
  });
}
