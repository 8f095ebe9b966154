import { describe, expect, test } from 'vitest';
import { classifyRegistryError, loginArgs, RegistryAuthError, RegistryHostError, RegistryUnavailableError, redact, withRegistryRetry } from '../src/index.js';

test.each([
  ['toomanyrequests: You have reached your pull rate limit', 'retryable', undefined],
  ['unexpected status: 503 Service Unavailable', 'retryable', 503],
  ['received unexpected HTTP status: 502 Bad Gateway', 'retryable', 502],
  ['write tcp 10.0.0.1:443: write: connection reset by peer', 'retryable', undefined],
  ['net/http: TLS handshake timeout', 'retryable', undefined],
  ['unexpected status from HEAD request: 401 Unauthorized', 'auth', 401],
  ['denied: requested access to the resource is denied', 'auth', undefined],
  ['403 Forbidden', 'auth', 403],
  ['process "/bin/sh -c pip install" did not complete successfully: exit code: 1 (pip said 503)', 'other', undefined],
  ['failed to solve: dockerfile parse error on line 3', 'other', undefined],
])('classify %j', (message, kind, status) => {
  expect(classifyRegistryError(message)).toEqual({ kind, ...(status ? { status } : {}) });
});

test('classify: the image a push names is where the error happened (`reg/app` is on Docker Hub)', () => {
  expect(classifyRegistryError('failed to push reg/app:1: unexpected status from PUT request: 429 Too Many Requests')).toEqual({
    kind: 'retryable',
    status: 429,
    host: 'docker.io',
    reference: 'reg/app:1',
    pushTo: 'reg/app',
  });
});

// A host that does not exist is not retried: waiting does not fix a misspelt name. A resolver that
// could not answer this time is retried like any network error.
test.each([
  // docker 26.1 `docker login nosuch-host.invalid`
  ['Error response from daemon: Get "https://nosuch-host.invalid/v2/": dial tcp: lookup nosuch-host.invalid on 10.255.255.53:53: no such host', 'dns', 'nosuch-host.invalid'],
  ['getaddrinfo ENOTFOUND ghcr.example', 'dns', 'ghcr.example'],
  ['dial tcp: lookup: no such host', 'dns', undefined],
  ['failed to do request: Head "https://reg.example/v2/x/manifests/1": dial tcp: lookup reg.example: Temporary failure in name resolution', 'retryable', 'reg.example'],
  ['getaddrinfo EAI_AGAIN ghcr.example', 'retryable', undefined],
  ['dial tcp: lookup reg.example on 10.255.255.53:53: server misbehaving', 'retryable', undefined],
])('classify DNS failure %j', (message, kind, host) => {
  expect(classifyRegistryError(message)).toEqual({ kind, ...(host ? { host } : {}) });
});

describe('withRegistryRetry', () => {
  const base = { operation: 'push reg.local/app', registry: 'reg.local', random: () => 1, baseDelayMs: 100, maxDelayMs: 250 };

  test('the registry host not resolving fails at once, naming the input that holds it', async () => {
    let calls = 0;
    const error = await withRegistryRetry(
      async () => {
        calls++;
        throw new Error('dial tcp: lookup nosuch.example on 127.0.0.53:53: no such host');
      },
      { ...base, registry: 'nosuch.example:5000', input: 'registry', sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(RegistryHostError);
    expect((error as Error).message).toMatch(/^Input `registry`: registry host `nosuch\.example:5000` does not resolve \(.*no such host\)\. Check the host name in `registry`/);
  });

  test.each([
    'dial tcp: lookup reg.local: Temporary failure in name resolution',
    'getaddrinfo EAI_AGAIN reg.local',
    'dial tcp: lookup reg.local on 127.0.0.53:53: server misbehaving',
  ])('a transient DNS failure of the registry host is retried: %j', async (message) => {
    let calls = 0;
    const result = await withRegistryRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error(message);
        return 'pushed';
      },
      { ...base, input: 'registry', sleep: async () => {} },
    );
    expect(result).toBe('pushed');
    expect(calls).toBe(3);
  });

  test('another host not resolving (a FROM image) is not blamed on the registry, nor retried', async () => {
    let calls = 0;
    const original = new Error('failed to resolve source metadata for other.example/base:1: lookup other.example: no such host');
    const error = await withRegistryRetry(
      async () => {
        calls++;
        throw original;
      },
      { ...base, input: 'image', sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(error).toBe(original);
  });

  test('retries 429/5xx with capped exponential backoff, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRegistryRetry(
      async () => {
        calls++;
        if (calls < 4) throw new Error(calls === 1 ? '429 Too Many Requests' : '503 Service Unavailable');
        return 'pushed';
      },
      { ...base, sleep: async (ms) => void delays.push(ms) },
    );
    expect(result).toBe('pushed');
    expect(delays).toEqual([100, 200, 250]);
  });

  test('gives up after the attempts with one error that keeps the cause', async () => {
    let calls = 0;
    const error = await withRegistryRetry(
      async () => {
        calls++;
        throw new Error('connection reset by peer');
      },
      { ...base, attempts: 3, sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect((error as Error).message).toBe('push reg.local/app failed after 3 attempts: connection reset by peer');
    expect((error as RegistryUnavailableError).fatal).toBe(true);
  });

  test('401 fails at once with a clear message and never the password', async () => {
    let calls = 0;
    const error = await withRegistryRetry(
      async () => {
        calls++;
        throw new Error('login to reg.local with hunter2: 401 Unauthorized');
      },
      { ...base, secrets: ['hunter2'], sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toMatch(/Registry reg.local refused the credentials \(HTTP 401\): check the `username` and `password` inputs/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  test('other errors pass through once, redacted', async () => {
    const error = await withRegistryRetry(
      async () => {
        throw new Error('exec failed: token p%40ss and p@ss');
      },
      { ...base, secrets: ['p@ss'], sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('exec failed: token *** and ***');
  });
});

test.each([
  ['https://u:s3cret@proxy', ['s3cret'], 'https://u:***@proxy'],
  ['nothing here', ['s3cret'], 'nothing here'],
  ['short ab', ['ab'], 'short ab'],
])('redact(%j)', (text, secrets, expected) => {
  expect(redact(text, secrets)).toBe(expected);
});

describe('loginArgs', () => {
  test('the password goes to stdin, never to argv', () => {
    const login = loginArgs({ registry: '127.0.0.1:5000', username: 'ci', password: 'hunter2' });
    expect(login.args).toEqual(['login', '--username', 'ci', '--password-stdin', '127.0.0.1:5000']);
    expect(login.args.join(' ')).not.toContain('hunter2');
    expect(login.stdin).toBe('hunter2');
  });
  test.each([
    [{ registry: 'ghcr.io', username: '', password: 'x' }, /Input `username`/],
    [{ registry: 'ghcr.io', username: 'u', password: '' }, /Input `password`/],
    [{ registry: 'https://ghcr.io/v2', username: 'u', password: 'x' }, /Input `registry`: `https:\/\/ghcr.io\/v2` is not a registry host/],
  ])('rejects %j', (options, message) => {
    expect(() => loginArgs(options)).toThrow(message);
  });
});
