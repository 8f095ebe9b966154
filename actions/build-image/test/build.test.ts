import { classifyRegistryError } from '@org/image-build';
import { describe, expect, test } from 'vitest';
import { BakeRunError, registryHost } from '../src/build.js';
import { errorLines } from '../src/docker.js';

const failure = (messages: string[], exitCode = 1) => new BakeRunError({ statuses: [], messages, metadata: {}, exitCode, attempts: 1 });

describe('what a failed bake is retried on', () => {
  // buildx's plain lines after a failed bake (docker 26.1 / buildx 0.13 wording).
  test.each<[string, string[], 'retryable' | 'auth' | 'other']>([
    ['registry 503 during the push', ['ERROR: failed to solve: failed to push 127.0.0.1:15000/x/app:sha-1: unexpected status from PUT request to http://127.0.0.1:15000/v2/x/app/manifests/sha-1: 503 Service Unavailable'], 'retryable'],
    ['rate limited', ['ERROR: failed to solve: failed to push ghcr.io/org/app:latest: unexpected status: 429 Too Many Requests'], 'retryable'],
    ['refused credentials', ['ERROR: failed to solve: failed to push ghcr.io/org/app:latest: unexpected status from HEAD request: 403 Forbidden'], 'auth'],
    ['a RUN that failed is never retried', ['ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2'], 'other'],
    ['warnings are not the error', ['WARNING: local cache import at /x not found', 'ERROR: failed to solve: dockerfile parse error on line 3'], 'other'],
  ])('%s', (_, messages, kind) => {
    expect(classifyRegistryError(failure(messages).message).kind).toBe(kind);
  });

  test('without ERROR lines the message still says what exited', () => {
    expect(failure([], 137).message).toBe('docker buildx bake exited with 137');
  });
});

test.each([
  ['ERROR: a\nplain\nERROR: b', 'ERROR: a / ERROR: b'],
  ['one\ntwo\nthree\nfour', 'two / three / four'],
  ['Error response from daemon: login attempt to http://x/v2/ failed with status: 401 Unauthorized\n', 'Error response from daemon: login attempt to http://x/v2/ failed with status: 401 Unauthorized'],
])('errorLines(%j)', (text, expected) => {
  expect(errorLines(text)).toBe(expected);
});

test.each([
  ['ghcr.io/org/app', 'ghcr.io'],
  ['127.0.0.1:15000/ns/app', '127.0.0.1:15000'],
  ['localhost/app', 'localhost'],
  ['org/app', 'docker.io'],
  ['app', 'docker.io'],
])('registryHost(%s) = %s', (image, host) => {
  expect(registryHost(image)).toBe(host);
});
