// What withRegistryRetry makes of the ERROR lines buildx 0.13 / BuildKit 0.13 print when a registry
// fails a bake (or the docker 26 CLI a login): which registry is named, what to fix, whether it is
// retried, and that the bake's own error stays reachable as `cause` (the failure summary needs it).
import { describe, expect, test } from 'vitest';
import { OtherRegistryAuthError, OtherRegistryUnreachableError, RegistryPushDeniedError } from '../src/internal/errors.js';
import { classifyRegistryError, RegistryAuthError, RegistryUnavailableError, withRegistryRetry } from '../src/index.js';

/** Stands in for the action's BakeRunError: an error that carries more than its message. */
class BakeFailure extends Error {
  readonly result = { exitCode: 1 };
}

const bake = { operation: 'Building and pushing the images', registry: '127.0.0.1:15000', input: 'image', random: () => 1, sleep: async () => {} };

async function outcome(message: string, options: Partial<typeof bake> & { secrets?: string[] } = {}) {
  let calls = 0;
  const thrown: BakeFailure[] = [];
  const error = await withRegistryRetry(
    async () => {
      calls++;
      const failure = new BakeFailure(message);
      thrown.push(failure);
      throw failure;
    },
    { ...bake, ...options },
  ).catch((e: unknown) => e as Error);
  return { error: error as Error, calls, thrown };
}

describe('classifyRegistryError names the registry and image of the line', () => {
  test.each<[string, string, ReturnType<typeof classifyRegistryError>]>([
    [
      'a base image behind basic auth',
      'ERROR: target production: failed to solve: 127.0.0.1:15871/x:latest: failed to resolve source metadata for 127.0.0.1:15871/x:latest: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials',
      { kind: 'auth', host: '127.0.0.1:15871', reference: '127.0.0.1:15871/x:latest' },
    ],
    [
      'a base image behind token auth',
      'ERROR: failed to solve: 127.0.0.1:15871/x:latest: failed to resolve source metadata for 127.0.0.1:15871/x:latest: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://127.0.0.1:15871/token?scope=repository%3Ax%3Apull&service=127.0.0.1%3A15871: 401 Unauthorized',
      { kind: 'auth', status: 401, host: '127.0.0.1:15871', reference: '127.0.0.1:15871/x:latest' },
    ],
    [
      'a push denied',
      'ERROR: failed to solve: failed to push ghcr.io/org/app:sha-1234567: unexpected status from POST request to https://ghcr.io/v2/org/app/blobs/uploads/: 403 Forbidden',
      { kind: 'auth', status: 403, host: 'ghcr.io', reference: 'ghcr.io/org/app:sha-1234567', pushTo: 'ghcr.io/org/app' },
    ],
    [
      'a refused connection: the host that refused it',
      'ERROR: failed to solve: 127.0.0.1:15872/x:latest: failed to resolve source metadata for 127.0.0.1:15872/x:latest: failed to do request: Head "http://127.0.0.1:15872/v2/x/manifests/latest": dial tcp 127.0.0.1:15872: connect: connection refused',
      { kind: 'retryable', host: '127.0.0.1:15872', reference: '127.0.0.1:15872/x:latest' },
    ],
    [
      // GitLab's token realm is gitlab.com, its registry registry.gitlab.com: a realm names no registry.
      'a token realm on another host than the registry: no host',
      'ERROR: failed to solve: failed to configure registry cache importer: failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://gitlab.com/jwt/auth?scope=repository%3Agroup%2Fapp%2Fcache%3Apull&service=container_registry: 403 Forbidden',
      { kind: 'auth', status: 403 },
    ],
    [
      'a login (docker 26 CLI)',
      'Get "http://127.0.0.1:15999/v2/": dial tcp 127.0.0.1:15999: connect: connection refused',
      { kind: 'retryable', host: '127.0.0.1:15999' },
    ],
  ])('%s', (_, message, expected) => {
    expect(classifyRegistryError(message)).toEqual(expected);
  });
});

