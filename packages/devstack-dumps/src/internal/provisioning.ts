import path from 'node:path';
import { DEFAULT_MAX_DISTANCE, resolve, type Resolution, type Store } from '@org/dump-versioning';
import { loadSet, waitForServers, type LoadSetResult } from '@org/dump-set';
import { trimCache } from './cache-trim.js';
import { holdsVersion, useCachedVersion } from './cache-version.js';
import { fingerprintAsDumped } from './migrations-scope.js';
import { pendingMigrations, type PendingMigrations } from './pending.js';
import { loadTargetsFor, type LoadFlags } from './server-options.js';
import { UsageError } from './usage.js';

export interface ProvisionPlanInput {
  store: Store;
  service: string;
  /** Git working tree whose HEAD (or `commit`) is resolved and whose migrations are fingerprinted. */
  repo: string;
  commit: string;
  /** Undefined: the globs the dump was fingerprinted with (see fingerprintAsDumped). */
  migrationsGlob: string[] | undefined;
  maxDistance?: number;
  /** Where pulled dump sets are kept: `<cacheRoot>/<service>/<version>`. */
  cacheRoot: string;
}

export interface ProvisionPlan {
  resolution: Resolution;
  pending: PendingMigrations;
  cacheDir: string;
  /** The cache held this version with every file matching its checksum list when planned (provision checks again under the version's lock). */
  cached: boolean;
  timings: { fingerprintMs: number; resolveMs: number };
}

const since = (start: number) => Math.round(performance.now() - start);

/** What provision would do, without pulling or loading: the nearest published ancestor and the pending migrations. */
export async function planProvision(input: ProvisionPlanInput): Promise<ProvisionPlan> {
  let start = performance.now();
  // Every ancestor, not only the first-parent chain: a branch that merged master starts from the newest
  // dump it merged (fewer pending migrations, no false "rewritten" for a migration master edited since).
  const resolution = await resolve({ store: input.store, service: input.service, commit: input.commit, repoDir: input.repo, maxDistance: input.maxDistance ?? DEFAULT_MAX_DISTANCE, ancestors: 'all' });
  const resolveMs = since(start);
  start = performance.now();
  const scoped = await fingerprintAsDumped(input.repo, input.migrationsGlob, resolution.entry.migrations?.scope);
  const workingTree = scoped.fingerprint;
  const fingerprintMs = since(start);
  const dumped = resolution.entry.migrations?.fingerprint;
  if (Object.keys(workingTree.apps).length === 0 && dumped !== undefined && Object.keys(dumped.apps).length > 0) {
    // Otherwise every migration of the dump would be reported as removed from the working tree.
    const what = scoped.from === 'flag' ? `--migrations-glob (${scoped.described})` : `the globs the dump was fingerprinted with (${scoped.described})`;
    throw new UsageError(`${what} matched no migration file under ${input.repo}, but the dump records migrations; run in the service's checkout, or give --migrations-glob relative to --repo`);
  }
  const cacheDir = path.resolve(input.cacheRoot, input.service, resolution.version);
  return {
    resolution,
    pending: pendingMigrations(resolution.entry.migrations?.fingerprint, workingTree),
    cacheDir,
    cached: await holdsVersion(cacheDir, resolution.version),
    timings: { fingerprintMs, resolveMs },
  };
}

export interface ProvisionResult {
  pulled: { files: number; bytes: number } | undefined;
  loaded: LoadSetResult;
  timings: { waitMs: number; pullMs: number; loadMs: number };
}

/** Pulls the planned version into the cache (unless it is there and verified), then loads it. */
export async function provision(
  plan: ProvisionPlan,
  input: { store: Store; service: string; flags: LoadFlags; onProgress: (message: string) => void; cacheKeep: number; signal?: AbortSignal },
): Promise<ProvisionResult> {
  const { flags } = input;
  // Unreachable servers fail before a download.
  let start = performance.now();
  await waitForServers({ ...(flags.mysql ? { mysqlUrl: flags.mysql } : {}), ...(flags.mongo ? { mongoUrl: flags.mongo } : {}) }, flags.wait, input.signal);
  const waitMs = since(start);
  start = performance.now();
  // plan.cached may be stale by now (another terminal pulling, trimming or re-pulling): decided again under the lock.
  const { pulled, use } = await useCachedVersion({ store: input.store, service: input.service, version: plan.resolution.version, cacheDir: plan.cacheDir, onProgress: input.onProgress, ...(input.signal ? { signal: input.signal } : {}) });
  const pullMs = since(start);
  start = performance.now();
  let loaded: LoadSetResult;
  try {
    loaded = await loadSet(plan.cacheDir, await loadTargetsFor(plan.cacheDir, flags), {
      replace: flags.replace,
      waitSeconds: flags.wait,
      onProgress: input.onProgress,
      skipEnginesWithoutTarget: true,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } finally {
    await use.release();
  }
  const loadMs = since(start);
  // The cache keeps the versions used most recently (0: all); a failure to trim only delays it.
  if (input.cacheKeep > 0) {
    const removed = await trimCache(path.dirname(plan.cacheDir), { keep: input.cacheKeep, current: plan.resolution.version }).catch(() => []);
    if (removed.length > 0) input.onProgress(`removed ${removed.length} older cached version(s) of ${input.service} (--cache-keep ${input.cacheKeep})`);
  }
  return { pulled, loaded, timings: { waitMs, pullMs, loadMs } };
}
