import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStoreFrom, storeBase } from '../src/internal/store-options.js';

describe('a relative store is read from the top of the git working tree', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dd-store-base-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: root, stdio: 'ignore' });
    git('init', '-q', 'repo');
    git('-C', 'repo', 'commit', '-q', '--allow-empty', '-m', 'first');
    // A worktree has a `.git` file instead of a directory.
    git('-C', 'repo', 'worktree', 'add', '-q', join(root, 'worktree'));
    await mkdir(join(root, 'repo', 'svc', 'app'), { recursive: true });
    await mkdir(join(root, 'plain', 'sub'), { recursive: true });
    await mkdir(join(root, 'worktree', 'pkg'), { recursive: true });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test('from a subdirectory of a checkout: its top; outside any: the directory itself', async () => {
    expect(await storeBase(join(root, 'repo', 'svc', 'app'))).toBe(join(root, 'repo'));
    expect(await storeBase(join(root, 'repo'))).toBe(join(root, 'repo'));
    // A worktree (its `.git` is a file) counts the same.
    expect(await storeBase(join(root, 'worktree', 'pkg'))).toBe(join(root, 'worktree'));
    expect(await storeBase(join(root, 'plain', 'sub'))).toBe(join(root, 'plain', 'sub'));
  });

  test('the default store from a subdirectory is the checkout’s .devstack/dumps; absolute ones stay', async () => {
    const context = { cwd: join(root, 'repo', 'svc', 'app'), env: {} } as never;
    const fromSub = await openStoreFrom({ store: '.devstack/dumps' }, context);
    expect(fromSub.location).toContain(join(root, 'repo', '.devstack', 'dumps'));
    expect(fromSub.location).not.toContain('svc');
    await fromSub.close();
    const absolute = await openStoreFrom({ store: join(root, 'elsewhere') }, context);
    expect(absolute.location).toContain(join(root, 'elsewhere'));
    await absolute.close();
  });
});
