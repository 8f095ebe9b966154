import { S3Client } from '@aws-sdk/client-s3';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { StoreConfigError, openStore, publish, resolve, type Store } from '../src/index.js';
import { backends, makeDumpDir, sampleDump } from './support.js';

describeWithServices(['s3'], 'S3 store configuration errors', () => {
  let dir: string;
  let store: Store;
  let url: string;
  const s3 = backends.find((backend) => backend.name === 's3')!;
  const source = { commit: 'a'.repeat(40), branch: 'master' };
  const ancestry = async () => true;

  beforeAll(async () => {
    dir = await makeDumpDir(sampleDump('errors'));
    ({ store, url } = await s3.open());
  });
  afterAll(async () => {
    await store.close();
    await s3.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('a missing bucket is named, with what to do', async () => {
    const missing = openStore('s3://dv-no-such-bucket-4711/x', { s3Client: new S3Client(clientConfig()) });
    const failure = publish({ store: missing, service: 'lms', dir, source, ancestry });
    await expect(failure).rejects.toThrow(StoreConfigError);
    await expect(failure).rejects.toThrow('bucket dv-no-such-bucket-4711 does not exist');
    await expect(resolve({ store: missing, service: 'lms', branch: 'master' })).rejects.toThrow(/create it or check the store location/);
  });

  test('wrong credentials are reported without the secret', async () => {
    const secret = 'wrong-secret-value-123';
    const bad = openStore(url, {
      s3Client: new S3Client({ ...clientConfig(), credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID!, secretAccessKey: secret } }),
    });
    const failure = resolve({ store: bad, service: 'lms', branch: 'master' });
    await expect(failure).rejects.toThrow(/rejected the credentials \(SignatureDoesNotMatch\)/);
    const error = (await failure.catch((caught: unknown) => caught)) as Error;
    expect(`${error.message} ${String(error.cause ?? '')}`).not.toContain(secret);
  });

  test('an unreachable endpoint is named', async () => {
    const down = openStore(url, { s3Client: new S3Client({ ...clientConfig(), endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }), s3Endpoint: 'http://127.0.0.1:1' });
    await expect(resolve({ store: down, service: 'lms', branch: 'master' })).rejects.toThrow(/cannot reach the S3 endpoint at http:\/\/127.0.0.1:1/);
  });
});

function clientConfig() {
  return {
    endpoint: process.env.TEST_S3_ENDPOINT!,
    region: process.env.TEST_S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID!, secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY! },
  };
}
