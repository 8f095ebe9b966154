import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { ProgressLog, RawJsonReader, registryHost, splitBuildAndPush, swapLocalCache, withRegistryRetry, writeSecretFiles } from '@org/image-build';
import type { BakeDefinition, BakeMetadata, SolveStatus } from '@org/image-build';
import { docker, errorLines } from './docker.js';
import { messageOf } from './errors.js';
import type { BuildPlan } from './plan.js';

/** What one bake run left behind: the progress stream, buildx's plain lines and the metadata file. */
export interface BakeResult {
  statuses: SolveStatus[];
  messages: string[];
  metadata: BakeMetadata;
  exitCode: number;
  attempts: number;
}

/** A bake run that exited non-zero; the message is buildx's ERROR lines (what the retry classifies). */
export class BakeRunError extends Error {
  constructor(readonly result: BakeResult) {
    super(errorLines(result.messages.join('\n')) || `docker buildx bake exited with ${result.exitCode}`);
  }
}

// The registry of an image name comes from the library that classifies registry errors by it.
export { registryHost } from '@org/image-build';

function withSecrets(definition: BakeDefinition, entries: string[]): BakeDefinition {
  if (entries.length === 0) return definition;
  const target = Object.fromEntries(Object.entries(definition.target).map(([name, t]) => [name, { ...t, secret: [...(t.secret ?? []), ...entries] }]));
  return { ...definition, target };
}

/**
 * Buildx 0.20+ refuses a bake that reads or writes files outside the working directory unless allowed
 * (`--allow fs=...`, which older buildx lacks): the secret files (under RUNNER_TEMP) and the `cache: local`
 * directory (under the tool cache) are such files. The bake file is this action's own, so the check guards
 * nothing here; older buildx ignores the variable.
 */
const BAKE_ENV = { BUILDX_BAKE_ENTITLEMENTS_FS: '0' };

async function bakeOnce(plan: BuildPlan, attempt: number): Promise<BakeResult> {
  const statuses: SolveStatus[] = [];
  const messages: string[] = [];
  const log = new ProgressLog((line) => core.info(line));
  const reader = new RawJsonReader(
    (status) => {
      statuses.push(status);
      log.status(status);
    },
    (line) => {
      messages.push(line);
      core.info(line);
    },
  );
  await rm(plan.metadataFile, { force: true });
  const { exitCode } = await docker(plan.bakeArgs, { echo: true, onStderr: (text) => reader.push(text), env: BAKE_ENV });
  try {
    reader.end();
  } catch (error) {
    core.warning(`The build report may be incomplete: ${messageOf(error)}`);
  }
  const metadata = JSON.parse(await readFile(plan.metadataFile, 'utf8').catch(() => '{}')) as BakeMetadata;
  const result = { statuses, messages, metadata, exitCode, attempts: attempt };
  if (exitCode !== 0) throw new BakeRunError(result);
  return result;
}

/**
 * Writes the bake file and the secret files, runs `docker buildx bake` for every flavour and retries it
 * when the registry answered 429/5xx (a retry is cheap: every step is cached by then). A RUN failure is
 * not retried: the BakeRunError carries the stream for the report. A pushing build runs as two bakes
 * (see splitBuildAndPush): only when every flavour built is anything pushed. The report reads the first
 * bake's stream (the real cache hits and misses), the outputs the second's metadata (the digests).
 */
export async function runBake(plan: BuildPlan, secrets: string[]): Promise<BakeResult> {
  await mkdir(plan.workDir, { recursive: true });
  const entries = await writeSecretFiles(plan.secretsDir, plan.secretFiles);
  const definition = withSecrets(plan.definition, entries);
  const split = splitBuildAndPush(definition);
  let attempt = 0;
  const bake = async (bakeDefinition: BakeDefinition, operation: string, after?: BakeResult) => {
    await writeFile(plan.bakeFile, `${JSON.stringify(bakeDefinition, null, 2)}\n`);
    // The push bake's steps are all cached: a failure is reported with the build's steps, and both logs.
    const once = () =>
      bakeOnce(plan, ++attempt).catch((error: unknown) => {
        if (after && error instanceof BakeRunError) throw new BakeRunError({ ...error.result, statuses: after.statuses, messages: [...after.messages, ...error.result.messages] });
        throw error;
      });
    return withRegistryRetry(once, {
      operation,
      registry: registryHost(plan.flavours[0]?.image ?? ''),
      input: 'image',
      secrets,
      onRetry: ({ attempt: n, delayMs, message }) => core.warning(`The registry failed (${message}); retrying the bake in ${Math.round(delayMs / 1000)} s (attempt ${n + 1}).`),
    });
  };
  try {
    const built = await bake(split?.build ?? definition, split ? 'Building the images' : 'Building and pushing the images');
    for (const cache of Object.values(plan.cache)) {
      // The images built: a cache directory that cannot be put in place (a shared tool cache's
      // permissions) costs the next build its cache, not this one its push.
      if (cache.localSwap) await swapLocalCache(cache.localSwap).catch((error: unknown) => core.warning(`The local cache at ${cache.localSwap!.current} was not updated: ${messageOf(error)}; the next build starts without it.`));
    }
    if (!split) return built;
    core.info('Every flavour built; pushing them.');
    const pushed = await bake(split.push, 'Pushing the images', built);
    return { ...built, metadata: pushed.metadata, messages: [...built.messages, ...pushed.messages], attempts: attempt };
  } finally {
    // Secret files live only as long as the build that reads them; so does the bake file, which
    // holds the proxy URLs of `mirrors` (with their credentials), and the metadata read above.
    await rm(plan.secretsDir, { recursive: true, force: true });
    await rm(plan.bakeFile, { force: true });
    await rm(plan.metadataFile, { force: true });
  }
}
