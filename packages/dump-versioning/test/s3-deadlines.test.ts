import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { expect, test } from 'vitest';
import { loopbackS3Store, useLoopbackS3 } from './s3-loopback.js';
import { fakeServer } from '../../../test/support/loopback.js';
import { DEFAULT_S3_TIMEOUTS, requestHandlerFor } from '../src/internal/aws-sdk.js';
import { StoreAccessError } from '../src/internal/errors.js';
import { openStore } from '../src/internal/open-store.js';

// Loopback servers standing in for S3: the first-byte deadline bounds a silent endpoint (with a notice
// before each retry) but never a transfer in progress, however long it takes.
const KEY = 'deadline-test-key';
const SECRET = 'deadline-test-secret-value';
const MiB = 1024 * 1024;

// openStore takes credentials from the AWS chain, as the CLI does: the environment here.
const ENV = { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_MAX_ATTEMPTS: undefined, AWS_RETRY_MODE: undefined, AWS_PROFILE: undefined };
const { closers, httpServer } = useLoopbackS3(ENV);

function storeAt(port: number, timeouts: { firstByteMs: number; idleMs: number }) {
  return loopbackS3Store(port, { bucket: 'deadlines', timeouts, credentials: { accessKeyId: KEY, secretAccessKey: SECRET } });
}

test('an endpoint that accepts and never answers fails within a few first-byte deadlines, with a notice before each retry', async () => {
  let requests = 0;
  const server = await fakeServer((socket) => socket.on('data', () => requests++));
  closers.push(server.close);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const notices: Array<{ message: string; at: number }> = [];
  const started = performance.now();
  // As the CLI opens it, with a short deadline so the test takes seconds (the default is 10 s).
  const store = openStore('s3://silent-bucket/p', {
    s3Endpoint: endpoint,
    s3Timeouts: { firstByteMs: 400 },
    onRetry: (message) => notices.push({ message, at: performance.now() - started }),
  });
  const failure = await (async () => {
    for await (const object of store.list('svc/refs/')) void object;
  })().catch((error: unknown) => error);
  const elapsed = performance.now() - started;
  await store.close();

  expect(failure).toBeInstanceOf(StoreAccessError);
  expect((failure as StoreAccessError).code).toBe('s3-timeout');
  expect((failure as Error).message).toBe(
    `the S3 endpoint at ${endpoint} did not answer when asked to list p/svc/refs/ in s3://silent-bucket/p (3 attempts): no answer within 0.4 s of sending the request; check the S3 endpoint, the network and any proxy, or set DEVSTACK_DUMPS_S3_FIRST_BYTE_SECONDS (seconds) if it is only slow to start answering`,
  );
  expect(notices.map((notice) => notice.message)).toEqual([
    `S3 endpoint ${endpoint} did not answer within 0.4 s; retrying (2/3)`,
    `S3 endpoint ${endpoint} did not answer within 0.4 s; retrying (3/3)`,
  ]);
  // Each notice follows its deadline; the whole failure takes three deadlines plus short backoffs.
  expect(notices[0]!.at).toBeGreaterThanOrEqual(400);
  expect(requests).toBe(3);
  expect(elapsed).toBeGreaterThanOrEqual(3 * 400);
  expect(elapsed).toBeLessThan(8_000);
  expect(JSON.stringify(notices) + String(failure)).not.toContain(SECRET);
}, 30_000);

test('concurrent requests failing together give one notice per retry, not one each', async () => {
  const server = await fakeServer(() => undefined);
  closers.push(server.close);
  const notices: string[] = [];
  const store = openStore('s3://silent-bucket/p', { s3Endpoint: `http://127.0.0.1:${server.port}`, s3Timeouts: { firstByteMs: 300 }, onRetry: (message) => notices.push(message) });
  const failures = await Promise.all(['a', 'b', 'c', 'd'].map((key) => store.exists(key).catch((error: unknown) => error)));
  await store.close();
  expect(failures.map((failure) => (failure as StoreAccessError).code)).toEqual(['s3-timeout', 's3-timeout', 's3-timeout', 's3-timeout']);
  expect(notices).toEqual([
    `S3 endpoint http://127.0.0.1:${server.port} did not answer within 0.3 s; retrying (2/3)`,
    `S3 endpoint http://127.0.0.1:${server.port} did not answer within 0.3 s; retrying (3/3)`,
  ]);
}, 30_000);

test('a small write the endpoint never answers is cut at the first-byte deadline too', async () => {
  const port = await httpServer(() => undefined);
  const store = storeAt(port, { firstByteMs: 300, idleMs: 5_000 });
  const started = performance.now();
  const failure = await store.putIfMatch('refs/master.json', Buffer.from('{"version":"v1"}'), undefined).catch((error: unknown) => error);
  await store.close();
  expect((failure as StoreAccessError).code).toBe('s3-timeout');
  expect((failure as Error).message).toMatch(/asked to write svc\/refs\/master\.json .*\(3 attempts\): no answer within 0\.3 s/);
  expect(performance.now() - started).toBeLessThan(5_000);
}, 30_000);

