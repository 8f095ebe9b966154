import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { countingProxy, type CountingProxy } from '../../../test/support/counting-proxy.js';
import { describeWithServices } from '../../../test/support/services.js';
import { openStore } from '../src/index.js';
import { backends } from './support.js';

describeWithServices(['s3'], 'S3 requests through the proxy the environment names', () => {
  // A proxy on loopback in front of MinIO, counting the connections made through it. A proxy receives
  // plain-HTTP requests in absolute form (`GET http://host/key`), which an HTTP/1.1 server accepts as well.
  let proxy: CountingProxy;
  let url: string;
  const s3 = backends.find((backend) => backend.name === 's3')!;

  beforeAll(async () => {
    proxy = await countingProxy(process.env.TEST_S3_ENDPOINT!, 80);
    ({ url } = await s3.open());
  });
  afterAll(async () => {
    await s3.cleanup();
    await proxy.close();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
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
    const before = proxy.connections();
    const store = openWithEnv({ HTTP_PROXY: proxy.url });
    try {
      expect(await store.putIfAbsent('svc/refs/master.json', Buffer.from('{"via":"proxy"}'))).toBe('created');
      expect((await store.get('svc/refs/master.json'))?.body.toString()).toBe('{"via":"proxy"}');
    } finally {
      await store.close();
    }
    expect(proxy.connections()).toBeGreaterThan(before);
  });

  test('NO_PROXY naming the endpoint goes direct', async () => {
    const before = proxy.connections();
    const store = openWithEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    try {
      expect(await store.exists('svc/refs/master.json')).toBe(true);
    } finally {
      await store.close();
    }
    expect(proxy.connections()).toBe(before);
  });
});
