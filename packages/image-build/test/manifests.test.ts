import { describe, expect, test } from 'vitest';
import { imageBlobs, layerBytes, ManifestError, newBlobs, parseManifest } from '../src/index.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const image = (config: string, layers: Array<[string, number]>) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: d(config), size: 100 },
    layers: layers.map(([c, size]) => ({ mediaType: LAYER, digest: d(c), size })),
  });
const index = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('1'), size: 400 },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('2'), size: 410 },
  ],
});

describe('parseManifest', () => {
  test.each([
    [image('c', [['a', 10]]), 'image'],
    [index, 'index'],
  ])('%#: %s', (json, kind) => {
    expect(parseManifest(json).kind).toBe(kind);
  });

  test.each(['not json', '{}', '{"config":{"digest":"x"},"layers":[]}'])('refuses %s with a non-fatal error', (json) => {
    expect(() => parseManifest(json)).toThrow(ManifestError);
    try {
      parseManifest(json);
    } catch (error) {
      expect((error as ManifestError).fatal).toBe(false);
    }
  });
});

describe('imageBlobs / newBlobs', () => {
  const registry: Record<string, string> = {
    [d('0')]: index,
    [d('1')]: image('c', [['a', 1000], ['b', 20]]),
    [d('2')]: image('e', [['a', 1000], ['f', 30]]),
  };
  const fetch = async (digest: string) => registry[digest] ?? '';

  test('an index is followed into its manifests; shared layers are listed once', async () => {
    const blobs = await imageBlobs(d('0'), fetch);
    expect(blobs.map((b) => b.digest).sort()).toEqual([d('0'), d('1'), d('2'), d('a'), d('b'), d('c'), d('e'), d('f')].sort());
    expect(layerBytes(blobs)).toBe(1050);
  });

  test('what a push adds: only blobs the previous image did not have', async () => {
    const previous = await imageBlobs(d('1'), fetch);
    const next = await imageBlobs(d('2'), fetch);
    expect(newBlobs(next, previous.map((b) => b.digest))).toEqual({ count: 3, bytes: Buffer.byteLength(registry[d('2')]!) + 100 + 30, layers: 1 });
    expect(newBlobs(next, next.map((b) => b.digest))).toEqual({ count: 0, bytes: 0, layers: 0 });
  });
});
