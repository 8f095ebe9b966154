import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { gitAncestry } from '../src/index.js';
import { promisify } from 'node:util';
import { makeLongRepo } from './support.js';

const run = (file: string, args: string[], options: { cwd: string }) => promisify(execFile)(file, args, options);

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const git = (cwd: string, ...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd });

test.each<[string, string[], boolean, number]>([
  // A developer's full clone: fetching a commit it lacks must never make it shallow (history cut at the depth).
  ['a full clone stays full', [], false, 300],
  // A CI clone (actions/checkout, fetch-depth 5): fetched with a depth, as before.
  ['a shallow clone is fetched with a depth', ['--depth=5'], true, 1],
])('ancestry of a commit the clone lacks: %s', async (_, cloneArgs, shallowAfter, minimumCommits) => {
  const origin = await makeLongRepo(300);
  dirs.push(origin.dir);
  const clone = await mkdtemp(path.join(tmpdir(), 'dv-clone-'));
  dirs.push(clone);
  await run('git', ['clone', '-q', '--no-local', ...cloneArgs, origin.dir, clone], { cwd: tmpdir() });
  // A commit pushed to origin after the clone (e.g. a newer master a branch ref names).
  await writeFile(path.join(origin.dir, 'step.txt'), 'newer\n');
  await git(origin.dir, 'commit', '-q', '-am', 'newer');
  const newer = (await git(origin.dir, 'rev-parse', 'HEAD')).stdout.trim();

  expect(await gitAncestry(clone, { fetchDepth: 200 })(origin.commits.at(-1)!, newer)).toBe(true);
  expect((await git(clone, 'rev-parse', '--is-shallow-repository')).stdout.trim()).toBe(String(shallowAfter));
  expect(Number((await git(clone, 'rev-list', '--count', 'HEAD')).stdout.trim())).toBeGreaterThanOrEqual(minimumCommits);
});
