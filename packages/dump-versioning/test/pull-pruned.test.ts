import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { IntegrityError, NotFoundError, openStore, publish, pull, type PublishResult, type Store } from '../src/index.js';
import { layout } from '../src/internal/store.js';
import { makeDumpDir, sampleDump } from './support.js';

const commit = '3'.repeat(40);

/**
 * A blob missing from the store means two different things: with its version manifest still there the
 * store is damaged (`blob-missing`, re-publish); with the manifest gone too, retention removed the
 * version while it was pulled (`version-pruned`, resolve again).
 */
describe('pull: a missing blob is told apart from a version pruned mid-pull (filesystem store)', () => {
  let root: string;
  let work: string;
  let dump: string;
  let store: Store;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-pull-pruned-'));
    work = await mkdtemp(path.join(tmpdir(), 'dv-pull-pruned-out-'));
    store = openStore(root);
    dump = await makeDumpDir(sampleDump('pruned'));
  });
  afterAll(async () => {
    await store.close();
    await Promise.all([root, work, dump].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const publishService = (service: string): Promise<PublishResult> => publish({ store, service, dir: dump, source: { commit, branch: 'master' }, ancestry: async () => true });

  test('a blob gone while its manifest is still there is a damaged store (blob-missing), not retention', async () => {
    const service = 'damaged';
    const published = await publishService(service);
    const file = published.files[0]!;
    await store.delete([layout.blob(service, file.sha256, file.compression)]);
    expect(await store.exists(layout.version(service, published.version))).toBe(true);
    const out = path.join(work, 'damaged');
    const failure = await pull({ store, service, version: published.version, out }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(IntegrityError);
    expect(failure).toMatchObject({ code: 'blob-missing', fatal: true });
    expect((failure as Error).message).toContain(file.path);
    expect((failure as Error).message).not.toMatch(/retention/);
    // Nothing partial is left behind.
    expect(await readdir(work)).not.toContain('damaged');
  });

  test('a manifest and blobs removed after the manifest was read is a pruned version (version-pruned)', async () => {
    const service = 'retained';
    const published = await publishService(service);
    // The store as prune leaves it mid-pull: manifest and blobs deleted once the first blob is asked for
    // (every download waits for that deletion, so none opens a blob that is removed under it).
    const racing = Object.create(store) as Store;
    let pruning: Promise<void> | undefined;
    racing.getStream = async (key) => {
      pruning ??= store.delete([layout.version(service, published.version), ...published.files.map((file) => layout.blob(service, file.sha256, file.compression))]);
      await pruning;
      return store.getStream(key);
    };
    const failure = await pull({ store: racing, service, version: published.version, out: path.join(work, 'retained') }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(NotFoundError);
    expect(failure).toMatchObject({ code: 'version-pruned' });
    expect((failure as Error).message).toContain(`version ${published.version} of ${service} was removed by retention`);
    // The blob-missing failure stays reachable as the cause.
    expect((failure as Error).cause).toMatchObject({ code: 'blob-missing' });
  });
});
