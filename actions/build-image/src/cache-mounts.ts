import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import {
  cacheMountKeyFor,
  describeUnresolvedCacheMount,
  extractArgs,
  extractDockerfile,
  findCacheMounts,
  formatBytes,
  hashDirectory,
  helperImageFor,
  injectArgs,
  injectDockerfile,
  resolveCacheMounts,
  shouldSaveCacheMounts,
  transferableMounts,
} from '@org/image-build';
import type { CacheMount, CacheMountKey } from '@org/image-build';
import type { Inputs } from './context.js';
import { dockerOrThrow } from './docker.js';
import { actionsCacheAvailable, type BuildPlan } from './plan.js';
import type { CacheMountState } from './state.js';

/** The Actions cache key prefix: per OS/arch and Dockerfile, so unrelated images never share mounts. */
function keyPrefix(file: string): string {
  return `build-image-mounts-${process.platform}-${process.arch}-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`;
}

/**
 * What makes a cache-mount key without lockfiles unique to this run and shared by the build-image
 * steps of one job (so only the first post step saves it). Outside Actions: the time.
 */
export function runKeyOf(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || '1'}` : `local-${Date.now()}`;
}

/** The log line that says which mounts are kept, under which key, and why that key. */
export function describeCacheMountKey(mounts: CacheMount[], key: CacheMountKey & { lockfiles: string[] }): string {
  const shown = mounts.map((m) => (m.id === m.target ? m.target : `${m.target} (id ${m.id})`)).join(', ');
  const why =
    key.keyedBy === 'lockfiles'
      ? `keyed by the lockfiles the build reads (${key.lockfiles.join(', ')}): a dependency change gives a new key`
      : 'keyed by this run (lockfiles: none copied or bind-mounted from the context, so nothing tells when the contents are stale): the newest cache of the same mounts is restored, and saved again when the build changed it';
  return `Cache mounts: ${shown}; key ${key.key}, ${why}.`;
}

/**
 * Main step: restores the `RUN --mount=type=cache` contents saved by an earlier run (exact key,
 * else the newest cache of the same mounts, else any) and injects them into BuildKit. Returns the
 * state the post step needs, or undefined when there is nothing to do. Never fails the build: the
 * caller turns a throw into a warning.
 */
export async function restoreCacheMounts(
  plan: BuildPlan,
  inputs: Inputs,
  runnerTemp: string,
  /** What the builder builds for without `platforms` (checkBuilder read it). */
  builderPlatform: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CacheMountState | undefined> {
  if (inputs.cacheMounts === 'off') {
    core.info('Cache mounts are left to the runner (`cache-mounts: off`).');
    return undefined;
  }
  const written = transferableMounts(findCacheMounts(plan.model));
  if (written.length === 0) {
    core.info(`${plan.model.file} has no RUN --mount=type=cache to keep.`);
    return undefined;
  }
  if (!actionsCacheAvailable() || !cache.isFeatureAvailable()) {
    core.warning(
      `The Actions cache service is not available (ACTIONS_CACHE_URL/ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set), so the ${written.length} cache mount(s) of ${plan.model.file} are neither restored nor saved. Set \`cache-mounts: off\` to silence this.`,
    );
    return undefined;
  }
  // BuildKit expands ids and targets per platform built (`id=apk-$TARGETARCH`); the helper builds must use the same ids.
  const resolved = resolveCacheMounts(plan.model, { buildArgs: inputs.buildArgs, platforms: inputs.platforms, buildPlatform: builderPlatform });
  for (const mount of transferableMounts(resolved.unresolved)) {
    core.warning(describeUnresolvedCacheMount(mount, plan.model.file), { title: 'Cache mount not kept', file: plan.model.file, startLine: mount.line });
  }
  const mounts = transferableMounts(resolved.mounts);
  if (mounts.length === 0) {
    core.info('None of the cache mounts can be kept: nothing to restore.');
    return undefined;
  }
  const helperImage = helperImageFor(plan.model, mounts, inputs.buildArgs);
  if (!helperImage) {
    core.warning(`Cannot tell the base image of stage \`${mounts[0]?.stage}\` (FROM with a variable that has no value): cache mounts are not kept. Pass the variable in \`build-args\`.`);
    return undefined;
  }
  const key = await cacheMountKeyFor(keyPrefix(inputs.file), plan.model, plan.contextDir, { mounts: resolved.mounts, runId: runKeyOf(env) });
  core.info(describeCacheMountKey(mounts, key));
  const dir = path.join(runnerTemp, 'build-image-cache-mounts');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const state: CacheMountState = { key: key.key, keyedBy: key.keyedBy, dir, workDir: path.join(plan.workDir, 'cache-mounts'), mounts, helperImage, ...(inputs.builder ? { builder: inputs.builder } : {}) };

  const matchedKey = await cache.restoreCache([dir], key.key, key.restoreKeys);
  if (!matchedKey) {
    core.info('No saved cache mounts yet: the build fills them, and the post step saves them.');
    return state;
  }
  const restored = await hashDirectory(dir);
  core.info(`Restored ${restored.files} files (${formatBytes(restored.bytes)}) from ${matchedKey}${matchedKey === key.key ? '' : ' (prefix match)'}.`);
  await mkdir(state.workDir, { recursive: true });
  const dockerfile = path.join(state.workDir, 'inject.Dockerfile');
  await writeFile(dockerfile, injectDockerfile(mounts, helperImage));
  await dockerOrThrow(injectArgs({ dockerfile, context: dir, nonce: randomUUID(), ...(state.builder ? { builder: state.builder } : {}) }), { echo: true });
  return { ...state, matchedKey, restoredHash: restored.hash };
}

