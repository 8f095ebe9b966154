import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { FileSystemStore, withLockReports } from '../src/internal/fs-store.js';
import { currentHolder } from '../src/internal/holder.js';

// A publish killed while it held a filesystem store's object lock (`<key>.lock`, held for milliseconds
// around a ref or commit entry write): the next writer used to wait 30 s in silence for it to age.

const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
const here = currentHolder();
let root: string;
let store: FileSystemStore;
let round = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dv-fs-lock-holder-'));
  store = new FileSystemStore(root);
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A fresh lock on a new key, as the writer `holder` leaves it. */
async function lockedKey(holder: object): Promise<{ key: string; lockFile: string }> {
  const key = `svc/commits/k${round++}.json`;
  const lockFile = path.join(root, ...key.split('/')) + '.lock';
  await mkdir(path.dirname(lockFile), { recursive: true });
  await writeFile(lockFile, `${JSON.stringify({ token: 'theirs', ...holder, startedAt: new Date().toISOString() })}\n`);
  return { key, lockFile };
}

test('the lock a killed writer of this host left is removed at once, and the removal is reported', { timeout: 5_000 }, async () => {
  const { key, lockFile } = await lockedKey({ ...here, pid: deadPid, processStart: undefined });
  const told: string[] = [];
  const started = Date.now();
  expect(await withLockReports(store, (message) => told.push(message), () => store.putIfMatch(key, Buffer.from('{}\n'), undefined))).toBe('written');
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(told).toEqual([`removed ${lockFile}, left by pid ${deadPid} on ${here.host}, which is no longer running (a writer killed while it held it)`]);
  await expect(readFile(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
});

test.each<[string, object]>([
  ['a live process of this host', here],
  ['a process of another host', { ...here, host: 'elsewhere.example', pid: deadPid }],
])('a fresh lock of %s is waited for, and a wait past a second is reported once, naming the holder', { timeout: 10_000 }, async (_, holder) => {
  const { key, lockFile } = await lockedKey(holder);
  const told: string[] = [];
  const writing = withLockReports(store, (message) => told.push(message), () => store.putIfMatch(key, Buffer.from('{}\n'), undefined));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(told).toEqual([expect.stringMatching(new RegExp(`^waiting for ${lockFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, held by pid \\d+ on \\S+: another write of this object is in progress`))]);
  await rm(lockFile);
  expect(await writing).toBe('written');
  expect(told).toHaveLength(1);
});

test('a lock records its holder (pid, host and, on Linux, start time)', async () => {
  const target = path.join(root, 'svc', 'refs', 'own.json');
  await mkdir(path.dirname(target), { recursive: true });
  const release = await (store as unknown as { lock(target: string): Promise<() => Promise<void>> }).lock(target);
  const held = JSON.parse(await readFile(`${target}.lock`, 'utf8')) as Record<string, unknown>;
  expect(held).toMatchObject({ pid: process.pid, host: here.host, token: expect.any(String) });
  if (process.platform === 'linux') expect(held.processStart).toBe(here.processStart);
  await release();
  await expect(readFile(`${target}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
});

test('a lock taken after a long wait is fresh, so the next waiter does not break it while it is held', { timeout: 10_000 }, async () => {
  // Another host's lock, 31 s later (the clock moved on while this writer waited): stale by age, broken.
  const { lockFile } = await lockedKey({ ...here, host: 'elsewhere.example' });
  const target = lockFile.slice(0, -'.lock'.length);
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    const locking = (store as unknown as { lock(target: string): Promise<() => Promise<void>> }).lock(target);
    await new Promise((resolve) => setTimeout(resolve, 50));
    vi.setSystemTime(Date.now() + 31_000);
    const release = await locking;
    // The lock's age is its mtime: it was taken just now, not when this writer started waiting.
    expect(Date.now() - (await stat(lockFile)).mtimeMs).toBeLessThan(5_000);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ host: here.host, pid: process.pid });
    await release();
  } finally {
    vi.useRealTimers();
  }
});

test('a breaker judged stale is not removed when another one took its place meanwhile (empty too, same inode maybe)', async () => {
  const breaker = path.join(root, 'svc', 'refs', 'main.json.lock.break');
  await mkdir(path.dirname(breaker), { recursive: true });
  // Its owner crashed between creating and writing it: empty, and a minute old.
  await writeFile(breaker, '');
  const old = new Date(Date.now() - 60_000);
  await utimes(breaker, old, old);
  const judged = await stat(breaker);
  // Another waiter removed it and a third one just created its own, not written yet.
  await unlink(breaker);
  await writeFile(breaker, '');
  const removeIfUnchanged = (store as unknown as { removeIfUnchanged(file: string, judged: string, stat: { ino: number; mtimeMs: number }): Promise<void> }).removeIfUnchanged.bind(store);
  await removeIfUnchanged(breaker, '', judged);
  expect((await stat(breaker)).mtimeMs).toBeGreaterThan(old.getTime());
  // The one judged is removed when it is still there.
  await utimes(breaker, old, old);
  await removeIfUnchanged(breaker, '', await stat(breaker));
  await expect(stat(breaker)).rejects.toMatchObject({ code: 'ENOENT' });
});
