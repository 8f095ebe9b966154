import { createHash } from 'node:crypto';
import * as core from '@actions/core';
import { backoffDelay, imageBlobs, layerBytes, ManifestError, manifestLookupOutcome, newBlobs } from '@org/image-build';
import type { BakeMetadata, BlobRef, FlavourSizes } from '@org/image-build';
import { registryHost } from './build.js';
import { type BoundedDocker, boundedCommand, dockerOrThrow } from './docker.js';
import { messageOf } from './errors.js';
import type { BuildPlan } from './plan.js';

/** Per flavour: the blob digests behind this build's tags before the push, or why they are unknown. */
export type BlobsBefore = Record<string, { digests: string[] } | { unknown: string }>;

/**
 * How long the manifest lookups of one step (before the push, after it) may take together, retries
 * included. A registry that accepts the connection and never answers would otherwise hold the job
 * until its timeout, for a report column.
 */
export const MANIFEST_LOOKUP_TIMEOUT_MS = 30_000;

/** What the lookups of one step share: the command runner and the deadline. */
interface Lookup {
  run: BoundedDocker;
  signal: AbortSignal;
}

/** A lookup deadline whose reason says what ran out, for the warning. */
function lookupDeadline(timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ManifestError(`no answer within ${Math.round(timeoutMs / 1000)} s (the connection is open, the registry does not reply)`)), timeoutMs);
  timer.unref();
  return controller.signal;
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    signal.throwIfAborted();
    const done = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * The raw manifest of `ref` from the registry (credentials from `docker login`); undefined if absent.
 * 429/5xx and connection errors are retried a few times; anything else throws a ManifestError, and
 * so does the lookup's deadline.
 */
async function rawManifest(ref: string, lookup: Lookup): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    const result = await lookup.run(['buildx', 'imagetools', 'inspect', '--raw', ref], lookup.signal);
    const outcome = manifestLookupOutcome(result, attempt);
    switch (outcome.kind) {
      case 'found':
        return result.stdout;
      case 'absent':
        return undefined;
      case 'unavailable':
        throw new ManifestError(outcome.reason);
      case 'retry': {
        const delayMs = backoffDelay(attempt, 1000, 8000, Math.random);
        core.info(`Reading ${ref} failed (${outcome.reason}); retrying in ${(delayMs / 1000).toFixed(1)} s.`);
        await sleep(delayMs, lookup.signal);
      }
    }
  }
}

async function blobsOf(repository: string, reference: string, lookup: Lookup): Promise<BlobRef[]> {
  const separator = reference.startsWith('sha256:') ? '@' : ':';
  const first = await rawManifest(`${repository}${separator}${reference}`, lookup);
  if (first === undefined) return [];
  // A tag's root manifest is listed under its digest (the sha256 of the raw bytes), as a pushed digest's
  // is: under the tag name, an identical re-push counted its manifest as a new blob.
  const root = separator === '@' ? reference : `sha256:${createHash('sha256').update(first).digest('hex')}`;
  return imageBlobs(root, async (digest) => (digest === root ? first : ((await rawManifest(`${repository}@${digest}`, lookup)) ?? '')));
}

/** Injectable for tests: the command runner and the deadline of one step's lookups. */
export interface LookupOptions {
  run?: BoundedDocker;
  timeoutMs?: number;
}

function lookupOf(options: LookupOptions): Lookup {
  return { run: options.run ?? boundedCommand(), signal: lookupDeadline(options.timeoutMs ?? MANIFEST_LOOKUP_TIMEOUT_MS) };
}

/**
 * Before a push: the blobs of the images this build's tags point to now (the previous build of the
 * branch, `latest`...). What the new images add beyond them is what the push uploads. This only
 * feeds the size report, so a registry that cannot be read is a warning, never a failed build.
 */
export async function blobsBeforePush(plan: BuildPlan, options: LookupOptions = {}): Promise<BlobsBefore> {
  const before: BlobsBefore = {};
  const lookup = lookupOf(options);
  // Every lookup is a `docker buildx imagetools` process: run them side by side.
  await Promise.all(
    plan.flavours.map(async (flavour) => {
      try {
        const lists = await Promise.all(plan.tags.filter((t) => t.push).map((tag) => blobsOf(flavour.image, tag.name, lookup)));
        const digests = [...new Set(lists.flat().map((blob) => blob.digest))];
        before[flavour.name] = { digests };
        core.info(`${flavour.image}: ${digests.length} blob(s) already behind this build's tags.`);
      } catch (error) {
        const reason = `${registryHost(flavour.image)} could not be read before the push: ${messageOf(error)}`;
        before[flavour.name] = { unknown: reason };
        core.warning(`Cannot tell which layers of ${flavour.image} are new: ${reason}. The build goes on; the report shows the pushed bytes as unknown.`);
      }
    }),
  );
  return before;
}

/**
 * After the build: per flavour, the image's layer bytes and, when pushed, the bytes and layers the
 * repository did not hold before. A loaded image gets its unpacked size from the engine. Never
 * fatal: a size that cannot be read is left out with a warning.
 */
export async function measureSizes(
  plan: BuildPlan,
  metadata: BakeMetadata,
  before: BlobsBefore | undefined,
  options: LookupOptions = {},
): Promise<Record<string, FlavourSizes>> {
  const sizes: Record<string, FlavourSizes> = {};
  const lookup = lookupOf(options);
  await Promise.all(plan.flavours.map(async (flavour) => {
    const digest = metadata[flavour.name]?.['containerimage.digest'];
    try {
      if (plan.push && digest) {
        const blobs = await blobsOf(flavour.image, digest, lookup);
        const previous = before?.[flavour.name];
        if (!previous || 'unknown' in previous) {
          sizes[flavour.name] = { imageBytes: layerBytes(blobs), pushedUnknown: previous?.unknown ?? 'the registry was not read before the push' };
          return;
        }
        const fresh = newBlobs(blobs, previous.digests);
        sizes[flavour.name] = { imageBytes: layerBytes(blobs), pushedBytes: fresh.bytes, pushedLayers: fresh.layers };
      } else if (!plan.push && plan.tags[0]) {
        const size = await dockerOrThrow(['image', 'inspect', '--format', '{{.Size}}', `${flavour.image}:${plan.tags[0].name}`]);
        sizes[flavour.name] = { imageBytes: Number(size.trim()) };
      }
    } catch (error) {
      core.warning(`Cannot measure the size of ${flavour.image}${plan.push ? ` (registry ${registryHost(flavour.image)})` : ''}: ${messageOf(error)}`);
    }
  }));
  return sizes;
}
