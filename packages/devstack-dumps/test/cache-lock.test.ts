import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { processStartOf } from '@org/dump-versioning';
import { claimUse, liveUses, lock, SAME_HOST_STALE_AFTER_MS, STALE_AFTER_MS, tryLock, versionLockPath } from '../src/internal/cache-lock.js';

const version = 'a'.repeat(64);
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cache-lock-'));
  file = versionLockPath(dir, version);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A child process that sleeps until killed; its pid is live for the test. */
function sleeper(): { pid: number; exited: Promise<void>; kill: () => void } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { pid: child.pid!, exited, kill: () => child.kill('SIGKILL') };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = sleeper();
  child.kill();
  await child.exited;
  return child.pid;
}

const claimOf = (pid: number, host = hostname()) => `${JSON.stringify({ pid, host, startedAt: new Date().toISOString(), token: `token-${pid}` })}\n`;
const ownerOf = async (at = file) => JSON.parse(await readFile(at, 'utf8')) as { pid: number; token: string };

/** Settles `promise` into a flag, to see whether it is still pending. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

test('a lock left by a dead process on this host is taken over at once', async () => {
  await writeFile(file, claimOf(await deadPid()));
  const started = Date.now();
  const held = await lock(file);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(await ownerOf()).toMatchObject({ pid: process.pid, token: held.owner.token });
  await held.release();
  expect(await readdir(dir)).toEqual([]);
});

test('a live lock of another process is waited for, and taken once that process is gone', async () => {
  const other = sleeper();
  try {
    await writeFile(file, claimOf(other.pid));
    const messages: string[] = [];
    const waiting = lock(file, { onWaiting: (message) => messages.push(message) });
    const state = track(waiting);
    await sleep(400);
    expect(state.settled).toBe(false);
    expect(messages).toEqual([expect.stringContaining(`waiting for pid ${other.pid} on ${hostname()}`)]);
    other.kill();
    await other.exited;
    const held = await waiting;
    expect((await ownerOf()).token).toBe(held.owner.token);
    await held.release();
  } finally {
    other.kill();
  }
});

test('a lock held in this process is waited for until it is released', async () => {
  const first = await lock(file);
  const second = lock(file);
  const state = track(second);
  await sleep(300);
  expect(state.settled).toBe(false);
  await first.release();
  const held = await second;
  expect((await ownerOf()).token).toBe(held.owner.token);
  await held.release();
});

test('aborting the wait (Ctrl-C) stops it within a second and leaves the holder\'s lock as it was', async () => {
  const first = await lock(file);
  const controller = new AbortController();
  const waiting = lock(file, { signal: controller.signal });
  await sleep(200);
  const aborted = Date.now();
  controller.abort(new Error('interrupted (SIGINT)'));
  await expect(waiting).rejects.toThrow('interrupted (SIGINT)');
  expect(Date.now() - aborted).toBeLessThan(1000);
  expect((await ownerOf()).token).toBe(first.owner.token);
  await first.release();
  expect(await readdir(dir)).toEqual([]);
});

test('a lock whose heartbeat stopped long ago is stale, even from another host; a fresh one of another host is not', async () => {
  await writeFile(file, claimOf(process.pid, 'another-host'));
  expect(await tryLock(file)).toBeUndefined();
  const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
  await utimes(file, old, old);
  const held = await tryLock(file);
  expect(held).toBeDefined();
  await held!.release();
});

test.runIf(processStartOf(process.pid) !== undefined)("a live holder's lock on this host stays valid however old its heartbeat (a laptop waking from sleep)", async () => {
  await writeFile(file, `${JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: 'live', processStart: processStartOf(process.pid) })}\n`);
  const old = new Date(Date.now() - SAME_HOST_STALE_AFTER_MS * 10);
  await utimes(file, old, old);
  expect(await tryLock(file)).toBeUndefined();
});

test('without a start time (macOS, an older claim), a live pid keeps its claim through 20 minutes of silence, not through an hour', async () => {
  await writeFile(file, claimOf(process.pid));
  const twenty = new Date(Date.now() - 20 * 60_000);
  await utimes(file, twenty, twenty);
  expect(await tryLock(file)).toBeUndefined();
  const hour = new Date(Date.now() - SAME_HOST_STALE_AFTER_MS - 60_000);
  await utimes(file, hour, hour);
  const held = await tryLock(file);
  expect(held).toBeDefined();
  await held!.release();
});

test.runIf(processStartOf(process.pid) !== undefined)('a lock whose pid now belongs to another process (its start time differs) is stale', async () => {
  await writeFile(file, `${JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: 'reused', processStart: '1' })}\n`);
  const held = await tryLock(file);
  expect(held).toBeDefined();
  await held!.release();
});

test('an empty lock file (its writer died right after creating it) is stale after a few seconds', async () => {
  await writeFile(file, '');
  expect(await tryLock(file)).toBeUndefined();
  const old = new Date(Date.now() - 10_000);
  await utimes(file, old, old);
  const held = await tryLock(file);
  expect(held).toBeDefined();
  await held!.release();
});

test('many waiters for one stale lock: exactly one holds it at a time', async () => {
  await writeFile(file, claimOf(await deadPid()));
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      const held = await lock(file, { pollMs: 5 });
      inside++;
      most = Math.max(most, inside);
      await sleep(10);
      inside--;
      await held.release();
    }),
  );
  expect(most).toBe(1);
  expect(await readdir(dir)).toEqual([]);
});

test('release leaves a lock alone that is no longer its own', async () => {
  const held = await lock(file);
  await writeFile(file, claimOf(process.pid));
  await held.release();
  expect((await ownerOf()).token).toBe(`token-${process.pid}`);
});

test('use claims: live ones are listed, those of dead processes removed', async () => {
  const mine = await claimUse(dir, version);
  const deadClaim = path.join(dir, `.${version}.use-0b7a4c3e-2f7e-4d55-9a43-6d1f0c2b9e10`);
  await writeFile(deadClaim, claimOf(await deadPid()));
  await writeFile(path.join(dir, `.${'b'.repeat(64)}.use-1c8b5d4f-3a8f-4e66-8b54-7e2a1d3c0f21`), claimOf(process.pid));
  expect(await liveUses(dir, version)).toEqual([expect.objectContaining({ pid: process.pid, token: mine.owner.token })]);
  expect((await readdir(dir)).filter((name) => name.startsWith(`.${version}`))).toEqual([path.basename(mine.file)]);
  await mine.release();
  expect(await liveUses(dir, version)).toEqual([]);
});
