import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { CACHE_GRACE_MS, touchCachedVersion, trimCache } from '../src/internal/cache-trim.js';

const HOUR = 60 * 60 * 1000;
const version = (n: number) => n.toString(16).padStart(64, '0');
let dir: string;
const now = Date.UTC(2026, 11, 5, 12);

/** A cached version (directory + checksum list beside it) last used `hoursAgo` before `now`. */
async function cached(n: number, hoursAgo: number) {
  const versionDir = path.join(dir, version(n));
  await mkdir(path.join(versionDir, 'mysql'), { recursive: true });
  await writeFile(path.join(versionDir, 'mysql', 'app.sql'), 'SELECT 1;\n');
  await writeFile(`${versionDir}.checksums.json`, '{}');
  const at = new Date(now - hoursAgo * HOUR);
  await utimes(versionDir, at, at);
}
const listing = async () => (await readdir(dir)).sort();

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cache-trim-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('keeps the current version and the most recently used others, up to `keep`, with their checksum lists', async () => {
  for (const [n, hoursAgo] of [[1, 50], [2, 2], [3, 30], [4, 3], [5, 10], [6, 100]] as const) await cached(n, hoursAgo);
  // Version 6 is the oldest but is the one just loaded.
  const removed = await trimCache(dir, { keep: 3, current: version(6), now });
  expect(removed.sort()).toEqual([version(1), version(3), version(5)]);
  expect(await listing()).toEqual([version(2), `${version(2)}.checksums.json`, version(4), `${version(4)}.checksums.json`, version(6), `${version(6)}.checksums.json`]);
});

test('never removes a version used within the grace period (a provision in another terminal), even past `keep`', async () => {
  await cached(1, 0.5);
  await cached(2, 0.2);
  await cached(3, 2);
  expect(await trimCache(dir, { keep: 1, current: version(9), now })).toEqual([version(3)]);
  expect(await listing()).toEqual([version(1), `${version(1)}.checksums.json`, version(2), `${version(2)}.checksums.json`]);
  expect(CACHE_GRACE_MS).toBe(HOUR);
});

test('touching a version makes it the most recently used', async () => {
  await cached(1, 5);
  await cached(2, 4);
  await touchCachedVersion(path.join(dir, version(1)));
  expect(await trimCache(dir, { keep: 2, current: version(3) })).toEqual([version(2)]);
});

test('leaves other files alone and removes stale leftovers of interrupted pulls and trims', async () => {
  await cached(1, 48);
  await mkdir(path.join(dir, 'notes'));
  await writeFile(path.join(dir, 'README'), 'mine');
  const stale = `.${version(7)}.partial-0b7a4c3e-2f7e-4d55-9a43-6d1f0c2b9e10`;
  const fresh = `.${version(8)}.old-1c8b5d4f-3a8f-4e66-8b54-7e2a1d3c0f21`;
  for (const [name, hoursAgo] of [[stale, 3], [fresh, 0.1]] as const) {
    await mkdir(path.join(dir, name));
    const at = new Date(now - hoursAgo * HOUR);
    await utimes(path.join(dir, name), at, at);
  }
  expect(await trimCache(dir, { keep: 5, current: version(2), now })).toEqual([]);
  expect(await listing()).toEqual([fresh, version(1), `${version(1)}.checksums.json`, 'README', 'notes']);
});

test('a missing cache directory is nothing to trim', async () => {
  expect(await trimCache(path.join(dir, 'absent'), { keep: 1, current: version(1), now })).toEqual([]);
});