test.each([
  ['putIfMatch (a ref, a lease)', 'written'],
  ['putIfAbsent (a manifest, a commit entry)', 'created'],
])('%s stored by an attempt answered after the deadline: the retry finds its own bytes and says %s, not a conflict', async (method, outcome) => {
  // The first PUT is stored but answered late; the SDK retries it, and the retry's condition fails.
  const stored = new Map<string, Buffer>();
  const port = await httpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const key = request.url!.split('?')[0]!;
      if (request.method === 'GET') {
        const body = stored.get(key);
        if (!body) {
          response.writeHead(404, { 'Content-Type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
          return;
        }
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ETag: '"e1"' }).end(body);
        return;
      }
      if (stored.has(key)) {
        response.writeHead(412, { 'Content-Type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>');
        return;
      }
      stored.set(key, Buffer.concat(chunks));
      setTimeout(() => response.writeHead(200, { ETag: '"e1"' }).end(), 600);
    });
  });
  const store = storeAt(port, { firstByteMs: 300, idleMs: 5_000 });
  const body = Buffer.from(`{"version":"v1","writer":"${method}"}`);
  const result = method.startsWith('putIfMatch') ? await store.putIfMatch('refs/master.json', body, undefined) : await store.putIfAbsent('versions/v1.json', body);
  expect(result).toBe(outcome);
  // Someone else's bytes are still a conflict.
  const other = method.startsWith('putIfMatch') ? await store.putIfMatch('refs/master.json', Buffer.from('{"other":1}'), undefined) : await store.putIfAbsent('versions/v1.json', Buffer.from('{"other":1}'));
  expect(other).toBe(method.startsWith('putIfMatch') ? 'conflict' : 'exists');
  await store.close();
}, 30_000);

test('DEVSTACK_DUMPS_S3_FIRST_BYTE_SECONDS lengthens the deadline for a server slow to start its answers; a bad value is refused naming it', async () => {
  const port = await httpServer((_request, response) => {
    setTimeout(() => {
      response
        .writeHead(200, { 'Content-Type': 'application/xml' })
        .end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>slow</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>p/a.json</Key><Size>2</Size><LastModified>2026-12-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>');
    }, 700);
  });
  const open = (seconds: string) => openStore('s3://slow-bucket/p', { s3Endpoint: `http://127.0.0.1:${port}`, env: { ...process.env, AWS_MAX_ATTEMPTS: '1', DEVSTACK_DUMPS_S3_FIRST_BYTE_SECONDS: seconds } });
  const listAll = async (store: ReturnType<typeof open>) => {
    const keys: string[] = [];
    for await (const object of store.list('')) keys.push(object.key);
    await store.close();
    return keys;
  };
  await expect(listAll(open('0.3'))).rejects.toMatchObject({ code: 's3-timeout' });
  expect(await listAll(open('3'))).toEqual(['a.json']);
  expect(() => open('soon')).toThrow(/^DEVSTACK_DUMPS_S3_FIRST_BYTE_SECONDS="soon" is not a number of seconds between 0 and 3600/);
}, 30_000);

test('a download that keeps flowing is not cut, however much longer than the first-byte deadline it takes', async () => {
  const body = Buffer.alloc(4 * MiB, 7);
  const port = await httpServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length), ETag: '"e1"' });
    // 64 KiB every 20 ms: about 1.3 s in all, a few times the deadline, never idle for long.
    let offset = 0;
    const timer = setInterval(() => {
      response.write(body.subarray(offset, (offset += 64 * 1024)));
      if (offset >= body.length) {
        clearInterval(timer);
        response.end();
      }
    }, 20);
    request.on('close', () => clearInterval(timer));
  });
  const store = storeAt(port, { firstByteMs: 300, idleMs: 1_000 });
  const started = performance.now();
  const stream = (await store.getStream('blobs/sha256/x'))!;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  expect(performance.now() - started).toBeGreaterThan(600);
  expect(Buffer.concat(chunks).equals(body)).toBe(true);
  const whole = await store.get('blobs/sha256/x');
  expect(whole?.body.length).toBe(body.length);
  await store.close();
}, 30_000);

test('a large upload over a slow link is not cut by the first-byte deadline (only by silence)', async () => {
  const body = Buffer.alloc(16 * MiB, 3);
  let received = 0;
  const port = await httpServer((request, response) => {
    // Reads 64 KiB per 10 ms (a slow link): the client is still sending long after the deadline.
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      request.pause();
      setTimeout(() => request.resume(), 10);
    });
    request.on('end', () => {
      response.writeHead(200, { ETag: '"e2"', 'Content-Length': '0' });
      response.end();
    });
  });
  const store = storeAt(port, { firstByteMs: 300, idleMs: 5_000 });
  const started = performance.now();
  await expect(store.putIfAbsent('blobs/sha256/y', body)).resolves.toBe('created');
  expect(performance.now() - started).toBeGreaterThan(1_000);
  expect(received).toBe(body.length);
  await store.close();
}, 30_000);

test('the defaults bound a silent endpoint to well under a minute and leave transfers to the idle limit', async () => {
  expect(DEFAULT_S3_TIMEOUTS.connectMs).toBeLessThanOrEqual(5_000);
  expect(DEFAULT_S3_TIMEOUTS.firstByteMs).toBeLessThanOrEqual(10_000);
  // The SDK's 3 attempts, each ending at the deadline (connection included), plus its sub-second backoffs.
  expect(3 * DEFAULT_S3_TIMEOUTS.firstByteMs + 3_000).toBeLessThan(60_000);
  expect(DEFAULT_S3_TIMEOUTS.idleMs).toBeGreaterThanOrEqual(DEFAULT_S3_TIMEOUTS.firstByteMs);
  const config = await (requestHandlerFor('http://127.0.0.1:9') as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider;
  // No handler-wide request timeout (that would bound every transfer): the deadline is set per small request.
  expect(config).toMatchObject({ connectionTimeout: 5_000, socketTimeout: DEFAULT_S3_TIMEOUTS.idleMs, throwOnRequestTimeout: true });
  expect(config.requestTimeout).toBeUndefined();
});
