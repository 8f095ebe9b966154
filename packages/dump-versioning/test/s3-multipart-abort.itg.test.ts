import { AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
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

  test('with the documented policy (no multipart-upload permissions) prune and verify still work, and say what they skipped', async () => {
    // MinIO behind a proxy that answers ListMultipartUploads (GET ?uploads) as S3 does for a role without
    // s3:ListBucketMultipartUploads; every other request reaches MinIO as it is (signatures included).
    const target = new URL(process.env.TEST_S3_ENDPOINT!);
    const proxy: Server = createServer((incoming, answer) => {
      if (incoming.method === 'GET' && /[?&]uploads(=|&|$)/.test(incoming.url ?? '')) {
        answer.writeHead(403, { 'content-type': 'application/xml' });
        answer.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>');
        return;
      }
      const forward = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(answer);
      });
      incoming.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
      region: process.env.TEST_S3_REGION ?? 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID!, secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY! },
    });
    const limited = openStore(`s3://${bucket}/dumps`, { s3Client: client });
    try {
      await limited.putIfAbsent(`lim/blobs/sha256/${'a'.repeat(64)}`, Buffer.from('blob'));
      const checked = await verify({ store: limited, service: 'lim' });
      expect(checked.ok).toBe(true);
      expect(checked.warnings).toEqual([expect.objectContaining({ code: 'incomplete-uploads-unlisted', message: expect.stringContaining('grant s3:ListBucketMultipartUploads') })]);
      const pruned = await prune({ store: limited, service: 'lim', keep: 1, yes: true });
      expect(pruned.deleted.uploads).toEqual([]);
      expect(pruned.warnings).toEqual([expect.stringContaining('incomplete uploads of interrupted publishes were not looked for: access denied; grant s3:ListBucketMultipartUploads')]);
    } finally {
      await limited.close();
      await new Promise((resolve) => proxy.close(resolve));
    }
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
