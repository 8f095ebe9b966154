import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
import { getInputs } from '../src/context.js';
import type { RunContext } from '../src/context.js';
import { builderNeeds, describePlan, planBuild } from '../src/plan.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

async function workspace(): Promise<RunContext> {
  const dir = await temp.make('bi-plan-');
  await mkdir(path.join(dir, 'svc'));
  await writeFile(path.join(dir, 'svc/Dockerfile'), 'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\n');
  await writeFile(path.join(dir, 'notadir'), '');
  const git = { eventName: 'push', ref: 'refs/heads/master', sha: 'a'.repeat(40), defaultBranch: 'master', commitTime: '2024-05-01T12:00:00Z', repoUrl: '' };
  return { git, workspace: dir, runnerTemp: path.join(dir, 'tmp') };
}

test.each<[string, Record<string, string>, RegExp]>([
  ['a context that does not exist names `context`, not `file`', { context: 'nope' }, /^Input `context`: "nope" does not exist in the workspace \(ENOENT\)/],
  ['a context that is a file', { context: 'notadir' }, /^Input `context`: "notadir" is a file, not a directory/],
  ['an existing context without the Dockerfile names `file`', { context: 'svc', file: 'svc/Missing.Dockerfile' }, /^Input `file`: cannot read svc\/Missing\.Dockerfile/],
])('%s', async (_, values, message) => {
  const run = await workspace();
  await expect(planBuild(getInputs(read(values)), run, {})).rejects.toThrow(message);
});

// The plan log lists what each cache reads and writes, from the bake entries themselves.
test.each<[string, Partial<RunContext['git']>, Record<string, string>, string | RegExp]>([
  [
    'push: false on master reads and writes the local dir only (no registry is read)',
    {},
    { context: 'svc', image: 'reg.local/app', push: 'false' },
    // The local dir names the image and ends with a hash of (image, repository:Dockerfile, flavour,
    // scope); the export goes to a staging dir of its own (random suffix). It was `production-master`,
    // which every service on the runner shared.
    /^Cache of production: reads local \/tc\/build-image-cache\/app-production-master-9395cfcca1b2; writes local \/tc\/build-image-cache\/app-production-master-9395cfcca1b2-new-[0-9a-f]{8}$/,
  ],
  ['a tag reads the default branch and writes nothing', { ref: 'refs/tags/v1.2.3' }, { context: 'svc', image: 'reg.local/app' }, 'Cache of production: reads registry reg.local/app-cache:production-master; writes nothing'],
])('describePlan: %s', async (_, git, values, line) => {
  const run = await workspace();
  const plan = await planBuild(getInputs(read(values)), { ...run, git: { ...run.git, ...git } }, { RUNNER_TOOL_CACHE: '/tc' });
  if (typeof line === 'string') expect(describePlan(plan)).toContain(line);
  else expect(describePlan(plan).some((l) => line.test(l)), describePlan(plan).join('\n')).toBe(true);
});

// What the builder must support, read from the bake entries (inline cache works on every driver).
test.each<[string, Partial<RunContext['git']>, Record<string, string>, { cacheExport: boolean; platforms: number }]>([
  ['a branch build writes its registry cache', {}, { context: 'svc', image: 'reg.local/app' }, { cacheExport: true, platforms: 0 }],
  ['a tag build writes no cache', { ref: 'refs/tags/v1.2.3' }, { context: 'svc', image: 'reg.local/app' }, { cacheExport: false, platforms: 0 }],
  ['inline cache only', {}, { context: 'svc', image: 'reg.local/app', cache: 'inline' }, { cacheExport: false, platforms: 0 }],
  ['cache: none', {}, { context: 'svc', image: 'reg.local/app', cache: 'none' }, { cacheExport: false, platforms: 0 }],
  ['two platforms', {}, { context: 'svc', image: 'reg.local/app', cache: 'none', platforms: 'linux/amd64,linux/arm64' }, { cacheExport: false, platforms: 2 }],
])('builderNeeds: %s', async (_, git, values, needs) => {
  const run = await workspace();
  const plan = await planBuild(getInputs(read(values)), { ...run, git: { ...run.git, ...git } }, { RUNNER_TOOL_CACHE: '/tc' });
  expect(builderNeeds(plan)).toEqual(needs);
});

test('a pull request is never pushed, even with push: true', async () => {
  const run = await workspace();
  const plan = await planBuild(getInputs(read({ context: 'svc', image: 'reg.local/app', push: 'true' })), { ...run, git: { ...run.git, eventName: 'pull_request', ref: 'refs/pull/7/merge', prNumber: 7 } }, {});
  expect(plan.push).toBe(false);
});

test('pushing needs `image`', async () => {
  const run = await workspace();
  await expect(planBuild(getInputs(read({ context: 'svc', push: 'true' })), run, {})).rejects.toThrow(/^Input `image`: is required when pushing/);
});

