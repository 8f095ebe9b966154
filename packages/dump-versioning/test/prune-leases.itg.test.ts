import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, expect, test } from 'vitest';
import { gitAncestry, list, prune, publish, verify, type PublishResult } from '../src/index.js';
import { acquirePruneLease, acquirePublishLease, activePublishLeases } from '../src/internal/leases.js';
import { layout } from '../src/internal/store.js';
import { backends, describeBackend, useBackendFixture } from './support.js';

const DAY = 86_400_000;
const fast = { pollMs: 20, publishWaitMs: 300 };

for (const backend of backends) {
  describeBackend(backend, 'prune and publishes that reuse unreferenced objects (leases)', () => {
    const fixture = useBackendFixture(backend, 4);
    let service: string;
    let old: { dir: string; result: PublishResult };
    let round = 0;

    // Per test: version "old" (30 days ago, commit 0) then "new" (commit 1) on master, so retention
    // with keep=1 deletes old's manifest, commit entry and its own blob: orphans a publish may reuse.
    beforeEach(async () => {
      service = `lease-${round++}`;
      const { store, repo } = fixture;
      const ancestry = gitAncestry(repo.dir);
      const dir = await fixture.dumpDir({ 'mysql/app.sql': `CREATE TABLE old_${round} (id int);\n` });
      const result = await publish({ store, service, dir, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry, now: () => new Date(Date.now() - 30 * DAY) });
      old = { dir, result };
      const fresh = await fixture.dumpDir({ 'mysql/app.sql': `CREATE TABLE new_${round} (id int);\n` });
      await publish({ store, service, dir: fresh, source: { commit: repo.commits[1]!, branch: 'master' }, ancestry, now: () => new Date(Date.now() - 29 * DAY) });
    });

    const republishOld = (options: { afterStep?: Parameters<typeof publish>[0]['afterStep'] } = {}) =>
      publish({ store: fixture.store, service, dir: old.dir, source: { commit: fixture.repo.commits[2]!, branch: 'master' }, ancestry: gitAncestry(fixture.repo.dir), leases: { pollMs: 20 }, ...options });

    test('a publish whose reused blob and manifest a prune deleted meanwhile re-creates them before naming them', async () => {
      const { store } = fixture;
      let pruned: Awaited<ReturnType<typeof prune>> | undefined;
      const result = await republishOld({
        // The prune runs after the publish found the old blob and manifest stored, before its lease.
        afterStep: async (step) => {
          if (step === 'version') pruned = await prune({ store, service, keep: 1, graceMs: 0, yes: true });
        },
      });
      expect(pruned!.deleted.versions).toEqual([layout.version(service, old.result.version)]);
      expect(pruned!.deleted.blobs).toHaveLength(1);
      expect(result).toMatchObject({ version: old.result.version, blobsUploaded: 0, ref: { outcome: 'advanced' } });
      expect(await store.exists(pruned!.deleted.blobs[0]!)).toBe(true);
      expect(await store.exists(layout.version(service, old.result.version))).toBe(true);
      expect((await verify({ store, service })).problems).toEqual([]);
      // The lease is released once the ref is written.
      expect((await list({ store, service })).versions.map((version) => version.version)).toContain(old.result.version);
      expect(await leaseKeys(service)).toEqual([]);
    });

    test('prune deletes nothing while a publish holds a lease, and deletes once it is released', async () => {
      const { store } = fixture;
      const lease = await acquirePublishLease(store, service);
      await expect(prune({ store, service, keep: 1, graceMs: 0, yes: true, leases: fast })).rejects.toMatchObject({ code: 'publish-running', fatal: false });
      expect(await store.exists(layout.version(service, old.result.version))).toBe(true);
      expect(await leaseKeys(service)).toHaveLength(1); // the prune released its own lease
      await lease.release();
      const done = await prune({ store, service, keep: 1, graceMs: 0, yes: true, leases: fast });
      expect(done.deleted.versions).toEqual([layout.version(service, old.result.version)]);
      expect(await leaseKeys(service)).toEqual([]);
    });

    test('a publish that reuses an orphan waits for a running prune before checking it again', async () => {
      const { store } = fixture;
      const lease = await acquirePruneLease(store, service);
      let settled = false;
      const publishing = republishOld().finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(settled).toBe(false);
      // What the running prune deletes before it releases its lease is re-created by the waiting publish.
      await store.delete([layout.version(service, old.result.version)]);
      await lease.release();
      expect(await publishing).toMatchObject({ version: old.result.version, ref: { outcome: 'advanced' } });
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('a second prune is refused while one holds the lease; a stale lease is taken over', async () => {
      const { store } = fixture;
      const lease = await acquirePruneLease(store, service);
      await expect(prune({ store, service, keep: 1, graceMs: 0, yes: true })).rejects.toMatchObject({ code: 'prune-running', fatal: false });
      // A dry run takes no lease.
      expect((await prune({ store, service, keep: 1, graceMs: 0 })).dryRun).toBe(true);
      // Ten minutes later the lease is stale (its prune crashed): the next prune takes it over.
      const later = { ...fast, now: () => Date.now() + 10 * 60_000 };
      const done = await prune({ store, service, keep: 1, graceMs: 0, yes: true, leases: later });
      expect(done.deleted.versions).toHaveLength(1);
      expect(await leaseKeys(service)).toEqual([]);
      // The slow prune whose lease was taken over finds out before deleting anything, and leaves the lease alone.
      await expect(lease.assertHeld()).rejects.toMatchObject({ code: 'prune-lease-lost', fatal: false });
      await lease.release();
    });

    test('a prune that starts while such a publish holds its lease plans only after the publish named its objects', async () => {
      const { store } = fixture;
      let pruning: Promise<Awaited<ReturnType<typeof prune>>> | undefined;
      const result = await republishOld({
        // The publish holds its lease (it reused old's blob and manifest) and has not written its entry yet.
        afterStep: async (step) => {
          if (step !== 'checked') return;
          pruning = prune({ store, service, keep: 1, graceMs: 0, yes: true, leases: { pollMs: 20, publishWaitMs: 10_000 } });
          await new Promise((resolve) => setTimeout(resolve, 300));
        },
      });
      const pruned = await pruning!;
      // The ref now names old's version again: it is kept, and only the superseded one goes.
      expect(pruned.keptVersions).toContain(result.version);
      expect(pruned.deleted.versions).not.toContain(layout.version(service, result.version));
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('a publish that reuses only what the ref names keeps a prune off it until its ref is written, even when the ref moves', async () => {
      const { store, repo } = fixture;
      const ancestry = gitAncestry(repo.dir);
      // Ref at commit 0 with version A (published 30 days ago); this publish brings A again at commit 2.
      const own = `lease-ref-${round++}`;
      const dirA = await fixture.dumpDir({ 'mysql/app.sql': 'CREATE TABLE a (id int);\n' });
      const dirB = await fixture.dumpDir({ 'mysql/app.sql': 'CREATE TABLE b (id int);\n' });
      const a = await publish({ store, service: own, dir: dirA, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry, now: () => new Date(Date.now() - 30 * DAY) });
      let pruneOutcome: unknown;
      const result = await publish({
        store,
        service: own,
        dir: dirA,
        source: { commit: repo.commits[2]!, branch: 'master' },
        ancestry,
        // After this publish decided to reuse A's objects: another run moves the ref to B at commit 1,
        // then retention (keep 1) would delete A, which this publish is about to name again.
        afterStep: async (step) => {
          if (step !== 'checked') return;
          await publish({ store, service: own, dir: dirB, source: { commit: repo.commits[1]!, branch: 'master' }, ancestry, now: () => new Date(Date.now() - 29 * DAY) });
          pruneOutcome = await prune({ store, service: own, keep: 1, graceMs: 0, yes: true, leases: fast }).catch((error: unknown) => error);
        },
      });
      expect(pruneOutcome).toMatchObject({ code: 'publish-running' });
      expect(result).toMatchObject({ version: a.version, ref: { outcome: 'advanced' } });
      expect((await verify({ store, service: own })).problems).toEqual([]);
    });

    test("a publish of a commit whose old entry a prune deleted while the publish waited writes the entry again", async () => {
      const { store, repo } = fixture;
      const lease = await acquirePruneLease(store, service);
      // Commit 0 again, on a branch of its own: its entry, manifest and blob exist but are unkept on master.
      const publishing = publish({ store, service, dir: old.dir, source: { commit: repo.commits[0]!, branch: 'release' }, ancestry: gitAncestry(repo.dir), leases: { pollMs: 20 } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // What the running prune deletes: old's commit entry, manifest and blob.
      const blobs = old.result.files.map((file) => layout.blob(service, file.sha256, file.compression));
      await store.delete([layout.commit(service, repo.commits[0]!), layout.version(service, old.result.version), ...blobs]);
      await lease.release();
      expect(await publishing).toMatchObject({ version: old.result.version, ref: { outcome: 'created' } });
      expect(await store.exists(layout.commit(service, repo.commits[0]!))).toBe(true);
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('a held publish lease is renewed in place, so it never looks stale to a prune while held', async () => {
      const { store } = fixture;
      const short = { publishLeaseMs: 600 };
      const lease = await acquirePublishLease(store, service, short);
      const keys = await leaseKeys(service);
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await activePublishLeases(store, service, short)).toEqual(keys);
      }
      expect(() => lease.assertFresh()).not.toThrow();
      await lease.release();
      expect(await leaseKeys(service)).toEqual([]);
    });

    test('a publish waiting for a running prune says so once, with how long it may wait', async () => {
      const { store } = fixture;
      const prune = await acquirePruneLease(store, service);
      const told: string[] = [];
      const acquiring = acquirePublishLease(store, service, { pruneLeaseMs: 5_000, pollMs: 20 }, (message) => told.push(message));
      await new Promise((resolve) => setTimeout(resolve, 150));
      await prune.release();
      const lease = await acquiring;
      await lease.release();
      expect(told).toEqual([expect.stringMatching(new RegExp(`^waiting for a prune of ${service} \\(.*, held for \\d+ s\\) to finish; at most [1-5] s more`))]);
    });

    // Filesystem only: only there can a lease key exist without being listed.
    if (backend.name === 'filesystem') test('a publish waits for a prune lease at most a lease lifetime, even one no listing shows', async () => {
      // A directory where the prune lease belongs: it exists, but no listing shows it, so it never ages.
      await mkdir(path.join(fixture.store.location, ...layout.pruneLease(service).split('/'), 'in-the-way'), { recursive: true });
      const lease = await acquirePublishLease(fixture.store, service, { pruneLeaseMs: 300, pollMs: 20 });
      await lease.release();
      expect(await leaseKeys(service)).toEqual([]);
    });

    async function leaseKeys(name: string): Promise<string[]> {
      const keys: string[] = [];
      for await (const object of fixture.store.list(layout.leasesPrefix(name))) keys.push(object.key);
      return keys;
    }
  });
}
