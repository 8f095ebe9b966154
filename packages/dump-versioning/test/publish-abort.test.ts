import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fingerprintMigrations, openStore, prune, publish, readBranchRef, readCommitEntry, verify, type PublishStep, type Store } from '../src/index.js';
import { layout } from '../src/internal/store.js';
import { makeDumpDir, sampleDump } from './support.js';

// Ctrl-C (the CLI) or a cancelled workflow (the action) aborts a publish or prune: it stops at a safe
// point, releases its lease and rejects with the abort reason, and running it again completes the work.

const DAY = 86_400_000;
const c = (digit: string) => digit.repeat(40);
const migrationsAt = (i: number) => ({ fingerprint: fingerprintMigrations([{ app: 'shop', name: `000${i}_step`, sha256: String(i).repeat(64) }]) });

let root: string;
let store: Store;
const dirs: string[] = [];
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dv-abort-'));
  store = openStore(root);
});
afterAll(async () => {
  await store.close();
  await Promise.all([root, ...dirs].map((dir) => rm(dir, { recursive: true, force: true })));
});
const dump = async (files: Record<string, string | Buffer>) => {
  const dir = await makeDumpDir(files);
  dirs.push(dir);
  return dir;
};
const leases = async (service: string) => readdir(path.join(root, service, 'locks')).catch(() => []);

describe('an aborted publish', () => {
  // The second publish shares three files with the first (reused: it holds a lease from `version` on)
  // and creates one blob and a new migrations record.
  test.each<[PublishStep, 'stopped' | 'finished']>([
    ['blob', 'stopped'],
    ['blobs', 'stopped'],
    ['migrations', 'stopped'],
    ['version', 'stopped'],
    ['checked', 'stopped'],
    // From the commit entry on it finishes: the entry and the ref are written milliseconds apart.
    ['commit', 'finished'],
  ])('aborted after step %s: %s, lease released, store consistent, a re-run completes', async (step, outcome) => {
    const service = `abort-${step}`;
    const base = await publish({ store, service, dir: await dump(sampleDump('base')), source: { commit: c('1'), branch: 'master' }, ancestry: async () => true, migrations: migrationsAt(1) });
    const dir = await dump({ ...sampleDump('base'), 'mysql/app.sql': 'CREATE TABLE changed (id int);\n' });
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    const options = { store, service, dir, source: { commit: c('2'), branch: 'master' }, ancestry: async () => true, migrations: migrationsAt(2) };
    const aborted = publish({ ...options, signal: controller.signal, afterStep: (at) => (at === step ? controller.abort(reason) : undefined) });
    if (outcome === 'stopped') {
      await expect(aborted).rejects.toBe(reason);
      expect(await readCommitEntry(store, service, c('2'))).toBeUndefined();
      expect((await readBranchRef(store, service, 'master'))?.commit).toBe(c('1'));
    } else {
      expect(await aborted).toMatchObject({ ref: { outcome: 'advanced' } });
    }
    expect(await leases(service)).toEqual([]);
    expect((await verify({ store, service })).problems).toEqual([]);
    const again = await publish(options);
    expect(again.ref.outcome).toBe(outcome === 'stopped' ? 'advanced' : 'unchanged');
    expect(again.version).not.toBe(base.version);
    expect((await verify({ store, service })).problems).toEqual([]);
  });

  test('already aborted, it stores nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    controller.abort(reason);
    const service = 'abort-before';
    await expect(publish({ store, service, dir: await dump(sampleDump('x')), source: { commit: c('3'), branch: 'master' }, ancestry: async () => true, signal: controller.signal })).rejects.toBe(reason);
    expect(await readdir(path.join(root, service)).catch(() => [])).toEqual([]);
  });
});

test('a prune aborted between its delete batches stops there, releases its lease, leaves nothing dangling, and a re-run finishes', async () => {
  const service = 'abort-prune';
  const ancestry = async () => true;
  const old = await publish({ store, service, dir: await dump(sampleDump('old')), source: { commit: c('4'), branch: 'master' }, ancestry, now: () => new Date(Date.now() - 30 * DAY) });
  await publish({ store, service, dir: await dump(sampleDump('new')), source: { commit: c('5'), branch: 'master' }, ancestry, now: () => new Date(Date.now() - 29 * DAY) });
  const controller = new AbortController();
  const reason = new Error('Ctrl-C');
  // The abort arrives while the first batch (the commit entries) is being deleted.
  const aborting = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property === 'delete') {
        return async (keys: string[]) => {
          await target.delete(keys);
          if (keys.length > 0) controller.abort(reason);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  await expect(prune({ store: aborting, service, keep: 1, graceMs: 0, yes: true, signal: controller.signal })).rejects.toBe(reason);
  expect(await readCommitEntry(store, service, c('4'))).toBeUndefined();
  expect(await store.exists(layout.version(service, old.version))).toBe(true);
  expect(await leases(service)).toEqual([]);
  expect((await verify({ store, service })).problems).toEqual([]);
  const rerun = await prune({ store, service, keep: 1, graceMs: 0, yes: true });
  expect(rerun.deleted.versions).toEqual([layout.version(service, old.version)]);
  expect(rerun.deleted.blobs.length).toBeGreaterThan(0);
  expect((await verify({ store, service })).problems).toEqual([]);
});