test('the Actions cache counts as available only with a runtime token', async () => {
  const { actionsCacheAvailable } = await import('../src/plan.js');
  expect(actionsCacheAvailable({ ACTIONS_RESULTS_URL: 'https://r', ACTIONS_RUNTIME_TOKEN: 't' })).toBe(true);
  expect(actionsCacheAvailable({ ACTIONS_CACHE_URL: 'https://c', ACTIONS_RUNTIME_TOKEN: 't' })).toBe(true);
  expect(actionsCacheAvailable({ ACTIONS_RESULTS_URL: 'https://r' })).toBe(false);
  expect(actionsCacheAvailable({ ACTIONS_RUNTIME_TOKEN: 't' })).toBe(false);
});

// A declared proxy ARG writes the `mirrors` proxy into the image history: refused in the plan, before
// the lint, the builder check, the login or the build, when the proxy carries credentials.
test.each<[string, string, string, RegExp | null]>([
  [
    'ARG HTTP_PROXY with a proxy that carries credentials',
    'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\nARG HTTP_PROXY\nRUN true\n',
    'http-proxy=http://proxyuser:Pr0xyS3cret@127.0.0.1:9',
    /^Input `mirrors`: the proxy \(http-proxy\) carries credentials, and svc\/Dockerfile declares it as a build arg on line 3 \(`ARG HTTP_PROXY`, stage `production`\).*Delete the `ARG HTTP_PROXY` line/,
  ],
  ['the same ARG with a proxy without credentials (the lint warns)', 'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\nARG HTTP_PROXY\nRUN true\n', 'http-proxy=http://127.0.0.1:9', null],
  ['credentials and no ARG', 'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\nRUN true\n', 'http-proxy=http://proxyuser:Pr0xyS3cret@127.0.0.1:9', null],
])('planBuild: %s', async (_, dockerfile, mirrors, refusal) => {
  const run = await workspace();
  await writeFile(path.join(run.workspace, 'svc/Dockerfile'), dockerfile);
  const planned = planBuild(getInputs(read({ context: 'svc', image: 'reg.local/app', mirrors })), run, {});
  if (refusal) {
    await expect(planned).rejects.toThrow(refusal);
    await expect(planned).rejects.toThrow(expect.objectContaining({ message: expect.not.stringMatching(/Pr0xyS3cret|proxyuser/) }));
  } else {
    expect((await planned).definition.target.production?.args).toMatchObject({ HTTP_PROXY: mirrors.slice('http-proxy='.length) });
  }
});

// Services of one monorepo (or repositories of one self-hosted runner) must not replace each other's
// gha scope or local cache dir: both were `<flavour>-<branch>`, whatever the image or Dockerfile.
test.each<[string, Record<string, string>, Record<string, string>, NodeJS.ProcessEnv]>([
  ['two images, gha', { image: 'registry/org/ws1' }, { image: 'registry/org/ws2' }, { ACTIONS_RESULTS_URL: 'https://r', ACTIONS_RUNTIME_TOKEN: 't' }],
  ['two images, local', { image: 'registry/org/ws1' }, { image: 'registry/org/ws2' }, { RUNNER_TOOL_CACHE: '/tc' }],
  ['no image, two Dockerfiles of one repository, local', { file: 'svc/Dockerfile' }, { file: 'svc/Other.Dockerfile' }, { RUNNER_TOOL_CACHE: '/tc' }],
  ['no image, two repositories of one name on one runner, local', { env: 'org-a/app' }, { env: 'org-b/app' }, { RUNNER_TOOL_CACHE: '/tc' }],
])('planBuild: %s get different cache scopes', async (_, a, b, env) => {
  const run = await workspace();
  await writeFile(path.join(run.workspace, 'svc/Other.Dockerfile'), 'FROM busybox:1.36 AS dev\nFROM busybox:1.36 AS production\n');
  const pr = { ...run, git: { ...run.git, eventName: 'pull_request', ref: 'refs/pull/7/merge', prNumber: 7 } };
  const writes = async ({ env: repository, ...values }: Record<string, string>) => {
    const plan = await planBuild(getInputs(read({ context: 'svc', push: 'false', ...values })), pr, { ...env, GITHUB_REPOSITORY: repository ?? 'org/app' });
    return plan.flavours.map((f) => plan.cache[f.name]?.to[0]?.replace(/-new-[0-9a-f]{8},/, ','));
  };
  const [x, y] = [await writes(a), await writes(b)];
  expect(x.every(Boolean)).toBe(true);
  for (const [i, entry] of x.entries()) expect(entry).not.toBe(y[i]);
  // Stable: the next build of the same service writes the same scope.
  expect(await writes(a)).toEqual(x);
});
