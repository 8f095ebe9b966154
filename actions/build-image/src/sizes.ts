import * as core from '@actions/core';
import { backoffDelay, imageBlobs, layerBytes, ManifestError, manifestLookupOutcome, newBlobs } from '@org/image-build';
import type { BakeMetadata, BlobRef, FlavourSizes } from '@org/image-build';
import { registryHost } from './build.js';
import { docker, dockerOrThrow } from './docker.js';
import { messageOf } from './errors.js';
import type { BuildPlan } from './plan.js';

/** Per flavour: the blob digests behind this build's tags before the push, or why they are unknown. */
export type BlobsBefore = Record<string, { digests: string[] } | { unknown: string }>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The raw manifest of `ref` from the registry (credentials from `docker login`); undefined if absent.
 * 429/5xx and connection errors are retried a few times; anything else throws a ManifestError.
 */
async function rawManifest(ref: string): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    const result = await docker(['buildx', 'imagetools', 'inspect', '--raw', ref]);
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
        await sleep(delayMs);
      }
    }
  }
}

async function blobsOf(repository: string, reference: string): Promise<BlobRef[]> {
  const separator = reference.startsWith('sha256:') ? '@' : ':';
  const first = await rawManifest(`${repository}${separator}${reference}`);
  if (first === undefined) return [];
  return imageBlobs(reference, async (digest) => (digest === reference ? first : ((await rawManifest(`${repository}@${digest}`)) ?? '')));
}

/**
 * Before a push: the blobs of the images this build's tags point to now (the previous build of the
 * branch, `latest`...). What the new images add beyond them is what the push uploads. This only
 * feeds the size report, so a registry that cannot be read is a warning, never a failed build.
 */
export async function blobsBeforePush(plan: BuildPlan): Promise<BlobsBefore> {
  const before: BlobsBefore = {};
  // Every lookup is a `docker buildx imagetools` process: run them side by side.
  await Promise.all(
    plan.flavours.map(async (flavour) => {
      try {
        const lists = await Promise.all(plan.tags.filter((t) => t.push).map((tag) => blobsOf(flavour.image, tag.name)));
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
export async function measureSizes(plan: BuildPlan, metadata: BakeMetadata, before: BlobsBefore | undefined): Promise<Record<string, FlavourSizes>> {
  const sizes: Record<string, FlavourSizes> = {};
  await Promise.all(plan.flavours.map(async (flavour) => {
    const digest = metadata[flavour.name]?.['containerimage.digest'];
    try {
      if (plan.push && digest) {
        const blobs = await blobsOf(flavour.image, digest);
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
      core.warning(`Cannot measure the size of ${flavour.image}: ${messageOf(error)}`);
    }
  }));
  return sizes;
}
