import { AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { openStore, prune, verify, type Store } from '../src/index.js';
import { stoppingStore } from '../src/internal/abort.js';
import { emptyAndDeleteBucket, s3Client } from './support.js';

// Multipart uploads a publish never completed hold parts that are billed and listed by nothing but
// ListMultipartUploads: a cancel must abort the one in flight, and prune must clean up what a killed run left.
describeWithServices(['s3'], 'incomplete multipart uploads [s3]', () => {
  const bucket = `fixs3-mpu-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let admin: S3Client;
  let store: Store;
  const streams: Readable[] = [];
  const blobKey = (label: string) => `dumps/svc/blobs/sha256/${Buffer.from(label).toString('hex').padEnd(64, '0')}`;
  const uploads = async () => ((await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((upload) => upload.Key);

  beforeAll(async () => {
    admin = s3Client();
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    store = openStore(`s3://${bucket}/dumps`, { s3Client: s3Client() });
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.destroy();
    for (const upload of (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []) {
      await admin.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }));
    }
  });
  afterAll(async () => {
    await store.close();
    await emptyAndDeleteBucket(admin, bucket);
    admin.destroy();
  });

  test('a cancel stops a streamed upload in flight and aborts its multipart upload', async () => {
    const controller = new AbortController();
    // 9 MiB, then nothing until destroyed: part 1 goes up, part 2 waits for bytes that never come (a slow compressor).
    const body = () => {
      const stream = new Readable({ read() {} });
      stream.push(randomBytes(9 * 1024 * 1024));
      streams.push(stream);
      return stream;
    };
    let sent = 0;
    const started = Date.now();
    const put = stoppingStore(store, controller.signal).putIfAbsent('svc/blobs/sha256/' + 'c'.repeat(64), { stream: body }, (bytes) => {
      sent += bytes;
      if (sent >= 8 * 1024 * 1024) controller.abort(new Error('cancelled by the test'));
    });
    const outcome = await Promise.race([put.then((result) => `resolved ${result}`, (error: Error) => error.message), sleep(15_000).then(() => 'still uploading after 15 s')]);
    expect(outcome).toBe('cancelled by the test');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await uploads()).toEqual([]);
    expect(await store.exists('svc/blobs/sha256/' + 'c'.repeat(64))).toBe(false);
  });

  test('verify warns of incomplete uploads of blobs; prune --yes aborts those older than its grace period', async () => {
    const stale = blobKey('stale');
    const elsewhere = `dumps/other/blobs/sha256/${'e'.repeat(64)}`;
    for (const Key of [stale, elsewhere]) {
      const { UploadId } = await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
      await admin.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(1024) }));
    }
    // A blob, so that verify finds the service.
    await store.putIfAbsent(`svc/blobs/sha256/${'a'.repeat(64)}`, Buffer.from('blob'));

    const checked = await verify({ store, service: 'svc' });
    expect(checked.ok).toBe(true);
    expect(checked.warnings).toEqual([expect.objectContaining({ service: 'svc', key: stale.slice('dumps/'.length), code: 'incomplete-upload' })]);

    // Within the grace period the upload may be a publish running now: left alone.
    const young = await prune({ store, service: 'svc', keep: 1, yes: true });
    expect(young.deleted.uploads).toEqual([]);
    expect((await uploads()).sort()).toEqual([elsewhere, stale].sort());

    const later = () => new Date(Date.now() + 2 * 3600_000);
    const plan = await prune({ store, service: 'svc', keep: 1, now: later });
    expect(plan.deleted.uploads).toEqual([stale.slice('dumps/'.length)]);
    expect((await uploads()).sort()).toEqual([elsewhere, stale].sort());
    const done = await prune({ store, service: 'svc', keep: 1, yes: true, now: later });
    expect(done.deleted.uploads).toEqual([stale.slice('dumps/'.length)]);
    expect(await uploads()).toEqual([elsewhere]);
  });
});
