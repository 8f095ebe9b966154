import { expect, test } from 'vitest';
import {
  IntegrityError,
  computeVersion,
  fingerprintMigrations,
  gitAncestry,
  prune,
  publish,
  readCommitEntry,
  readManifest,
  readMigrations,
  resolve,
  verify,
  type MigrationRecord,
  type MigrationsInfo,
} from '../src/index.js';
import { backends, describeBackend, sampleDump, useBackendFixture } from './support.js';

const DAY = 86_400_000;

/** `count` Django-like migrations over ten apps, all applied. */
function migrationsOf(count: number): MigrationsInfo {
  const records: MigrationRecord[] = Array.from({ length: count }, (_, i) => ({
    app: `app_${i % 10}`,
    name: `${String(Math.floor(i / 10) + 1).padStart(4, '0')}_alter_field_number_${i}`,
    sha256: (i + 1).toString(16).padStart(64, '0'),
  }));
  return { fingerprint: fingerprintMigrations(records), applied: records.map((record) => `${record.app}.${record.name}`) };
}

for (const backend of backends) {
  describeBackend(backend, 'migrations records', () => {
    const fixture = useBackendFixture(backend, 5);
    const dumpDir = (label: string) => fixture.dumpDir(sampleDump(label));
    const storedText = async (key: string) => (await fixture.store.get(key))?.body.toString('utf8');

    test('a 200-migration record is stored once and named by digest; resolve and readCommitEntry load it', async () => {
      const { store, log, repo } = fixture;
      const service = 'big';
      const ancestry = gitAncestry(repo.dir);
      const migrations = migrationsOf(200);
      const same = await dumpDir('same');
      const first = await publish({ store, service, dir: same, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry, migrations });
      expect(first.migrationsRecord).toEqual({ key: expect.stringMatching(/^big\/migrations\/sha256\/[0-9a-f]{64}\.json$/), created: true });
      const entryText = (await storedText(`${service}/commits/${repo.commits[0]}.json`))!;
      expect(entryText.length).toBeLessThan(1024);
      expect(JSON.parse(entryText)).toMatchObject({ schemaVersion: 2, migrationsRecord: { overall: migrations.fingerprint.overall } });
      expect(JSON.parse(entryText)).not.toHaveProperty('migrations');
      expect((await storedText(first.migrationsRecord!.key))!.length).toBeGreaterThan(200 * 80);

      expect((await readCommitEntry(store, service, repo.commits[0]!))?.migrations).toEqual(migrations);
      expect((await resolve({ store, service, branch: 'master' })).entry.migrations).toEqual(migrations);
      expect((await resolve({ store, service, commit: repo.commits[2]!, repoDir: repo.dir })).entry.migrations).toEqual(migrations);
      const manifest = await readManifest(store, service, first.version);
      expect(manifest.migrations).toBeUndefined();
      expect(await readMigrations(store, service, manifest)).toEqual(migrations);

      // No change at a new commit: only the commit entry and the ref are written (under a publish lease).
      log.reset();
      const again = await publish({ store, service, dir: same, source: { commit: repo.commits[1]!, branch: 'master' }, ancestry, migrations });
      expect(again).toMatchObject({ version: first.version, blobsUploaded: 0, migrationsRecord: { key: first.migrationsRecord!.key, created: false }, ref: { outcome: 'advanced' } });
      if (backend.name === 's3') {
        expect(log.writtenKeys.map((key) => key.split('/').slice(-2, -1)[0])).toEqual(['locks', 'commits', 'refs']);
        // One per blob and the record (a re-publish repairs what is missing), and: does a prune hold its lease?
        expect(log.commands.HeadObject ?? 0).toBe(first.files.length + 2);
      }
      // New dump, same migrations: the record is not written again.
      const changedDump = await publish({ store, service, dir: await dumpDir('other'), source: { commit: repo.commits[2]!, branch: 'master' }, ancestry, migrations });
      expect(changedDump.migrationsRecord).toEqual({ key: first.migrationsRecord!.key, created: false });
      // Same dump, one more migration: a new record, and the commit names it.
      const more = migrationsOf(201);
      const added = await publish({ store, service, dir: await dumpDir('other'), source: { commit: repo.commits[3]!, branch: 'master' }, ancestry, migrations: more });
      expect(added).toMatchObject({ version: changedDump.version, migrationsRecord: { created: true } });
      expect(added.migrationsRecord!.key).not.toBe(first.migrationsRecord!.key);
      expect((await resolve({ store, service, branch: 'master' })).entry.migrations).toEqual(more);
      expect((await resolve({ store, service, commit: repo.commits[2]!, repoDir: repo.dir })).entry.migrations).toEqual(migrations);

      const report = await verify({ store, service });
      expect(report.problems).toEqual([]);
      expect(report.checked).toMatchObject({ versions: 2, commits: 4, migrations: 2 });
    });

    test('a store written in schemaVersion 1 (inline migrations) stays readable, verifiable and publishable', async () => {
      const { store, repo } = fixture;
      const service = 'legacy';
      const ancestry = gitAncestry(repo.dir);
      const migrations = migrationsOf(12);
      const dir = await dumpDir('legacy');
      // gzip blobs and inline migrations, as the previous release wrote them.
      const published = await publish({ store, service, dir, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry, compression: 'gzip' });
      const asV1 = async (key: string, extra: object) => {
        const current = (await store.get(key))!;
        const document = { ...JSON.parse(current.body.toString('utf8')), schemaVersion: 1, ...extra };
        expect(await store.putIfMatch(key, Buffer.from(JSON.stringify(document, null, 2)), current.etag)).toBe('written');
      };
      await asV1(`${service}/versions/${published.version}.json`, { migrations });
      await asV1(`${service}/commits/${repo.commits[0]}.json`, { migrations });
      await asV1(`${service}/refs/master.json`, {});

      const resolved = await resolve({ store, service, branch: 'master' });
      expect(resolved.entry).toMatchObject({ schemaVersion: 1, migrations });
      expect(await readMigrations(store, service, await readManifest(store, service, published.version))).toEqual(migrations);
      expect((await verify({ store, service })).problems).toEqual([]);

      const next = await publish({ store, service, dir, source: { commit: repo.commits[1]!, branch: 'master' }, ancestry, migrations });
      expect(next).toMatchObject({ version: published.version, blobsUploaded: 0, ref: { outcome: 'advanced' }, migrationsRecord: { created: true } });
      expect((await resolve({ store, service, branch: 'master' })).entry).toMatchObject({ schemaVersion: 2, migrations });
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('verify and resolve report a missing or altered migrations record, naming it', async () => {
      const { store, repo } = fixture;
      const service = 'damaged';
      const ancestry = gitAncestry(repo.dir);
      const published = await publish({ store, service, dir: await dumpDir('damaged'), source: { commit: repo.commits[0]!, branch: 'master' }, ancestry, migrations: migrationsOf(20) });
      const key = published.migrationsRecord!.key;
      const original = (await store.get(key))!;
      const altered = Buffer.from(original.body.toString('utf8').replace('alter_field_number_3', 'alter_field_number_X'));
      expect(await store.putIfMatch(key, altered, original.etag)).toBe('written');
      const tampered = await verify({ store, service });
      expect(tampered.problems).toEqual([{ service, key, code: 'migrations-mismatch', message: expect.stringContaining(key) }]);
      await expect(resolve({ store, service, branch: 'master' })).rejects.toThrow(IntegrityError);

      await store.delete([key]);
      const missing = await verify({ store, service });
      expect(missing.problems.map((problem) => [problem.key, problem.code])).toEqual([
        [`${service}/versions/${published.version}.json`, 'migrations-missing'],
        [`${service}/commits/${repo.commits[0]}.json`, 'migrations-missing'],
      ]);
      await expect(readCommitEntry(store, service, repo.commits[0]!)).rejects.toThrow(new RegExp(`migrations record .*${key.replace(/[/.]/g, '\\$&')} .* is missing`));
      // Existence is checked even without hashing.
      expect((await verify({ store, service, hashes: false })).problems.map((problem) => problem.code)).toEqual(['migrations-missing', 'migrations-missing']);
    });

    test('prune deletes records only pruned documents named, and keeps every record a kept document names', async () => {
      const { store, repo } = fixture;
      const service = 'retained';
      const ancestry = gitAncestry(repo.dir);
      const published = [];
      for (let i = 0; i < 4; i++) {
        const now = () => new Date(Date.now() - 30 * DAY + i * 1000);
        published.push(await publish({ store, service, dir: await dumpDir(`ret-${i}`), source: { commit: repo.commits[i]!, branch: 'master' }, ancestry, migrations: migrationsOf(10 + i), now }));
      }
      // Commit 4: the same dump as commit 3 with the same migrations as commit 2, so commit 2's record stays named.
      await publish({ store, service, dir: await dumpDir('ret-3'), source: { commit: repo.commits[4]!, branch: 'master' }, ancestry, migrations: migrationsOf(12), now: () => new Date(Date.now() - 29 * DAY) });
      const done = await prune({ store, service, keep: 1, graceMs: 0, yes: true });
      expect(done.keptVersions).toEqual([published[3]!.version]);
      expect(done.deleted.migrations.sort()).toEqual([published[0]!.migrationsRecord!.key, published[1]!.migrationsRecord!.key].sort());
      expect((await verify({ store, service })).problems).toEqual([]);
      expect((await readCommitEntry(store, service, repo.commits[4]!))?.migrations).toEqual(migrationsOf(12));
      expect(computeVersion((await readManifest(store, service, published[3]!.version)).files)).toBe(published[3]!.version);
    });
  });
}
