import { randomUUID } from 'node:crypto';
import { readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { checksumsPathOf } from '@org/dump-set';
import { sweepInterruptedPulls } from '@org/dump-versioning';
import { claimedVersions, liveUses, tryLock, versionLockPath } from './cache-lock.js';

const VERSION_DIR = /^[0-9a-f]{64}$/;
/** A version used this recently may belong to a provision running in another terminal: never removed. */
export const CACHE_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_CACHE_KEEP = 5;

/** Marks a cached version as used now: the cache keeps the most recently used versions. */
export async function touchCachedVersion(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now).catch(() => undefined);
}

/**
 * Removes all but the `keep` most recently used versions of one service's cache (`<cacheRoot>/<service>`),
 * never `current`, never one used within the grace period and never one another process has claimed
 * (locked: being checked or pulled; or being loaded); returns the versions removed. Each is removed under
 * its lock (see cache-lock.ts), so no provision can start loading it meanwhile; it goes aside under a
 * temporary name first, so a directory is never seen half-deleted, then its checksum list.
 * Leftovers of interrupted pulls or trims of any version, once an hour old, go too (sweepInterruptedPulls),
 * and so do claims of processes that died (a second Ctrl-C).
 */
export async function trimCache(serviceDir: string, options: { keep: number; current: string; now?: number; graceMs?: number }): Promise<string[]> {
  const now = options.now ?? Date.now();
  const grace = options.graceMs ?? CACHE_GRACE_MS;
  const entries = await readdir(serviceDir, { withFileTypes: true }).catch(() => []);
  const versions = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && VERSION_DIR.test(entry.name))
      .map(async (entry) => ({ name: entry.name, usedMs: (await stat(path.join(serviceDir, entry.name))).mtimeMs })),
  );
  const others = versions.filter((version) => version.name !== options.current).sort((a, b) => b.usedMs - a.usedMs || (a.name < b.name ? -1 : 1));
  const removable = others.slice(Math.max(options.keep - 1, 0)).filter((version) => now - version.usedMs > grace);
  const removed: string[] = [];
  await sweepInterruptedPulls(serviceDir, undefined, now);
  for (const { name } of removable) {
    const held = await tryLock(versionLockPath(serviceDir, name)).catch(() => undefined);
    if (!held) continue; // Being checked or pulled by another provision.
    try {
      if ((await liveUses(serviceDir, name)).length > 0) continue; // Being loaded.
      const dir = path.join(serviceDir, name);
      // Named as pull names what it sets aside: a trim killed mid-removal is swept like an interrupted pull.
      const aside = path.join(serviceDir, `.${name}.old-${randomUUID()}`);
      try {
        await rename(dir, aside);
      } catch {
        continue; // Gone already, or in use where renaming is refused: left for the next provision.
      }
      await rm(checksumsPathOf(dir), { force: true });
      await rm(aside, { recursive: true, force: true });
      removed.push(name);
    } finally {
      await held.release();
    }
  }
  // Claims left by killed processes: taking the lock breaks a stale one, liveUses drops stale use claims.
  for (const name of await claimedVersions(serviceDir)) {
    if (name === options.current) continue;
    const held = await tryLock(versionLockPath(serviceDir, name)).catch(() => undefined);
    if (!held) continue;
    await liveUses(serviceDir, name).catch(() => []);
    await held.release();
  }
  return removed;
}
