import * as core from '@actions/core';
import { imageBlobs, layerBytes, newBlobs } from '@org/image-build';
import type { BakeMetadata, BlobRef, FlavourSizes } from '@org/image-build';
import { docker, dockerOrThrow } from './docker.js';
import { messageOf } from './errors.js';
import type { BuildPlan } from './plan.js';

/** The raw manifest of `ref` from the registry (credentials from `docker login`); undefined if absent. */
async function rawManifest(ref: string): Promise<string | undefined> {
  const result = await docker(['buildx', 'imagetools', 'inspect', '--raw', ref]);
  if (result.exitCode === 0) return result.stdout;
  if (/not found|unknown manifest|manifest unknown|404/i.test(result.stderr)) return undefined;
  throw new Error(result.stderr.trim() || `imagetools inspect exited with ${result.exitCode}`);
}

async function blobsOf(repository: string, reference: string): Promise<BlobRef[]> {
  const separator = reference.startsWith('sha256:') ? '@' : ':';
  const first = await rawManifest(`${repository}${separator}${reference}`);
  if (first === undefined) return [];
  return imageBlobs(reference, async (digest) => (digest === reference ? first : ((await rawManifest(`${repository}@${digest}`)) ?? '')));
}

/**
 * Before a push: the blobs of the images this build's tags point to now (the previous build of the
 * branch, `latest`...). What the new images add beyond them is what the push uploads.
 */
export async function blobsBeforePush(plan: BuildPlan): Promise<Record<string, string[]>> {
  const before: Record<string, string[]> = {};
  // Every lookup is a `docker buildx imagetools` process: run them side by side.
  await Promise.all(
    plan.flavours.map(async (flavour) => {
      const lists = await Promise.all(plan.tags.filter((t) => t.push).map((tag) => blobsOf(flavour.image, tag.name)));
      const digests = new Set(lists.flat().map((blob) => blob.digest));
      before[flavour.name] = [...digests];
      core.info(`${flavour.image}: ${digests.size} blob(s) already behind this build's tags.`);
    }),
  );
  return before;
}

/**
 * After the build: per flavour, the image's layer bytes and, when pushed, the bytes and layers the
 * repository did not hold before. A loaded image gets its unpacked size from the engine. Never
 * fatal: a size that cannot be read is left out with a warning.
 */
export async function measureSizes(plan: BuildPlan, metadata: BakeMetadata, before: Record<string, string[]> | undefined): Promise<Record<string, FlavourSizes>> {
  const sizes: Record<string, FlavourSizes> = {};
  await Promise.all(plan.flavours.map(async (flavour) => {
    const digest = metadata[flavour.name]?.['containerimage.digest'];
    try {
      if (plan.push && digest) {
        const blobs = await blobsOf(flavour.image, digest);
        const fresh = newBlobs(blobs, before?.[flavour.name] ?? []);
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
