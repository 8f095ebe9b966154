import { describe, expect, test } from 'vitest';
import { imageBlobs, layerBytes, ManifestError, manifestLookupOutcome, newBlobs, parseManifest } from '../src/index.js';

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

// What the size lookup before a push does with one `docker buildx imagetools inspect --raw` (it only
// feeds the size report, so giving up means a warning, never a failed build).
test.each<[string, number, string, number, string]>([
  ['found', 0, '', 1, 'found'],
  ['a tag not pushed yet', 1, 'ERROR: reg/app:sha-1: not found', 1, 'absent'],
  ['a repository not pushed yet', 1, 'ERROR: unexpected status: 404 Not Found: name unknown', 1, 'absent'],
  ['503, first attempt: retried', 1, 'ERROR: unexpected status from GET request: 503 Service Unavailable', 1, 'retry'],
  ['429, second attempt: retried', 1, 'ERROR: toomanyrequests: 429 Too Many Requests', 2, 'retry'],
  ['503 on the last attempt: given up', 1, 'ERROR: unexpected status: 503 Service Unavailable', 3, 'unavailable'],
  ['the registry needs credentials: not retried', 1, 'ERROR: unexpected status from HEAD request: 401 Unauthorized', 1, 'unavailable'],
  ['a host that does not exist: not retried', 1, 'ERROR: dial tcp: lookup nosuch.example: no such host', 1, 'unavailable'],
  ['a resolver that could not answer: retried', 1, 'ERROR: dial tcp: lookup reg.example on 10.255.255.53:53: server misbehaving', 1, 'retry'],
  ['anything else: not retried', 1, 'ERROR: something odd', 1, 'unavailable'],
])('manifest lookup: %s', (_, exitCode, stderr, attempt, kind) => {
  expect(manifestLookupOutcome({ exitCode, stderr }, attempt).kind).toBe(kind);
});

test('a lookup given up says why: attempts, credentials', () => {
  expect(manifestLookupOutcome({ exitCode: 1, stderr: '503 Service Unavailable' }, 3)).toEqual({ kind: 'unavailable', reason: 'still failing after 3 attempts: 503 Service Unavailable' });
  expect(manifestLookupOutcome({ exitCode: 1, stderr: '401 Unauthorized' }, 1)).toMatchObject({ reason: expect.stringMatching(/refused to show it \(HTTP 401\); log in with `registry`/) });
});
