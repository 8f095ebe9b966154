import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { openStore } from '../src/index.js';

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('the first write of a filesystem store removes temp files a killed writer left over a day ago, and only those', async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dv-sweep-'));
  const temps = path.join(root, '.tmp');
  await mkdir(temps);
  const dayAndMinuteAgo = new Date(Date.now() - 24 * 60 * 60_000 - 60_000);
  await writeFile(path.join(temps, 'left-by-a-killed-publish'), 'x'.repeat(1024));
  await utimes(path.join(temps, 'left-by-a-killed-publish'), dayAndMinuteAgo, dayAndMinuteAgo);
  // A temp file of a write still running in another process must survive.
  await writeFile(path.join(temps, 'being-written-now'), 'y');
  const store = openStore(root);
  expect(await store.putIfAbsent('svc/refs/master.json', Buffer.from('{}'))).toBe('created');
  expect(await readdir(temps)).toEqual(['being-written-now']);
});
