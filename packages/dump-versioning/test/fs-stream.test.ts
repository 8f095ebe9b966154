import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { openStore } from '../src/index.js';

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('a filesystem store stream that was handed out still reads the whole object after a prune deletes it', async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dv-stream-'));
  const store = openStore(root);
  const key = 'svc/blobs/aa/blob';
  const body = 'x'.repeat(200_000);
  expect(await store.putIfAbsent(key, Buffer.from(body))).toBe('created');
  const stream = await store.getStream(key);
  expect(stream).toBeDefined();
  // Deleted between "it exists" and the first read: the pull must still get what it was promised.
  await store.delete([key]);
  expect(await store.exists(key)).toBe(false);
  expect(await text(stream as Readable)).toBe(body);
  expect(await store.getStream(key)).toBeUndefined();
});