/**
 * Post step: copies the mounts out of BuildKit and saves them under the new key, only when they hold
 * files that differ from what was restored. An exact key hit is never saved again (keys are immutable).
 */
export async function saveCacheMounts(state: CacheMountState): Promise<void> {
  if (state.matchedKey === state.key) {
    // Keyed by lockfiles, an exact hit is current. Keyed by run, only this run (another job of it) saved it.
    core.info(`The cache mounts were restored from ${state.key} exactly; a cache entry cannot change, so nothing is saved.`);
    return;
  }
  // Several build-image steps of one job share a key; post steps run after all of them, so none found
  // it at restore. The first post saves; a second save would only fail to reserve the key, with a warning.
  const marker = savedMarker(state);
  if (existsSync(marker)) {
    core.info(`The cache mounts were already saved as ${state.key} by another build-image step of this job: nothing to save.`);
    return;
  }
  await rm(state.dir, { recursive: true, force: true });
  await mkdir(state.workDir, { recursive: true });
  const emptyContext = path.join(state.workDir, 'extract-context');
  await mkdir(emptyContext, { recursive: true });
  const dockerfile = path.join(state.workDir, 'extract.Dockerfile');
  await writeFile(dockerfile, extractDockerfile(state.mounts, state.helperImage));
  await dockerOrThrow(
    extractArgs({ dockerfile, context: emptyContext, outputDir: state.dir, nonce: randomUUID(), ...(state.builder ? { builder: state.builder } : {}) }),
    { echo: true },
  );
  const extracted = await hashDirectory(state.dir);
  if (!shouldSaveCacheMounts(extracted, state.restoredHash)) {
    core.info(extracted.files === 0 ? 'The cache mounts are empty: nothing to save.' : 'The cache mounts did not change since the restore: nothing to save.');
    return;
  }
  const why = state.restoredHash ? 'they changed since the restore' : 'nothing was restored';
  core.info(`Saving ${extracted.files} files (${formatBytes(extracted.bytes)}) as ${state.key} (${why}${state.keyedBy === 'run' ? "; keyed by this run, as no lockfile tells when they are stale" : ''}).`);
  await cache.saveCache([state.dir], state.key);
  await mkdir(path.dirname(marker), { recursive: true });
  await writeFile(marker, `${state.key}\n`);
}

/** Job-wide record (under RUNNER_TEMP, beside every step's work directory) that `state.key` was saved. */
export function savedMarker(state: Pick<CacheMountState, 'key' | 'workDir'>): string {
  return path.join(path.dirname(state.workDir), 'saved-cache-mounts', createHash('sha256').update(state.key).digest('hex'));
}
