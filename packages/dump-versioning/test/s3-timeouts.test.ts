import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, test } from 'vitest';
import { DEFAULT_S3_TIMEOUTS, requestHandlerFor } from '../src/internal/aws-sdk.js';
import { StoreAccessError } from '../src/internal/errors.js';
import type { DumpFile } from '../src/internal/manifest.js';
import { loopbackS3Store } from './s3-loopback.js';
import { fetchVerified } from '../src/internal/transfer.js';

// Real sockets on loopback, no S3 server: what the store does when the endpoint never answers.
const open: Array<Server | Socket> = [];
afterEach(async () => {
  for (const handle of open.splice(0)) {
    if ('destroy' in handle) handle.destroy();
    else await new Promise((resolve) => handle.close(resolve));
  }
});

async function listen(server: Server, backlog?: number): Promise<number> {
  open.push(server);
  server.listen({ port: 0, host: '127.0.0.1', ...(backlog === undefined ? {} : { backlog }) });
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

function storeAt(port: number, timeouts = { connectMs: 300, idleMs: 300 }) {
  return loopbackS3Store(port, { bucket: 'silent', timeouts, maxAttempts: 2, credentials: { accessKeyId: 'timeout-test-key', secretAccessKey: 'timeout-test-secret' } });
}

test('a server that accepts the request and never answers fails the request with a timeout error naming the endpoint', async () => {
  let requests = 0;
  const sockets: Socket[] = [];
  // Reads everything, answers nothing: what a hung proxy or overloaded gateway looks like.
  const port = await listen(createServer((socket) => {
    sockets.push(socket);
    open.push(socket);
    socket.on('data', () => requests++);
  }));
  const store = storeAt(port);
  const started = performance.now();
  const failure = await store.get('refs/master.json').catch((error: unknown) => error);
  const elapsed = performance.now() - started;
  await store.close();
  expect(failure).toBeInstanceOf(StoreAccessError);
  expect((failure as StoreAccessError).code).toBe('s3-timeout');
  expect((failure as Error).message).toMatch(/the S3 endpoint at http:\/\/127\.0\.0\.1:\d+ did not answer when asked to read svc\/refs\/master\.json in s3:\/\/silent\/svc \(2 attempts\)/);
  expect((failure as Error).message).toMatch(/inactivity/);
  expect((failure as Error).message).not.toContain('timeout-test-secret');
  // Both attempts reached the server and each waited for its idle timeout, not for ever.
  expect(requests).toBeGreaterThanOrEqual(2);
  expect(sockets.length).toBeGreaterThanOrEqual(2);
  expect(elapsed).toBeGreaterThanOrEqual(2 * 300);
  expect(elapsed).toBeLessThan(20_000);
}, 30_000);

test('a body that stops arriving halfway fails the streamed read instead of hanging', async () => {
  const port = await listen(createServer((socket) => {
    open.push(socket);
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n');
      socket.write('x'.repeat(100));
    });
  }));
  const store = storeAt(port);
  const file = { path: 'mysql/app.sql', sha256: 'a'.repeat(64), size: 1000, compression: 'none' } as DumpFile;
  const failure = await fetchVerified(store, 'svc', file, undefined, 'pull of version v1 (svc)').catch((error: unknown) => error);
  await store.close();
  expect(failure).toBeInstanceOf(StoreAccessError);
  expect((failure as StoreAccessError).code).toBe('blob-read-failed');
  expect((failure as Error).message).toMatch(
    /^pull of version v1 \(svc\): reading file mysql\/app\.sql from s3:\/\/silent\/svc stopped midway \(blob svc\/blobs\/sha256\/a{64}\): .*timed out after 300 ms of inactivity.*; try again$/,
  );
}, 30_000);

test('a connection the server never accepts fails after the connect timeout', async () => {
  // A listener that never accepts, with a full accept queue: the kernel drops further SYNs, as a firewall
  // does. Node's servers accept at once, so the listener is a Python socket (python3 is on every runner).
  const listener = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(listener.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    for (let i = 0; i < 3; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      open.push(socket);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const store = storeAt(port, { connectMs: 300, idleMs: 60_000 });
    const started = performance.now();
    const failure = await store.exists('refs/master.json').catch((error: unknown) => error);
    const elapsed = performance.now() - started;
    await store.close();
    expect(failure).toBeInstanceOf(StoreAccessError);
    expect((failure as Error).message).toMatch(/did not answer when asked to check svc\/refs\/master\.json .*did not establish a connection with the server within the configured timeout of 300 ms/);
    expect(elapsed).toBeLessThan(20_000);
  } finally {
    listener.stdin!.end();
    listener.kill();
  }
}, 30_000);

test('the default handler sets both timeouts, with or without a proxy', async () => {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  try {
    for (const proxy of [undefined, 'http://127.0.0.1:3128']) {
      for (const name of names) delete process.env[name];
      if (proxy) process.env.HTTPS_PROXY = proxy;
      const config = await (requestHandlerFor('https://bucket.s3.us-east-1.amazonaws.com') as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider;
      expect(config).toMatchObject({ connectionTimeout: DEFAULT_S3_TIMEOUTS.connectMs, socketTimeout: DEFAULT_S3_TIMEOUTS.idleMs });
      expect((config.httpsAgent as object).constructor.name).toBe(proxy ? 'HttpsProxyAgent' : 'Agent');
    }
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
});
