import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { openStore, publish, pull, type Store } from '../src/index.js';
import { emptyAndDeleteBucket, makeDumpDir, s3Client } from './support.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

// Real MinIO, through the client the store builds itself (the CLI's and the action's path), with a
// first-byte deadline far below how long the transfers take: it bounds waiting for an answer, not moving bytes.
describeWithServices(['s3'], 'large transfers under the S3 request deadlines', () => {
  const bucket = `dv-deadline-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const saved: Record<string, string | undefined> = {};
  const dirs: string[] = [];
  const notices: string[] = [];
  let store: Store;

  beforeAll(async () => {
    const env = { AWS_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_ACCESS_KEY! };
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    const admin = s3Client();
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    store = openStore(`s3://${bucket}/dumps`, {
      s3Endpoint: process.env.TEST_S3_ENDPOINT!,
      s3Region: process.env.TEST_S3_REGION ?? 'us-east-1',
      s3Timeouts: { firstByteMs: 1_000 },
      onRetry: (message) => notices.push(message),
    });
  });
  afterAll(async () => {
    await store?.close();
    const admin = s3Client();
    await emptyAndDeleteBucket(admin, bucket).catch(() => undefined);
    admin.destroy();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test('a 40 MiB streamed file and a 12 MiB single-request file publish and pull intact, and a slowly read download is not cut', async () => {
    // Random bytes: stored uncompressed, so the whole size crosses the wire (multipart above 16 MiB).
    const files = { 'mongo/app/big.bson': randomBytes(40 * MiB), 'mysql/app.sql': randomBytes(12 * MiB) };
    const dir = await makeDumpDir(files);
    dirs.push(dir);
    const published = await publish({ store, service: 'big', dir, source: { commit: 'b'.repeat(40), branch: 'master' }, ancestry: async () => true });
    expect(published.blobsUploaded).toBe(2);

    const out = path.join(dir, '..', `${path.basename(dir)}-pulled`);
    dirs.push(out);
    await pull({ store, service: 'big', version: published.version, out });
    for (const [relative, bytes] of Object.entries(files)) expect(sha256(await readFile(path.join(out, relative)))).toBe(sha256(bytes));

    // A consumer slower than the deadline (pauses add up to 2.5 s, each well under the 30 s idle limit).
    let largest = { key: '', size: 0 };
    for await (const object of store.list('big/blobs/')) if (object.size > largest.size) largest = object;
    const stream = (await store.getStream(largest.key))!;
    const hash = createHash('sha256');
    let received = 0;
    let pauses = 0;
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
      if (pauses < 5 && received > (pauses + 1) * 6 * MiB) {
        pauses++;
        await sleep(500);
      }
    }
    expect(pauses).toBe(5);
    expect(received).toBe(40 * MiB);
    expect(hash.digest('hex')).toBe(sha256(files['mongo/app/big.bson']));
    expect(notices).toEqual([]);
  }, 180_000);
});
