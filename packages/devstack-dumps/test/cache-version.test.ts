import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openStore, publish, type Store } from '@org/dump-versioning';
import { checksumsPathOf, verifyDumpSet } from '@org/dump-set';
import { lock, versionLockPath } from '../src/internal/cache-lock.js';
import { useCachedVersion } from '../src/internal/cache-version.js';

const service = 'lms';
let work: string;
let store: Store;
let version: string;
let round = 0;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cache-version-'));
  const dump = path.join(work, 'dump');
  await mkdir(path.join(dump, 'mysql'), { recursive: true });
  // Several databases, so a "load" (reading every file) takes a while and interleaves with other callers.
  for (let i = 0; i < 10; i++) {
    await writeFile(path.join(dump, 'mysql', `app${i}.sql`), `CREATE TABLE t${i} (id int);\n`.repeat(2000));
    await writeFile(path.join(dump, 'mysql', `app${i}.schema.json`), '{"format":1,"tables":[]}\n');
  }
  store = openStore(path.join(work, 'store'));
  version = (await publish({ store, service, dir: dump, source: { commit: 'c'.repeat(40), branch: 'master' }, ancestry: async () => true })).version;
});
afterAll(async () => {
  await store.close();
  await rm(work, { recursive: true, force: true });
});

/** A fresh, empty cache; the version's directory in it. */
const freshCache = () => path.join(work, `cache-${round++}`, service, version);
const use = (cacheDir: string, options: { signal?: AbortSignal; onProgress?: (message: string) => void; store?: Store } = {}) =>
  useCachedVersion({ store: options.store ?? store, service, version, cacheDir, onProgress: options.onProgress ?? (() => undefined), ...(options.signal ? { signal: options.signal } : {}) });
/** What the cache holds besides version directories and checksum lists: claims left behind, partial pulls. */
const leftovers = async (cacheDir: string) => (await readdir(path.dirname(cacheDir))).filter((name) => name.startsWith('.'));

/** What a load does with the directory: verify every file, then read them all. */
async function load(cacheDir: string): Promise<void> {
  const verified = await verifyDumpSet(cacheDir);
  for (const file of verified.files) await readFile(path.join(cacheDir, file));
}

test('concurrent callers on an empty cache: one pulls, the others wait and reuse it, and every load reads intact files', async () => {
  for (let i = 0; i < 5; i++) {
    const cacheDir = freshCache();
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const cached = await use(cacheDir);
        try {
          await load(cacheDir);
        } finally {
          await cached.use.release();
        }
        return cached.pulled;
      }),
    );
    expect(results.filter((pulled) => pulled !== undefined)).toHaveLength(1);
    expect(await leftovers(cacheDir)).toEqual([]);
  }
});

test('a corrupted cached version is pulled again: an edited file, a deleted checksum list; an intact one is reused', async () => {
  const cacheDir = freshCache();
  const first = await use(cacheDir);
  await first.use.release();
  expect(first.pulled).toBeDefined();

  await writeFile(path.join(cacheDir, 'mysql', 'app3.sql'), 'DROP TABLE everything;\n');
  const edited = await use(cacheDir);
  await edited.use.release();
  expect(edited.pulled?.files).toBe(20);
  await load(cacheDir);

  await rm(checksumsPathOf(cacheDir));
  const unlisted = await use(cacheDir);
  await unlisted.use.release();
  expect(unlisted.pulled).toBeDefined();
  expect((await verifyDumpSet(cacheDir)).verifiedBy).toBe('checksums');

  const intact = await use(cacheDir);
  await intact.use.release();
  expect(intact.pulled).toBeUndefined();
  expect(await leftovers(cacheDir)).toEqual([]);
});

test('a copy altered while another provision loads it is pulled again only after that load is done', async () => {
  const cacheDir = freshCache();
  const loading = await use(cacheDir);
  await writeFile(path.join(cacheDir, 'mysql', 'app0.sql'), 'altered\n');
  const messages: string[] = [];
  const second = use(cacheDir, { onProgress: (message) => messages.push(message) });
  let settled = false;
  void second.finally(() => (settled = true));
  await sleep(300);
  expect(settled).toBe(false);
  expect(messages).toEqual([expect.stringMatching(/^the cached copy no longer verifies; waiting for 1 load\(s\) of it to finish before pulling it again, e\.g\. pid \d+ on /)]);
  // The first load still reads its directory where it was.
  expect(await readFile(path.join(cacheDir, 'mysql', 'app0.sql'), 'utf8')).toBe('altered\n');
  await loading.use.release();
  const replaced = await second;
  expect(replaced.pulled).toBeDefined();
  await replaced.use.release();
  await load(cacheDir);
});

test('Ctrl-C while waiting for another pull stops within a second and leaves no claim of its own', async () => {
  const cacheDir = freshCache();
  await mkdir(path.dirname(cacheDir), { recursive: true });
  const other = await lock(versionLockPath(path.dirname(cacheDir), version));
  const controller = new AbortController();
  const waiting = use(cacheDir, { signal: controller.signal });
  await sleep(200);
  const aborted = Date.now();
  controller.abort(new Error('interrupted (SIGINT)'));
  await expect(waiting).rejects.toThrow('interrupted (SIGINT)');
  expect(Date.now() - aborted).toBeLessThan(1000);
  expect(await leftovers(cacheDir)).toEqual([path.basename(other.file)]);
  await other.release();
  expect(await leftovers(cacheDir)).toEqual([]);
});

test('Ctrl-C during the pull removes the partial download and releases the lock', async () => {
  const cacheDir = freshCache();
  const controller = new AbortController();
  // A slow store: every download waits until aborted (or 5 s).
  const slow = Object.assign(Object.create(store) as Store, {
    getStream: async (key: string) => {
      await sleep(5000, undefined, { signal: controller.signal }).catch(() => undefined);
      return store.getStream(key);
    },
  });
  const pulling = use(cacheDir, { signal: controller.signal, store: slow });
  await sleep(200);
  expect(await leftovers(cacheDir)).toContain(`.${version}.lock`);
  controller.abort(new Error('interrupted (SIGINT)'));
  await expect(pulling).rejects.toThrow('interrupted (SIGINT)');
  expect(await leftovers(cacheDir)).toEqual([]);
  expect(await readdir(path.dirname(cacheDir))).toEqual([]);
  // The next provision pulls it.
  const next = await use(cacheDir);
  await next.use.release();
  expect(next.pulled).toBeDefined();
});
