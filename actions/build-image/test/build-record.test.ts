import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { previousIgnoreContent, restoreBuildRecord } from '../src/build-record.js';
import { getInputs } from '../src/context.js';
import type { GitRunner, RunContext } from '../src/context.js';
import { planBuild } from '../src/plan.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

/** A workspace with the service in `svc/` and the given files (workspace-relative). */
async function workspace(files: Record<string, string>): Promise<RunContext> {
  const dir = await temp.make('bi-record-');
  for (const [file, content] of Object.entries({ 'svc/Dockerfile': 'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\nCOPY . .\n', ...files })) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  const git = { eventName: 'push', ref: 'refs/heads/master', sha: 'a'.repeat(40), defaultBranch: 'master', commitTime: '2024-05-01T12:00:00Z', repoUrl: '' };
  return { git, workspace: dir, runnerTemp: path.join(dir, 'tmp') };
}

// Without the Actions cache service there is no record, but the report still needs the ignore file
// BuildKit reads: the changed files it excludes are no cause of a COPY miss.
test.each<[string, Record<string, string>, Record<string, string>, unknown]>([
  ['the context\'s .dockerignore', { 'svc/.dockerignore': '.git\n*.md\n' }, { context: 'svc' }, { content: '.git\n*.md\n', file: '.dockerignore' }],
  ['<Dockerfile>.dockerignore wins', { 'svc/.dockerignore': '.git\n', 'svc/Dockerfile.dockerignore': 'docs/\n' }, { context: 'svc' }, { content: 'docs/\n', file: 'Dockerfile.dockerignore' }],
  // The Dockerfile outside the context: its ignore file is no file of the context.
  ['<Dockerfile>.dockerignore outside the context', { 'docker/Dockerfile': 'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\n', 'docker/Dockerfile.dockerignore': 'x\n' }, { context: 'svc', file: 'docker/Dockerfile' }, { content: 'x\n' }],
  ['no ignore file', {}, { context: 'svc' }, undefined],
])('no Actions cache service, %s', async (_, files, values, contextIgnore) => {
  const run = await workspace(files);
  const plan = await planBuild(getInputs(read({ image: 'reg.local/app', ...values })), run, {});
  const restored = await restoreBuildRecord(plan, getInputs(read({ image: 'reg.local/app', ...values })), run, {});
  expect(restored.contextIgnore).toEqual(contextIgnore);
  expect(restored.previous).toBeUndefined();
  expect(restored.keys).toBeUndefined();
  expect(restored.model).toBe(plan.model);
});

// The ignore file's text in the commit the changed files are compared with: which patterns an edit changed.
describe('previousIgnoreContent', () => {
  const run: RunContext = { git: { eventName: 'push', ref: 'refs/heads/master', sha: 'b'.repeat(40), defaultBranch: 'master', commitTime: '', repoUrl: '' }, workspace: '/ws', runnerTemp: '/tmp' };
  /** A git whose base commit holds `files` (workspace-relative); `missing`: the commit is not in the clone. */
  const gitWith = (files: Record<string, string>, missing = false): GitRunner => async (args) => {
    if (missing) throw new Error('fatal: Not a valid object name');
    if (args[0] === 'ls-tree') return files[args[4] as string] === undefined ? '' : `${args[4]}\n`;
    return files[(args[1] as string).replace(/^[^:]*:\.\//, '')] as string;
  };
  const inputs = { context: 'svc', file: 'svc/Dockerfile' };
  test.each<[string, GitRunner, string | null | undefined]>([
    ['the same file in the base commit', gitWith({ 'svc/.dockerignore': '.git\n' }), '.git\n'],
    // `<Dockerfile>.dockerignore` is new: BuildKit read the context's `.dockerignore` before.
    ['a new <Dockerfile>.dockerignore: the context\'s .dockerignore then', gitWith({ 'svc/.dockerignore': 'docs/\n' }), 'docs/\n'],
    // Deleted since: BuildKit read it then, not the context's `.dockerignore` beside it.
    ['a <Dockerfile>.dockerignore deleted since: it, not the .dockerignore beside it', gitWith({ 'svc/Dockerfile.dockerignore': 'dev/\n', 'svc/.dockerignore': 'docs/\n' }), 'dev/\n'],
    ['no ignore file in the base commit', gitWith({}), null],
    ['the base commit not in a shallow clone', gitWith({}, true), undefined],
  ])('%s', async (_, git, expected) => {
    expect(await previousIgnoreContent(run, inputs, git)).toBe(expected);
  });

  test('the base is the push\'s previous commit, else the parent', async () => {
    const asked: string[] = [];
    const git: GitRunner = async (args) => {
      asked.push(args[2] as string);
      return '';
    };
    await previousIgnoreContent({ ...run, previousSha: 'c'.repeat(40) }, inputs, git);
    await previousIgnoreContent(run, inputs, git);
    expect([...new Set(asked)]).toEqual(['c'.repeat(40), `${'b'.repeat(40)}~1`]);
  });
});