describe('failures retrying cannot fix end at once, naming the registry and what to do', () => {
  test.each<[string, Partial<typeof bake>, string, new (...args: never[]) => Error, RegExp]>([
    [
      'a base image on another registry behind basic auth: that registry, not `username`/`password`',
      {},
      'ERROR: target production: failed to solve: 127.0.0.1:15871/x:latest: failed to resolve source metadata for 127.0.0.1:15871/x:latest: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials',
      OtherRegistryAuthError,
      /^Registry 127\.0\.0\.1:15871 refused access to 127\.0\.0\.1:15871\/x:latest: .*no basic auth credentials\. It is not 127\.0\.0\.1:15000, .*log in to 127\.0\.0\.1:15871 in an earlier step/,
    ],
    [
      'a base image on another registry behind token auth',
      {},
      'ERROR: failed to solve: 127.0.0.1:15871/x:latest: failed to resolve source metadata for 127.0.0.1:15871/x:latest: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://127.0.0.1:15871/token?scope=repository%3Ax%3Apull&service=127.0.0.1%3A15871: 401 Unauthorized',
      OtherRegistryAuthError,
      /^Registry 127\.0\.0\.1:15871 refused access to 127\.0\.0\.1:15871\/x:latest \(HTTP 401\):/,
    ],
    [
      'a private Docker Hub base image while pushing to ghcr.io',
      { registry: 'ghcr.io' },
      'ERROR: failed to solve: org/private-base:1: failed to resolve source metadata for docker.io/org/private-base:1: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
      OtherRegistryAuthError,
      /^Registry docker\.io refused access to docker\.io\/org\/private-base:1: .* It is not ghcr\.io/,
    ],
    [
      'a base image on the pushed-to registry without credentials: `username`/`password`',
      {},
      'ERROR: failed to solve: 127.0.0.1:15000/base/python:3.12: failed to resolve source metadata for 127.0.0.1:15000/base/python:3.12: unexpected status from HEAD request to http://127.0.0.1:15000/v2/base/python/manifests/3.12: 401 Unauthorized',
      RegistryAuthError,
      /^Registry 127\.0\.0\.1:15000 refused the credentials \(HTTP 401\): check the `username` and `password` inputs/,
    ],
    [
      'a push without credentials (401)',
      {},
      'ERROR: failed to solve: failed to push 127.0.0.1:15000/org/app:sha-1234567: unexpected status from HEAD request to http://127.0.0.1:15000/v2/org/app/blobs/sha256:4f1c0d2e: 401 Unauthorized',
      RegistryAuthError,
      /^Registry 127\.0\.0\.1:15000 refused the credentials \(HTTP 401\)/,
    ],
    [
      'a push to ghcr.io denied (403): the repository, a permission',
      { registry: 'ghcr.io' },
      'ERROR: failed to solve: failed to push ghcr.io/org/app:sha-1234567: unexpected status from POST request to https://ghcr.io/v2/org/app/blobs/uploads/: 403 Forbidden',
      RegistryPushDeniedError,
      /^The push to ghcr\.io\/org\/app was denied \(HTTP 403\): failed to push ghcr\.io\/org\/app:sha-1234567: unexpected status from POST .*give the token push permission on it/,
    ],
    [
      'a push denied by the token server (403)',
      {},
      'ERROR: target production: failed to solve: failed to push 127.0.0.1:15000/team-a/app:sha-1234567: failed to authorize: failed to fetch oauth token: unexpected status from POST request to http://127.0.0.1:15000/token: 403 Forbidden',
      RegistryPushDeniedError,
      /^The push to 127\.0\.0\.1:15000\/team-a\/app was denied \(HTTP 403\)/,
    ],
    [
      'a push to Docker Hub denied (insufficient_scope)',
      { registry: 'docker.io' },
      'ERROR: failed to solve: failed to push docker.io/org/app:latest: push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
      RegistryPushDeniedError,
      /^The push to docker\.io\/org\/app was denied: failed to push docker\.io\/org\/app:latest: push access denied/,
    ],
    [
      'a base image registry refusing connections: that host, not retried',
      {},
      'ERROR: failed to solve: 127.0.0.1:15872/x:latest: failed to resolve source metadata for 127.0.0.1:15872/x:latest: failed to do request: Head "http://127.0.0.1:15872/v2/x/manifests/latest": dial tcp 127.0.0.1:15872: connect: connection refused',
      OtherRegistryUnreachableError,
      /^Cannot connect to 127\.0\.0\.1:15872, the registry of 127\.0\.0\.1:15872\/x:latest, \(.*connection refused\)\. It is not 127\.0\.0\.1:15000, .*not retried/,
    ],
    [
      'a login refused (docker 26 CLI)',
      { operation: 'Logging in to 127.0.0.1:15000', input: 'registry' },
      'Error response from daemon: login attempt to http://127.0.0.1:15000/v2/ failed with status: 401 Unauthorized',
      RegistryAuthError,
      /^Registry 127\.0\.0\.1:15000 refused the credentials \(HTTP 401\): check the `username` and `password` inputs/,
    ],
  ])('%s', async (_, options, message, type, expected) => {
    const { error, calls, thrown } = await outcome(message, options);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(expected);
    if (!(error instanceof RegistryAuthError)) expect(error.message).not.toContain('`username` and `password` inputs');
    // The bake's error stays reachable: main.ts writes the failure summary from it.
    expect(error.cause).toBe(thrown[0]);
  });
});

