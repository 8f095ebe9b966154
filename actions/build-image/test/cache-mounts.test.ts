import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cache from '@actions/cache';
import { afterEach, expect, test, vi } from 'vitest';
import { saveCacheMounts, savedMarker } from '../src/cache-mounts.js';
import { docker } from '../src/docker.js';

vi.mock('../src/docker.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../src/docker.js')>()), docker: vi.fn() }));
vi.mock('@actions/cache', () => ({ saveCache: vi.fn(), restoreCache: vi.fn() }));

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  vi.mocked(docker).mockReset();
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
