import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { migrationsScopeOf } from '../src/index.js';

// The directory recorded with a dump is where a developer's checkout has the app: relative to the git
// working tree, not to GITHUB_WORKSPACE (actions/checkout `path: src` puts the tree below it), nor to
// the CLI's --repo.
const run = promisify(execFile);
let workspace: string;
beforeAll(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'dv-scope-'));
  await mkdir(path.join(workspace, 'src', 'services', 'lms'), { recursive: true });
  await run('git', ['init', '-q'], { cwd: path.join(workspace, 'src') });
  await symlink(path.join(workspace, 'src'), path.join(workspace, 'linked'));
});
afterAll(() => rm(workspace, { recursive: true, force: true }));

test.each([
  ['checkout under `path: src`, working-directory services/lms', ['src', 'services', 'lms'], 'services/lms'],
  ['working-directory at the top of the tree', ['src'], '.'],
  ['reached through a symlink', ['linked', 'services', 'lms'], 'services/lms'],
])('%s', async (_case, segments, directory) => {
  const scope = await migrationsScopeOf(path.join(workspace, ...segments), ['**/migrations/[0-9]*.py'], workspace);
  expect(scope).toEqual({ directory, globs: ['**/migrations/[0-9]*.py'] });
});

test('outside any git tree: relative to the workspace', async () => {
  const plain = await mkdtemp(path.join(tmpdir(), 'dv-scope-plain-'));
  try {
    await mkdir(path.join(plain, 'app'));
    expect((await migrationsScopeOf(path.join(plain, 'app'), ['x'], plain)).directory).toBe('app');
  } finally {
    await rm(plain, { recursive: true, force: true });
  }
});
