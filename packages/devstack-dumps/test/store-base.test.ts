import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStoreFrom, storeBase } from '../src/internal/store-options.js';

describe('a relative store is read from the top of the git working tree', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dd-store-base-'));
    await mkdir(join(root, 'repo', '.git'), { recursive: true });
    await mkdir(join(root, 'repo', 'svc', 'app'), { recursive: true });
    await mkdir(join(root, 'plain', 'sub'), { recursive: true });
    await mkdir(join(root, 'worktree', 'pkg'), { recursive: true });
    await writeFile(join(root, 'worktree', '.git'), 'gitdir: /elsewhere/.git/worktrees/w\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test('from a subdirectory of a checkout: its top; outside any: the directory itself', () => {
    expect(storeBase(join(root, 'repo', 'svc', 'app'))).toBe(join(root, 'repo'));
    expect(storeBase(join(root, 'repo'))).toBe(join(root, 'repo'));
    // A worktree or submodule has a `.git` file instead of a directory: it counts the same.
    expect(storeBase(join(root, 'worktree', 'pkg'))).toBe(join(root, 'worktree'));
    expect(storeBase(join(root, 'plain', 'sub'))).toBe(join(root, 'plain', 'sub'));
  });

  test('the default store from a subdirectory is the checkout’s .devstack/dumps; absolute ones stay', async () => {
    const context = { cwd: join(root, 'repo', 'svc', 'app'), env: {} } as never;
    const fromSub = openStoreFrom({ store: '.devstack/dumps' }, context);
    expect(fromSub.location).toContain(join(root, 'repo', '.devstack', 'dumps'));
    expect(fromSub.location).not.toContain('svc');
    await fromSub.close();
    const absolute = openStoreFrom({ store: join(root, 'elsewhere') }, context);
    expect(absolute.location).toContain(join(root, 'elsewhere'));
    await absolute.close();
  });
});