describe('failures that may pass are retried', () => {
  test.each<[string, Partial<typeof bake>, string, RegExp]>([
    [
      'the pushed-to registry refusing connections (restarting)',
      {},
      'ERROR: failed to solve: failed to push 127.0.0.1:15000/org/app:sha-1234567: failed to do request: Head "http://127.0.0.1:15000/v2/org/app/blobs/sha256:4f1c0d2e": dial tcp 127.0.0.1:15000: connect: connection refused',
      /^Building and pushing the images failed after 4 attempts: .*connection refused\. Nothing answered at 127\.0\.0\.1:15000: check the host and port in `image`/,
    ],
    [
      'Docker Hub answering 503 for a base image',
      { registry: 'ghcr.io' },
      'ERROR: failed to solve: python:3.12-slim: failed to resolve source metadata for docker.io/library/python:3.12-slim: unexpected status from HEAD request to https://registry-1.docker.io/v2/library/python/manifests/3.12-slim: 503 Service Unavailable',
      /^Building and pushing the images failed after 4 attempts: .*503 Service Unavailable$/,
    ],
    [
      'a base image registry timing out: that host is named, not the registry pushed to',
      { registry: 'ghcr.io' },
      'ERROR: failed to solve: python:3.12-slim: failed to resolve source metadata for docker.io/library/python:3.12-slim: failed to do request: Head "https://registry-1.docker.io/v2/library/python/manifests/3.12-slim": dial tcp 54.236.113.205:443: i/o timeout',
      /i\/o timeout\. Nothing answered at registry-1\.docker\.io, which is not ghcr\.io, the registry this action pushes to: check the image that names it/,
    ],
    [
      'an unreachable login registry: names `registry` and what to check',
      { operation: 'Logging in to 127.0.0.1:15999', registry: '127.0.0.1:15999', input: 'registry' },
      'Get "http://127.0.0.1:15999/v2/": dial tcp 127.0.0.1:15999: connect: connection refused',
      /^Logging in to 127\.0\.0\.1:15999 failed after 4 attempts: .*connection refused\. Nothing answered at 127\.0\.0\.1:15999: check the host and port in `registry`, and that the registry runs and is reachable from the runner/,
    ],
  ])('%s', async (_, options, message, expected) => {
    const { error, calls, thrown } = await outcome(message, options);
    expect(calls).toBe(4);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect(error.message).toMatch(expected);
    expect(error.cause).toBe(thrown[3]);
  });
});

test('the pushed-to registry refusing its own token (realm on another host) is its credentials, not another registry\'s', async () => {
  const { error, calls } = await outcome(
    'ERROR: failed to solve: failed to configure registry cache importer: failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://gitlab.com/jwt/auth?scope=repository%3Agroup%2Fapp%2Fcache%3Apull&service=container_registry: 403 Forbidden',
    { registry: 'registry.gitlab.com' },
  );
  expect(calls).toBe(1);
  expect(error).toBeInstanceOf(RegistryAuthError);
  expect(error.message).toMatch(/^Registry registry\.gitlab\.com refused the credentials \(HTTP 403\): check the `username` and `password` inputs/);
});

test('the password is masked in the error and in the cause it keeps', async () => {
  const { error } = await outcome('ERROR: failed to solve: failed to push ghcr.io/org/app:1 as hunter22: unexpected status: 403 Forbidden', { registry: 'ghcr.io', secrets: ['hunter22'] });
  expect(error).toBeInstanceOf(RegistryPushDeniedError);
  expect(error.message).not.toContain('hunter22');
  expect((error.cause as Error).message).not.toContain('hunter22');
});
