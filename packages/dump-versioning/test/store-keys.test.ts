import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { InvalidInputError, openStore, pull, readCommitEntry } from '../src/index.js';

// A commit id or key that would leave the store's directory is refused, never followed.
let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'store-keys-'));
  await mkdir(path.join(root, 'store', 'svc', 'commits'), { recursive: true });
  // What an escaping id would reach: a well-formed commit entry outside the store.
  await mkdir(path.join(root, 'outside'), { recursive: true });
  await writeFile(path.join(root, 'outside', 'evil.json'), '{}');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

test.each(['../../../outside/evil', '../../outside/evil', 'a'.repeat(39), 'A'.repeat(40), `${'a'.repeat(40)}/../x`])('commit %j is refused before any read', async (commit) => {
  const store = openStore(path.join(root, 'store'));
  await expect(readCommitEntry(store, 'svc', commit)).rejects.toThrow(InvalidInputError);
  await expect(pull({ store, service: 'svc', commit, out: path.join(root, 'out') })).rejects.toThrow(/is not a full 40-character sha/);
  await store.close();
});

test('the filesystem store refuses keys with dot segments, empty segments or backslashes', async () => {
  const store = openStore(path.join(root, 'store'));
  for (const key of ['svc/../../outside/evil.json', 'svc/./x', 'svc//x', 'svc/a\\..\\..\\x']) {
    await expect(store.get(key), key).rejects.toThrow(/would leave/);
    await expect(store.exists(key), key).rejects.toThrow(/would leave/);
  }
  expect(await store.get(`svc/commits/${'a'.repeat(40)}.json`)).toBeUndefined();
  await store.close();
});
