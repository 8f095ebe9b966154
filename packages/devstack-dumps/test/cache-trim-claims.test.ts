import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { claimUse, lock, versionLockPath } from '../src/internal/cache-lock.js';
import { trimCache } from '../src/internal/cache-trim.js';

const HOUR = 60 * 60 * 1000;
const version = (n: number) => n.toString(16).padStart(64, '0');
let dir: string;

/** A cached version last used `hoursAgo`, well past the grace period. */
async function cached(n: number, hoursAgo: number) {
  const versionDir = path.join(dir, version(n));
  await mkdir(path.join(versionDir, 'mysql'), { recursive: true });
  await writeFile(path.join(versionDir, 'mysql', 'app.sql'), 'SELECT 1;\n');
  await writeFile(`${versionDir}.checksums.json`, '{}');
  const at = new Date(Date.now() - hoursAgo * HOUR);
  await utimes(versionDir, at, at);
}
const versions = async () => (await readdir(dir)).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cache-trim-claims-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a version another provision holds locked (checking or pulling it) is kept', async () => {
  for (const n of [1, 2, 3]) await cached(n, 10 + n);
  const held = await lock(versionLockPath(dir, version(3)));
  try {
    expect(await trimCache(dir, { keep: 1, current: version(9) })).toEqual([version(1), version(2)]);
    expect(await versions()).toEqual([version(3)]);
  } finally {
    await held.release();
  }
  expect(await trimCache(dir, { keep: 1, current: version(9) })).toEqual([version(3)]);
});

test('a version another provision is loading (a use claim) is kept, however old', async () => {
  await cached(1, 30);
  await cached(2, 20);
  const loading = await claimUse(dir, version(1));
  expect(await trimCache(dir, { keep: 1, current: version(9) })).toEqual([version(2)]);
  expect(await versions()).toEqual([version(1)]);
  await loading.release();
  expect(await trimCache(dir, { keep: 1, current: version(9) })).toEqual([version(1)]);
});

test('claims of dead processes do not keep a version, and are cleared away', async () => {
  await cached(1, 30);
  const pid = await deadPid();
  const claim = (token: string) => JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), token });
  await writeFile(versionLockPath(dir, version(1)), claim('lock'));
  await writeFile(path.join(dir, `.${version(1)}.use-0b7a4c3e-2f7e-4d55-9a43-6d1f0c2b9e10`), claim('use'));
  // Left by a killed provision of a version that is gone.
  await writeFile(versionLockPath(dir, version(5)), claim('lock5'));
  expect(await trimCache(dir, { keep: 1, current: version(9) })).toEqual([version(1)]);
  expect(await readdir(dir)).toEqual([]);
});
