import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cache from '@actions/cache';
import { afterEach, expect, test, vi } from 'vitest';
import { saveCacheMounts, savedMarker } from '../src/cache-mounts.js';
import { docker, dockerOrThrow } from '../src/docker.js';

vi.mock('../src/docker.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../src/docker.js')>()), docker: vi.fn(), dockerOrThrow: vi.fn() }));
vi.mock('@actions/cache', () => ({ saveCache: vi.fn(), restoreCache: vi.fn() }));

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  vi.mocked(docker).mockReset();
  vi.mocked(dockerOrThrow).mockReset();
  vi.mocked(cache.saveCache).mockReset();
});

test('a key another build-image step of the job already saved is not extracted or saved again', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bi-mounts-'));
  const state = { key: 'build-image-mounts-v1-abc', dir: path.join(dir, 'mounts'), workDir: path.join(dir, 'build-image', 'cache-mounts'), mounts: [], helperImage: 'busybox' };
  const marker = savedMarker(state);
  await mkdir(path.dirname(marker), { recursive: true });
  await writeFile(marker, `${state.key}\n`);
  await saveCacheMounts(state);
  expect(docker).not.toHaveBeenCalled();
  expect(cache.saveCache).not.toHaveBeenCalled();
  // The record is per key and job-wide (beside every step's work directory).
  expect(savedMarker({ ...state, key: 'build-image-mounts-v1-other' })).not.toBe(marker);
  expect(path.dirname(path.dirname(marker))).toBe(path.join(dir, 'build-image'));
});

test('the first post step to save a key records it, so a second step of the job does not save it again', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bi-mounts-'));
  const state = { key: 'build-image-mounts-v1-new', dir: path.join(dir, 'mounts'), workDir: path.join(dir, 'build-image', 'cache-mounts'), mounts: [], helperImage: 'busybox' };
  // The extract build writes the mounts' files into its `dest`.
  vi.mocked(dockerOrThrow).mockImplementation(async (args: string[]) => {
    const dest = args.find((arg) => arg.startsWith('type=local,dest='))!.slice('type=local,dest='.length);
    await mkdir(path.join(dest, 'pip'), { recursive: true });
    await writeFile(path.join(dest, 'pip', 'wheel'), 'bytes');
    return '';
  });
  await saveCacheMounts(state);
  expect(cache.saveCache).toHaveBeenCalledWith([state.dir], state.key);
  // Every build-image step of the job works under RUNNER_TEMP/build-image: the second post step finds the record.
  await saveCacheMounts(state);
  expect(cache.saveCache).toHaveBeenCalledOnce();
});

test('mounts restored from exactly their key are not extracted or saved again', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bi-mounts-'));
  const state = { key: 'build-image-mounts-v1-abc', matchedKey: 'build-image-mounts-v1-abc', dir: path.join(dir, 'mounts'), workDir: path.join(dir, 'build-image', 'cache-mounts'), mounts: [], helperImage: 'busybox' };
  await saveCacheMounts(state);
  expect(dockerOrThrow).not.toHaveBeenCalled();
  expect(dockerOrThrow).not.toHaveBeenCalled();
  expect(cache.saveCache).not.toHaveBeenCalled();
});
