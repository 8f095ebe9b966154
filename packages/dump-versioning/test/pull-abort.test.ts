import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openStore, publish, pull, type PublishResult, type Store } from '../src/index.js';
import { makeDumpDir } from './support.js';

let root: string;
let work: string;
let dump: string;
let store: Store;
let published: PublishResult;
const size = 8 * 1024 * 1024;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dv-pull-abort-'));
  work = await mkdtemp(path.join(tmpdir(), 'dv-pull-abort-out-'));
  store = openStore(root);
  // One large file (random bytes do not compress): a download of it is many chunks long.
  dump = await makeDumpDir({ 'mysql/app.sql': randomBytes(size), 'mysql/app.schema.json': '{"tables":[]}\n' });
  published = await publish({ store, service: 'shop', dir: dump, source: { commit: '4'.repeat(40), branch: 'master' }, ancestry: async () => true });
});
afterAll(async () => {
  await store.close();
  await Promise.all([root, work, dump].map((dir) => rm(dir, { recursive: true, force: true })));
});

test('aborting (Ctrl-C) stops a download in the middle of a file, removes the staging directory and rejects with the reason', async () => {
  const controller = new AbortController();
  const reason = new Error('interrupted by the test');
  let bytesAtAbort = 0;
  let lastBytes = 0;
  const out = path.join(work, 'aborted');
  const failure = await pull({
    store,
    service: 'shop',
    version: published.version,
    out,
    signal: controller.signal,
    onProgress: (event) => {
      lastBytes = event.done;
      if (!controller.signal.aborted && event.done > 0) {
        bytesAtAbort = event.done;
        controller.abort(reason);
      }
    },
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBe(reason);
  // Stopped within the large file, not after it finished.
  expect(bytesAtAbort).toBeGreaterThan(0);
  expect(lastBytes).toBeLessThan(size);
  expect(await readdir(work)).toEqual([]);
});

test('a pull that is not aborted still completes (the signal alone changes nothing)', async () => {
  const out = path.join(work, 'complete');
  const result = await pull({ store, service: 'shop', version: published.version, out, signal: new AbortController().signal });
  expect(result.bytes).toBe(size + '{"tables":[]}\n'.length);
  expect((await readdir(path.join(out, 'mysql'))).sort()).toEqual(['app.schema.json', 'app.sql']);
});
