import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { describeWithServices, serviceVar } from '../support/services.js';

describeWithServices(['s3'], 'S3 server of the harness (TEST_S3_ENDPOINT)', () => {
  it('PutObject with IfNoneMatch "*" succeeds once and fails with 412 the second time', async () => {
    const client = new S3Client({
      endpoint: serviceVar('TEST_S3_ENDPOINT'),
      region: process.env['TEST_S3_REGION'] ?? 'us-east-1',
      credentials: {
        accessKeyId: serviceVar('TEST_S3_ACCESS_KEY_ID'),
        secretAccessKey: serviceVar('TEST_S3_SECRET_ACCESS_KEY'),
      },
      forcePathStyle: true,
    });
    let server = 'unknown';
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const headers = (result.response as { headers?: Record<string, string> }).headers;
        server = headers?.['server'] ?? server;
        return result;
      },
      { step: 'deserialize', name: 'recordServerHeader' },
    );
    const bucket = `itg-smoke-${randomBytes(4).toString('hex')}`;
    const key = 'dumps/manifest.json';
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      console.log(`[services] s3 server: ${server}`);

      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
      const second = client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }));
      const error: unknown = await second.then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(S3ServiceException);
      expect((error as S3ServiceException).$metadata.httpStatusCode).toBe(412);

      const stored = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await stored.Body?.transformToString()).toBe('first');
    } finally {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
      await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      client.destroy();
    }
  });
});
