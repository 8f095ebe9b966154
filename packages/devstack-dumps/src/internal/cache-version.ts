import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pull, type Store } from '@org/dump-versioning';
import { verifyDumpSet, writeChecksumsFile } from '@org/dump-set';
import { claimUse, lock, versionLockPath, waitUntilUnused, type Claim } from './cache-lock.js';
import { touchCachedVersion } from './cache-trim.js';

/** Whether `dir` holds exactly `version`, every file checked against its checksum list. */
export async function holdsVersion(dir: string, version: string): Promise<boolean> {
  try {
    const verified = await verifyDumpSet(dir);
    return verified.verifiedBy === 'checksums' && verified.version === version;
  } catch {
    // Absent, partial or altered: pull it again.
    return false;
  }
}

export interface CachedVersion {
  /** What was downloaded; undefined when the cache held the version already (also when another process had just pulled it). */
  pulled: { files: number; bytes: number } | undefined;
  /** This process's use claim: release it once the load is done. Until then no other process replaces or trims the directory. */
  use: Claim;
}

/**
 * Makes `<cacheDir>` (`<cacheRoot>/<service>/<version>`) hold the verified version and claims it for a
 * load. Under the version's lock: check, pull if needed, write the checksum list, claim. A process that
 * waited for the lock finds the version another one just pulled and reuses it. A directory that no longer
 * verifies (a file edited, the checksum list deleted) is pulled again, but only once nobody loads from it.
 */
export async function useCachedVersion(input: {
  store: Store;
  service: string;
  version: string;
  cacheDir: string;
  onProgress: (message: string) => void;
  signal?: AbortSignal;
}): Promise<CachedVersion> {
  const { cacheDir, version, signal } = input;
  const serviceDir = path.dirname(cacheDir);
  await mkdir(serviceDir, { recursive: true });
  const waiting = { ...(signal ? { signal } : {}), onWaiting: input.onProgress };
  const held = await lock(versionLockPath(serviceDir, version), { ...waiting, holding: `to finish pulling or checking version ${version.slice(0, 12)} in the cache` });
  try {
    let pulled: CachedVersion['pulled'];
    if (await holdsVersion(cacheDir, version)) await touchCachedVersion(cacheDir);
    else {
      // Only when the copy was altered while another terminal loads it: replacing it would pull the files from under that load.
      await waitUntilUnused(serviceDir, version, waiting);
      input.onProgress(`pulling version ${version.slice(0, 12)} into ${cacheDir}`);
      const result = await pull({ store: input.store, service: input.service, version, out: cacheDir, replace: true, ...(signal ? { signal } : {}) });
      // pull verified every sha256; the list beside the directory lets later loads re-check the cache.
      await writeChecksumsFile(cacheDir, result.manifest.files, result.manifest.engines);
      pulled = { files: result.manifest.files.length, bytes: result.bytes };
    }
    signal?.throwIfAborted();
    return { pulled, use: await claimUse(serviceDir, version) };
  } finally {
    await held.release();
  }
}
