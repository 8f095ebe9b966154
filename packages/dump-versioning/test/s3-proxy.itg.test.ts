import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { openStore } from '../src/index.js';
import { backends } from './support.js';

/**
 * A forward proxy on loopback, as a corporate proxy sees plain-HTTP requests (absolute-form request
 * lines): it records each request and passes it on to MinIO unchanged (the SigV4 signature covers Host).
 */
function forwardProxy(): Promise<{ server: Server; url: (user?: string) => string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url!);
    const upstream = request({ hostname: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, seen, url: (user) => `http://${user ? `${user}@` : ''}127.0.0.1:${port}` });
    }),
  );
}

describeWithServices(['s3'], 'S3 requests through the proxy the environment names', () => {
  let proxy: Awaited<ReturnType<typeof forwardProxy>>;
  let url: string;
  const s3 = backends.find((backend) => backend.name === 's3')!;

  beforeAll(async () => {
    proxy = await forwardProxy();
    ({ url } = await s3.open());
  });
  afterAll(async () => {
    await s3.cleanup();
    await new Promise((resolve) => proxy.server.close(resolve));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    proxy.seen.length = 0;
  });
  // The store builds its own client (credentials from the environment, as on a runner or a laptop).
  const openWithEnv = (env: Record<string, string>) => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', process.env.TEST_S3_ACCESS_KEY_ID!);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', process.env.TEST_S3_SECRET_ACCESS_KEY!);
    for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']) vi.stubEnv(name, '');
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    return openStore(url, { s3Endpoint: process.env.TEST_S3_ENDPOINT!, s3Region: process.env.TEST_S3_REGION ?? 'us-east-1', env: process.env });
  };

  test('HTTP_PROXY carries every request, and the objects round-trip', async () => {
    const store = openWithEnv({ HTTP_PROXY: proxy.url() });
    try {
      expect(await store.putIfAbsent('svc/refs/master.json', Buffer.from('{"via":"proxy"}'))).toBe('created');
      expect((await store.get('svc/refs/master.json'))?.body.toString()).toBe('{"via":"proxy"}');
    } finally {
      await store.close();
    }
    const endpoint = new URL(process.env.TEST_S3_ENDPOINT!).host;
    expect(proxy.seen.length).toBeGreaterThanOrEqual(2);
    expect(proxy.seen.every((line) => line.includes(`http://${endpoint}/`))).toBe(true);
  });

  test('NO_PROXY naming the endpoint goes direct', async () => {
    const store = openWithEnv({ HTTP_PROXY: proxy.url(), NO_PROXY: '127.0.0.1' });
    try {
      expect(await store.exists('svc/refs/master.json')).toBe(true);
    } finally {
      await store.close();
    }
    expect(proxy.seen).toEqual([]);
  });
});
