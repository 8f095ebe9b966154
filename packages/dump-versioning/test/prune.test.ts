import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { list, openStore, prune, publish, verify, type PublishResult, type Store } from '../src/index.js';
import { layout, parseBlobKey } from '../src/internal/store.js';
import { makeDumpDir } from './support.js';

// Retention on a filesystem store (no servers): object ages come from file mtimes, which utimes sets.
const DAY = 86_400_000;
const HOUR = 3_600_000;
const commits = Array.from({ length: 8 }, (_, i) => String(i + 1).repeat(40));
const linear = async (ancestor: string, descendant: string) => commits.indexOf(ancestor) <= commits.indexOf(descendant);

describe('prune on a filesystem store', () => {
  let root: string;
  let store: Store;
  const temps: string[] = [];
  let round = 0;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-prune-unit-'));
    store = openStore(root);
  });
  afterAll(async () => {
    await store.close();
    await Promise.all([root, ...temps].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const dumpDir = async (label: string) => {
    const dir = await makeDumpDir({ 'mysql/app.sql': `CREATE TABLE ${label} (id int);\n` });
    temps.push(dir);
    return dir;
  };
  /** Sets the mtime of every stored object of `service` to `ms` ago, as if it had been written then. */
  const age = async (service: string, ms: number) => {
    const when = new Date(Date.now() - ms);
    const files = (await readdir(path.join(root, service), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    await Promise.all(files.map((entry) => utimes(path.join(entry.parentPath, entry.name), when, when)));
  };
  /** `count` versions of `service` on master, published (createdAt) 40 days ago a minute apart, oldest first; all stored 2 days ago. */
  const publishOld = async (service: string, count: number) => {
    const published: PublishResult[] = [];
    for (let i = 0; i < count; i++) {
      const now = () => new Date(Date.now() - 40 * DAY + i * 60_000);
      published.push(await publish({ store, service, dir: await dumpDir(`${service}_${i}`), source: { commit: commits[i]!, branch: 'master' }, ancestry: linear, now }));
    }
    await age(service, 2 * DAY);
    return published;
  };

  test.each([1, 2, 3])('keep %i keeps exactly that many newest versions of the branch (by createdAt) and plans to delete the older ones', async (keep) => {
    const service = `keep-${round++}`;
    const published = await publishOld(service, 4);
    const newest = published.slice(-keep);
    const older = published.slice(0, -keep);
    const plan = await prune({ store, service, keep });
    expect(plan.dryRun).toBe(true);
    expect(plan.keptVersions).toEqual(newest.map((result) => result.version).sort());
    expect([...plan.deleted.versions].sort()).toEqual(older.map((result) => layout.version(service, result.version)).sort());
    expect([...plan.deleted.commits].sort()).toEqual(older.map((result) => layout.commit(service, result.commit)).sort());
    expect([...plan.deleted.blobs].sort()).toEqual(older.map((result) => layout.blob(service, result.files[0]!.sha256, result.files[0]!.compression)).sort());

    const done = await prune({ store, service, keep, yes: true });
    expect(done.deleted).toEqual(plan.deleted);
    expect((await list({ store, service })).versions.map((version) => version.version).sort()).toEqual(plan.keptVersions);
    expect((await verify({ store, service })).problems).toEqual([]);
  });

  test('keep orders a branch by commit time: an older commit published last is not the newest version', async () => {
    const service = `commit-order-${round++}`;
    const at = (days: number) => () => new Date(Date.now() - days * DAY);
    const publishAt = async (index: number, commitTime: string, published: number) =>
      publish({ store, service, dir: await dumpDir(`${service}_${index}`), source: { commit: commits[index]!, branch: 'master', commitTime }, ancestry: linear, now: at(published) });
    // Commit 2 (newest in history) published 40 days ago; commit 1 (older) published later, 39 days ago,
    // by a run that finished late; times with different offsets compare as instants.
    const newer = await publishAt(2, '2026-01-01T23:30:00-02:00', 40);
    const older = await publishAt(1, '2026-01-02T00:30:00+02:00', 39);
    await age(service, 2 * DAY);
    const plan = await prune({ store, service, keep: 1 });
    // The ref stays at the newer commit (the late run did not move it); keep 1 keeps that version only.
    expect(plan.keptVersions).toEqual([newer.version]);
    expect(plan.deleted.versions).toEqual([layout.version(service, older.version)]);
  });

  test('a commit entry written within the grace period keeps its version even when its createdAt is old', async () => {
    const service = `young-entry-${round++}`;
    const [first, second] = await publishOld(service, 2);
    let plan: Awaited<ReturnType<typeof prune>> | undefined;
    // A run that started 41 days ago (oldest createdAt) writes its commit entry now; prune runs before its ref moves.
    const late = await publish({
      store,
      service,
      dir: await dumpDir(`${service}_late`),
      source: { commit: commits[2]!, branch: 'master' },
      ancestry: linear,
      now: () => new Date(Date.now() - 41 * DAY),
      afterStep: async (step) => {
        if (step === 'commit') plan = await prune({ store, service, keep: 1 });
      },
    });
    expect(plan!.keptVersions).toEqual([second!.version, late.version].sort());
    expect(plan!.deleted.commits).toEqual([layout.commit(service, first!.commit)]);
    expect(plan!.deleted.versions).toEqual([layout.version(service, first!.version)]);
  });

  test('an unreferenced blob younger than the grace period survives prune; once older than it, it is deleted', async () => {
    const service = `orphan-${round++}`;
    // A publish that crashed after uploading its blobs leaves them unreferenced (no manifest names them).
    const crash = new Error('crash after blobs');
    await expect(
      publish({
        store,
        service,
        dir: await dumpDir(`${service}_crashed`),
        source: { commit: commits[0]!, branch: 'master' },
        ancestry: linear,
        afterStep: (step) => {
          if (step === 'blobs') throw crash;
        },
      }),
    ).rejects.toBe(crash);
    const blobs: string[] = [];
    for await (const object of store.list(layout.blobsPrefix(service))) if (parseBlobKey(object.key)) blobs.push(object.key);
    expect(blobs).toHaveLength(1);

    const fresh = await prune({ store, service, keep: 1, graceMs: HOUR, yes: true });
    expect(fresh.deleted.blobs).toEqual([]);
    expect(await store.exists(blobs[0]!)).toBe(true);

    await age(service, 2 * HOUR);
    const plan = await prune({ store, service, keep: 1, graceMs: HOUR });
    expect(plan.deleted.blobs).toEqual(blobs);
    await prune({ store, service, keep: 1, graceMs: HOUR, yes: true });
    expect(await store.exists(blobs[0]!)).toBe(false);
  });
});
