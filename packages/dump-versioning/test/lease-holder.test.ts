import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileSystemStore } from '../src/internal/fs-store.js';
import { currentHolder, holderGone, holderOf, type Holder } from '../src/internal/holder.js';
import { acquirePruneLease, acquirePublishLease, activePublishLeases } from '../src/internal/leases.js';
import { prune } from '../src/internal/prune.js';
import { layout } from '../src/internal/store.js';

// Leases and locks record their holder: one of this machine whose process ended (Ctrl-C before the
// fix, SIGKILL, a cancelled workflow) must not block others for the lease's lifetime.

/** The pid of a process that has ended (reuse within a test run is not a concern). */
const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
const here = currentHolder();
const killed: Holder = { ...here, pid: deadPid };
delete killed.processStart;

describe('holderGone', () => {
  test.each<[string, Holder | undefined, boolean]>([
    ['this process', here, false],
    // Where there is no boot id (macOS) nothing tells this machine from another named alike: never judged gone.
    ['a process of this host that ended', killed, here.bootId !== undefined],
    // A live pid that now belongs to another process (Linux: its start time differs); elsewhere it cannot be told.
    ['this pid with another start time (a reused pid)', { ...here, processStart: '1' }, process.platform === 'linux'],
    ['an ended pid of another host', { ...killed, host: 'elsewhere.example' }, false],
    ['an ended pid of another pid namespace (a container named like this host)', { ...killed, pidNamespace: 'pid:[1]' }, false],
    // Runners made from one image share a host name and the initial pid namespace's id: only the boot id differs.
    ['an ended pid of another machine with this host name (another boot id)', { ...killed, bootId: '00000000-0000-0000-0000-000000000000' }, false],
    ['an ended pid with no boot id recorded', (({ bootId: _, ...rest }) => rest)(killed), false],
    ['no holder recorded', undefined, false],
  ])('%s', (_, holder, gone) => {
    expect(holderGone(holder)).toBe(gone);
  });

  test.each<[string, string, boolean]>([
    ['a lease body', JSON.stringify({ kind: 'prune', id: 'x', host: 'h', pid: 12 }), true],
    ['a bare token (a lock of an older version)', 'c0ffee\n', false],
    ['pid 0 (would signal the process group)', JSON.stringify({ host: 'h', pid: 0 }), false],
    ['a pid that is not a number', JSON.stringify({ host: 'h', pid: '12' }), false],
  ])('holderOf %s', (_, body, found) => {
    expect(holderOf(Buffer.from(body)) !== undefined).toBe(found);
  });
});

describe('leases left by a process of this host that ended', () => {
  let root: string;
  let store: FileSystemStore;
  let round = 0;
  let service: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-lease-holder-'));
    store = new FileSystemStore(root);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** Writes a lease at `key` as a process with `holder` would have, just now. */
  const plant = async (key: string, holder: object) => {
    const file = path.join(root, ...key.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ kind: 'planted', id: key, ...holder, startedAt: new Date().toISOString() })}\n`);
  };
  const leaseFiles = async () => (await readdir(path.join(root, service, 'locks')).catch(() => [])).sort();
  const next = () => (service = `holder-${round++}`);

  test('a fresh prune lease of a killed prune is taken over at once', async () => {
    next();
    await plant(layout.pruneLease(service), killed);
    const lease = await acquirePruneLease(store, service);
    await lease.assertHeld();
    await lease.release();
    expect(await leaseFiles()).toEqual([]);
  });

  test.each<[string, object]>([
    ['a live process of this host', here],
    ['another host', { ...killed, host: 'elsewhere.example' }],
    ['no recorded holder', {}],
  ])('a fresh prune lease of %s still keeps another prune out', async (_, holder) => {
    next();
    await plant(layout.pruneLease(service), holder);
    await expect(acquirePruneLease(store, service)).rejects.toMatchObject({ code: 'prune-running', fatal: false });
  });

  test('a publish lease of a killed publish is not active and is deleted; a live one stays active', async () => {
    next();
    const dead = layout.publishLease(service, 'killed');
    await plant(dead, killed);
    const live = await acquirePublishLease(store, service);
    const active = await activePublishLeases(store, service);
    expect(active).toHaveLength(1);
    expect(active[0]).not.toBe(dead);
    expect(await store.exists(dead)).toBe(false);
    await live.release();
  });

  test('prune --yes goes ahead at once past the lease of a killed publish', async () => {
    next();
    await plant(layout.publishLease(service, 'killed'), killed);
    // Before: it waited publishWaitMs, then refused with publish-running.
    const result = await prune({ store, service, keep: 1, yes: true, leases: { pollMs: 20, publishWaitMs: 2_000 } });
    expect(result.dryRun).toBe(false);
    expect(await leaseFiles()).toEqual([]);
  });

  test('a publish does not wait for the prune lease of a killed prune', { timeout: 5_000 }, async () => {
    next();
    await plant(layout.pruneLease(service), killed);
    const told: string[] = [];
    const started = Date.now();
    const lease = await acquirePublishLease(store, service, { pruneLeaseMs: 60_000, pollMs: 20 }, (message) => told.push(message));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(told).toEqual([]);
    await lease.release();
  });

  test('a publish waiting for a live prune stops when aborted, rejecting with the reason and deleting its lease', async () => {
    next();
    const pruneLease = await acquirePruneLease(store, service);
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    const acquiring = acquirePublishLease(store, service, { pollMs: 20 }, () => setTimeout(() => controller.abort(reason), 50), controller.signal);
    await expect(acquiring).rejects.toBe(reason);
    expect(await leaseFiles()).toEqual(['prune.json']);
    await pruneLease.release();
  });

  test('a prune waiting for a live publish stops when aborted, rejecting with the reason and releasing its lease', async () => {
    next();
    const publishLease = await acquirePublishLease(store, service);
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    await expect(prune({ store, service, keep: 1, yes: true, leases: { pollMs: 20, publishWaitMs: 10_000 }, signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await leaseFiles()).filter((name) => name === 'prune.json')).toEqual([]);
    await publishLease.release();
  });
});
