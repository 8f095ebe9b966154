import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fingerprintAsDumped } from '../src/internal/migrations-scope.js';

// The scope comes from the store: it chooses which files of the checkout are read, never files outside it.
let parent: string;
let repo: string;
beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'dd-scope-'));
  repo = path.join(parent, 'repo');
  await mkdir(path.join(repo, 'app', 'shop', 'migrations'), { recursive: true });
  await writeFile(path.join(repo, 'app', 'shop', 'migrations', '0001_initial.py'), '# 1\n');
  // Beside the checkout: what a hostile scope would read.
  await mkdir(path.join(parent, 'secrets', 'migrations'), { recursive: true });
  await writeFile(path.join(parent, 'secrets', 'migrations', '0001_key.py'), 'KEY = 1\n');
});
afterAll(() => rm(parent, { recursive: true, force: true }));

test.each([
  ['the recorded directory and globs', { directory: 'app', globs: ['**/migrations/[0-9]*.py'] }, 'dump', ['shop']],
  ['a glob leaving the checkout', { directory: '.', globs: ['../**/migrations/[0-9]*.py'] }, 'default', ['shop']],
  ['a directory leaving the checkout', { directory: '../secrets', globs: ['**/migrations/[0-9]*.py'] }, 'default', ['shop']],
  ['an absolute glob', { directory: '.', globs: ['/tmp/**/migrations/[0-9]*.py'] }, 'default', ['shop']],
  ['a drive-letter directory', { directory: 'D:foo', globs: ['**/*.py'] }, 'default', ['shop']],
])('%s', async (_case, scope, from, apps) => {
  const scoped = await fingerprintAsDumped(repo, undefined, scope);
  expect(scoped.from).toBe(from);
  expect(Object.keys(scoped.fingerprint.apps)).toEqual(apps);
});
