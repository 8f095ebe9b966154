import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  IntegrityError,
  InvalidInputError,
  ManifestError,
  NotFoundError,
  SCHEMA_VERSION,
  computeVersion,
  encodeManifest,
  gitAncestry,
  publish,
  pull,
  resolve,
  verify,
  type Store,
  type VersionManifest,
} from '../src/index.js';
import { backends, describeBackend, makeDumpDir, makeLinearRepo, sampleDump, type RequestLog } from './support.js';

for (const backend of backends) {
  describeBackend(backend, 'publish, resolve and pull', () => {
    let store: Store;
    let log: RequestLog;
    let repo: { dir: string; commits: string[] };
    const temps: string[] = [];
    const temp = async (prefix: string) => {
      const dir = await mkdtemp(path.join(tmpdir(), prefix));
      temps.push(dir);
      return dir;
    };
    const publishDir = (dir: string, commit: string, extra: Partial<Parameters<typeof publish>[0]> = {}) =>
      publish({ store, service: 'lms', dir, source: { commit, branch: 'master' }, ancestry: gitAncestry(repo.dir), ...extra });

    beforeAll(async () => {
      ({ store, log } = await backend.open());
      repo = await makeLinearRepo(5);
    });
    afterAll(async () => {
      await store.close();
      await backend.cleanup();
      await Promise.all([repo.dir, ...temps].map((dir) => rm(dir, { recursive: true, force: true })));
    });

    test('round trip: publish, resolve by branch and by descendant commit, pull byte-identical files', async () => {
      const files = sampleDump('v1');
      const dir = await makeDumpDir(files);
      temps.push(dir);
      const published = await publishDir(dir, repo.commits[1]!);
      expect(published).toMatchObject({ versionCreated: true, changed: true, blobsUploaded: 4, ref: { outcome: 'created' } });
      expect(published.warnings).toEqual([]);

      const byBranch = await resolve({ store, service: 'lms', branch: 'master' });
      expect(byBranch).toMatchObject({ commit: repo.commits[1], version: published.version, distance: 0 });
      const byDescendant = await resolve({ store, service: 'lms', commit: repo.commits[4]!, repoDir: repo.dir });
      expect(byDescendant).toMatchObject({ requested: repo.commits[4], commit: repo.commits[1], version: published.version, distance: 3 });
      await expect(resolve({ store, service: 'lms', commit: repo.commits[0]!, repoDir: repo.dir })).rejects.toThrow(NotFoundError);

      const out = path.join(await temp('dv-out-'), 'pulled');
      const pulled = await pull({ store, service: 'lms', commit: repo.commits[1]!, out });
      expect(pulled.version).toBe(published.version);
      for (const [relative, content] of Object.entries(files)) {
        expect(await readFile(path.join(out, relative))).toEqual(Buffer.from(content));
      }
      expect((await readdir(path.dirname(out))).filter((name) => name.includes('.partial-'))).toEqual([]);
      expect(await verify({ store })).toMatchObject({ ok: true, services: ['lms'], checked: { versions: 1, commits: 1, refs: 1, blobs: 4 } });
    });

    test('publishing identical content again uploads zero blobs', async () => {
      const dir = await makeDumpDir(sampleDump('same'));
      temps.push(dir);
      const first = await publishDir(dir, repo.commits[2]!);
      expect(first.blobsUploaded).toBe(4);
      log.reset();
      const again = await publishDir(dir, repo.commits[3]!);
      expect(again).toMatchObject({ version: first.version, blobsUploaded: 0, versionCreated: false, changed: false, ref: { outcome: 'advanced' } });
      if (backend.name === 's3') {
        expect(log.writtenKeys.filter((key) => key.includes('/blobs/'))).toEqual([]);
        // Only the commit index entry and the ref are written, under a publish lease (it reuses stored
        // objects, leases.ts); one HEAD per blob (a re-publish repairs a blob missing from the store)
        // and the one asking whether a prune holds its lease.
        expect(log.writtenKeys.map((key) => key.split('/').slice(-2, -1)[0])).toEqual(['locks', 'commits', 'refs']);
        expect(log.commands.HeadObject ?? 0).toBe(first.files.length + 1);
        expect(log.commands.DeleteObjects ?? 0).toBe(1);
        expect((log.commands.UploadPart ?? 0) + (log.commands.CreateMultipartUpload ?? 0)).toBe(0);
      }
      log.reset();
      const rerun = await publishDir(dir, repo.commits[3]!);
      expect(rerun).toMatchObject({ blobsUploaded: 0, ref: { outcome: 'unchanged' } });
      if (backend.name === 's3') expect(log.writtenKeys).toEqual([]);
    });

    test('files with the same content store one blob, and a first publish of them reuses nothing (no lease)', async () => {
      const empty = '';
      const dir = await makeDumpDir({ 'mongo/shop/a.bson': empty, 'mongo/shop/b.bson': empty, 'mongo/shop/c.bson': empty, 'mysql/shop.sql': 'CREATE TABLE t (id int);\n' });
      temps.push(dir);
      log.reset();
      const published = await publishDir(dir, repo.commits[0]!, { service: 'dedupe' });
      expect(published.blobsUploaded).toBe(2);
      expect(new Set(published.files.filter((file) => file.path.endsWith('.bson')).map((file) => file.sha256)).size).toBe(1);
      // Nothing was in the store: no lease (its write and delete), blobs written once each.
      if (backend.name === 's3') {
        expect(log.writtenKeys.filter((key) => key.includes('/locks/'))).toEqual([]);
        expect(log.writtenKeys.filter((key) => key.includes('/blobs/'))).toHaveLength(2);
      }
      expect((await verify({ store, service: 'dedupe' })).problems).toEqual([]);
    });

    test('changing the compression re-uploads nothing: unchanged files keep their blobs, new files use the new one', async () => {
      const service = 'recompress';
      const files = sampleDump('recompress');
      const dir = await makeDumpDir(files);
      temps.push(dir);
      const source = (i: number) => ({ commit: repo.commits[i]!, branch: 'master' });
      const ancestry = gitAncestry(repo.dir);
      const gzipped = await publish({ store, service, dir, source: source(1), ancestry, compression: 'gzip' });
      expect(gzipped.files.map((file) => file.compression)).toEqual(['gzip', 'gzip', 'gzip', 'gzip']);
      const same = await publish({ store, service, dir, source: source(2), ancestry });
      expect(same).toMatchObject({ version: gzipped.version, blobsUploaded: 0, files: gzipped.files });
      const changed = await makeDumpDir({ ...files, 'mysql/app.sql': 'CREATE TABLE changed (id int);\n' });
      temps.push(changed);
      const mixed = await publish({ store, service, dir: changed, source: source(3), ancestry });
      expect(mixed.blobsUploaded).toBe(1);
      expect(Object.fromEntries(mixed.files.map((file) => [file.path, file.compression]))).toEqual({
        'mongo/app/things.bson': 'gzip',
        'mongo/app/things.metadata.json': 'gzip',
        'mysql/app.schema.json': 'gzip',
        'mysql/app.sql': 'brotli',
      });
      const out = path.join(await temp('dv-out-'), 'pulled');
      await pull({ store, service, commit: repo.commits[3]!, out });
      expect((await readFile(path.join(out, 'mysql/app.sql'))).toString()).toBe('CREATE TABLE changed (id int);\n');
      expect(await readFile(path.join(out, 'mongo/app/things.bson'))).toEqual(files['mongo/app/things.bson']);
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('a flipped byte in a blob makes pull fail naming the file, and verify reports it', async () => {
      for (const compression of ['brotli', 'gzip', 'none'] as const) {
        const service = `tamper-${compression}`;
        const dir = await makeDumpDir({ 'mysql/shop.sql': `CREATE TABLE orders_${compression} (id int);\n`.repeat(50) });
        temps.push(dir);
        const published = await publish({ store, service, dir, compression, source: { commit: repo.commits[1]!, branch: 'master' }, ancestry: gitAncestry(repo.dir) });
        const file = published.files[0]!;
        const key = `${service}/blobs/sha256/${file.sha256}${{ brotli: '.br', gzip: '.gz', none: '' }[compression]}`;
        const original = (await store.get(key))!;
        const flipped = Buffer.from(original.body);
        flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
        expect(await store.putIfMatch(key, flipped, original.etag)).toBe('written');

        const out = path.join(await temp('dv-out-'), 'pulled');
        const failure = pull({ store, service, version: published.version, out });
        await expect(failure).rejects.toThrow(IntegrityError);
        await expect(failure).rejects.toThrow('mysql/shop.sql');
        expect(existsSync(out)).toBe(false);
        const report = await verify({ store, service });
        expect(report.ok).toBe(false);
        expect(report.problems.map((problem) => problem.message).join('\n')).toContain('mysql/shop.sql');
      }
    });

    test('traversal names are rejected at publish (symlinks, stray files) and at pull (crafted manifest)', async () => {
      const outside = await temp('dv-outside-');
      const linked = await makeDumpDir({ 'mysql/app.sql': 'x' });
      temps.push(linked);
      await symlink(outside, path.join(linked, 'mongo'));
      await expect(publishDir(linked, repo.commits[4]!)).rejects.toThrow(/mongo is not a regular file/);
      const stray = await makeDumpDir({ 'mysql/app.sql': 'x', 'notes.txt': 'y' });
      temps.push(stray);
      await expect(publishDir(stray, repo.commits[4]!)).rejects.toThrow(InvalidInputError);

      for (const evil of ['../../escape.sql', 'mysql/../../escape.sql', '/tmp/escape.sql']) {
        const files = [{ path: evil, sha256: 'a'.repeat(64), size: 1, kind: 'mysql' as const, database: 'escape', compression: 'none' as const }];
        const version = computeVersion(files);
        const manifest = { schemaVersion: SCHEMA_VERSION, service: 'lms', version, files, source: { commit: repo.commits[0]! }, tool: { name: 'evil', version: '1' }, createdAt: 'x' } as VersionManifest;
        await store.putIfAbsent(`lms/versions/${version}.json`, Buffer.from(encodeManifest(manifest)));
        const out = path.join(await temp('dv-out-'), 'pulled');
        const failure = pull({ store, service: 'lms', version, out });
        await expect(failure).rejects.toThrow(ManifestError);
        await expect(failure).rejects.toThrow(JSON.stringify(evil));
        expect(existsSync(out)).toBe(false);
        expect(existsSync(path.join(path.dirname(out), 'escape.sql'))).toBe(false);
      }
    });

    test('unknown version and commit get one clear error; nothing is written', async () => {
      const out = path.join(await temp('dv-out-'), 'pulled');
      await expect(pull({ store, service: 'lms', version: 'f'.repeat(64), out })).rejects.toThrow(/version f{64} of service lms is not in/);
      await expect(pull({ store, service: 'lms', commit: 'e'.repeat(40), out })).rejects.toThrow(/commit e{40} of service lms has no published dump/);
      // The branches that have dumps are named (asking for `main` where `master` was published is the usual slip).
      await expect(resolve({ store, service: 'lms', branch: 'nope' })).rejects.toThrow(/no dump was published for branch nope of service lms in .* \(branches with dumps: [^)]*\bmaster\b[^)]*\); publish one or check the branch name/);
      expect(existsSync(out)).toBe(false);
    });
  });
}
